"""The hash chain and its Merkle tree, and checking a stretch of the chain against the events.

Backend-neutral and light on imports on purpose: verify may run ``check_segment`` in worker
processes (see store/integrity.py), which should start in milliseconds.

Each stored event has a chain entry, written in the transaction that stores the event. The
entry's hash covers its sequence number, the previous entry's hash, and the event's aggregate
id, version, topic and state bytes exactly as stored. It is the RFC 6962 leaf hash of that
encoding (0x00 prefix), so the chain's hashes are the leaves of the Merkle tree whose root a
checkpoint holds, and a later inclusion proof for an event proves exactly its chain entry.
"""

import hashlib
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Protocol, Self

from auditlog.i18n import N_, _

GENESIS = bytes(32)
"""The 'previous hash' of the first entry."""

_ENTRY_HEAD = struct.Struct(">BQqIIQ")  # 0x00, seq, version, len(id), len(topic), len(state)
_sha256 = hashlib.sha256


def entry_hash(seq: int, prev: bytes, originator_id: bytes, originator_version: int,
               topic: bytes, state: bytes) -> bytes:
    """Entry ``seq``'s hash; the lengths are inside, so no two different rows encode alike.

    A value of another kind than the recorder writes (text for bytes, a version that is not
    an integer: an edit) hashes to b"", which no entry ever holds.
    """
    try:
        return _sha256(
            _ENTRY_HEAD.pack(0, seq, originator_version, len(originator_id), len(topic),
                             len(state))
            + prev + originator_id + topic + state
        ).digest()
    except (TypeError, struct.error):
        return b""


_RECORDED = b'"recorded_at":"'
_RECORDED_LEN = len(_RECORDED)


def recorded_stamp(state: Any) -> bytes | None:
    """The transaction time as the event's state bytes hold it, without decoding them.

    The state is JSON with sorted keys written by orjson: a quote inside a string value is
    escaped, so this key can only be found where it is one.
    """
    if not isinstance(state, bytes):
        return None
    start = state.find(_RECORDED)
    if start < 0:
        return None
    start += len(_RECORDED)
    end = state.find(b'"', start)
    return state[start:end] if end > 0 else None


def stamp_time(stamp: bytes) -> datetime | None:
    try:
        moment = datetime.fromisoformat(stamp.decode())
    except (ValueError, UnicodeDecodeError):
        return None
    return moment if moment.tzinfo is not None else None


def recorded_time(state: Any) -> datetime | None:
    stamp = recorded_stamp(state)
    return None if stamp is None else stamp_time(stamp)


def earlier(stamp: bytes, before: bytes) -> bool:
    """Whether the stamp is a moment earlier than ``before``; same-length stamps (the same
    format, all in UTC) compare as bytes, which is the usual and cheap case."""
    if len(stamp) == len(before) and stamp[-1:] == before[-1:] == b"Z":
        return stamp < before
    first, second = stamp_time(stamp), stamp_time(before)
    return first is not None and second is not None and first < second


EventRow = tuple[int, bytes, int, bytes, bytes]
"""(position, aggregate id, version, topic, state) of a stored event, bytes as stored.

The aggregate id is the text the recorder writes for it (a UUID's 32 lowercase hex digits),
so the same log hashes alike on SQLite and PostgreSQL.
"""

ChainRow = tuple[int, int, bytes, Any, Any, Any, Any]
"""(seq, position, stored hash, then the id, version, topic and state of the event stored at
that position as in EventRow, or four Nones when there is none).

The event's part is typed Any because it is checked for None once, on the id, in the loop
that is the whole cost of verify."""


def chain_entries(rows: Iterable[EventRow], seq: int = 0, prev: bytes = GENESIS
                  ) -> Iterator[tuple[int, int, bytes, int, bytes]]:
    """The entries that follow (seq, prev) for these events: (seq, position, id, version, hash).

    Used when events are stored, and once to give a store that predates the chain its entries.
    """
    for position, originator_id, version, topic, state in rows:
        seq += 1
        prev = entry_hash(seq, prev, originator_id, version, topic, state)
        yield seq, position, originator_id, version, prev


