"""`auditlog import` on a PostgreSQL store: the same register, the same events, all or nothing."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from engines import fresh_database
from test_import import matriks

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
