"""`auditlog import` on a PostgreSQL store: the same register, the same events, all or nothing."""

import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from engines import admin_connect, fresh_database, url_for
from test_import import matriks
from test_import_fast import spy

from conftest import Run


@pytest.fixture
def pg(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for url in fresh_database():
        monkeypatch.setenv("AUDITLOG_DB", url)
        monkeypatch.delenv("AUDITLOG_ACTOR", raising=False)  # the database role is the actor
        yield url


def test_a_register_is_imported_into_postgresql_once(pg: str, ok: Run, run: Run,
                                                     tmp_path: Path) -> None:
    path = matriks(tmp_path / "matriks.xlsx")
    out = ok("import", str(path)).stdout
    assert "new: 3 findings with 6 recommendations, 2 follow-ups, 3 reviews" in out
    events = ok("verify").stdout
    assert "already there: 3 findings" in ok("import", str(path)).stdout
    bad = run("import", str(matriks(tmp_path / "bad.xlsx", extra_rows=2,
                                    bad={(12, 3): "31/02/2023"})))
    assert bad.exit_code == 1 and 'row 13, column "Tgl LHP"' in bad.stderr
    assert ok("verify").stdout.splitlines()[0] == events.splitlines()[0]  # nothing added
    assert '"BS": 1' in ok("status", "--format", "json", "--pemda", "35.73").stdout


def test_an_auditor_imports_into_a_small_store_and_the_read_models_follow(
        ok: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An import that is most of the log refolds the read models (rebuild): an auditor, who
    owns no table, may do that on the server as it may catch up."""
    monkeypatch.delenv("AUDITLOG_ACTOR", raising=False)
    person = f"pegawai_{uuid.uuid4().hex[:8]}"
    for url in fresh_database():
        ok("--db", url, "pemda", "register", "35.73")
        ok("--db", url, "roles", "setup")
        with closing(admin_connect(url)) as db:
            db.execute(f"CREATE ROLE {person} LOGIN PASSWORD 'rahasia'")
        try:
            ok("--db", url, "roles", "grant", person, "AUDITOR")
            mine = url_for(url, str(conninfo_to_dict(url)["dbname"]), user=person,
                           password="rahasia")
            taken = spy(monkeypatch)
            ok("--db", mine, "import", str(matriks(tmp_path / "m.xlsx", extra_rows=30)))
            assert taken == ["rebuild"]
            assert '"BS": 1' in ok("--db", mine, "status", "--format", "json",
                                   "--pemda", "35.73").stdout
            assert "projections: equal to a fold" in ok("--db", mine, "verify",
                                                        "--projections").stdout
        finally:
            with closing(admin_connect(url)) as db:
                db.execute(f"DROP OWNED BY {person}")
                db.execute(f"DROP ROLE {person}")
