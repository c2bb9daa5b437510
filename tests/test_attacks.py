"""The attack suite of issue 8: what someone holding the file (and knowing the algorithm) can
do to it, each caught by `verify` (exit 3), and no reading command on the tampered store
ever answers with a traceback or with the tampered data unflagged.

Each attack starts from the demo story with its witness log (as auditlog left them); the
tally of attacks tried and caught, and of reading commands that refused, is printed.
"""

import json
import shutil
import sqlite3
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from auditlog.store.chain import chain_entries, entry_hash
from auditlog.store.sqlite_integrity import TRIGGERS

from conftest import FIXED_NOW, FIXED_STORE_ID, Run

TALLY: Counter[str] = Counter()
READERS = [("status",), ("finding", "list"), ("finding", "show", "F-2023-0003"),
           ("history",), ("replay", "--to", "2023-12-31"), ("status", "--as-of", "2023-06-30"),
           ("export", "--year", "2023", "--to", "review.json")]

Attack = Callable[[sqlite3.Connection], None]


def _unguarded(db: sqlite3.Connection) -> None:
    for name in TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")


def _careful(attack: Attack) -> Attack:
    """The attack, with the triggers dropped first and put back after, as a careful attacker
    leaves them (a missing trigger is caught on its own)."""
    def run(db: sqlite3.Connection) -> None:
        _unguarded(db)
        attack(db)
        for statement in TRIGGERS.values():
            db.execute(statement)
    return run


def edit_deposit(db: sqlite3.Connection) -> None:
    db.execute("UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), '7500000', "
               "'9500000') AS BLOB) WHERE CAST(state AS TEXT) LIKE '%7500000%'")


def edit_and_rechain(db: sqlite3.Connection) -> None:
    edit_deposit(db)
    rows = db.execute("SELECT rowid, CAST(originator_id AS BLOB), originator_version, "
                      "CAST(topic AS BLOB), CAST(state AS BLOB) FROM stored_events "
                      "ORDER BY rowid").fetchall()
    db.execute("DELETE FROM integrity_chain")
    db.executemany("INSERT INTO integrity_chain VALUES (?, ?, ?, ?, ?)",
                   [(seq, pos, oid.decode(), version, digest)
                    for seq, pos, oid, version, digest in chain_entries(rows)])


