"""Trust under attack and accident (issue 8): each test failed on the code before its fix."""

import json
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

import pytest

from auditlog.store.chain import entry_hash
from auditlog.store.sqlite_integrity import TRIGGERS

from conftest import Run


@pytest.fixture
def demo(ok: Run, isolated: Path) -> Path:
    ok("demo")
    return isolated


def raw(db_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(db_path, isolation_level=None)


def forge_append(db_path: Path, recorded_at: str = "2024-01-15T09:00:00Z") -> None:
    """What someone holding the file does: a new event with a valid chain entry after the
    head (the chain algorithm is no secret), triggers left in place (they refuse only
    UPDATE and DELETE)."""
    with closing(raw(db_path)) as db:
        oid, _, topic, state = db.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events "
            "WHERE topic = 'auditlog.pemda.registered' ORDER BY rowid LIMIT 1").fetchone()
        data = json.loads(state)
        data["recorded_at"] = recorded_at
        data["code"], data["name"] = "35.99", "Kota Palsu"
        forged = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        new_id = uuid.uuid4().hex
        seq, prev = db.execute(
            "SELECT seq, hash FROM integrity_chain ORDER BY seq DESC LIMIT 1").fetchone()
        db.execute("BEGIN")
        cursor = db.execute("INSERT INTO stored_events VALUES (?, 1, ?, ?)",
                            (new_id, topic, forged))
        digest = entry_hash(seq + 1, prev, new_id.encode(), 1, topic.encode(), forged)
        db.execute("INSERT INTO integrity_chain VALUES (?, ?, ?, 1, ?)",
                   (seq + 1, cursor.lastrowid, new_id, digest))
        db.execute("COMMIT")
        del oid


# --- files ---------------------------------------------------------------------------------------


def test_export_onto_the_store_itself_is_refused(demo: Path, run: Run) -> None:
    before = demo.read_bytes()
    result = run("--db", str(demo), "export", "--year", "2023", "--to", str(demo),
                 "--format", "json", "--force")
    assert result.exit_code == 1 and "store in use" in result.stderr
    assert demo.read_bytes() == before


def test_checkpoint_never_overwrites_unless_force_and_never_a_store(demo: Path, ok: Run,
                                                                    run: Run) -> None:
    Path("cp.txt").write_text("an older checkpoint")
    refused = run("checkpoint", "--to", "cp.txt")
    assert refused.exit_code == 1 and "--force" in refused.stderr
    assert Path("cp.txt").read_text() == "an older checkpoint"
    events = demo.read_bytes()
    assert run("checkpoint", "--to", str(demo), "--force").exit_code == 1
    assert demo.read_bytes() == events  # refused before anything was recorded
    ok("checkpoint", "--to", "cp.txt", "--force")
    assert Path("cp.txt").read_text().startswith("auditlog checkpoint v1")


def test_keys_generate_replaces_a_pair_only_with_force(ok: Run, run: Run) -> None:
    ok("keys", "generate", "--to", "k")
    first = Path("k.key").read_bytes()
    assert run("keys", "generate", "--to", "k").exit_code == 1
    ok("keys", "generate", "--to", "k", "--force")
    assert Path("k.key").read_bytes() != first


def test_demo_refuses_a_store_holding_real_records(ok: Run, run: Run, isolated: Path) -> None:
    ok("pemda", "register", "35.73")
    ok("finding", "record", "--pemda", "35.73", "--title", "Temuan nyata", "--received",
       "2023-03-14", "-r", "Perbaiki")
    before = isolated.read_bytes()
    result = run("demo")
    assert result.exit_code == 1
    assert "new store" in result.stderr and "--db demo.db" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert isolated.read_bytes() == before


def test_markdown_export_escapes_html(ok: Run) -> None:
    ok("pemda", "register", "35.73")
    ok("finding", "record", "--pemda", "35.73", "--title", "<script>alert(1)</script> & co",
       "--received", "2023-03-14", "-r", "Perbaiki")
    ok("export", "--year", "2023", "--to", "r.md")
    text = Path("r.md").read_text()
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in text or \
        "&lt;script>alert(1)&lt;/script> &amp; co" in text


# --- the chain's own guards ----------------------------------------------------------------------


