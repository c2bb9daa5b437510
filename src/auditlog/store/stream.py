"""The one read path of every command that decodes the log: rows streamed in batches straight
from the store, each checked against the hash chain as it is read, decoded without
re-validation.

Why each part:
- Batches of plain rows, no per-row Notification objects: at a million events the objects
  that carry nothing the answer needs cost more than the reading.
- The chain check (entry hash of the stored bytes, and its link to the entry before) is what
  lets the decoding skip pydantic's validation: the bytes are proven to be the ones that were
  validated when they were written. A row that fails the check, or cannot be decoded, stops
  the command with DamagedStore (exit 3 at the command line), never a silent answer.
- Objects a long fold keeps alive are frozen out of the garbage collector's view after each
  batch (gc.freeze): otherwise every full collection rescans all of them, a cost that grows
  with the log.

The engine-specific part is a ``RowSource`` (store/sqlite_rows.py on SQLite): three small
queries. Everything else here is engine-neutral.
"""

import gc
import hashlib
import struct
from collections.abc import Container, Iterator
from typing import Any, Protocol
from uuid import UUID

import orjson

from auditlog.domain.events import Event
from auditlog.errors import DamagedStore
from auditlog.i18n import _
from auditlog.store.chain import GENESIS
from auditlog.store.mapper import construct_event

BATCH = 5000

ChainedRow = tuple[int, int, bytes, Any, Any, Any, Any]
"""(seq, position, stored entry hash, aggregate id bytes, version, topic bytes, state bytes) of
one chain entry and the event at its position (four Nones when there is none)."""


class RowSource(Protocol):
    """What an engine supplies to stream its log (all reads; none of them writes)."""

    def entry_at_or_before(self, position: int) -> tuple[int, int, bytes] | None:
        """(seq, position, hash) of the last chain entry at or before this log position."""
        ...

    def chained(self, after_seq: int, stop: int | None, limit: int) -> list[ChainedRow]:
        """Up to ``limit`` chain entries after ``after_seq`` (by seq) whose position is at most
        ``stop``, each joined to the event stored at its position."""
        ...

    def events_between(self, first: int, last: int) -> int:
        """How many events are stored at positions first..last (inclusive)."""
        ...

    def unchained_tail(self) -> int | None:
        """The first position holding an event after the chain's last entry, if any."""
        ...


_HEAD = struct.Struct(">BQqIIQ")  # as store/chain.py: 0x00, seq, version, len(id/topic/state)


def damaged(position: int, what: str) -> DamagedStore:
    return DamagedStore(_("the store is damaged at position {position}: {what}; "
                          "nothing was read past it: run 'auditlog verify' to see "
                          "every problem").format(
        position=position, what=what))


def undecodable(position: int, error: Exception, topic: bytes | None = None,
                known: Container[bytes] = ()) -> DamagedStore:
    """The damage of a checked row that cannot be decoded. The folds that read rows
    themselves pass the stored topic and the topics they know: a KeyError there is either an
    unknown topic or a field the event lacks, and says which."""
    what: object = error
    if topic is not None and isinstance(error, KeyError):
        what = f"unknown topic {topic!r}" if topic not in known else repr(error)
    return damaged(position, _("its event cannot be decoded ({error})").format(error=what))


def verified(source: RowSource, after: int = 0, stop: int | None = None,
             batch: int = BATCH) -> Iterator[list[ChainedRow]]:
    """Batches of chain entries joined to their events (ChainedRow, as the source gives them)
    after log position ``after`` up to ``stop``, every row proven by its chain entry and its
    link to the one before. Raises DamagedStore at the first row that is not.

    The rows go on as the source made them: a fold that unpacks them itself saves a tuple per
    row (a fifth of the check's cost at a million events)."""
    if after > 0:
        start = source.entry_at_or_before(after)
        if start is None or start[1] != after:
            raise damaged(after, _("no chain entry is at this position"))
        seq, last_position, prev = start
    else:
        seq, last_position, prev = 0, 0, GENESIS
    sha = hashlib.sha256
    pack = _HEAD.pack
    join = b"".join
    while True:
        rows = source.chained(seq, stop, batch)
        first_position = last_position
        for entry_seq, position, stored, oid, version, topic, state in rows:
            if oid is None or entry_seq != seq + 1 or position <= last_position:
                raise damaged(position, _("the chain does not lead to the event stored here"))
            try:
                computed = sha(join((pack(0, entry_seq, version, len(oid), len(topic),
                                          len(state)), prev, oid, topic, state))).digest()
            except (TypeError, struct.error):
                computed = b""
            if computed != stored:
                raise damaged(position, _("its bytes are not those its chain entry was made for"))
            seq, last_position, prev = entry_seq, position, stored
        # Positions rise strictly (checked above) and are integers: only where they span more
        # than one per row can an event without a chain entry hide between them.
        if (last_position - first_position != len(rows)
                and source.events_between(first_position + 1, last_position) != len(rows)):
            raise damaged(first_position + 1, _("an event here has no chain entry"))
        if rows:
            yield rows
        if len(rows) < batch:
            break
    if stop is None:
        tail = source.unchained_tail()
        if tail is not None and tail > last_position:
            raise damaged(tail, _("an event here has no chain entry"))


def checked_rows(source: RowSource, after: int = 0, stop: int | None = None,
                 batch: int = BATCH) -> Iterator[list[tuple[int, bytes, int, bytes, bytes]]]:
    """Batches of (position, aggregate id bytes, version, topic, state bytes) of ``verified``
    rows (see there)."""
    for rows in verified(source, after, stop, batch):
        yield [(position, oid, version, topic, state)
               for _seq, position, _hash, oid, version, topic, state in rows]


def decode_rows(rows: list[tuple[int, bytes, int, bytes, bytes]], ids: dict[bytes, UUID]
                ) -> list[tuple[int, Event]]:
    """(position, event) of each checked row. ``ids`` caches the UUID of each aggregate id,
    which an aggregate's events share."""
    found: list[tuple[int, Event]] = []
    for position, oid, version, topic, state in rows:
        try:
            the_id = ids.get(oid)
            if the_id is None:
                the_id = ids[oid] = UUID(oid.decode())
            event = construct_event(topic.decode(), the_id, version, orjson.loads(state))
        except Exception as error:  # any failure to decode is damage, stated where it is
            raise undecodable(position, error) from None
        found.append((position, event))
    return found


def events(source: RowSource, after: int = 0, stop: int | None = None,
           batch: int = BATCH) -> Iterator[list[tuple[int, Event]]]:
    """Batches of (position, event), checked and decoded; see the module's docstring.

    While it runs, what the caller keeps from earlier batches is frozen out of the garbage
    collector's scans (gc.freeze after each batch; all unfrozen when the stream ends).
    """
    ids: dict[bytes, UUID] = {}
    frozen = gc.get_freeze_count()
    try:
        for rows in checked_rows(source, after, stop, batch):
            yield decode_rows(rows, ids)
            gc.freeze()
    finally:
        if frozen == 0:  # the outermost stream gives the objects back to the collector
            gc.unfreeze()
