"""The hash chain, the Merkle tree, checkpoints and verify, below the command line."""

import hashlib
import itertools
import os
import sqlite3
import tracemalloc
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic
from hypothesis import given
from hypothesis import strategies as st

from auditlog.demo import record_demo
from auditlog.domain.aggregate import Context
from auditlog.domain.checkpoint import CHECKPOINTS_ID, CheckpointLog
from auditlog.domain.events import PemdaRegistered
from auditlog.errors import DamagedStore, Refusal
from auditlog.store import chain, integrity
from auditlog.store.app import Store
from auditlog.store.chain import (
    EMPTY_ROOT,
    GENESIS,
    AlignedStack,
    LogReader,
    MerkleTree,
    entry_hash,
    fold,
    leaf_hash,
    merkle_root,
    node_hash,
    stack_root,
)
from auditlog.store.integrity import (
    Checkpoint,
    IntegrityFailure,
    Tuning,
    current_checkpoint,
    parse_checkpoint,
    record_checkpoint,
    verify_log,
    verify_store,
)
from auditlog.store.mapper import PydanticMapper
from auditlog.store.sqlite_integrity import TRIGGERS
from auditlog.store.verify_worker import run as run_worker

# RFC 6962's reference leaves, and the tree heads of their first 0..8 (as published with the
# certificate-transparency reference implementation).
RFC6962_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)]
RFC6962_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
SMALL = Tuning(block_level=2, part_min=8, processes=False)
"""Blocks of 4 entries and segments of 8 or more: the demo's 71 events take every path."""


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, word for word: the recursive definition, as a reference."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


# --- the Merkle tree ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(9))
def test_merkle_root_matches_rfc6962_reference_vectors(size: int) -> None:
    assert merkle_root(RFC6962_LEAVES[:size]).hex() == RFC6962_ROOTS[size]


def test_empty_tree_is_the_hash_of_nothing() -> None:
    assert MerkleTree().root() == EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_streaming_tree_agrees_with_the_recursive_definition_at_every_size() -> None:
    leaves = [i.to_bytes(4, "big") for i in range(130)]
    tree = MerkleTree()
    assert tree.root() == mth([])
    for n, leaf in enumerate(leaves, 1):
        tree.append(leaf_hash(leaf))
        assert tree.root() == mth(leaves[:n]), n
    assert len(tree.stack) == bin(130).count("1")  # memory: one subtree per bit of the size


def mth_of_hashes(leaf_hashes: list[bytes]) -> bytes:
    tree = MerkleTree()
    for leaf in leaf_hashes:
        tree.append(leaf)
    return tree.root()


@given(st.integers(min_value=0, max_value=300), st.integers(min_value=0, max_value=4),
       st.lists(st.integers(min_value=1, max_value=120), max_size=4))
def test_aligned_pieces_fold_into_the_same_tree(total: int, level: int,
                                                cuts: list[int]) -> None:
    """Segments that start at multiples of a block, built apart, give the whole tree."""
    block = 1 << level
    leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(total)]
    bounds = sorted({0, total, *(min(total, c * block) for c in cuts)})
    parts = []
    tail: list[bytes] = []
    for start, end in itertools.pairwise(bounds):
        blocks = AlignedStack(offset=start >> level)
        stack: list[bytes] = []
        filled = 0  # leaves in the current block, as check_segment builds it
        for leaf in leaves[start:end]:
            node, n = leaf, filled
            while n & 1:
                node = node_hash(stack.pop(), node)
                n >>= 1
            stack.append(node)
            filled += 1
            if filled == block:
                blocks.push(0, stack.pop())
                filled = 0
        parts.append([(lv + level, h) for lv, h in blocks.nodes])
        tail = stack
    whole = fold(parts)
    assert stack_root([h for _, h in whole] + tail) == mth_of_hashes(leaves)


# --- the chain ---------------------------------------------------------------------------------


def test_entry_hash_covers_every_field_and_keeps_them_apart() -> None:
    base = (5, GENESIS, b"ab" * 16, 3, b"auditlog.pemda.registered", b'{"a":1}')
    variants = [
        (6, *base[1:]),
        (5, b"\x01" * 32, *base[2:]),
        (5, GENESIS, b"cd" * 16, *base[3:]),
        (5, GENESIS, b"ab" * 16, 4, *base[4:]),
        (5, GENESIS, b"ab" * 16, 3, b"auditlog.pemda.registere", b'd{"a":1}'),  # moved byte
        (5, GENESIS, b"ab" * 16, 3, b"auditlog.pemda.registered", b'{"a":2}'),
    ]
    hashes = {entry_hash(*base), *(entry_hash(*v) for v in variants)}
    assert len(hashes) == len(variants) + 1