def test_dropped_integrity_tables_after_an_edit_are_never_rechained(demo: Path, run: Run) -> None:
    with closing(raw(demo)) as db:
        for name in TRIGGERS:
            db.execute(f"DROP TRIGGER IF EXISTS {name}")
        db.execute("UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), "
                   "'7500000', '9500000') AS BLOB)")
        db.execute("DROP TABLE integrity_chain")
        db.execute("DROP TABLE integrity_meta")
    for args in (("status",), ("finding", "list"), ("finding", "show", "F-2023-0003"),
                 ("history",), ("pemda", "register", "35.10")):
        result = run(*args)
        assert result.exit_code == 3, (args, result)
        assert "integrity tables" in result.stderr and "auditlog verify" in result.stderr
        assert len(result.stderr.splitlines()) == 1
    for _ in range(2):  # and the next command did not lay a new chain either
        result = run("verify")
        assert result.exit_code == 3 and "integrity_chain is gone" in result.stdout
    with closing(raw(demo)) as db:
        assert "integrity_chain" not in {r[0] for r in db.execute("SELECT name FROM sqlite_master")}


def test_a_dropped_trigger_blocks_writing_until_init_puts_it_back(demo: Path, ok: Run,
                                                                  run: Run) -> None:
    with closing(raw(demo)) as db:
        db.execute("DROP TRIGGER stored_events_no_delete")
    before = demo.read_bytes()
    result = run("pemda", "register", "35.15")
    assert result.exit_code == 3 and "stored_events_no_delete" in result.stderr
    assert demo.read_bytes() == before
    checked = run("verify")
    assert checked.exit_code == 3 and "stored_events_no_delete was removed" in checked.stdout
    assert run("status").exit_code == 0  # reading still works
    init = ok("init")
    assert "put back the append-only triggers stored_events_no_delete" in init.stdout
    ok("pemda", "register", "35.15")
    ok("verify")


def test_init_does_not_put_triggers_back_over_a_log_that_does_not_verify(demo: Path,
                                                                         run: Run) -> None:
    with closing(raw(demo)) as db:
        db.execute("DROP TRIGGER stored_events_no_update")
        db.execute("UPDATE stored_events SET state = state || ' ' WHERE rowid = 3")
    result = run("init")
    assert result.exit_code == 3 and "does not verify" in result.stderr
    with closing(raw(demo)) as db:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert "stored_events_no_update" not in names


# --- transaction time ----------------------------------------------------------------------------


def test_an_event_dated_before_the_head_is_refused(demo: Path, run: Run) -> None:
    before = demo.read_bytes()
    result = run("pemda", "register", "35.15", env={"AUDITLOG_NOW": "2023-01-01T00:00:00Z"})
    assert result.exit_code == 1
    assert "before the last event in the log" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert demo.read_bytes() == before


def test_a_backdated_raw_append_is_reported_by_verify(demo: Path, run: Run) -> None:
    forge_append(demo, recorded_at="2023-02-01T00:00:00Z")
    result = run("verify", "--no-witness")
    assert result.exit_code == 3
    assert "position 72: recorded before the event before it: recorded at " \
        "2023-02-01T00:00:00Z" in result.stdout


