"""`auditlog copy`: a log moved between engines keeps its bytes, its identity and its root."""

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from auditlog.store.app import Store
from engines import admin_connect, fresh_database, url_for
from store_state import assert_one_line_refusal

from conftest import Run


@pytest.fixture
def pg(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for url in fresh_database():
        monkeypatch.delenv("AUDITLOG_ACTOR", raising=False)
        yield url


def rows(target: str) -> list[tuple[str, int, str, bytes]]:
    """Every stored event as (id, version, topic, state bytes), in log order."""
    store = Store.open_existing(target)
    try:
        return [(str(n.originator_id).replace("-", ""), n.originator_version, n.topic,
                 bytes(n.state)) for batch in store.notifications() for n in batch]
    finally:
        store.close()


def test_sqlite_to_postgresql_and_back_keeps_bytes_identity_and_root(
        pg: str, ok: Run, tmp_path: Path) -> None:
    ok("demo")
    ok("checkpoint", "--to", "source.txt")
    source = str(tmp_path / "auditlog.db")
    copied = ok("copy", "--to", pg).stdout
    held = len(rows(source))
    assert copied.startswith(f"copied {held} events to postgresql://") and "on both" in copied
    assert rows(pg) == rows(source)
    # A checkpoint taken on the source verifies on the target, and both print the same one.
    ok("--db", pg, "verify", "--checkpoint", "source.txt")
    assert ok("--db", pg, "verify").stdout == ok("verify").stdout  # count and root
    # Each store records its own later checkpoint event (with its own actor): from here on
    # they are two logs, and a review known at the moment of the copy is the same on both.
    later = {"AUDITLOG_NOW": "2024-02-01T09:00:00Z"}
    ok("--db", pg, "checkpoint", env=later)
    ok("checkpoint", env=later)
    ok("export", "--year", "2023", "--to", "a.json", "--known-at", "2024-01-20")
    ok("--db", pg, "export", "--year", "2023", "--to", "b.json", "--known-at", "2024-01-20")
    a, b = (tmp_path / "a.json").read_text(), (tmp_path / "b.json").read_text()
    assert a == b, [(x, y) for x, y in zip(a.splitlines(), b.splitlines(), strict=True)
                    if x != y]
    # And back, into a new file.
    back = str(tmp_path / "back.db")
    ok("--db", pg, "copy", "--to", back)
    assert rows(back) == rows(pg)
    ok("--db", back, "verify", "--checkpoint", "source.txt")
    assert ok("--db", back, "status").stdout == ok("status").stdout


def test_a_target_that_holds_a_store_is_refused_and_left_alone(pg: str, ok: Run, run: Run,
                                                               tmp_path: Path) -> None:
    ok("demo")
    other = tmp_path / "other.db"
    ok("--db", str(other), "pemda", "register", "35.73")
    before = other.read_bytes()
    assert_one_line_refusal(run("copy", "--to", str(other)), "already holds a store")
    assert other.read_bytes() == before
    ok("--db", pg, "init")
    assert_one_line_refusal(run("copy", "--to", pg), "already holds a store")
    assert rows(pg) == []
    for foreign in fresh_database():
        with closing(admin_connect(foreign)) as db:
            db.execute("CREATE TABLE payroll (id int)")
        assert_one_line_refusal(run("copy", "--to", foreign), "holds something else")


def test_a_damaged_log_is_not_copied(ok: Run, run: Run, isolated: Path, tmp_path: Path
                                     ) -> None:
    ok("demo")
    with closing(sqlite3.connect(isolated)) as db:
        db.execute("DROP TRIGGER stored_events_no_update")
        db.execute("UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), "
                   "'Malang', 'Malank') AS BLOB) WHERE rowid = (SELECT min(rowid) FROM "
                   "stored_events WHERE CAST(state AS TEXT) LIKE '%Malang%')")
        db.commit()
    result = run("copy", "--to", str(tmp_path / "copy.db"))
    assert result.exit_code == 3, result
    assert "a damaged log is not copied" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("copy")) == []


def test_sqlite_to_sqlite_keeps_the_order_of_events_recorded_at_one_moment(
        ok: Run, tmp_path: Path, isolated: Path) -> None:
    """The demo under a pinned clock records every event at the same moment: the copy must
    keep their order (it once regrouped them by aggregate, and its root then differed)."""
    ok("demo")
    target = str(tmp_path / "copy.db")
    assert "on both" in ok("copy", "--to", target).stdout
    assert rows(target) == rows(str(isolated))
    assert ok("--db", target, "verify").stdout == ok("verify").stdout


def test_a_target_that_is_no_store_is_named_by_to(ok: Run, run: Run, tmp_path: Path) -> None:
    ok("demo")
    notes = tmp_path / "notes.md"
    notes.write_text("# catatan\n", "utf-8")
    result = run("copy", "--to", str(notes))
    assert_one_line_refusal(result, "check --to")
    assert notes.read_text("utf-8") == "# catatan\n"