def test_each_entry_hashes_the_bytes_exactly_as_stored(isolated: Path) -> None:
    store = Store(str(isolated))
    record_demo(store, "auditor")
    store.close()
    with closing(sqlite3.connect(isolated, isolation_level=None)) as db:
        rows = db.execute("SELECT rowid, originator_id, originator_version, topic, state "
                          "FROM stored_events ORDER BY rowid").fetchall()
        entries = db.execute("SELECT seq, position, originator_id, originator_version, hash "
                             "FROM integrity_chain ORDER BY seq").fetchall()
    assert len(rows) == len(entries) == 71
    prev = GENESIS
    for seq, (row, entry) in enumerate(zip(rows, entries, strict=True), 1):
        position, oid, version, topic, state = row
        assert isinstance(state, bytes)
        prev = entry_hash(seq, prev, oid.encode(), version, topic.encode(), state)
        assert entry == (seq, position, oid, version, prev)


def test_a_new_store_has_an_identity_of_its_own(isolated: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITLOG_STORE_ID")
    ids = set()
    for name in ("a.db", "b.db"):
        store = Store(str(isolated.with_name(name)))
        with store.log_reader() as reader:
            ids.add(reader.store_id)
        store.close()
    assert len(ids) == 2 and all(len(i) == 36 for i in ids)


def test_a_bad_pinned_identity_is_refused(isolated: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITLOG_STORE_ID", "not-a-uuid")
    with pytest.raises(Refusal, match="AUDITLOG_STORE_ID"):
        Store(str(isolated))


# --- append-only -------------------------------------------------------------------------------


@pytest.mark.parametrize("statement", [
    "UPDATE stored_events SET topic = 'x' WHERE rowid = 1",
    "DELETE FROM stored_events WHERE rowid = 1",
    "UPDATE integrity_chain SET hash = x'00' WHERE seq = 1",
    "DELETE FROM integrity_chain",
    "UPDATE integrity_meta SET value = 'x'",
    "DELETE FROM integrity_meta",
    "INSERT OR REPLACE INTO integrity_meta VALUES ('store_id', 'x')",
])
def test_the_store_refuses_to_change_or_delete_what_it_holds(isolated: Path,
                                                             statement: str) -> None:
    store = Store(str(isolated))
    record_demo(store, "auditor")
    store.close()
    with closing(sqlite3.connect(isolated, isolation_level=None)) as db, \
            pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute(statement)


def test_a_removed_trigger_is_reported_not_put_back_and_blocks_writing(isolated: Path) -> None:
    store = Store(str(isolated))
    record_demo(store, "auditor")
    store.close()
    with closing(sqlite3.connect(isolated, isolation_level=None)) as db:
        db.execute("DROP TRIGGER stored_events_no_update")
    store = Store(str(isolated))
    report = verify_store(store)
    assert [p.kind for p in report.problems] == [integrity.Kind.unguarded]
    assert "stored_events_no_update" in report.problems[0].detail
    with pytest.raises(DamagedStore, match="stored_events_no_update"):
        store.require_writable()
    store.close()
    with closing(sqlite3.connect(isolated, isolation_level=None)) as db:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert "stored_events_no_update" not in names  # the evidence is left as it was


# --- stores made before the chain existed -------------------------------------------------------


def _old_store(path: Path, count: int) -> None:
    """A store as the first version of auditlog made it: eventsourcing's table only."""

    class Old(Application[UUID]):
        name = "auditlog"

        def construct_mapper(self) -> Mapper[UUID]:
            return PydanticMapper()

    app = Old(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path),
                   "APPLICATION_RECORDER_TOPIC": get_topic(SQLiteApplicationRecorder)})
    events = [
        PemdaRegistered(originator_id=uuid5(NAMESPACE_URL, f"old/{i}"), originator_version=1,
                        actor="auditor", recorded_at=datetime(2023, 1, 2, tzinfo=UTC),
                        effective_on=date(2023, 1, 2), code=f"99.{i:02d}", name=f"Kota {i}",
                        level="kota")
        for i in range(count)
    ]
    app.recorder.insert_events([app.mapper.to_stored_event(e) for e in events])
    app.close()


