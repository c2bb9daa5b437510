"""`auditlog checkpoint`, `auditlog verify` and `auditlog keys generate`, as users run them."""

import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from auditlog.store.app import Store
from auditlog.store.integrity import verify_store
from auditlog.store.sqlite_integrity import TRIGGERS

from conftest import FIXED_STORE_ID, Run
from walkthrough import run_walkthrough

CHECKPOINT_LINES = ["auditlog checkpoint v1", f"store: {FIXED_STORE_ID}", "events: 71"]


@pytest.fixture
def demo(ok: Run, isolated: Path) -> Path:
    ok("demo")
    return isolated


def tamper(db_path: Path, statement: str) -> None:
    with closing(sqlite3.connect(db_path, isolation_level=None)) as db:
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                  ).fetchall():
            db.execute(f'DROP TRIGGER "{name}"')
        db.execute(statement)
        for create in TRIGGERS.values():  # put back, as a careful attacker would
            db.execute(create)


# --- checkpoint --------------------------------------------------------------------------------


def test_checkpoint_prints_identity_size_root_and_time_and_records_itself(demo: Path,
                                                                          ok: Run) -> None:
    lines = ok("checkpoint").stdout.splitlines()
    assert lines[:3] == CHECKPOINT_LINES
    assert lines[3].startswith("root: ") and len(lines[3]) == len("root: ") + 64
    assert lines[4] == "time: 2024-01-15T09:00:00Z"
    assert len(lines) == 5
    history = ok("history", "--format", "json").stdout
    assert json.loads(history)[-1]["event"] == "checkpoint.recorded"
    assert ok("verify").stdout.startswith("verified 72 events")


def test_checkpoint_saves_to_a_new_file_and_never_overwrites(demo: Path, ok: Run,
                                                             run: Run) -> None:
    assert ok("checkpoint", "--to", "cp.txt").stdout == "saved the checkpoint of 71 events to " \
        "cp.txt\n"
    saved = Path("cp.txt").read_text()
    refused = run("checkpoint", "--to", "cp.txt")
    assert refused.exit_code == 1
    assert "cp.txt already exists" in refused.stderr
    assert Path("cp.txt").read_text() == saved
    store = Store(str(demo))
    assert store.max_position() == 72  # the refused one recorded nothing
    store.close()


def test_checkpoint_as_json(demo: Path, ok: Run) -> None:
    data = json.loads(ok("checkpoint", "--format", "json").stdout)
    assert data["store"] == FIXED_STORE_ID and data["events"] == 71
    assert data["text"].startswith("auditlog checkpoint v1\n")
    assert data["key"] is None and data["signature"] is None


def test_no_checkpoint_of_a_tampered_log(demo: Path, run: Run) -> None:
    tamper(demo, "UPDATE stored_events SET topic = 'auditlog.finding.withdrawn' WHERE rowid = 7")
    result = run("checkpoint", "--to", "cp.txt")
    assert result.exit_code == 3
    (edited,) = result.stdout.splitlines()
    assert edited == "position 7: edited: its bytes are not those its chain entry was made for"
    assert result.stderr.startswith("auditlog: the log does not verify, so no checkpoint was "
                                    "made: 1 problem in 71 events")
    assert not Path("cp.txt").exists()
    store = Store(str(demo))
    assert store.max_position() == 71
    store.close()


def test_checkpoint_of_a_missing_store_is_refused(run: Run, isolated: Path) -> None:
    result = run("checkpoint")
    assert result.exit_code == 1 and "no store at" in result.stderr
    assert not isolated.exists()


# --- verify ------------------------------------------------------------------------------------


def test_verify_prints_the_count_and_the_root(demo: Path, ok: Run) -> None:
    lines = ok("verify").stdout.splitlines()
    assert lines[0] == "verified 71 events: every entry of the hash chain holds"
    assert lines[1].startswith("root ")
    assert lines[2:] == ["witness: the log extends all 61 checkpoints witnessed (up to 71 "
                         "events, in 1 folder)",
                         "projections: never proven equal to a fold of the events (verify "
                         "--projections does)"]
    assert len(ok("verify", "--no-witness").stdout.splitlines()) == 3


def test_verify_against_checkpoints_after_more_recording(demo: Path, ok: Run) -> None:
    ok("checkpoint", "--to", "2023.txt")
    ok("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "Setoran sisa",
       "--deposit", "Rp4.650.000")
    ok("checkpoint", "--to", "2024.txt")
    out = ok("verify", "--checkpoint", "2023.txt", "--checkpoint", "2024.txt").stdout
    assert out.splitlines()[2:] == [
        "2023.txt: the log extends it (71 events on 2024-01-15T09:00:00Z)",
        "2024.txt: the log extends it (73 events on 2024-01-15T09:00:00Z)",
        "witness: the log extends all 64 checkpoints witnessed (up to 74 events, in 1 folder)",
        "projections: never proven equal to a fold of the events (verify --projections does)",
    ]