def test_concurrent_writers_on_the_real_clock_are_stamped_when_they_save(
        ok: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer that began before another but saves after it must not be refused: events
    are stamped just before saving, not when the command began."""
    from datetime import UTC, datetime, timedelta

    from auditlog import commands
    from auditlog.domain.aggregate import Context
    from auditlog.store.app import Store

    monkeypatch.delenv("AUDITLOG_NOW")
    ok("pemda", "register", "35.73")
    store = Store("auditlog.db")
    early = Context(actor="a", at=datetime.now(UTC) - timedelta(minutes=5))
    commands.register_pemda(store, early, "35.10", None, None, datetime(2023, 1, 2).date())
    store.close()
    ok("verify")


# --- the witness log -----------------------------------------------------------------------------


def test_a_forged_append_is_caught_by_the_witness(demo: Path, ok: Run, run: Run) -> None:
    ok("verify")
    forge_append(demo)
    assert run("verify", "--no-witness").exit_code == 0  # the chain alone holds
    result = run("verify")
    assert result.exit_code == 3
    assert "not witnessed: events 72-72 were added after the last witnessed checkpoint" \
        in result.stdout


def test_tail_deletion_is_caught_by_the_witness(demo: Path, run: Run) -> None:
    with closing(raw(demo)) as db:
        for name in TRIGGERS:
            db.execute(f"DROP TRIGGER IF EXISTS {name}")
        db.execute("DELETE FROM stored_events WHERE rowid > 40")
        db.execute("DELETE FROM integrity_chain WHERE seq > 40")
        for statement in TRIGGERS.values():
            db.execute(statement)
    assert run("verify", "--no-witness").exit_code == 0
    result = run("verify")
    assert result.exit_code == 3 and "events were cut off" in result.stdout


def test_every_write_is_witnessed_outside_the_store(ok: Run, isolated: Path) -> None:
    ok("pemda", "register", "35.73")
    ok("pemda", "register", "35.10")
    witness = isolated.parent / "witness"
    (log,) = witness.glob("*.witness")
    lines = log.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["1", "2"]
    assert len({line.split()[1] for line in lines}) == 2


def test_several_witness_folders_each_get_every_write(ok: Run, tmp_path: Path) -> None:
    folders = f"{tmp_path / 'w1'}:{tmp_path / 'w2'}"
    ok("pemda", "register", "35.73", env={"AUDITLOG_WITNESS": folders})
    for name in ("w1", "w2"):
        assert len(list((tmp_path / name).glob("*.witness"))) == 1
    out = ok("verify", env={"AUDITLOG_WITNESS": folders}).stdout
    assert "in 2 folders" in out


# --- the signature message ----------------------------------------------------------------------


def test_a_broken_signature_never_names_the_same_key_twice(demo: Path, ok: Run, run: Run) -> None:
    ok("keys", "generate", "--to", "k")
    ok("checkpoint", "--sign", "k.key", "--to", "cp.txt")
    text = Path("cp.txt").read_text().replace("events: 71", "events: 70")
    Path("cp.txt").write_text(text)
    result = run("verify", "--checkpoint", "cp.txt", "--key", "k.pub")
    assert result.exit_code == 3
    assert "signature invalid" in result.stdout
    for line in result.stdout.splitlines():
        fingerprints = [w for w in line.replace(",", " ").split() if w.startswith("ed25519:")]
        assert len(fingerprints) == len(set(fingerprints)), line


# --- projections rest on this log ----------------------------------------------------------------


def test_status_refuses_projections_built_on_a_log_that_was_cut_short(demo: Path,
                                                                      run: Run) -> None:
    assert run("status").exit_code == 0  # the projection is caught up to position 71
    with closing(raw(demo)) as db:
        for name in TRIGGERS:
            db.execute(f"DROP TRIGGER IF EXISTS {name}")
        db.execute("DELETE FROM stored_events WHERE rowid > 40")
        db.execute("DELETE FROM integrity_chain WHERE seq > 40")
        for statement in TRIGGERS.values():
            db.execute(statement)
    for args in (("status",), ("finding", "list")):
        result = run(*args)
        assert result.exit_code == 3, result
        assert "built up to position 71" in result.stderr and result.stdout == ""
        assert len(result.stderr.splitlines()) == 1


def test_verify_says_when_the_projections_were_last_proven(demo: Path, ok: Run) -> None:
    assert "projections: never proven equal to a fold" in ok("verify").stdout
    ok("verify", "--projections")
    out = ok("verify").stdout
    assert ("projections: last proven equal to a fold of the events on 2024-01-15T09:00:00Z, "
            "up to position 71") in out


# --- inputs --------------------------------------------------------------------------------------

BAD_INPUTS = [
    (("finding", "record", "--pemda", "35.73", "--title", "Judul \x1b[31mmerah", "--received",
      "2023-03-01", "-r", "x"), "control character U+001B"),
    (("finding", "record", "--pemda", "35.73", "--title", "bel\x07", "--received",
      "2023-03-01", "-r", "x"), "control character U+0007"),
    (("finding", "record", "--pemda", "35.73", "--title", "two\nlines", "--received",
      "2023-03-01", "-r", "x"), "control character U+000A"),
    (("finding", "record", "--pemda", "35.73", "--title", "x" * 100_000, "--received",
      "2023-03-01", "-r", "x"), "more than the 500 allowed"),
    (("finding", "record", "--pemda", "35.73", "--title", "ok", "--condition", "y" * 10_001,
      "--received", "2023-03-01", "-r", "x"), "more than the 10,000 allowed"),
    (("finding", "record", "--pemda", "35.73", "--title", "bad \udcff utf8", "--received",
      "2023-03-01", "-r", "x"), "not valid UTF-8"),
    (("--actor", "bob\x00", "pemda", "register", "35.10"), "control character U+0000"),
    (("--actor", "bob\nFAKE line", "pemda", "register", "35.10"), "control character"),
    (("--db", "/dev/null", "pemda", "register", "35.10"), "not a regular file"),
    (("export", "--year", "2023", "--to", "z" * 300 + ".json"), "too long"),
    (("export", "--year", "2023", "--to", "a\nb.json"), "control character U+000A"),
    (("followup", "record", "F-2023-0001.1", "--on", "2023-03-02", "--action", "a",
      "--evidence", "/proc/self/mem"), "cannot read evidence file"),
    (("checkpoint", "--sign", "/dev/zero"), "not a regular file"),
    (("verify", "--key", "/dev/zero"), "not a regular file"),
    (("verify", "--checkpoint", "/dev/zero"), "not a regular file"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUTS)
def test_bad_input_is_one_line_exit_1_and_writes_nothing(ok: Run, run: Run, isolated: Path,
                                                         args: tuple[str, ...],
                                                         message: str) -> None:
    ok("pemda", "register", "35.73")
    ok("finding", "record", "--pemda", "35.73", "--title", "Temuan", "--received",
       "2023-03-01", "-r", "Perbaiki")
    before = isolated.read_bytes()
    result = run(*args)
    assert result.exit_code == 1, result
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert isolated.read_bytes() == before


def test_long_texts_may_span_lines_and_rupiah_may_end_in_a_dash(ok: Run) -> None:
    ok("pemda", "register", "35.73")
    ok("finding", "record", "--pemda", "35.73", "--title", "Temuan", "--condition",
       "baris satu\nbaris dua", "--value", "Rp12.150.000,-", "--received", "2023-03-01",
       "-r", "Perbaiki")
    shown = json.loads(ok("finding", "show", "F-2023-0001", "--format", "json").stdout)
    assert shown["value"] == 12_150_000


def test_a_fifo_as_a_checkpoint_is_refused_not_waited_on(demo: Path, run: Run) -> None:
    import os

    os.mkfifo("cp.fifo")
    result = run("verify", "--checkpoint", "cp.fifo")
    assert result.exit_code == 1 and "not a regular file" in result.stderr


def test_an_edited_event_is_never_served_by_finding_show(demo: Path, run: Run) -> None:
    with closing(raw(demo)) as db:
        db.execute("DROP TRIGGER stored_events_no_update")
        db.execute("UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), "
                   "'7500000', '9500000') AS BLOB) WHERE CAST(state AS TEXT) LIKE '%7500000%'")
        db.execute(TRIGGERS["stored_events_no_update"])
    for args in (("finding", "show", "F-2023-0003"), ("history", "--finding", "F-2023-0003")):
        result = run(*args)
        assert result.exit_code == 3, (args, result)
        assert "position" in result.stderr and "auditlog verify" in result.stderr
        assert "9500000" not in result.stdout and "9.500.000" not in result.stdout


def test_a_changed_topic_is_exit_3_never_a_traceback(demo: Path, run: Run) -> None:
    with closing(raw(demo)) as db:
        db.execute("DROP TRIGGER stored_events_no_update")
        db.execute("UPDATE stored_events SET topic = 'auditlog.nothing' WHERE rowid = 7")
        db.execute(TRIGGERS["stored_events_no_update"])
    for args in (("finding", "show", "F-2023-0002"), ("history",), ("rebuild",),
                 ("export", "--year", "2023", "--to", "r.json")):
        result = run(*args)
        assert result.exit_code == 3, (args, result)
        assert len(result.stderr.splitlines()) == 1


def test_a_read_only_store_whose_projections_lag_still_answers(ok: Run, run: Run,
                                                               isolated: Path,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    """An archived copy on read-only media: its projections may be behind its log (recorded
    into, never read, before it was archived). Reading commands fold the lag from the checked
    events; nothing is written; recording says it is read-only."""
    ok("demo")
    ok("pemda", "register", "35.09")  # recorded; no reading command caught the rows up
    with closing(raw(isolated)) as db:
        held = db.execute("SELECT position FROM projection_position").fetchone()[0]
        assert held < db.execute("SELECT max(rowid) FROM stored_events").fetchone()[0]
    before = isolated.read_bytes()
    monkeypatch.setattr("auditlog.store.sqlite.writable", lambda path: False)
    status = ok("status", "--format", "json").stdout
    assert "35.09" in status
    assert "35.09" in ok("status", "--as-of", "2024-01-10").stdout
    ok("finding", "list", "--pemda", "35.73")
    assert "verified" in ok("verify").stdout
    refused = run("pemda", "register", "35.10")
    assert refused.exit_code == 1 and "read-only" in refused.stderr
    monkeypatch.undo()
    with closing(raw(isolated)) as db:  # the rows were not caught up behind its back
        assert db.execute("SELECT position FROM projection_position").fetchone()[0] == held
    assert isolated.read_bytes() == before