# --- the Merkle tree (RFC 6962, section 2.1) ---------------------------------------------------

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def stack_root(stack: Sequence[bytes]) -> bytes:
    """MTH of RFC 6962 from the perfect subtrees of a tree, largest first, folded from the right
    (the largest power of two smaller than n is always the left split)."""
    if not stack:
        return EMPTY_ROOT
    node = stack[-1]
    for left in reversed(stack[:-1]):
        node = node_hash(left, node)
    return node


class MerkleTree:
    """The tree head of an append-only list, kept as a stack of perfect subtree roots.

    Appending is amortised O(1) and memory is O(log n); ``root()`` may be taken at any size.
    """

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        """Append a leaf by its leaf hash."""
        node = leaf
        n = self.size
        while n & 1:  # each trailing one bit of the old size is a finished subtree to its left
            node = node_hash(self.stack.pop(), node)
            n >>= 1
        self.stack.append(node)
        self.size += 1

    def root(self) -> bytes:
        return stack_root(self.stack)


def merkle_root(data: Iterable[bytes]) -> bytes:
    """MTH over these leaves (their data, not their hashes)."""
    tree = MerkleTree()
    for item in data:
        tree.append(leaf_hash(item))
    return tree.root()


BLOCK_LEVEL = 12
BLOCK = 1 << BLOCK_LEVEL
"""Segments of the chain start at multiples of this many entries, so their subtrees align."""


@dataclass
class AlignedStack:
    """Perfect subtrees (level, root) laid end to end, each at an offset that is a multiple of
    its size; two neighbours merge only when they are siblings in the whole tree.

    ``offset`` is where the first one starts, counted in leaves of the level the caller pushes.
    """

    offset: int = 0
    nodes: list[tuple[int, bytes]] = field(default_factory=list)
    count: int = 0

    def push(self, level: int, root: bytes) -> None:
        self.nodes.append((level, root))
        index = self.offset + self.count  # in units of `level`; only level-0 pushes count
        self.count += 1
        while index & 1 and len(self.nodes) > 1 and self.nodes[-2][0] == self.nodes[-1][0]:
            (level, left), (_, right) = self.nodes[-2], self.nodes[-1]
            self.nodes[-2:] = [(level + 1, node_hash(left, right))]
            index >>= 1

    def hashes(self) -> list[bytes]:
        return [root for _, root in self.nodes]


def fold(parts: Iterable[Sequence[tuple[int, bytes]]]) -> list[tuple[int, bytes]]:
    """Aligned subtrees of consecutive segments, merged into the stack of the whole."""
    stack: list[tuple[int, bytes]] = []
    for part in parts:
        for level, root in part:
            stack.append((level, root))
            while len(stack) > 1 and stack[-2][0] == stack[-1][0]:
                (lvl, left), (_, right) = stack[-2], stack[-1]
                stack[-2:] = [(lvl + 1, node_hash(left, right))]
    return stack


# --- what a backend supplies -------------------------------------------------------------------


class SnapshotBase:
    """What every engine's snapshot of the log shares: the facts of the store, the guards found
    missing, and closing its read transaction."""

    db: Any
    missing: list[str]
    notes: list[str]
    store_id: str

    def read_facts(self, facts: dict[str, str]) -> None:
        self.store_id = facts.get("store_id", "")
        if "chain_added_for" in facts:
            self.notes.append(_("the chain was added to this store on {created_at}, "
                                "over the {chain_added_for} events it already held: of "
                                "those, it proves only that they have not changed since").format(
                created_at=facts['created_at'], chain_added_for=facts['chain_added_for']))

    def missing_guards(self) -> list[str]:
        return self.missing

    def close(self) -> None:
        self.db.rollback()
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


