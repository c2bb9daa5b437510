"""Attacks on the raw database: whatever an attacker with the file does, verify catches it.

The `attacker` fixture opens the SQLite file as an attacker would: with plain sqlite3, after
dropping the append-only triggers. Truncation and a full rewrite with recomputed hashes
leave a chain that holds, so those two are caught against a checkpoint saved beforehand,
as an annual review would have printed it.
"""

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlog.demo import record_demo
from auditlog.store.app import Store
from auditlog.store.chain import GENESIS, chain_entries
from auditlog.store.integrity import Checkpoint, Kind, Tuning, current_checkpoint, verify_log
from auditlog.store.sqlite_integrity import TRIGGERS, SQLiteLog

from conftest import FIXED_NOW, FIXED_STORE_ID, Run

EVENTS = 71  # the demo story


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo story, recorded once per module and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "demo.db"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AUDITLOG_NOW", FIXED_NOW)
        env.setenv("AUDITLOG_STORE_ID", FIXED_STORE_ID)
        store = Store(str(path))
        record_demo(store, "auditor")
        store.close()
    return path


def copy_store(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


@pytest.fixture
def log(template: Path, isolated: Path) -> Path:
    copy_store(template, isolated)
    return isolated


@pytest.fixture
def saved(log: Path, ok: Run) -> Path:
    """A checkpoint saved before the attack (it covers the events of the demo)."""
    ok("checkpoint", "--to", "before.txt")
    return log.parent / "before.txt"


def drop_triggers(db: sqlite3.Connection) -> None:
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f'DROP TRIGGER "{name}"')


@pytest.fixture
def attacker(log: Path) -> Iterator[sqlite3.Connection]:
    """The raw database as an attacker opens it: the append-only triggers dropped first."""
    with closing(sqlite3.connect(log, isolation_level=None)) as db:
        drop_triggers(db)
        yield db


def put_back_triggers(db: sqlite3.Connection) -> None:
    """What a careful attacker does last, so that no missing trigger gives the attack away."""
    for statement in TRIGGERS.values():
        db.execute(statement)


def event(db: sqlite3.Connection, position: int) -> tuple[str, int, str, bytes]:
    row = db.execute("SELECT originator_id, originator_version, topic, state FROM stored_events "
                     "WHERE rowid = ?", (position,)).fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3]


def failing(run: Run, *args: str, witness: bool = False) -> list[str]:
    """verify's problem lines; it must exit 3 with one summary line on stderr. The witness
    log is left out unless asked for: each test looks at one way of catching the attack."""
    result = run("verify", *args, *(() if witness else ("--no-witness",)))
    assert result.exit_code == 3, result
    assert result.stderr.startswith("auditlog: the log does not verify: "), result
    assert len(result.stderr.strip().splitlines()) == 1
    # The attacker fixture drops the append-only triggers, which verify reports on a line of
    # its own (tested in test_dropped_triggers_are_reported_and_block_writing); each test
    # here looks at what the attack did to the events.
    return [line for line in result.stdout.splitlines()
            if not line.startswith("note: ") and "append-only guard missing" not in line]


def rechain(db: sqlite3.Connection) -> None:
    """What a careful attacker does after editing events: recompute every entry and rewrite
    the chain, so that it holds again (the algorithm is no secret)."""
    rows = db.execute("SELECT rowid, CAST(originator_id AS BLOB), originator_version, "
                      "CAST(topic AS BLOB), CAST(state AS BLOB) FROM stored_events "
                      "ORDER BY rowid").fetchall()
    db.execute("DELETE FROM integrity_chain")
    db.executemany("INSERT INTO integrity_chain VALUES (?, ?, ?, ?, ?)",
                   [(seq, pos, oid.decode(), version, digest)
                    for seq, pos, oid, version, digest in chain_entries(rows)])


# --- one attack each ---------------------------------------------------------------------------


def test_the_untouched_log_verifies(log: Path, ok: Run) -> None:
    assert ok("verify").stdout.startswith(f"verified {EVENTS} events")