def test_events_without_a_chain_are_an_integrity_failure_never_rechained(isolated: Path) -> None:
    _old_store(isolated, 12)  # events, and no integrity tables at all
    store = Store(str(isolated))
    report = verify_store(store)
    assert not report.ok
    kinds = {p.kind for p in report.problems}
    assert integrity.Kind.unguarded in kinds and integrity.Kind.inserted in kinds
    with pytest.raises(DamagedStore, match="lost its integrity tables"):
        store.require_intact_tables()
    store.close()
    with closing(sqlite3.connect(isolated, isolation_level=None)) as db:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert "integrity_chain" not in names


def test_an_edit_then_dropped_integrity_tables_is_never_hidden(isolated: Path) -> None:
    store = Store(str(isolated))
    record_demo(store, "auditor")
    store.close()
    with closing(sqlite3.connect(isolated, isolation_level=None)) as db:
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                  ).fetchall():
            db.execute(f'DROP TRIGGER "{name}"')
        db.execute("UPDATE stored_events SET state = replace(state, '12150000', '14150000')")
        db.execute("DROP TABLE integrity_chain")
        db.execute("DROP TABLE integrity_meta")
    store = Store(str(isolated))
    assert not verify_store(store).ok
    store.close()
    again = Store(str(isolated))  # a second opening does not lay a new chain either
    assert not verify_store(again).ok
    again.close()


def test_a_store_whose_chain_table_was_emptied_is_not_quietly_rechained(isolated: Path) -> None:
    store = Store(str(isolated))
    record_demo(store, "auditor")
    store.close()
    with closing(sqlite3.connect(isolated, isolation_level=None)) as db:
        db.execute("DROP TRIGGER integrity_chain_no_delete")
        db.execute("DELETE FROM integrity_chain")
    store = Store(str(isolated))
    report = verify_store(store)
    store.close()
    assert not report.ok
    assert {p.kind for p in report.problems} == {integrity.Kind.inserted,
                                                 integrity.Kind.unguarded}


# --- verify, current_checkpoint ----------------------------------------------------------------


@pytest.fixture
def demo(isolated: Path) -> Path:
    store = Store(str(isolated))
    record_demo(store, "auditor")
    store.close()
    return isolated


def test_verify_splits_the_work_without_changing_the_answer(demo: Path) -> None:
    store = Store(str(demo))
    whole = verify_store(store, workers=1)
    for workers in (2, 3, 5):
        split = verify_store(store, workers=workers, tuning=SMALL)
        assert (split.ok, split.size, split.root) == (whole.ok, whole.size, whole.root)
    store.close()


def test_checkpoints_of_every_size_hold_however_the_work_is_split(demo: Path) -> None:
    store = Store(str(demo))
    whole = verify_store(store, workers=1)
    roots = []
    with store.log_reader() as reader:
        for size in range(whole.size + 1):  # the root at each size, from its own pass
            cut = verify_log(_Prefix(reader, size), workers=1)
            roots.append(cut.root)
    saved = [(f"cp{size}", Checkpoint(store_id=whole.store_id, size=size, root=root,
                                      time=datetime(2024, 1, 15, tzinfo=UTC)))
             for size, root in enumerate(roots)]
    for workers in (1, 2, 3, 6):
        report = verify_store(store, saved, workers=workers, tuning=SMALL)
        assert report.ok, [p.line() for p in report.problems]
    store.close()


class _Prefix:
    """A reader that shows only the first `size` entries (and their events) of another."""

    def __init__(self, reader: LogReader, size: int) -> None:
        self.reader, self.size = reader, size
        self.store_id, self.notes = reader.store_id, reader.notes

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reader, name)

    def count(self) -> int:
        return self.size

    def event_count(self) -> int:
        return self.size