class LogReader(Protocol):
    """One snapshot of a store's events and chain, read in order.

    Whatever the backend, ``chain`` must stream (a plain cursor on SQLite, a server-side
    cursor on PostgreSQL), and a reader opened from ``source()`` in another process must see
    at least the same entries (they are append-only, so any later snapshot does).
    """

    @property
    def store_id(self) -> str:
        """The store's identity, or "" when it is missing."""
        ...

    @property
    def notes(self) -> Sequence[str]:
        """Facts about the store worth telling whoever verifies it (e.g. when the chain
        began)."""
        ...

    def count(self) -> int:
        """The highest sequence number in the chain."""
        ...

    def event_count(self) -> int:
        ...

    def chain(self, first: int, last: int) -> Iterator[ChainRow]:
        """The chain entries with seq in [first, last], by seq, joined to the event stored at
        each one's position."""
        ...

    def entry_before(self, seq: int) -> tuple[int, int, bytes] | None:
        """(seq, position, hash) of the last entry before ``seq``."""
        ...

    def event_positions(self) -> Iterator[int]:
        """Every event's position, ascending."""
        ...

    def chain_positions(self) -> Iterator[int]:
        """Every chain entry's position, ascending."""
        ...

    def linked_identity(self, seq: int) -> tuple[bytes, int] | None:
        """The aggregate id and version that entry ``seq`` was written for."""
        ...

    def find(self, originator_id: bytes, originator_version: int) -> EventRow | None:
        """The stored event with this identity, wherever it is now."""
        ...

    def source(self) -> dict[str, str] | None:
        """How another process opens this store for reading (None: it cannot)."""
        ...


# --- problems ----------------------------------------------------------------------------------


class Kind(StrEnum):
    edited = "edited"
    missing = "missing"
    inserted = "inserted"
    out_of_order = "out of order"
    chain_broken = "chain broken"
    shorter = "shorter than checkpoint"
    root_differs = "root differs from checkpoint"
    other_store = "other store"
    bad_signature = "signature invalid"
    untrusted = "not signed by the trusted key"
    backwards = "recorded before the event before it"
    unguarded = "append-only guard missing"
    unwitnessed = "not witnessed"


# The kinds are stable words in JSON; people read them translated (marked for extraction).
_KIND_NAMES = (N_("edited"), N_("missing"), N_("inserted"), N_("out of order"),
               N_("chain broken"), N_("shorter than checkpoint"),
               N_("root differs from checkpoint"), N_("other store"), N_("signature invalid"),
               N_("not signed by the trusted key"), N_("recorded before the event before it"),
               N_("append-only guard missing"), N_("not witnessed"))


@dataclass(frozen=True)
class Problem:
    kind: Kind
    detail: str
    position: int | None = None
    last: int | None = None  # a run of positions with the same problem ends here
    checkpoint: str | None = None  # the checkpoint it concerns, for checkpoint problems

    @property
    def where(self) -> str:
        if self.checkpoint is not None:
            return _("checkpoint {name}").format(name=self.checkpoint)
        if self.position is None:
            return _("store")
        if self.last is not None and self.last != self.position:
            return _("positions {first}-{last}").format(first=self.position, last=self.last)
        return _("position {position}").format(position=self.position)

    @property
    def kind_name(self) -> str:
        """The kind in the reader's language (JSON keeps ``kind.value``)."""
        return _(self.kind.value)

    def line(self) -> str:
        return f"{self.where}: {self.kind_name}: {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "last": self.last or self.position,
                "checkpoint": self.checkpoint, "kind": self.kind.value, "detail": self.detail}


def coalesce(problems: Iterable[Problem]) -> list[Problem]:
    """Runs of the same problem at consecutive positions become one line (e.g. a truncation)."""
    out: list[Problem] = []
    for problem in problems:
        if out and problem.position is not None and problem.checkpoint is None:
            before = out[-1]
            end = before.last or before.position
            if (before.kind is problem.kind and before.detail == problem.detail
                    and end is not None and before.checkpoint is None
                    and problem.position == end + 1):
                out[-1] = replace(before, last=problem.position)
                continue
        out.append(problem)
    return out


