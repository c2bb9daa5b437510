"""Search folds accents on both engines: SQLite's FTS5 tokenizer removes diacritics
(unicode61 remove_diacritics 2), and PostgreSQL's search configuration puts the unaccent
dictionary before 'simple', so a word typed with or without its accent finds the same
findings, marked the same way, whichever engine holds the store."""

import json
import uuid
from contextlib import closing

import pytest
from psycopg.conninfo import conninfo_to_dict

from engines import admin_connect, fresh_database, on_engine_fixture, url_for  # noqa: F401

from conftest import Run


def found(ok: Run, query: str) -> list[tuple[str, str]]:
    rows = json.loads(ok("finding", "list", "--search", query, "--format", "json").stdout)
    return [(row["ref"], row["match"]) for row in rows]


def test_a_word_with_or_without_its_accent_finds_the_same_findings(ok: Run, on_engine: str
                                                                   ) -> None:
    ok("pemda", "register", "35.73")
    ok("finding", "record", "--pemda", "35.73", "--title", "Jalan Désa Cikoneng rusak",
       "--received", "2023-03-01", "-r", "Perbaiki jalan")
    ok("finding", "record", "--pemda", "35.73", "--title", "Dana desa terlambat",
       "--received", "2023-03-02", "-r", "Salurkan dana")
    plain, accented = found(ok, "desa"), found(ok, "DÉSA")
    assert sorted(ref for ref, _match in plain) == ["F-2023-0001", "F-2023-0002"], plain
    assert accented == plain
    marks = dict(plain)
    assert "**Désa**" in marks["F-2023-0001"] and "**desa**" in marks["F-2023-0002"], marks
    # a prefix folds too: 'cikoné' begins 'Cikoneng'
    assert [ref for ref, _match in found(ok, "cikoné")] == ["F-2023-0001"]


def test_an_owner_who_may_not_add_unaccent_still_searches_without_folding(
        ok: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """CREATE EXTENSION needs the CREATE right on the database: an owner of the tables
    without it gets a search configuration that does not fold accents, and search works."""
    role = f"pemilik_{uuid.uuid4().hex[:8]}"
    monkeypatch.delenv("AUDITLOG_ACTOR", raising=False)
    for url in fresh_database():
        with closing(admin_connect(url)) as db:
            db.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'rahasia'")
            db.execute(f"GRANT CREATE ON SCHEMA public TO {role}")
        try:
            owner = url_for(url, str(conninfo_to_dict(url)["dbname"]), user=role,
                            password="rahasia")
            monkeypatch.setenv("AUDITLOG_DB", owner)
            ok("pemda", "register", "35.73")
            ok("finding", "record", "--pemda", "35.73", "--title", "Jalan Désa Cikoneng",
               "--received", "2023-03-01", "-r", "Perbaiki jalan")
            assert [ref for ref, _match in found(ok, "désa")] == ["F-2023-0001"]
            assert found(ok, "desa") == []  # no unaccent here: as before it came
            with closing(admin_connect(url)) as db:
                assert db.execute("SELECT 1 FROM pg_extension WHERE extname = 'unaccent'"
                                  ).fetchall() == []
        finally:
            with closing(admin_connect(url)) as db:
                db.execute(f"DROP OWNED BY {role}")
                db.execute(f"DROP ROLE {role}")
