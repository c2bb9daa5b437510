"""Evidence kept in the store: --keep, evidence get, the size limit, verify."""

import hashlib
import sqlite3
from pathlib import Path

from conftest import Run


def blobs(db: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'evidence_blob'"
                            ).fetchone():
            return []
        return conn.execute("SELECT sha256, size FROM evidence_blob ORDER BY sha256").fetchall()


def events(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM stored_events").fetchone()[0])


def test_kept_once_however_often_cited_and_given_back_whole(ok: Run, isolated: Path,
                                                            tmp_path: Path) -> None:
    ok("demo")
    slip = tmp_path / "sts.pdf"
    content = bytes(range(256)) * 5000  # 1.28 MB: several chunks
    slip.write_bytes(content)
    sha = hashlib.sha256(content).hexdigest()
    for day in ("2024-01-10", "2024-01-11"):
        ok("followup", "record", "F-2023-0003.1", "--on", day, "--action", "Setoran",
           "--evidence", str(slip), "--keep")
    assert blobs(isolated) == [(sha, len(content))]
    said = ok("evidence", "get", sha[:12], "--to", "back.pdf").stdout
    assert sha in said
    assert (tmp_path / "back.pdf").read_bytes() == content
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_get_never_overwrites_without_force(ok: Run, run: Run, tmp_path: Path) -> None:
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


def test_get_refuses_what_is_not_kept_or_not_a_hash(ok: Run, run: Run, tmp_path: Path) -> None:
    ok("demo")
    for sha, said in (("0" * 64, "is kept in this store"), ("xyz", "is not a SHA-256"),
                      ("abc", "is not a SHA-256")):
        result = run("evidence", "get", sha, "--to", "out.bin")
        assert result.exit_code == 1 and said in result.stderr, result
        assert not (tmp_path / "out.bin").exists()


def test_a_file_over_the_limit_is_refused_naming_it(ok: Run, run: Run, isolated: Path,
                                                    tmp_path: Path) -> None:
    ok("demo")
    (tmp_path / "scan.pdf").write_bytes(b"x" * 2_000_001)
    before = events(isolated)
    result = run("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "S",
                 "--evidence", "scan.pdf", "--keep", env={"AUDITLOG_EVIDENCE_MAX": "2000000"})
    assert result.exit_code == 1
    assert "above the limit of 2 MB (AUDITLOG_EVIDENCE_MAX)" in result.stderr
    assert events(isolated) == before and blobs(isolated) == []
    # without --keep the file is only fingerprinted, whatever its size
    ok("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "S",
       "--evidence", "scan.pdf", env={"AUDITLOG_EVIDENCE_MAX": "2000000"})
    assert blobs(isolated) == []


def test_a_refused_follow_up_keeps_nothing(ok: Run, run: Run, isolated: Path,
                                           tmp_path: Path) -> None:
    ok("demo")
    (tmp_path / "a.txt").write_text("bukti")
    result = run("followup", "record", "F-2023-0003.9", "--on", "2024-01-10", "--action", "S",
                 "--evidence", "a.txt", "--keep")
    assert result.exit_code == 1
    assert blobs(isolated) == []
    result = run("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "S",
                 "--keep")
    assert result.exit_code == 1 and "--evidence FILE" in result.stderr


def test_verify_rehashes_every_kept_file(ok: Run, run: Run, isolated: Path,
                                         tmp_path: Path) -> None:
    ok("demo")
    (tmp_path / "a.txt").write_text("bukti")
    ok("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "S",
       "--evidence", "a.txt", "--keep")
    assert "evidence: 1 kept file matches its SHA-256" in ok("verify").stdout
    with sqlite3.connect(isolated) as conn:
        refused = False
        try:
            conn.execute("UPDATE evidence_blob SET content = x'00'")
        except sqlite3.DatabaseError:
            refused = True
        assert refused, "kept evidence must not be changed in place"
        conn.execute("DROP TRIGGER evidence_blob_no_update")
        conn.execute("UPDATE evidence_blob SET content = CAST('bukTi' AS BLOB)")
    result = run("verify")
    assert result.exit_code == 3
    sha = hashlib.sha256(b"bukti").hexdigest()
    assert "1 kept evidence file(s) no longer match" in result.stderr
    assert sha[:12] in result.stderr