def test_worker_processes_do_their_share(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With processes, only the first segment is checked here; the others come back whole."""
    here = []
    checking = chain.check_segment

    def counted(*args: object, **kwargs: object) -> chain.Segment:
        here.append(args[1])
        return checking(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(integrity, "check_segment", counted)
    store = Store(str(demo))
    checkpoint = current_checkpoint(store)
    here.clear()
    report = verify_store(store, [("cp", checkpoint)], workers=3,
                          tuning=Tuning(block_level=2, part_min=8, processes=True))
    store.close()
    assert here == [1]
    assert report.ok and report.root == checkpoint.root and report.checkpoints[0].extends


def test_a_worker_request_round_trips(demo: Path) -> None:
    store = Store(str(demo))
    with store.log_reader() as reader:
        before = reader.entry_before(9)
        assert before is not None
        direct = chain.check_segment(reader, 9, 71, chain.Start(10, before[2], before[1]),
                                     [20], block_level=2)
        source = reader.source()
    store.close()
    answer = run_worker({"source": source, "first": 9, "last": 71, "wanted": [20],
                         "start": [10, before[2].hex(), before[1]], "block_level": 2})
    assert chain.Segment.from_json(answer) == direct


def test_current_checkpoint_records_nothing(demo: Path) -> None:
    store = Store(str(demo))
    before = store.max_position()
    checkpoint = current_checkpoint(store)
    assert store.max_position() == before == checkpoint.size == 71
    assert checkpoint.store_id == "3f2c8a1e-5b7d-4e9a-8c6f-1d2e3a4b5c6d"
    assert checkpoint.root == verify_store(store).root
    store.close()


def test_recording_a_checkpoint_adds_one_event_and_the_log_still_extends_it(demo: Path) -> None:
    store = Store(str(demo))
    checkpoint = current_checkpoint(store)
    record_checkpoint(store, integrity_context(), checkpoint)
    record_checkpoint(store, integrity_context(), current_checkpoint(store))
    log = store.get(CHECKPOINTS_ID)
    assert isinstance(log, CheckpointLog) and log.issued == 2 and log.last_size == 72
    report = verify_store(store, [("first", checkpoint)])
    store.close()
    assert report.ok and report.size == 73 and report.checkpoints[0].extends


def integrity_context() -> Context:
    return Context(actor="auditor", at=datetime(2024, 1, 15, 9, tzinfo=UTC))


def test_no_checkpoint_of_a_log_that_does_not_verify(demo: Path) -> None:
    with closing(sqlite3.connect(demo, isolation_level=None)) as db:
        db.execute("DROP TRIGGER stored_events_no_update")
        db.execute("UPDATE stored_events SET state = state || ' ' WHERE rowid = 3")
        db.execute(TRIGGERS["stored_events_no_update"])
    store = Store(str(demo))
    with pytest.raises(IntegrityFailure) as failure:
        current_checkpoint(store)
    store.close()
    assert [p.line() for p in failure.value.report.problems] == [
        "position 3: edited: its bytes are not those its chain entry was made for"]


def test_an_empty_log_verifies_and_its_root_is_the_empty_tree(isolated: Path) -> None:
    store = Store(str(isolated))
    report = verify_store(store)
    store.close()
    assert report.ok and report.size == 0 and report.root == EMPTY_ROOT.hex()


def test_verify_streams_memory_does_not_grow_with_the_log(tmp_path: Path) -> None:
    """Past one block of entries (whose hashes it holds), verify's memory stays flat."""

    def peak(count: int) -> int:
        path = tmp_path / f"log-{count}.db"
        store = Store(str(path))
        state = b'{"name":"' + b"x" * 300 + b'"}'
        for start in range(0, count, 2000):
            store.app.recorder.insert_events([
                StoredEvent(originator_id=uuid5(NAMESPACE_URL, f"{start}/{i}"),
                            originator_version=1, topic="auditlog.pemda.registered",
                            state=state)
                for i in range(min(2000, count - start))
            ])
        tracemalloc.start()
        report = verify_store(store, workers=1)
        _, high = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        store.close()
        assert report.ok and report.size == count
        return high

    small, large = peak(2 * chain.BLOCK + 100), peak(10 * chain.BLOCK + 100)
    assert large < small + 64 * 1024, (small, large)


# --- checkpoints as text -----------------------------------------------------------------------


def sample() -> Checkpoint:
    return Checkpoint(store_id="3f2c8a1e-5b7d-4e9a-8c6f-1d2e3a4b5c6d", size=45,
                      root=RFC6962_ROOTS[8], time=datetime(2024, 1, 15, 9, tzinfo=UTC))


def test_checkpoint_text_is_short_and_reads_back() -> None:
    text = sample().text()
    assert text == (
        "auditlog checkpoint v1\n"
        "store: 3f2c8a1e-5b7d-4e9a-8c6f-1d2e3a4b5c6d\n"
        "events: 45\n"
        f"root: {RFC6962_ROOTS[8]}\n"
        "time: 2024-01-15T09:00:00Z\n"
    )
    assert parse_checkpoint(text) == sample()


def test_a_retyped_checkpoint_reads_back_whatever_the_spacing() -> None:
    retyped = ("\r\n  Auditlog  Checkpoint v1\r\n\r\n    store:3F2C8A1E-5B7D-4E9A-8C6F-1D2E3A4B5C6D"
               f"\r\n events:   45\r\n root: {RFC6962_ROOTS[8].upper()}  \r\n"
               "time: 2024-01-15T16:00:00+07:00\r\n")
    assert parse_checkpoint(retyped) == sample()


@pytest.mark.parametrize(("text", "message"), [
    ("", "not an auditlog checkpoint"),
    ("hello\n", "not an auditlog checkpoint"),
    ("auditlog checkpoint v1\nstore: 3f2c8a1e-5b7d-4e9a-8c6f-1d2e3a4b5c6d\n", "lacks events"),
    ("auditlog checkpoint v1\nstore: x\nevents: 1\nroot: " + "0" * 64 + "\ntime: 2024-01-15Z",
     "not a store identity"),
    ("auditlog checkpoint v1\nstore: 3f2c8a1e-5b7d-4e9a-8c6f-1d2e3a4b5c6d\nevents: -1\nroot: "
     + "0" * 64 + "\ntime: 2024-01-15T00:00Z", "not a number"),
    ("auditlog checkpoint v1\nstore: 3f2c8a1e-5b7d-4e9a-8c6f-1d2e3a4b5c6d\nevents: 1\nroot: "
     + "0" * 63 + "\ntime: 2024-01-15T00:00Z", "64 hexadecimal"),
    ("auditlog checkpoint v1\nstore: 3f2c8a1e-5b7d-4e9a-8c6f-1d2e3a4b5c6d\nevents: 1\nroot: "
     + "0" * 64 + "\ntime: 2024-01-15T00:00", "lacks its zone"),
    ("auditlog checkpoint v1\nstore: 3f2c8a1e-5b7d-4e9a-8c6f-1d2e3a4b5c6d\nevents: 1\nroot: "
     + "0" * 64 + "\ntime: 2024-01-15T00:00Z\nkey: ed25519:AAAA", "both a key and a signature"),
    ("auditlog checkpoint v1\nstore: 3f2c8a1e-5b7d-4e9a-8c6f-1d2e3a4b5c6d\nevents: 1\nroot: "
     + "0" * 64 + "\ntime: 2024-01-15T00:00Z\ncolour: blue", "does not know: colour"),
])
def test_what_is_not_a_checkpoint_is_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(Refusal, match=message) as refusal:
        parse_checkpoint(text, source="cp.txt")
    assert "\n" not in str(refusal.value)


def test_a_signature_holds_until_anything_in_the_checkpoint_changes() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    signed = sample().signed(key)
    assert signed.signature_holds()
    assert parse_checkpoint(signed.text()) == signed
    assert signed.fingerprint == integrity.public_fingerprint(key.public_key())
    for change in ({"size": 44}, {"root": RFC6962_ROOTS[7]},
                   {"time": datetime(2024, 1, 16, tzinfo=UTC)},
                   {"store_id": "00000000-0000-4000-8000-000000000000"}):
        altered = Checkpoint(**{**signed.__dict__, **change})
        assert not altered.signature_holds()
    other = Ed25519PrivateKey.generate().public_key()
    assert signed.fingerprint != integrity.public_fingerprint(other)


def test_keys_are_written_once_and_the_private_one_is_private(tmp_path: Path) -> None:
    private, public = integrity.generate_keys(tmp_path / "inspektorat")
    assert (private.name, public.name) == ("inspektorat.key", "inspektorat.pub")
    assert os.stat(private).st_mode & 0o077 == 0
    assert integrity.load_private_key(private) is not None
    assert integrity.load_public_key(public) is not None
    with pytest.raises(Refusal, match="already exists"):
        integrity.generate_keys(tmp_path / "inspektorat")
    with pytest.raises(Refusal, match="not a private key"):
        integrity.load_private_key(public)
    with pytest.raises(Refusal, match="does not exist"):
        integrity.load_public_key(tmp_path / "nowhere.pub")