def delete_middle(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM stored_events WHERE rowid = 20")


def delete_tail_with_entries(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM stored_events WHERE rowid > 40")
    db.execute("DELETE FROM integrity_chain WHERE seq > 40")


def swap_two(db: sqlite3.Connection) -> None:
    a = db.execute("SELECT originator_id, originator_version, topic, state FROM stored_events "
                   "WHERE rowid = 5").fetchone()
    b = db.execute("SELECT originator_id, originator_version, topic, state FROM stored_events "
                   "WHERE rowid = 6").fetchone()
    db.execute("DELETE FROM stored_events WHERE rowid IN (5, 6)")
    db.execute("INSERT INTO stored_events (rowid, originator_id, originator_version, topic, "
               "state) VALUES (5, ?, ?, ?, ?)", b)
    db.execute("INSERT INTO stored_events (rowid, originator_id, originator_version, topic, "
               "state) VALUES (6, ?, ?, ?, ?)", a)


def change_topic(db: sqlite3.Connection) -> None:
    db.execute("UPDATE stored_events SET topic = 'auditlog.finding.withdrawn' WHERE rowid = 7")


def invalid_json(db: sqlite3.Connection) -> None:
    db.execute("UPDATE stored_events SET state = CAST('{not json' AS BLOB) WHERE rowid = 9")


def forge_append(db: sqlite3.Connection, recorded_at: str = "2024-01-15T09:00:00Z") -> None:
    topic, state = db.execute("SELECT topic, state FROM stored_events WHERE topic = "
                              "'auditlog.pemda.registered' ORDER BY rowid LIMIT 1").fetchone()
    data = json.loads(state)
    data.update(recorded_at=recorded_at, code="35.99", name="Kota Palsu")
    forged = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    new_id = uuid.uuid4().hex
    seq, prev = db.execute("SELECT seq, hash FROM integrity_chain ORDER BY seq DESC LIMIT 1"
                           ).fetchone()
    cursor = db.execute("INSERT INTO stored_events VALUES (?, 1, ?, ?)", (new_id, topic, forged))
    db.execute("INSERT INTO integrity_chain VALUES (?, ?, ?, 1, ?)",
               (seq + 1, cursor.lastrowid, new_id,
                entry_hash(seq + 1, prev, new_id.encode(), 1, topic.encode(), forged)))


def backdated_append(db: sqlite3.Connection) -> None:
    forge_append(db, recorded_at="2023-02-01T00:00:00Z")


def drop_integrity_tables(db: sqlite3.Connection) -> None:
    _unguarded(db)
    edit_deposit(db)
    db.execute("DROP TABLE integrity_chain")
    db.execute("DROP TABLE integrity_meta")


def drop_a_trigger(db: sqlite3.Connection) -> None:
    db.execute("DROP TRIGGER stored_events_no_delete")


def edit_projection_rows(db: sqlite3.Connection) -> None:
    db.execute("UPDATE projection_recommendation SET deposited = 14150000 "
               "WHERE deposited = 7500000")


def alter_chain_entry(db: sqlite3.Connection) -> None:
    db.execute("UPDATE integrity_chain SET hash = zeroblob(32) WHERE seq = 12")


ATTACKS: dict[str, tuple[Attack, tuple[str, ...]]] = {
    "edit an event": (_careful(edit_deposit), ()),
    "edit an event and recompute the chain": (_careful(edit_and_rechain), ()),
    "delete an event": (_careful(delete_middle), ()),
    "delete the tail with its chain entries": (_careful(delete_tail_with_entries), ()),
    "swap two events": (_careful(swap_two), ()),
    "change a topic": (_careful(change_topic), ()),
    "write invalid JSON": (_careful(invalid_json), ()),
    "append a forged event with a valid chain entry": (forge_append, ()),
    "append a backdated event": (backdated_append, ("--no-witness",)),
    "edit, then drop the integrity tables": (drop_integrity_tables, ()),
    "drop an append-only trigger": (drop_a_trigger, ()),
    "edit projection rows": (_careful(edit_projection_rows), ("--projections",)),
    "alter a chain entry": (_careful(alter_chain_entry), ()),
}


# A rewrite whose chain was recomputed holds as a chain: reading commands, which check each
# row against the chain, cannot see it; only the witness and saved checkpoints can, which is
# what verify holds the log against (and status, whose projections keep the entry hash they
# were built on). Those commands are not asked to refuse it.
WHOLE_REWRITES = {"edit an event and recompute the chain"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("attack-template")
    env = {**os.environ, "AUDITLOG_DB": str(folder / "auditlog.db"),
           "AUDITLOG_WITNESS": str(folder / "witness"), "AUDITLOG_NOW": FIXED_NOW,
           "AUDITLOG_STORE_ID": FIXED_STORE_ID, "AUDITLOG_ACTOR": "auditor"}
    for args in (["demo"], ["status"]):
        subprocess.run([sys.executable, "-c", "from auditlog.cli.main import main; main()",
                        *args], cwd=folder, env=env, check=True, capture_output=True)
    return folder


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_every_attack_is_caught_and_nothing_is_served(name: str, template: Path,
                                                      isolated: Path, run: Run,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(template / "auditlog.db", isolated)
    shutil.copytree(template / "witness", isolated.parent / "witness")
    attack, verify_args = ATTACKS[name]
    with closing(sqlite3.connect(isolated, isolation_level=None)) as db:
        attack(db)
    TALLY["attacks tried"] += 1
    result = run("verify", *verify_args)
    assert result.exit_code == 3, (name, result)
    assert "Traceback" not in result.stdout + result.stderr
    TALLY["attacks caught by verify"] += 1
    for args in READERS:
        answer = run(*args)
        assert answer.exit_code in (0, 3), (name, args, answer)
        assert "Traceback" not in answer.stdout + answer.stderr, (name, args)
        if answer.exit_code == 3:
            assert len(answer.stderr.splitlines()) == 1, (name, args, answer.stderr)
            assert answer.stdout == "", (name, args)  # nothing served before the refusal
            TALLY["reading commands that refused (exit 3)"] += 1
        else:
            TALLY["reading commands that answered (the attack left what they read intact)"] += 1
        if name not in WHOLE_REWRITES:
            for edited in ("9500000", "9.500.000"):  # an edited amount is never shown
                assert edited not in answer.stdout, (name, args)
        Path("review.json").unlink(missing_ok=True)


def test_zz_attack_tally(capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print("\nattack suite:")
        for what, count in TALLY.items():
            print(f"  {count:3d}  {what}")
    assert TALLY["attacks caught by verify"] == TALLY["attacks tried"] == len(ATTACKS)