def test_verify_json_lists_problems_and_checkpoints(demo: Path, ok: Run, run: Run) -> None:
    ok("checkpoint", "--to", "cp.txt")
    good = json.loads(ok("verify", "--checkpoint", "cp.txt", "--format", "json").stdout)
    assert good["verified"] is True and good["problems"] == []
    assert good["checkpoints"][0]["extends"] is True
    tamper(demo, "DELETE FROM stored_events WHERE rowid = 3")
    result = run("verify", "--format", "json")
    assert result.exit_code == 3
    bad = json.loads(result.stdout)
    assert bad["verified"] is False
    assert bad["problems"] == [{"position": 3, "last": 3, "checkpoint": None,
                                "kind": "missing", "detail": "the event recorded here is gone"}]


def test_verify_csv_prints_the_problems(demo: Path, run: Run) -> None:
    tamper(demo, "DELETE FROM stored_events WHERE rowid = 3")
    result = run("verify", "--format", "csv")
    assert result.exit_code == 3
    assert result.stdout.splitlines() == [
        "where,kind,detail", "position 3,missing,the event recorded here is gone"]


def test_a_checkpoint_that_was_edited_no_longer_matches(demo: Path, ok: Run, run: Run) -> None:
    ok("checkpoint", "--to", "cp.txt")
    text = Path("cp.txt").read_text().replace("events: 71", "events: 70")
    Path("cp.txt").write_text(text)
    result = run("verify", "--checkpoint", "cp.txt")
    assert result.exit_code == 3
    assert result.stdout.startswith("checkpoint cp.txt: root differs from checkpoint: the first "
                                    "70 events hash to ")


def test_a_checkpoint_that_is_not_one_is_refused(demo: Path, run: Run) -> None:
    Path("cp.txt").write_text("just some notes\n")
    result = run("verify", "--checkpoint", "cp.txt")
    assert result.exit_code == 1
    assert result.stderr == ("auditlog: cp.txt is not an auditlog checkpoint: its first line "
                             "should be 'auditlog checkpoint v1'\n")
    missing = run("verify", "--checkpoint", "nowhere.txt")
    assert missing.exit_code == 1 and "does not exist" in missing.stderr


def test_verify_of_a_missing_store_is_refused(run: Run) -> None:
    result = run("verify")
    assert result.exit_code == 1 and result.stderr.startswith("auditlog: no store at ")


def test_verify_of_a_file_that_is_no_store_is_refused(run: Run) -> None:
    Path("notes.txt").write_text("not a database at all, but long enough to look like one\n")
    result = run("--db", "notes.txt", "verify")
    assert result.exit_code == 1
    assert result.stderr == ("auditlog: notes.txt is not an auditlog store (not a SQLite "
                             "database): check --db\n")


# --- signatures --------------------------------------------------------------------------------


def test_signed_checkpoints_are_checked(demo: Path, ok: Run, run: Run) -> None:
    out = ok("keys", "generate", "--to", "inspektorat").stdout.splitlines()
    assert out[0].startswith("wrote inspektorat.key (private")
    assert out[1].startswith("wrote inspektorat.pub (public")
    assert os.stat("inspektorat.key").st_mode & 0o077 == 0
    assert ok("checkpoint", "--sign", "inspektorat.key", "--to", "cp.txt").stdout == \
        "saved a signed checkpoint of 71 events to cp.txt\n"
    text = Path("cp.txt").read_text()
    assert "\nkey: ed25519:" in text and "\nsignature: " in text
    assert "PRIVATE" not in text
    good = ok("verify", "--checkpoint", "cp.txt", "--key", "inspektorat.pub").stdout
    assert good.splitlines()[2] == ("cp.txt: the log extends it (71 events on "
                                    "2024-01-15T09:00:00Z, signed by the key in "
                                    "inspektorat.pub)")
    unkeyed = ok("verify", "--checkpoint", "cp.txt").stdout.splitlines()[2]
    assert ", signed by key ed25519:" in unkeyed

    # An edit the signature was made over: the time.
    Path("cp.txt").write_text(text.replace("09:00:00Z", "10:00:00Z"))
    result = run("verify", "--checkpoint", "cp.txt")
    assert result.exit_code == 3
    assert result.stdout == ("checkpoint cp.txt: signature invalid: the signature does not "
                             "match the checkpoint's text: it was altered after signing\n")


def test_a_checkpoint_signed_by_another_key_is_not_trusted(demo: Path, ok: Run,
                                                           run: Run) -> None:
    ok("keys", "generate", "--to", "ours")
    ok("keys", "generate", "--to", "theirs")
    ok("checkpoint", "--sign", "theirs.key", "--to", "signed.txt")
    ok("checkpoint", "--to", "unsigned.txt")
    for name, by in (("signed.txt", "signed by ed25519:"), ("unsigned.txt", "unsigned, not by")):
        result = run("verify", "--checkpoint", name, "--key", "ours.pub")
        assert result.exit_code == 3
        assert result.stdout.startswith(f"checkpoint {name}: not signed by the trusted key: "
                                        f"it is {by}")
        # the events themselves are intact: the message must not say otherwise
        assert "the log verifies, but a checkpoint's signature does not hold" in result.stderr