def _identity(originator_id: bytes, version: int) -> str:
    return f"aggregate {originator_id.decode(errors='replace')} version {version}"


# --- checking a stretch of the chain -----------------------------------------------------------


@dataclass
class Gap:
    """Chain entries gone from the middle (seq first..last), between two positions."""

    first: int
    last: int
    after: int
    before: int


@dataclass
class Start:
    """Where a segment picks up: the entry before it, as stored."""

    expected: int = 1  # the next seq
    prev: bytes = GENESIS  # the hash of the entry before
    last_position: int = 0


@dataclass
class Segment:
    """What checking entries [first, last] found, and its part of the Merkle tree."""

    first: int
    last: int
    entries: int = 0
    matched: int = 0  # entries whose event is at their position, positions rising
    blocks: list[tuple[int, bytes]] = field(default_factory=list)  # aligned: see AlignedStack
    partial: list[bytes] = field(default_factory=list)  # the unfinished block's subtrees
    at: dict[int, tuple[list[tuple[int, bytes]], list[bytes]]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    moved_to: list[int] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    pending: int | None = None  # position of a mismatch the next segment's first entry decides
    prev: bytes = GENESIS  # the recomputed hash of its last entry
    first_stamp: bytes | None = None  # transaction times of its first and last events, so
    last_stamp: bytes | None = None  # a step backwards between segments is seen too
    first_position: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "first": self.first, "last": self.last, "entries": self.entries,
            "matched": self.matched, "blocks": [[lv, h.hex()] for lv, h in self.blocks],
            "partial": [h.hex() for h in self.partial],
            "at": {str(k): [[[lv, h.hex()] for lv, h in b], [h.hex() for h in p]]
                   for k, (b, p) in self.at.items()},
            "problems": [[p.kind.value, p.detail, p.position] for p in self.problems],
            "moved_to": self.moved_to,
            "gaps": [[g.first, g.last, g.after, g.before] for g in self.gaps],
            "pending": self.pending, "prev": self.prev.hex(),
            "stamps": [None if t is None else t.decode("latin-1")
                       for t in (self.first_stamp, self.last_stamp)],
            "first_position": self.first_position,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Segment":
        def stamp(text: str | None) -> bytes | None:
            return None if text is None else text.encode("latin-1")

        def nodes(items: list[list[Any]]) -> list[tuple[int, bytes]]:
            return [(int(lv), bytes.fromhex(h)) for lv, h in items]

        return cls(
            first=data["first"], last=data["last"], entries=data["entries"],
            matched=data["matched"], blocks=nodes(data["blocks"]),
            partial=[bytes.fromhex(h) for h in data["partial"]],
            at={int(k): (nodes(b), [bytes.fromhex(h) for h in p])
                for k, (b, p) in data["at"].items()},
            problems=[Problem(Kind(k), d, p) for k, d, p in data["problems"]],
            moved_to=list(data["moved_to"]),
            gaps=[Gap(*g) for g in data["gaps"]],
            pending=data["pending"], prev=bytes.fromhex(data["prev"]),
            first_stamp=stamp(data["stamps"][0]), last_stamp=stamp(data["stamps"][1]),
            first_position=data["first_position"],
        )


class _Classify:
    """The rare, slow cases: what exactly is wrong where an entry does not hold."""

    def __init__(self, reader: LogReader, segment: Segment) -> None:
        self.reader = reader
        self.segment = segment
        self.unmatched = 0  # entries with no event at their position, or pointing back

    def add(self, kind: Kind, position: int | None, detail: str) -> None:
        self.segment.problems.append(Problem(kind, detail, position))

    def mismatch(self, seq: int, position: int, stored: bytes, computed: bytes,
                 stored_prev: bytes, pending: int | None, row: EventRow
                 ) -> tuple[bytes, int | None]:
        """The entry's hash, recomputed, is not the stored one, or the one before was not:
        returns the hash to carry on from, and the position still to decide, if any."""
        if computed == stored:  # holds with the entry before recomputed: that entry's
            assert pending is not None  # hash was altered, its event is intact
            self.segment.problems.append(entry_altered(pending))
            return computed, None
        if pending is not None:
            self.segment.problems.append(edited(pending))
        if entry_hash(seq, stored_prev, *row[1:]) == stored:
            return stored, None  # intact; the entry before was reported already
        if self.reader.linked_identity(seq) == (row[1], row[2]):
            return computed, position  # its bytes, or its entry's hash: the next entry tells
        self.misplaced(seq, position, stored, stored_prev, present=True)
        return stored, None

    def structural(self, seq: int, position: int, stored: bytes, expected: int,
                   last_position: int, stored_prev: bytes, pending: int | None,
                   present: bool) -> None:
        """An entry out of sequence, pointing back, or with no event at its position."""
        if pending is not None:
            self.segment.problems.append(edited(pending))
        if seq > expected:  # entries gone; this one cannot be recomputed without them
            self.segment.gaps.append(Gap(expected, seq - 1, last_position, position))
        elif seq < expected:
            self.add(Kind.chain_broken, position,
                     _("chain entry {seq} appears twice").format(seq=seq))
        if position <= last_position:
            self.unmatched += 1
            self.add(Kind.chain_broken, position, _(
                "chain entry {seq} points back to position {position}, after position "
                "{last}").format(seq=seq, position=position, last=last_position))
        elif not present:
            self.unmatched += 1
            self.misplaced(seq, position, stored, stored_prev, present=False)

    def misplaced(self, seq: int, position: int, stored: bytes, stored_prev: bytes,
                  present: bool) -> None:
        """Entry ``seq`` at ``position`` is not matched by the event there (or there is none)."""
        identity = self.reader.linked_identity(seq)
        if identity is None:
            self.add(Kind.chain_broken, position,
                     _("chain entry {seq} cannot be read").format(seq=seq))
            return
        originator_id, version = identity
        elsewhere = self.reader.find(originator_id, version)
        here = _("another event is here") if present else _("nothing is here")
        if elsewhere is None:
            if present:
                self.add(Kind.edited, position, _(
                    "{here}; the event recorded here ({event}) is gone").format(
                        here=here, event=_identity(originator_id, version)))
            else:
                self.add(Kind.missing, position, _("the event recorded here is gone"))
            return
        moved = elsewhere[0]
        if entry_hash(seq, stored_prev, *elsewhere[1:]) == stored:
            self.segment.moved_to.append(moved)
            self.add(Kind.out_of_order, position,
                     _("{here}; the event recorded here is now at position {moved}").format(
                         here=here, moved=moved))
        else:
            self.add(Kind.edited, position,
                     _("{here}; the event recorded here is at position {moved}, changed").format(
                         here=here, moved=moved))


def backwards(position: int, stamp: bytes, before: bytes) -> Problem:
    return Problem(Kind.backwards, _("recorded at {stamp}, before the event before it "
                                     "({before}): transaction time went backwards "
                                     "(backdated, or inserted out of time)").format(
        stamp=stamp.decode(errors='replace'), before=before.decode(errors='replace')), position)


def edited(position: int) -> Problem:
    return Problem(Kind.edited, _("its bytes are not those its chain entry was made for"), position)


def entry_altered(position: int) -> Problem:
    return Problem(Kind.chain_broken, _("the hash of its chain entry was altered (the "
                                        "event itself is as recorded)"), position)


def subtree(leaves: Sequence[bytes]) -> bytes:
    """The root of a perfect subtree, a level at a time: cheaper per node than appending."""
    sha = _sha256
    level = list(leaves)
    while len(level) > 1:
        level = [sha(b"\x01" + left + right).digest()
                 for left, right in zip(level[::2], level[1::2], strict=True)]
    return level[0]


def partial_stack(leaves: Sequence[bytes]) -> list[bytes]:
    tree = MerkleTree()
    for leaf in leaves:
        tree.append(leaf)
    return tree.stack


def check_segment(reader: LogReader, first: int, last: int, start: Start,
                  wanted: Iterable[int] = (),
                  progress: Callable[[int], None] | None = None,
                  block_level: int = BLOCK_LEVEL) -> Segment:
    """Recompute entries [first, last] from the events at their positions, starting from the
    stored entry before them, and build their part of the Merkle tree.

    ``first - 1`` must be a multiple of 2**block_level. ``wanted`` are tree sizes (counted
    from the start of the chain) at which the caller wants the tree's state, for checkpoints.
    The loop is flat, with the rare cases out of line and the tree built a block at a time,
    because it is the cost of verify.
    """
    segment = Segment(first=first, last=last)
    slow = _Classify(reader, segment)
    base = first - 1
    wanted_here = sorted(size - base for size in wanted if base < size <= last)
    blocks = AlignedStack(offset=base >> block_level)
    block = 1 << block_level
    done = 0  # entries of this segment in finished blocks
    leaves: list[bytes] = []  # the current block's leaf hashes (the entries' hashes)
    prev = stored_prev = start.prev  # recomputed, and as stored, hash of the entry before
    expected = start.expected
    last_position = start.last_position
    pending: int | None = None
    last_stamp: bytes | None = None
    sha = _sha256
    pack = _ENTRY_HEAD.pack
    join = b"".join

    def snapshot(upto: int) -> None:
        """The tree's state at each wanted size within the first `upto` leaves of the current
        block, or at its start (upto 0: just after a block was finished)."""
        for size in wanted_here:
            if done < size <= done + upto or size == done:
                nodes = [(lv + block_level, h) for lv, h in blocks.nodes]
                segment.at[base + size] = (nodes, partial_stack(leaves[:size - done]))

    for seq, position, stored, oid, version, topic, state in reader.chain(first, last):
        if oid is not None and seq == expected and position > last_position:
            try:
                computed = sha(join((pack(0, seq, version, len(oid), len(topic), len(state)),
                                     prev, oid, topic, state))).digest()
            except (TypeError, struct.error):  # a value of another kind than was written
                computed = b""
            if computed != stored or pending is not None:
                computed, pending = slow.mismatch(seq, position, stored, computed, stored_prev,
                                                  pending, (position, oid, version, topic,
                                                            state))
            last_position = position
            if type(state) is bytes and (at := state.find(_RECORDED)) >= 0:
                at += _RECORDED_LEN
                stamp = state[at:state.find(b'"', at)]
                if last_stamp is None:
                    segment.first_stamp, segment.first_position = stamp, position
                elif ((stamp < last_stamp or len(stamp) != len(last_stamp))
                      and earlier(stamp, last_stamp)):
                    segment.problems.append(backwards(position, stamp, last_stamp))
                last_stamp = stamp
        else:
            slow.structural(seq, position, stored, expected, last_position, stored_prev,
                            pending, oid is not None)
            computed = stored
            pending = None
            if position > last_position:
                last_position = position
        leaves.append(computed)
        if len(leaves) == block:
            if wanted_here:
                snapshot(block - 1)
            blocks.push(0, subtree(leaves))
            done += block
            leaves = []
            if wanted_here:
                snapshot(0)
            if progress is not None:
                progress(block)
        prev = computed
        stored_prev = stored
        expected = seq + 1

    if wanted_here:
        snapshot(len(leaves))
    if progress is not None and leaves:
        progress(len(leaves))
    segment.entries = done + len(leaves)
    segment.matched = segment.entries - slow.unmatched
    segment.blocks = [(level + block_level, root) for level, root in blocks.nodes]
    segment.partial = partial_stack(leaves)
    segment.pending = pending
    segment.prev = prev
    segment.last_stamp = last_stamp
    return segment
