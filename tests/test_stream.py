"""The one read path: rows checked against the hash chain as they are read, decoded without
re-validation; recording that does not reread what grows with the log."""

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from unittest import mock

import pytest

from auditlog import commands
from auditlog.demo import record_demo
from auditlog.domain.aggregate import Context
from auditlog.domain.events import RecommendationSpec
from auditlog.errors import DamagedStore
from auditlog.store.app import Store
from auditlog.store.chain import GENESIS, chain_entries
from auditlog.store.integrity import current_checkpoint, record_checkpoint
from auditlog.store.mapper import PydanticMapper

from conftest import Run


@pytest.fixture
def demo(isolated: Path) -> Iterator[Path]:
    store = Store(str(isolated))
    record_demo(store, "auditor")
    store.close()
    yield isolated


def attack(path: Path, *statements: str) -> None:
    """What someone holding the file can do: drop the append-only triggers, change rows."""
    with closing(sqlite3.connect(path)) as db:
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                  ).fetchall():
            db.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            db.execute(statement)
        db.commit()


def read_all(path: Path) -> int:
    store = Store(str(path))
    try:
        return sum(len(batch) for batch in store.stream(batch=7))
    finally:
        store.close()


def test_an_intact_log_streams_whole(demo: Path) -> None:
    store = Store(str(demo))
    try:
        positions = [p for batch in store.stream(batch=4) for p, _ in batch]
        assert positions == list(range(1, store.max_position() + 1))
        tail = [p for batch in store.stream(after=40, batch=4) for p, _ in batch]
        assert tail == list(range(41, store.max_position() + 1))
        upto = [p for batch in store.stream(stop=10) for p, _ in batch]
        assert upto == list(range(1, 11))
    finally:
        store.close()


@pytest.mark.parametrize(("statement", "position", "says"), [
    ("UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), 'auditor', 'auditer')"
     " AS BLOB) WHERE rowid = 12", 12, "its bytes are not those"),
    ("UPDATE stored_events SET state = CAST(state AS TEXT) WHERE rowid = 5", 5,
     "its bytes are not those"),
    ("DELETE FROM stored_events WHERE rowid = 20", 20, "the chain does not lead"),
    ("UPDATE integrity_chain SET hash = zeroblob(32) WHERE seq = 30", 30,
     "its bytes are not those"),
    ("DELETE FROM integrity_chain WHERE seq = 33", 34, "the chain does not lead"),
    ("INSERT INTO stored_events (originator_id, originator_version, topic, state) "
     "SELECT originator_id, 99, topic, state FROM stored_events WHERE rowid = 3", 72,
     "no chain entry"),
])
def test_a_damaged_row_stops_the_stream_where_it_is(demo: Path, statement: str, position: int,
                                                     says: str) -> None:
    attack(demo, statement)
    with pytest.raises(DamagedStore) as raised:
        read_all(demo)
    assert f"position {position}:" in str(raised.value)
    assert says in str(raised.value)
    assert "auditlog verify" in str(raised.value)


def test_a_row_rewritten_with_its_chain_but_undecodable_is_refused(demo: Path) -> None:
    """A full rewrite of the chain makes the hashes hold; the row still cannot be decoded."""
    attack(demo, "UPDATE stored_events SET state = CAST('{\"nonsense\": 1}' AS BLOB) "
                 "WHERE rowid = 9", "DELETE FROM integrity_chain")
    with closing(sqlite3.connect(demo)) as db:
        rows = db.execute("SELECT rowid, CAST(originator_id AS BLOB), originator_version, "
                          "CAST(topic AS BLOB), state FROM stored_events ORDER BY rowid")
        entries = [(seq, pos, oid.decode(), version, digest)
                   for seq, pos, oid, version, digest in chain_entries(rows, 0, GENESIS)]
        db.executemany("INSERT INTO integrity_chain VALUES (?, ?, ?, ?, ?)", entries)
        db.commit()
    with pytest.raises(DamagedStore, match="position 9: its event cannot be decoded"):
        read_all(demo)


def test_a_damaged_store_is_exit_3_for_every_decoding_command(demo: Path, run: Run) -> None:
    attack(demo, "UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), "
                 "'auditor', 'auditer') AS BLOB) WHERE rowid = 7")
    for command in (["replay", "--to", "2023-12-31"], ["rebuild"], ["history"],
                    ["status", "--as-of", "2023-06-30"],
                    ["export", "--year", "2023", "--to", "out.json"]):
        result = run(*command)
        assert result.exit_code == 3, (command, result)
        assert "\n" not in result.stderr.strip() and "auditlog verify" in result.stderr
    assert not Path("out.json").exists()




def test_recording_reads_the_same_whatever_the_year_already_holds(isolated: Path) -> None:
    """The reference counter is not replayed: the 30th finding of a year decodes as many
    events as the 2nd (before, every allocation of the year was decoded each time)."""
    store = Store(str(isolated))
    ctx = Context("siti", datetime(2024, 1, 2, tzinfo=UTC))
    commands.register_pemda(store, ctx, "35.73", None, None, date(2023, 1, 2))
    decoded: list[int] = []
    real = PydanticMapper.to_domain_event

    def counting(self: PydanticMapper, stored: object) -> object:
        decoded[-1] += 1
        return real(self, stored)  # type: ignore[arg-type]

    try:
        with mock.patch.object(PydanticMapper, "to_domain_event", counting):
            for n in range(30):
                decoded.append(0)
                commands.record_finding(store, ctx, commands.NewFinding(
                    pemda="35.73", title=f"temuan {n}", received=date(2023, 3, 1),
                    recommendations=[RecommendationSpec(n=1, text="setor")]))
        assert decoded[1] == decoded[29], decoded
        for _ in range(3):
            checkpoint = current_checkpoint(store)
            decoded.append(0)
            with mock.patch.object(PydanticMapper, "to_domain_event", counting):
                record_checkpoint(store, ctx, checkpoint)
        assert decoded[-1] <= 1, decoded  # the checkpoint log's last event, nothing more
    finally:
        store.close()
