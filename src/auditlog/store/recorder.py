"""The SQLite recorder: eventsourcing's own, with a hook that runs inside the insert transaction.

Whatever must never be stored without its events (the integrity chain) is written in
``after_insert``, on the same cursor, before the transaction commits.
"""

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor


class AuditRecorder(SQLiteApplicationRecorder):
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        assert ids is not None
        self.after_insert(c, stored_events, ids)
        return ids

    def after_insert(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], ids: Sequence[int]
    ) -> None:
        """Extension point called inside the transaction that stores the events."""