def test_one_byte_of_one_events_state_changed(attacker: sqlite3.Connection, run: Run) -> None:
    state = bytearray(event(attacker, 10)[3])
    state[len(state) // 2] ^= 0x01
    attacker.execute("UPDATE stored_events SET state = ? WHERE rowid = 10", (bytes(state),))
    assert failing(run) == [
        "position 10: edited: its bytes are not those its chain entry was made for"]


def test_a_topic_changed(attacker: sqlite3.Connection, run: Run) -> None:
    attacker.execute("UPDATE stored_events SET topic = 'auditlog.finding.withdrawn' "
                     "WHERE rowid = 12")
    assert failing(run) == [
        "position 12: edited: its bytes are not those its chain entry was made for"]


def test_a_middle_event_deleted(attacker: sqlite3.Connection, run: Run) -> None:
    attacker.execute("DELETE FROM stored_events WHERE rowid = 20")
    assert failing(run) == ["position 20: missing: the event recorded here is gone"]


def test_a_middle_event_deleted_with_its_chain_entry(attacker: sqlite3.Connection,
                                                     run: Run) -> None:
    attacker.execute("DELETE FROM stored_events WHERE rowid = 20")
    attacker.execute("DELETE FROM integrity_chain WHERE seq = 20")
    assert failing(run) == ["position 20: missing: the event of chain entry 20 is gone, with "
                            "its entry"]


def test_a_forged_event_inserted(attacker: sqlite3.Connection, run: Run) -> None:
    oid = event(attacker, 30)[0]
    top = attacker.execute("SELECT max(originator_version) FROM stored_events "
                           "WHERE originator_id = ?", (oid,)).fetchone()[0]
    attacker.execute("INSERT INTO stored_events VALUES (?, ?, ?, ?)",
                     (oid, top + 1, "auditlog.finding.withdrawn",
                      b'{"actor":"auditor","effective_on":"2023-08-01",'
                      b'"reason":"tercatat ganda","recorded_at":"2023-08-01T09:00:00Z"}'))
    assert failing(run) == [f"position {EVENTS + 1}: inserted: no chain entry points at this "
                            "event"]


def test_a_forged_event_put_where_a_deleted_one_was(attacker: sqlite3.Connection,
                                                    run: Run) -> None:
    oid, version, topic, state = event(attacker, 8)
    attacker.execute("DELETE FROM stored_events WHERE rowid = 8")
    attacker.execute("INSERT INTO stored_events (rowid, originator_id, originator_version, "
                     "topic, state) VALUES (8, ?, ?, ?, ?)",
                     (uuid.uuid4().hex, 1, topic, state))
    (line,) = failing(run)
    assert line.startswith("position 8: edited: another event is here; the event recorded "
                           f"here (aggregate {oid} version {version}) is gone")


def test_two_events_swapped(attacker: sqlite3.Connection, run: Run) -> None:
    first, second = event(attacker, 5), event(attacker, 30)
    attacker.execute("UPDATE stored_events SET originator_id = 'moving' WHERE rowid = 5")
    attacker.execute("UPDATE stored_events SET originator_id = ?, originator_version = ?, "
                     "topic = ?, state = ? WHERE rowid = 30", first)
    attacker.execute("UPDATE stored_events SET originator_id = ?, originator_version = ?, "
                     "topic = ?, state = ? WHERE rowid = 5", second)
    assert failing(run) == [
        "position 5: out of order: another event is here; the event recorded here is now at "
        "position 30",
        "position 30: out of order: another event is here; the event recorded here is now at "
        "position 5",
    ]


def test_an_event_moved_to_a_later_position(attacker: sqlite3.Connection, run: Run) -> None:
    attacker.execute("UPDATE stored_events SET rowid = 1000 WHERE rowid = 17")
    assert failing(run) == [
        "position 17: out of order: nothing is here; the event recorded here is now at "
        "position 1000"]


def test_the_last_events_deleted_are_caught_against_a_checkpoint(
        saved: Path, attacker: sqlite3.Connection, ok: Run, run: Run) -> None:
    # The careful attacker removes the chain's entries too: the chain alone still holds.
    attacker.execute("DELETE FROM stored_events WHERE rowid > 40")
    attacker.execute("DELETE FROM integrity_chain WHERE seq > 40")
    put_back_triggers(attacker)
    assert ok("verify", "--no-witness").stdout.startswith("verified 40 events")
    assert failing(run, "--checkpoint", str(saved)) == [
        f"checkpoint {saved}: shorter than checkpoint: the log has 40 events; the checkpoint "
        f"covers {EVENTS}"]
    # The witness caught it without the saved checkpoint.
    (line,) = failing(run, witness=True)
    assert line.startswith("checkpoint witness ") and "shorter than checkpoint" in line
    assert line.endswith("the log has 40: events were cut off")


def test_the_last_events_deleted_without_their_entries(attacker: sqlite3.Connection,
                                                       run: Run) -> None:
    attacker.execute("DELETE FROM stored_events WHERE rowid > 40")
    assert failing(run) == [f"positions 41-{EVENTS}: missing: the event recorded here is gone"]


def test_a_full_rewrite_with_recomputed_hashes_is_caught_against_a_checkpoint(
        saved: Path, attacker: sqlite3.Connection, ok: Run, run: Run) -> None:
    original = event(attacker, 33)[3]
    state = original.replace(b'"status":"S"', b'"status":"BS"')
    assert state != original
    attacker.execute("UPDATE stored_events SET state = ? WHERE rowid = 33", (state,))
    rechain(attacker)
    put_back_triggers(attacker)
    assert ok("verify", "--no-witness").stdout.startswith(f"verified {EVENTS + 1} events")
    (line,) = failing(run, witness=True)  # the witness caught it alone
    assert line.startswith("checkpoint witness ") and "root differs" in line
    (line,) = failing(run, "--checkpoint", str(saved))
    assert line.startswith(f"checkpoint {saved}: root differs from checkpoint: the first {EVENTS} "
                           "events hash to ")


def test_a_rewrite_into_a_new_store_is_caught_against_a_checkpoint(
        saved: Path, log: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITLOG_STORE_ID")  # a new file gets a new identity
    forged = log.with_name("forged.db")
    store = Store(str(forged))
    with closing(sqlite3.connect(log)) as db:
        rows = db.execute("SELECT originator_id, originator_version, topic, state "
                          "FROM stored_events ORDER BY rowid").fetchall()
    from eventsourcing.persistence import StoredEvent

    store.app.recorder.insert_events([
        StoredEvent(originator_id=uuid.UUID(oid), originator_version=version, topic=topic,
                    state=state.replace(b"Kota Malang", b"Kota Batu"))
        for oid, version, topic, state in rows
    ])
    store.close()
    result = run("--db", str(forged), "verify", "--checkpoint", str(saved))
    assert result.exit_code == 3, result
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"checkpoint {saved}: other store: it was made for store "
                               f"{FIXED_STORE_ID}; this is store ")
    assert lines[1].startswith(f"checkpoint {saved}: root differs from checkpoint")


def test_a_chain_entry_altered_alone(attacker: sqlite3.Connection, run: Run) -> None:
    attacker.execute("UPDATE integrity_chain SET hash = zeroblob(32) WHERE seq = 25")
    assert failing(run) == [
        "position 25: chain broken: the hash of its chain entry was altered (the event itself "
        "is as recorded)"]


def test_a_chain_entry_deleted_alone(attacker: sqlite3.Connection, run: Run) -> None:
    attacker.execute("DELETE FROM integrity_chain WHERE seq = 25")
    assert failing(run) == [
        "position 25: chain broken: chain entry 25 is gone: the event at position 25 cannot be "
        "checked"]


def test_the_store_identity_changed(saved: Path, attacker: sqlite3.Connection,
                                    run: Run) -> None:
    attacker.execute("UPDATE integrity_meta SET value = ? WHERE key = 'store_id'",
                     (str(uuid.uuid4()),))
    (line,) = failing(run, "--checkpoint", str(saved))
    assert line.startswith(f"checkpoint {saved}: other store: it was made for store "
                           f"{FIXED_STORE_ID}")


# --- any single mutation -----------------------------------------------------------------------

Mutation = Callable[[sqlite3.Connection], None]


def _flip_state(position: int, at: int, mask: int) -> Mutation:
    def mutate(db: sqlite3.Connection) -> None:
        state = bytearray(event(db, position)[3])
        state[at % len(state)] ^= mask
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (bytes(state), position))
    return mutate


