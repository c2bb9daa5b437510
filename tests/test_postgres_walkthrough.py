"""The IT staff's walkthrough (cli/postgresql/*.md, and its Indonesian twin in
cli/postgresql/id/) runs against the test server.

The document names a server db.inspektorat.example:5432; each command runs against the test
server instead, and what it prints is read back with the document's name for it.

    AUDITLOG_TEST_PG=... python tests/test_postgres_walkthrough.py --update   # refresh outputs
"""

import os
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from engines import admin_connect, admin_url

from walkthrough import BLOCK, execute, language_of, steps, tidy

HERE = Path(__file__).resolve().parent.parent / "cli" / "postgresql"
DOCS = sorted(HERE.glob("*.md")) + sorted(HERE.glob("id/*.md"))
SHOWN = "db.inspektorat.example:5432"
PEOPLE = ("budi", "siti", "rahmat")
DATABASES = ("inspektorat", "arsip")


def _server(admin: str) -> str:
    parts = conninfo_to_dict(admin)
    return f"{parts['host']}:{parts['port']}"


def _clean(admin: str) -> None:
    with closing(admin_connect(admin)) as db:
        for name in DATABASES:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for person in PEOPLE:
            db.execute(f'DROP ROLE IF EXISTS "{person}"')


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    admin = admin_url()
    _clean(admin)
    monkeypatch.setenv("PGPASSWORD", str(conninfo_to_dict(admin)["password"]))
    monkeypatch.delenv("AUDITLOG_ACTOR", raising=False)
    monkeypatch.chdir(tmp_path)
    yield _server(admin)
    _clean(admin)


def run_doc(path: Path, server: str, cwd: Path) -> list[tuple[str, str, str]]:
    out = []
    for step in steps(path.read_text()):
        actual = execute(step.command.replace(SHOWN, server), cwd).replace(server, SHOWN)
        out.append((step.command, tidy(step.expected), actual))
    return out


@pytest.mark.parametrize("path", DOCS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_it_walkthrough_runs_against_the_server(path: Path, server: str,
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITLOG_LANG", language_of(path))
    ran = run_doc(path, server, tmp_path)
    assert ran
    for command, expected, actual in ran:
        assert actual == expected, f"`{command}`\n--- expected\n{expected}\n--- actual\n{actual}"


def _update(path: Path, server: str, cwd: Path) -> None:
    text = path.read_text()
    out, position = [], 0
    for block in BLOCK.finditer(text):
        out.append(text[position:block.start(1)])
        body = []
        for step in steps(block.group(0)):
            actual = execute(step.command.replace(SHOWN, server), cwd).replace(server, SHOWN)
            body.append(f"$ {step.command}" + (f"\n{actual}" if actual else ""))
        out.append("\n".join(body) + "\n")
        position = block.end(1)
    out.append(text[position:])
    path.write_text("".join(out))


if __name__ == "__main__" and sys.argv[1:] == ["--update"]:
    import tempfile

    admin = os.environ["AUDITLOG_TEST_PG"]
    os.environ.update(AUDITLOG_NOW="2024-01-15T09:00:00+00:00", TZ="UTC", COLUMNS="200",
                      AUDITLOG_STORE_ID="3f2c8a1e-5b7d-4e9a-8c6f-1d2e3a4b5c6d",
                      PGPASSWORD=str(conninfo_to_dict(admin)["password"]))
    os.environ.pop("AUDITLOG_ACTOR", None)
    for doc in DOCS:
        _clean(admin)
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["AUDITLOG_WITNESS"] = os.path.join(tmp, "witness")  # never the home
            os.chdir(tmp)
            os.environ["AUDITLOG_LANG"] = language_of(doc)
            _update(doc, _server(admin), Path(tmp))
        _clean(admin)
        print(f"updated {doc}")
