"""The SQLite recorder: eventsourcing's own, with a hook that runs inside the insert transaction.

Whatever must never be stored without its events (the integrity chain) is written in
``after_insert``, on the same cursor, before the transaction commits.
"""

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from auditlog.errors import Refusal
from auditlog.i18n import _
from auditlog.store.chain import (
    GENESIS,
    entry_hash,
    recorded_stamp,
    recorded_time,
    stamp_time,
)
from auditlog.store.sqlite_integrity import (
    CHAIN,
    EVENTS,
    INSERT_ENTRY,
    META,
    SELECT_HEAD,
    is_new,
    missing_guards,
    names_in,
    set_up,
)


class ClockBehind(Exception):
    """An event would be recorded earlier than the log's last one: transaction time would go
    backwards. The store refuses it; Store.command retries with a fresh clock, and refuses
    when the clock itself is behind (or pinned behind, by AUDITLOG_NOW)."""

    def __init__(self, recorded: str, head: str) -> None:
        super().__init__(recorded, head)
        self.recorded = recorded
        self.head = head


class AuditRecorder(SQLiteApplicationRecorder):
    missing: list[str]

    def create_table(self) -> None:
        """Only a new store gets the integrity tables and triggers; on any other, what is
        missing is noted (``missing``), never silently put back or laid over its events."""
        self.missing = []
        with self.datastore.transaction(commit=False) as c:
            db = c.sqlite_cursor.connection
            names = names_in(db)
            if {EVENTS, META, CHAIN} <= names:
                self.missing = missing_guards(db)
                return
            if not is_new(db):
                self.missing = missing_guards(db)
                return
        super().create_table()
        with self.datastore.get_connection(commit=True) as conn:
            db = conn.cursor().sqlite_cursor.connection
            # IMMEDIATE takes the write lock first, so two processes creating the same store
            # cannot both give it an identity.
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    if is_new(db):
                        set_up(db)
                    else:
                        self.missing = missing_guards(db)
                except BaseException:
                    db.rollback()
                    raise
                db.commit()
            except sqlite3.OperationalError as error:
                if "readonly" not in str(error):
                    raise
                raise Refusal(
                    _("the store at {db_name} is new and read-only, so it cannot be "
                      "set up: give a writable --db").format(
                        db_name=self.datastore.pool.db_name)
                ) from None

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        stored_events = in_time_order(stored_events)
        ids = super()._insert_events(c, stored_events, **kwargs)
        assert ids is not None
        self.after_insert(c, stored_events, ids)
        return ids

    def insert_in(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> None:
        """Insert (and chain) events inside a transaction the caller holds, so that a bulk
        write can go in chunk by chunk and still commit, or roll back, as one.

        One executemany instead of eventsourcing's statement per event: once it holds the
        write lock, SQLite gives each new row the largest rowid plus one (the events table
        never loses a row), so the rows inserted are the last len(stored_events) rowids."""
        stored_events = in_time_order(stored_events)
        cursor = c.sqlite_cursor
        cursor.executemany(self.insert_events_statement, [
            (s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
             s.originator_version, s.topic, s.state) for s in stored_events])
        last = cursor.execute(f"SELECT max(rowid) FROM {EVENTS}").fetchone()[0]
        self.after_insert(c, stored_events, range(last - len(stored_events) + 1, last + 1))

    def after_insert(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], ids: Sequence[int]
    ) -> None:
        """Link the events into the hash chain, inside the transaction that stores them.

        The transaction began with the first event INSERT, which took the write lock, so the
        head read here is the latest: no other writer can slip in between. An event recorded
        earlier than the one before it is refused here, so transaction time never goes
        backwards in log order (what --known-at and every checkpoint's time rely on).
        """
        cursor = c.sqlite_cursor  # the plain cursor: this runs once per save, keep it short
        head = cursor.execute(SELECT_HEAD).fetchone()
        seq, prev = (head[0], head[1]) if head is not None else (0, GENESIS)
        before = cursor.execute(
            f"SELECT state FROM {EVENTS} WHERE rowid < ? ORDER BY rowid DESC LIMIT 1",
            (ids[0],)).fetchone()
        last = recorded_time(before[0]) if before is not None else None
        entries = chain_links(stored_events, ids, seq, prev, last)
        if len(entries) == 1:
            cursor.execute(INSERT_ENTRY, entries[0])
        else:
            cursor.executemany(INSERT_ENTRY, entries)


ChainLink = tuple[int, int, str, int, bytes]
"""(seq, position, aggregate id, version, hash): one row of the chain table, on any engine."""


def chain_links(stored_events: Sequence[StoredEvent], ids: Sequence[int], seq: int,
                prev: bytes, last: datetime | None) -> list[ChainLink]:
    """The chain entries of events just inserted at ``ids`` after the entry (seq, prev),
    refusing (ClockBehind) an event recorded earlier than the one before it (``last``, the
    log's head before this save): what every engine's recorder writes in the same
    transaction as the events."""
    entries = []
    times: dict[bytes | None, datetime | None] = {}  # a bulk save shares one stamp
    for stored, position in zip(stored_events, ids, strict=True):
        when = _time(stored.state, times)
        if last is not None and when is not None and when < last:
            raise ClockBehind(_iso(when), _iso(last))
        last = when if when is not None else last
        # The id as the recorder wrote it, and the topic as TEXT: their stored bytes.
        oid = (stored.originator_id.hex if isinstance(stored.originator_id, UUID)
               else str(stored.originator_id))
        seq += 1
        prev = entry_hash(seq, prev, oid.encode(), stored.originator_version,
                          stored.topic.encode(), stored.state)
        entries.append((seq, position, oid, stored.originator_version, prev))
    return entries


def in_time_order(stored_events: Sequence[StoredEvent]) -> Sequence[StoredEvent]:
    """The events of one save in transaction-time order: a save of many aggregates (the bulk
    path) lists them aggregate by aggregate, and the log must never step back in time.

    The sort is stable and each event sorts no earlier than its aggregate's previous one, so
    an aggregate's own events stay in version order and events already in time order (a
    copied log, whose order is its identity) keep exactly the order they came in."""
    if len(stored_events) < 2:
        return stored_events
    first = recorded_stamp(stored_events[0].state)
    if all(recorded_stamp(s.state) == first for s in stored_events):
        return stored_events  # one time (a bulk save): the order given is the order
    latest: dict[object, datetime] = {}
    keyed = []
    times: dict[bytes | None, datetime | None] = {}
    for index, stored in enumerate(stored_events):
        when = _time(stored.state, times) or datetime.min.replace(tzinfo=UTC)
        when = max(when, latest.get(stored.originator_id, when))
        latest[stored.originator_id] = when
        keyed.append((when, index))
    order = sorted(range(len(keyed)), key=keyed.__getitem__)
    return [stored_events[i] for i in order]


def _time(state: bytes, times: dict[bytes | None, datetime | None]) -> datetime | None:
    """recorded_time, parsed once per distinct stamp."""
    stamp = recorded_stamp(state)
    if stamp not in times:
        times[stamp] = None if stamp is None else stamp_time(stamp)
    return times[stamp]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