def _set_topic(position: int, topic: str) -> Mutation:
    def mutate(db: sqlite3.Connection) -> None:
        db.execute("UPDATE stored_events SET topic = ? WHERE rowid = ?", (topic, position))
    return mutate


def _sql(statement: str, *params: object) -> Mutation:
    def mutate(db: sqlite3.Connection) -> None:
        db.execute(statement, params)
    return mutate


def _swap(a: int, b: int) -> Mutation:
    def mutate(db: sqlite3.Connection) -> None:
        first, second = event(db, a), event(db, b)
        db.execute("UPDATE stored_events SET originator_id = 'moving' WHERE rowid = ?", (a,))
        db.execute("UPDATE stored_events SET originator_id = ?, originator_version = ?, "
                   "topic = ?, state = ? WHERE rowid = ?", (*first, b))
        db.execute("UPDATE stored_events SET originator_id = ?, originator_version = ?, "
                   "topic = ?, state = ? WHERE rowid = ?", (*second, a))
    return mutate


def _rewrite(position: int, at: int) -> Mutation:
    def mutate(db: sqlite3.Connection) -> None:
        _flip_state(position, at, 0x20)(db)
        rechain(db)
    return mutate


def _forge(with_entry: bool) -> Mutation:
    def mutate(db: sqlite3.Connection) -> None:
        cursor = db.execute("INSERT INTO stored_events VALUES (?, 1, ?, ?)",
                            (uuid.uuid4().hex, "auditlog.pemda.registered", b"{}"))
        if with_entry:  # an entry that does not hold (a holding one is a later event)
            db.execute("INSERT INTO integrity_chain VALUES (?, ?, ?, 1, ?)",
                       (EVENTS + 1, cursor.lastrowid, "00" * 16, GENESIS))
    return mutate


