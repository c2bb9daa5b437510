"""The SQLite recorder: eventsourcing's own, with a hook that runs inside the insert transaction.

Whatever must never be stored without its events (the integrity chain) is written in
``after_insert``, on the same cursor, before the transaction commits.
"""

import sqlite3
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from auditlog.errors import Refusal
from auditlog.store.chain import GENESIS, entry_hash
from auditlog.store.sqlite_integrity import INSERT_ENTRY, SELECT_HEAD, needs_setup, set_up


class AuditRecorder(SQLiteApplicationRecorder):
    restored_triggers: list[str]

    def create_table(self) -> None:
        """eventsourcing's table, then the integrity tables and triggers if any is missing."""
        super().create_table()
        self.restored_triggers = []
        with self.datastore.transaction(commit=False) as c:
            if not needs_setup(c.sqlite_cursor.connection):
                return
        with self.datastore.get_connection(commit=True) as conn:
            db: sqlite3.Connection = conn.cursor().sqlite_cursor.connection
            # IMMEDIATE takes the write lock first, so two processes opening a store made
            # before the chain existed cannot both give it links.
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    self.restored_triggers = set_up(db)
                except BaseException:
                    db.rollback()
                    raise
                db.commit()
            except sqlite3.OperationalError as error:
                if "readonly" not in str(error):
                    raise
                raise Refusal(
                    f"the store at {self.datastore.pool.db_name} lacks its integrity tables "
                    "and is read-only, so they cannot be added: open a writable copy"
                ) from None

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        assert ids is not None
        self.after_insert(c, stored_events, ids)
        return ids

    def insert_in(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> None:
        """Insert (and chain) events inside a transaction the caller holds, so that a bulk
        write can go in chunk by chunk and still commit, or roll back, as one."""
        self._insert_events(c, stored_events)

    def after_insert(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], ids: Sequence[int]
    ) -> None:
        """Link the events into the hash chain, inside the transaction that stores them.

        The transaction began with the first event INSERT, which took the write lock, so the
        head read here is the latest: no other writer can slip in between.
        """
        cursor = c.sqlite_cursor  # the plain cursor: this runs once per save, keep it short
        head = cursor.execute(SELECT_HEAD).fetchone()
        seq, prev = (head[0], head[1]) if head is not None else (0, GENESIS)
        entries = []
        for stored, position in zip(stored_events, ids, strict=True):
            # The id as the recorder wrote it, and the topic as TEXT: their stored bytes.
            oid = (stored.originator_id.hex if isinstance(stored.originator_id, UUID)
                   else str(stored.originator_id))
            seq += 1
            prev = entry_hash(seq, prev, oid.encode(), stored.originator_version,
                              stored.topic.encode(), stored.state)
            entries.append((seq, position, oid, stored.originator_version, prev))
        if len(entries) == 1:
            cursor.execute(INSERT_ENTRY, entries[0])
        else:
            cursor.executemany(INSERT_ENTRY, entries)
