"""Evidence kept in the store: --keep, evidence get, the size limit, verify; on both engines
(each test runs on a SQLite file and on a PostgreSQL database: ``on_engine``)."""

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from engines import admin_connect, on_engine_fixture  # noqa: F401 - the fixture on_engine

from conftest import Run


def query(target: str, sql: str) -> list[Any]:
    """Rows of a query on the store's own database, as its owner."""
    if target.startswith("postgresql://"):
        with closing(admin_connect(target)) as db:
            return db.execute(sql).fetchall()
    with closing(sqlite3.connect(target)) as conn:
        return conn.execute(sql).fetchall()


def blobs(target: str) -> list[tuple[str, int]]:
    table = ("SELECT 1 FROM pg_tables WHERE tablename = 'evidence_blob'"
             if target.startswith("postgresql://")
             else "SELECT 1 FROM sqlite_master WHERE name = 'evidence_blob'")
    if not query(target, table):
        return []
    return [tuple(r) for r in query(target, "SELECT sha256, size FROM evidence_blob "
                                            "ORDER BY sha256")]


def events(target: str) -> int:
    return int(query(target, "SELECT count(*) FROM stored_events")[0][0])


def test_kept_once_however_often_cited_and_given_back_whole(ok: Run, on_engine: str,
                                                            tmp_path: Path) -> None:
    ok("demo")
    slip = tmp_path / "sts.pdf"
    content = bytes(range(256)) * 5000  # 1.28 MB: several chunks
    slip.write_bytes(content)
    sha = hashlib.sha256(content).hexdigest()
    for day in ("2024-01-10", "2024-01-11"):
        ok("followup", "record", "F-2023-0003.1", "--on", day, "--action", "Setoran",
           "--evidence", str(slip), "--keep")
    assert blobs(on_engine) == [(sha, len(content))]
    said = ok("evidence", "get", sha[:12], "--to", "back.pdf").stdout
    assert sha in said
    assert (tmp_path / "back.pdf").read_bytes() == content
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_get_never_overwrites_without_force(ok: Run, run: Run, tmp_path: Path,
                                           on_engine: str) -> None:
    ok("demo")
    (tmp_path / "a.txt").write_text("bukti")
    ok("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "Setoran",
       "--evidence", "a.txt", "--keep")
    sha = hashlib.sha256(b"bukti").hexdigest()
    (tmp_path / "mine.txt").write_text("do not lose me")
    refused = run("evidence", "get", sha, "--to", "mine.txt")
    assert refused.exit_code == 1 and "--force" in refused.stderr
    assert (tmp_path / "mine.txt").read_text() == "do not lose me"
    ok("evidence", "get", sha, "--to", "mine.txt", "--force")
    assert (tmp_path / "mine.txt").read_text() == "bukti"


def test_get_refuses_what_is_not_kept_or_not_a_hash(ok: Run, run: Run, tmp_path: Path,
                                                    on_engine: str) -> None:
    ok("demo")
    for sha, said in (("0" * 64, "is kept in this store"), ("xyz", "is not a SHA-256"),
                      ("abc", "is not a SHA-256")):
        result = run("evidence", "get", sha, "--to", "out.bin")
        assert result.exit_code == 1 and said in result.stderr, result
        assert not (tmp_path / "out.bin").exists()


def test_a_file_over_the_limit_is_refused_naming_it(ok: Run, run: Run, on_engine: str,
                                                    tmp_path: Path) -> None:
    ok("demo")
    (tmp_path / "scan.pdf").write_bytes(b"x" * 2_000_001)
    before = events(on_engine)
    result = run("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "S",
                 "--evidence", "scan.pdf", "--keep", env={"AUDITLOG_EVIDENCE_MAX": "2000000"})
    assert result.exit_code == 1
    assert "above the limit of 2 MB (AUDITLOG_EVIDENCE_MAX)" in result.stderr
    assert events(on_engine) == before and blobs(on_engine) == []
    # without --keep the file is only fingerprinted, whatever its size
    ok("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "S",
       "--evidence", "scan.pdf", env={"AUDITLOG_EVIDENCE_MAX": "2000000"})
    assert blobs(on_engine) == []


def test_a_refused_follow_up_keeps_nothing(ok: Run, run: Run, on_engine: str,
                                           tmp_path: Path) -> None:
    ok("demo")
    (tmp_path / "a.txt").write_text("bukti")
    result = run("followup", "record", "F-2023-0003.9", "--on", "2024-01-10", "--action", "S",
                 "--evidence", "a.txt", "--keep")
    assert result.exit_code == 1
    assert blobs(on_engine) == []
    result = run("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "S",
                 "--keep")
    assert result.exit_code == 1 and "--evidence FILE" in result.stderr


def test_verify_rehashes_every_kept_file(ok: Run, run: Run, on_engine: str,
                                         tmp_path: Path) -> None:
    ok("demo")
    (tmp_path / "a.txt").write_text("bukti")
    ok("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "S",
       "--evidence", "a.txt", "--keep")
    assert "evidence: 1 kept file matches its SHA-256" in ok("verify").stdout
    if on_engine.startswith("postgresql://"):
        with closing(admin_connect(on_engine)) as db:
            with pytest.raises(Exception, match="append-only"):
                db.execute("UPDATE evidence_chunk SET content = '\\x00'")
            with db.transaction():  # a superuser skips the triggers
                db.execute("SET LOCAL session_replication_role = replica")
                db.execute("UPDATE evidence_chunk SET content = convert_to('bukTi', 'UTF8')")
    else:
        with sqlite3.connect(on_engine) as conn:
            with pytest.raises(sqlite3.DatabaseError):
                conn.execute("UPDATE evidence_blob SET content = x'00'")
            conn.execute("DROP TRIGGER evidence_blob_no_update")
            conn.execute("UPDATE evidence_blob SET content = CAST('bukTi' AS BLOB)")
    result = run("verify")
    assert result.exit_code == 3
    sha = hashlib.sha256(b"bukti").hexdigest()
    told = result.stderr + result.stdout  # on SQLite the dropped trigger is a problem too
    assert "1 kept evidence file(s) no longer match" in told
    assert sha[:12] in told


def test_a_dropped_evidence_trigger_is_a_missing_guard_on_sqlite(ok: Run, run: Run,
                                                                 isolated: Path) -> None:
    """As on PostgreSQL: verify reports it, recording stops, and only init puts it back."""
    ok("demo")
    Path("sts.pdf").write_bytes(b"%PDF bukti setor")
    ok("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "Setoran",
       "--evidence", "sts.pdf", "--keep")
    with closing(sqlite3.connect(isolated)) as db:
        db.execute("DROP TRIGGER evidence_blob_no_delete")
    before = events(str(isolated))
    checked = run("verify")
    assert checked.exit_code == 3, checked
    assert "evidence_blob_no_delete" in checked.stdout + checked.stderr
    refused = run("pemda", "register", "35.09")
    assert refused.exit_code == 3 and "evidence_blob_no_delete" in refused.stderr, refused
    assert events(str(isolated)) == before  # nothing written
    assert "evidence_blob_no_delete" in ok("init").stdout
    assert ok("verify").stdout.startswith("verified ")
    with closing(sqlite3.connect(isolated)) as db, pytest.raises(sqlite3.DatabaseError,
                                                                 match="never removed"):
        db.execute("DELETE FROM evidence_blob")
