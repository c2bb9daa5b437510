"""The streaming read path's SQL on SQLite (see store/stream.py): three small read queries.

Each query is its own statement, so a long read holds no transaction open between batches
and writers (WAL) carry on; paging by chain sequence number keeps every batch an index range.
"""

import sqlite3

from auditlog.store.sqlite_integrity import CHAIN, EVENTS, event_columns
from auditlog.store.stream import ChainedRow

_CHAINED = (
    f"SELECT c.seq, c.position, c.hash, {event_columns('e')} "
    f"FROM {CHAIN} AS c LEFT JOIN {EVENTS} AS e ON e.rowid = c.position "
    "WHERE c.seq > ? AND c.position <= ? ORDER BY c.seq LIMIT ?"
)
_NO_STOP = 1 << 62


class SQLiteRows:
    """A RowSource over one SQLite connection (the caller's; it is only read)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def entry_at_or_before(self, position: int) -> tuple[int, int, bytes] | None:
        # Positions rise with seq: scanning back from the end stops at the first match, so
        # the cost follows what was appended after `position` (a catch-up's new events).
        row = self.db.execute(
            f"SELECT seq, position, hash FROM {CHAIN} WHERE position <= ? "
            "ORDER BY seq DESC LIMIT 1", (position,)).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def chained(self, after_seq: int, stop: int | None, limit: int) -> list[ChainedRow]:
        return self.db.execute(
            _CHAINED, (after_seq, _NO_STOP if stop is None else stop, limit)).fetchall()

    def events_between(self, first: int, last: int) -> int:
        return int(self.db.execute(
            f"SELECT count(*) FROM {EVENTS} WHERE rowid BETWEEN ? AND ?",
            (first, last)).fetchone()[0])

    def unchained_tail(self) -> int | None:
        # One statement, so one snapshot: an event appended meanwhile comes with its entry.
        row = self.db.execute(
            f"SELECT min(rowid) FROM {EVENTS} WHERE rowid > coalesce("
            f"(SELECT position FROM {CHAIN} ORDER BY seq DESC LIMIT 1), 0)").fetchone()
        return None if row[0] is None else int(row[0])