def test_key_mistakes_are_refused_in_one_line(demo: Path, ok: Run, run: Run) -> None:
    ok("keys", "generate", "--to", "k")
    again = run("keys", "generate", "--to", "k")
    assert again.exit_code == 1 and "k.key already exists" in again.stderr
    wrong = run("checkpoint", "--sign", "k.pub")
    assert wrong.exit_code == 1 and "is not a private key" in wrong.stderr
    absent = run("checkpoint", "--sign", "nowhere.key")
    assert absent.exit_code == 1 and "does not exist" in absent.stderr
    Path("rsa.key").write_bytes(_rsa_pem())
    rsa = run("checkpoint", "--sign", "rsa.key")
    assert rsa.exit_code == 1 and "is not an Ed25519 key" in rsa.stderr
    store = Store(str(demo))
    assert store.max_position() == 71  # nothing was recorded by any of them
    store.close()


def _rsa_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


def test_every_integrity_command_has_help_with_an_example(run: Run) -> None:
    for command in (["checkpoint"], ["verify"], ["keys", "generate"]):
        out = run(*command, "--help").stdout
        assert "Example: auditlog " in out, command
        assert "e.g." in out, command


# --- the walkthrough's story, with a tampered copy ---------------------------------------------

WALKTHROUGH = Path(__file__).resolve().parent.parent / "cli" / "03-proving-nothing-changed.md"


def test_a_tampered_copy_of_the_walkthrough_store_fails_with_exit_3(tmp_path: Path, ok: Run,
                                                                   run: Run) -> None:
    """cli/03-proving-nothing-changed.md, then what it only tells: someone edits a copy."""
    for command, expected, actual in run_walkthrough(WALKTHROUGH, tmp_path):
        assert actual == expected, command
    ok("verify", "--checkpoint", "checkpoint-2023.txt", "--checkpoint", "checkpoint-2024.txt")
    with closing(sqlite3.connect("auditlog.db")) as source, \
            closing(sqlite3.connect("copy.db")) as target:
        source.backup(target)
    # The review of F-2023-0001.1 (position 5) said S; in the copy it is made to say BS.
    tamper(Path("copy.db"), "UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), "
           "'\"status\":\"S\"', '\"status\":\"BS\"') AS BLOB) WHERE rowid = 5")
    result = run("--db", "copy.db", "verify", "--checkpoint", "checkpoint-2023.txt")
    assert result.exit_code == 3, result
    edited, differs = result.stdout.splitlines()
    assert edited == "position 5: edited: its bytes are not those its chain entry was made for"
    assert differs.startswith("checkpoint checkpoint-2023.txt: root differs from checkpoint: "
                              "the first 5 events hash to ")
    assert result.stderr == ("auditlog: the log does not verify: 2 problems in 10 events of "
                             f"{FIXED_STORE_ID}\n")
    signed = run("--db", "copy.db", "verify", "--checkpoint", "checkpoint-2024.txt", "--key",
                 "inspektorat.pub")
    assert signed.exit_code == 3
    ok("verify", "--checkpoint", "checkpoint-2023.txt")  # the original still holds


# --- four writers at once ----------------------------------------------------------------------

WRITER = """
import os, sys, time
from auditlog.cli.main import main

name, each, gun = sys.argv[1], int(sys.argv[2]), sys.argv[3]
while not os.path.exists(gun):
    time.sleep(0.005)
for i in range(each):
    sys.argv = ["auditlog", "finding", "record", "--pemda", "35.73", "--title",
                f"Temuan {name}-{i}", "--received", "2023-03-14", "-r", "Perbaiki"]
    try:
        main()
    except SystemExit as done:
        if done.code:
            raise
"""


def test_four_processes_recording_at_once_leave_a_chain_that_verifies(ok: Run,
                                                                      isolated: Path) -> None:
    ok("pemda", "register", "35.73")
    gun = isolated.with_name("go")
    env = {**os.environ, "AUDITLOG_DB": str(isolated)}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, f"w{n}", "6", str(gun)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for n in range(4)
    ]
    time.sleep(0.5)  # let them all reach the starting line
    gun.touch()
    for writer in writers:
        assert writer.wait(timeout=300) == 0, writer.stderr.read() if writer.stderr else ""
    store = Store(str(isolated))
    report = verify_store(store)
    with closing(sqlite3.connect(isolated)) as db:
        events = db.execute("SELECT count(*) FROM stored_events").fetchone()[0]
        entries = db.execute("SELECT count(*), min(seq), max(seq) FROM integrity_chain"
                             ).fetchone()
        findings = db.execute("SELECT count(*) FROM stored_events WHERE topic = "
                              "'auditlog.finding.recorded'").fetchone()[0]
    store.close()
    assert report.ok, [p.line() for p in report.problems]
    assert findings == 24  # every one recorded, none lost
    assert events == 1 + 24 * 2 == report.size  # each finding with its reference allocation
    assert entries == (events, 1, events)