def test_a_copy_into_postgresql_stopped_half_way_leaves_the_database_empty(
        pg: str, ok: Run, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy into a server is one transaction: a failure after the first batch (here a
    connection lost) leaves no table, no event, and says so in one line; copying again then
    works."""
    import psycopg

    from auditlog.store import copy as copy_module
    from auditlog.store import postgres

    ok("demo")
    monkeypatch.setattr(copy_module, "BATCH", 10)
    real = postgres.insert_linked
    calls: list[int] = []

    def lost_after_the_first_batch(*args: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(postgres, "insert_linked", lost_after_the_first_batch)
    stopped = run("copy", "--to", pg)
    assert_one_line_refusal(stopped, "stopped before the end")
    assert "nothing was written" in stopped.stderr and len(calls) == 2
    with closing(admin_connect(pg)) as db:
        assert db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                          ).fetchall() == []
    monkeypatch.setattr(postgres, "insert_linked", real)
    assert "on both" in ok("copy", "--to", pg).stdout


@pytest.mark.parametrize("direction", ["sqlite-to-sqlite", "sqlite-to-postgresql",
                                       "postgresql-to-sqlite"])
def test_kept_evidence_is_copied_and_given_back_by_the_target(
        direction: str, ok: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file kept with --keep travels with the copy: the target gives back the same bytes
    and its verify counts the kept file (the copy once left it behind, silently)."""
    import hashlib

    from auditlog.store import evidence

    monkeypatch.setattr(evidence, "CHUNK", 1000)  # several chunks, on both engines
    monkeypatch.delenv("AUDITLOG_ACTOR", raising=False)
    databases = fresh_database()
    source, target = str(tmp_path / "auditlog.db"), str(tmp_path / "copy.db")
    if direction != "sqlite-to-sqlite":
        server = next(databases)
        source, target = (source, server) if direction.endswith("postgresql") else (
            server, target)
    content = bytes(range(256)) * 20  # 5120 bytes
    slip = tmp_path / "sts.pdf"
    slip.write_bytes(content)
    try:
        ok("--db", source, "demo")
        ok("--db", source, "followup", "record", "F-2023-0003.1", "--on", "2024-01-10",
           "--action", "Setoran", "--evidence", str(slip), "--keep")
        assert "on both" in ok("--db", source, "copy", "--to", target).stdout
        sha = hashlib.sha256(content).hexdigest()
        ok("--db", target, "evidence", "get", sha[:12], "--to", "back.pdf")
        assert (tmp_path / "back.pdf").read_bytes() == content
        assert "evidence: 1 kept file matches" in ok("--db", target, "verify").stdout
    finally:
        databases.close()  # drops the database, if one was made


@pytest.mark.parametrize("into", ["sqlite", "postgresql"])
def test_kept_evidence_damaged_in_the_source_is_not_copied(
        into: str, ok: Run, run: Run, isolated: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A kept file whose bytes no longer hash to their SHA-256 stops the copy in one line,
    and nothing is written: no file, an empty database."""
    from auditlog.store.evidence import TRIGGERS

    monkeypatch.delenv("AUDITLOG_ACTOR", raising=False)
    slip = tmp_path / "sts.pdf"
    slip.write_bytes(b"bukti setoran" * 100)
    ok("demo")
    ok("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "Setoran",
       "--evidence", str(slip), "--keep")
    with closing(sqlite3.connect(isolated)) as db:
        db.execute("DROP TRIGGER evidence_blob_no_update")
        db.execute("UPDATE evidence_blob SET content = zeroblob(size)")
        db.execute(TRIGGERS["evidence_blob_no_update"])  # the log itself still verifies
        db.commit()
    databases = fresh_database()
    try:
        target = next(databases) if into == "postgresql" else str(tmp_path / "copy.db")
        assert_one_line_refusal(run("copy", "--to", target), "no longer matches its SHA-256")
        if into == "postgresql":
            with closing(admin_connect(target)) as db:
                assert db.execute("SELECT tablename FROM pg_tables WHERE schemaname = "
                                  "'public'").fetchall() == []
        else:
            assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("copy")
                          ) == []
    finally:
        databases.close()


def test_postgresql_to_postgresql_carries_the_log_and_kept_evidence(
        ok: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Server to server: the same events, the same root on both, the same kept bytes chunk
    for chunk, and the target verifies (a checkpoint taken on the source too)."""
    import hashlib

    from auditlog.store import evidence

    monkeypatch.setattr(evidence, "CHUNK", 1000)  # several chunks per file
    monkeypatch.delenv("AUDITLOG_ACTOR", raising=False)
    first, second = fresh_database(), fresh_database()
    try:
        source, target = next(first), next(second)
        contents = {"sts.pdf": bytes(range(256)) * 20, "kwitansi.pdf": b"kwitansi " * 300}
        for name, content in contents.items():
            (tmp_path / name).write_bytes(content)
        ok("--db", source, "demo")
        for rec, name in (("F-2023-0003.1", "sts.pdf"), ("F-2023-0001.1", "kwitansi.pdf")):
            ok("--db", source, "followup", "record", rec, "--on", "2024-01-10", "--action",
               "Setoran", "--evidence", str(tmp_path / name), "--keep")
        ok("--db", source, "checkpoint", "--to", "source.txt")
        copied = ok("--db", source, "copy", "--to", target).stdout
        assert copied.startswith(f"copied {len(rows(source))} events to postgresql://")
        assert "on both" in copied
        assert rows(target) == rows(source)
        checked = ok("--db", target, "verify").stdout
        assert checked == ok("--db", source, "verify").stdout  # count, root, kept files
        assert "evidence: 2 kept files match" in checked, checked
        ok("--db", target, "verify", "--checkpoint", "source.txt")
        chunks = ("SELECT b.sha256, b.size, k.n, k.content FROM evidence_blob AS b JOIN "
                  "evidence_chunk AS k USING (sha256) ORDER BY b.sha256, k.n")
        with closing(admin_connect(source)) as a, closing(admin_connect(target)) as b:
            held = a.execute(chunks).fetchall()
            assert len(held) > len(contents) and b.execute(chunks).fetchall() == held
        for name, content in contents.items():
            sha = hashlib.sha256(content).hexdigest()
            ok("--db", target, "evidence", "get", sha[:12], "--to", f"back-{name}")
            assert (tmp_path / f"back-{name}").read_bytes() == content
    finally:
        first.close()
        second.close()


@pytest.fixture
def evidence_unreadable(ok: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                        ) -> Iterator[tuple[str, str]]:
    """A store on the server that keeps a file, and the URL of a role that may read its log
    but not its kept evidence (as a reader of a store whose evidence tables its owner's
    upgrade added after 'roles setup'): (store URL, that role's URL)."""
    monkeypatch.delenv("AUDITLOG_ACTOR", raising=False)
    role = f"pembaca_{uuid.uuid4().hex[:8]}"
    for url in fresh_database():
        (tmp_path / "sts.pdf").write_bytes(b"bukti setoran" * 100)
        ok("--db", url, "demo")
        ok("--db", url, "followup", "record", "F-2023-0003.1", "--on", "2024-01-10",
           "--action", "Setoran", "--evidence", str(tmp_path / "sts.pdf"), "--keep")
        ok("--db", url, "roles", "setup")
        with closing(admin_connect(url)) as db:
            db.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'rahasia'")
        try:
            ok("--db", url, "roles", "grant", role, "reader")
            with closing(admin_connect(url)) as db:
                db.execute("REVOKE ALL ON evidence_blob, evidence_chunk FROM auditlog_reader")
            yield url, url_for(url, str(conninfo_to_dict(url)["dbname"]), user=role,
                               password="rahasia")
        finally:
            with closing(admin_connect(url)) as db:
                db.execute(f"DROP OWNED BY {role}")
                db.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("into", ["sqlite", "postgresql"])
def test_a_role_that_may_not_read_the_kept_evidence_is_told_so_and_nothing_is_written(
        evidence_unreadable: tuple[str, str], into: str, lang: str, ok: Run, run: Run,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One line in the reader's language, exit 1, no target made: not a database error
    (a traceback into a file, 'permission denied for table evidence_blob' into a server)."""
    from auditlog import i18n
    from auditlog.store.copy import EVIDENCE_UNREADABLE
    from test_no_english_in_indonesian import english_lines

    url, reader = evidence_unreadable
    role = str(conninfo_to_dict(reader)["user"])
    assert ok("--db", reader, "history").stdout  # the log it may read
    databases = fresh_database()
    try:
        target = next(databases) if into == "postgresql" else str(tmp_path / "copy.db")
        if lang == "id":
            monkeypatch.delenv("AUDITLOG_LANG")
            result = run("--db", reader, "copy", "--to", target,
                         env={"LANG": "id_ID.UTF-8", "LC_ALL": ""})
        else:
            result = run("--db", reader, "copy", "--to", target)
        line = assert_one_line_refusal(result, role)
        assert "permission denied" not in line, line
        if into == "postgresql":
            with closing(admin_connect(target)) as db:
                assert db.execute("SELECT tablename FROM pg_tables WHERE schemaname = "
                                  "'public'").fetchall() == []
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("copy")
                      ) == []
    finally:
        databases.close()
    if lang == "en":
        assert "kept evidence" in line and "nothing was written" in line, line
        ok("--db", url, "roles", "setup")  # as the line advises: the groups get it back
        assert "on both" in ok("--db", reader, "copy", "--to", str(tmp_path / "copy.db")
                               ).stdout
    elif i18n.translations("id").gettext(EVIDENCE_UNREADABLE) == EVIDENCE_UNREADABLE:
        pytest.xfail("its Indonesian is the lead's to add to the catalog (locale/)")
    else:
        assert not english_lines(line), line