positions = st.integers(min_value=1, max_value=EVENTS)
mutations = st.one_of(
    st.builds(_flip_state, positions, st.integers(min_value=0),
              st.integers(min_value=1, max_value=255)),
    st.builds(_set_topic, positions, st.sampled_from(
        ["auditlog.finding.withdrawn", "auditlog.grade.recorded", "x"])),
    positions.map(lambda p: _sql("UPDATE stored_events SET originator_version = "
                                 "originator_version + 1000 WHERE rowid = ?", p)),
    positions.map(lambda p: _sql("UPDATE stored_events SET originator_id = ? WHERE rowid = ?",
                                 uuid.uuid4().hex, p)),
    positions.map(lambda p: _sql("UPDATE stored_events SET originator_id = "
                                 "upper(originator_id) WHERE rowid = ?", p)),
    positions.map(lambda p: _sql("DELETE FROM stored_events WHERE rowid = ?", p)),
    positions.map(lambda p: _sql("DELETE FROM integrity_chain WHERE seq = ?", p)),
    positions.map(lambda p: _sql("UPDATE stored_events SET rowid = rowid + 5000 "
                                 "WHERE rowid = ?", p)),
    st.builds(_swap, positions, positions),
    positions.map(lambda p: _sql("UPDATE integrity_chain SET hash = zeroblob(32) "
                                 "WHERE seq = ?", p)),
    positions.map(lambda p: _sql("UPDATE integrity_chain SET position = position + 1 "
                                 "WHERE seq = ?", p)),
    positions.map(lambda p: _sql("DELETE FROM stored_events WHERE rowid >= ?", p)),
    positions.map(lambda p: _sql("DELETE FROM integrity_chain WHERE seq >= ?", p)),
    st.builds(_rewrite, positions, st.integers(min_value=0)),
    st.booleans().map(_forge),
    st.just(_sql("UPDATE integrity_meta SET value = ? WHERE key = 'store_id'",
                 "00000000-0000-4000-8000-000000000000")),
    positions.map(lambda p: _sql("UPDATE stored_events SET state = CAST(state AS TEXT) "
                                 "WHERE rowid = ?", p)),
    positions.map(lambda p: _sql("UPDATE stored_events SET topic = CAST(topic AS BLOB) "
                                 "WHERE rowid = ?", p)),
)


@pytest.fixture(scope="module")
def known(template: Path) -> Checkpoint:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AUDITLOG_NOW", FIXED_NOW)
        store = Store(str(template))
        checkpoint = current_checkpoint(store)
        store.close()
    return checkpoint


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutate=mutations, split=st.booleans())
def test_verify_never_passes_a_mutated_log(template: Path, known: Checkpoint, tmp_path: Path,
                                           mutate: Mutation, split: bool) -> None:
    path = tmp_path / f"{uuid.uuid4().hex}.db"
    copy_store(template, path)
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        drop_triggers(db)
        before = db.execute("SELECT * FROM stored_events ORDER BY rowid").fetchall(), \
            db.execute("SELECT * FROM integrity_chain ORDER BY seq").fetchall(), \
            db.execute("SELECT * FROM integrity_meta ORDER BY key").fetchall()
        mutate(db)
        after = db.execute("SELECT * FROM stored_events ORDER BY rowid").fetchall(), \
            db.execute("SELECT * FROM integrity_chain ORDER BY seq").fetchall(), \
            db.execute("SELECT * FROM integrity_meta ORDER BY key").fetchall()
    if before == after:  # e.g. two events swapped with themselves: nothing to catch
        return
    tuning = Tuning(block_level=2, part_min=8, processes=False) if split else Tuning()
    with SQLiteLog(str(path)) as reader:
        report = verify_log(reader, [("before", known)], workers=4, tuning=tuning)
    assert not report.ok
    assert all(p.kind in Kind for p in report.problems)
