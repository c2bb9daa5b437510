"""The integrity tables on SQLite: schema, append-only triggers, the one-time backfill, reading.

The chain's logic is backend-neutral (store/chain.py); this module only says where its
entries live in a SQLite file, and how to read the events and entries of one snapshot.
"""

import os
import sqlite3
import uuid
from collections.abc import Iterator
from types import TracebackType
from typing import Self

from auditlog.clock import now
from auditlog.errors import Refusal
from auditlog.store.chain import ChainRow, EventRow, chain_entries

EVENTS = "stored_events"
CHAIN = "integrity_chain"
META = "integrity_meta"
STORE_ID_ENV = "AUDITLOG_STORE_ID"
MMAP_SIZE = 1 << 30

TABLES = [
    # key/value facts written once: the store's identity, the chain's format, its origin.
    f"CREATE TABLE IF NOT EXISTS {META} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # seq is dense (1, 2, 3 ...) even where positions (notification ids) are not, so a
    # deleted entry always leaves a visible gap. The event's identity is kept beside its hash
    # to tell a moved event from an edited one.
    f"CREATE TABLE IF NOT EXISTS {CHAIN} ("
    "seq INTEGER PRIMARY KEY, "
    "position INTEGER NOT NULL, "
    "originator_id TEXT NOT NULL, "
    "originator_version INTEGER NOT NULL, "
    "hash BLOB NOT NULL)",
]


def _refuse(table: str, action: str) -> str:
    return (f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'auditlog: {table} is append-only: "
            f"{action} refused'); END")


# An INSERT OR REPLACE deletes the row it replaces without firing DELETE triggers, so the
# store's facts also refuse an insert that would replace one. The events and the chain are
# spared that check on every insert: verify catches a replaced row there anyway.
TRIGGERS = {
    f"{table}_no_{action.lower()}": _refuse(table, action)
    for table in (EVENTS, CHAIN, META)
    for action in ("UPDATE", "DELETE")
}
TRIGGERS[f"{META}_no_replace"] = (
    f"CREATE TRIGGER IF NOT EXISTS {META}_no_replace BEFORE INSERT ON {META} "
    f"WHEN EXISTS (SELECT 1 FROM {META} WHERE key = NEW.key) "
    f"BEGIN SELECT RAISE(ABORT, 'auditlog: {META} is append-only: replace refused'); END"
)

SELECT_HEAD = f"SELECT seq, hash FROM {CHAIN} ORDER BY seq DESC LIMIT 1"
INSERT_ENTRY = f"INSERT INTO {CHAIN} VALUES (?, ?, ?, ?, ?)"


def event_columns(table: str) -> str:
    """The columns the chain covers, bytes as stored.

    CAST reads a TEXT column as its UTF-8 bytes; a value of another storage class than the
    recorder writes (an edit: eventsourcing would no longer find or decode the event) reads
    as NULL there, and as itself for the version and the state, so it never hashes like the
    original. Checked in SQL only where Python could not tell: it is the cost of verify.
    """
    return ", ".join([
        f"CASE typeof({table}.originator_id) WHEN 'text' THEN "
        f"CAST({table}.originator_id AS BLOB) END",
        f"{table}.originator_version",
        f"CASE typeof({table}.topic) WHEN 'text' THEN CAST({table}.topic AS BLOB) END",
        f"{table}.state",
    ])


SELECT_EVENTS = f"SELECT rowid, {event_columns(EVENTS)} FROM {EVENTS}"


def new_store_id() -> str:
    """A random identity; AUDITLOG_STORE_ID pins it, like AUDITLOG_NOW, for tests and docs."""
    pinned = os.environ.get(STORE_ID_ENV)
    if pinned:
        try:
            return str(uuid.UUID(pinned))
        except ValueError:
            raise Refusal(f"{STORE_ID_ENV} {pinned!r} is not a UUID") from None
    return str(uuid.uuid4())


def needs_setup(db: sqlite3.Connection) -> bool:
    """Whether anything is missing (a read only, so opening an intact store writes nothing)."""
    names = {row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")}
    if not {CHAIN, META, *TRIGGERS} <= names:
        return True
    return db.execute(f"SELECT 1 FROM {META} WHERE key = 'store_id'").fetchone() is None


def set_up(db: sqlite3.Connection) -> list[str]:
    """Create what is missing, inside the caller's write transaction; returns what was restored.

    A store made before the chain existed (no integrity tables at all) gets its entries now,
    for every event it already holds, in this same transaction. Where the tables exist but
    entries are missing, nothing is invented: verify reports those events.
    """
    names = {row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")}
    fresh = META not in names and CHAIN not in names
    for statement in TABLES:
        db.execute(statement)
    restored = sorted(name for name in TRIGGERS if name not in names and not fresh)
    for statement in TRIGGERS.values():
        db.execute(statement)
    if not fresh:
        return restored
    existing = int(db.execute(f"SELECT count(*) FROM {EVENTS}").fetchone()[0])
    facts = [("store_id", new_store_id()), ("chain", "auditlog-chain-v1"),
             ("created_at", now().isoformat())]
    if existing:
        facts.append(("chain_added_for", str(existing)))
        rows = db.execute(f"{SELECT_EVENTS} ORDER BY rowid")
        batch: list[tuple[int, int, str, int, bytes]] = []
        for seq, position, originator_id, version, digest in chain_entries(rows):
            # A row of the wrong kind gets an entry that cannot hold: verify will name it.
            batch.append((seq, position, (originator_id or b"").decode(errors="replace"),
                          version if isinstance(version, int) else -1, digest or b"\x00"))
            if len(batch) == 5000:
                db.executemany(INSERT_ENTRY, batch)
                batch.clear()
        db.executemany(INSERT_ENTRY, batch)
    db.executemany(f"INSERT INTO {META} VALUES (?, ?)", facts)
    return restored


class SQLiteLog:
    """One read transaction over the file: a consistent snapshot, streamed.

    Its own connection, so that a long verify holds no connection of the application's pool
    and writers (WAL) carry on meanwhile; they are simply not part of this snapshot.
    """

    def __init__(self, path: str, restored: list[str] | None = None) -> None:
        self.path = os.path.abspath(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        # Reading the file through a memory map saves a copy of every page verify reads.
        self.db.execute(f"PRAGMA mmap_size = {MMAP_SIZE}")
        self.db.execute("BEGIN")
        self.notes: list[str] = []
        if restored:
            self.notes.append("the append-only triggers " + ", ".join(restored) + " had been "
                              "removed from the file; they were put back when it was opened")
        facts = dict(self.db.execute(f"SELECT key, value FROM {META}").fetchall())
        self.store_id = facts.get("store_id", "")
        if "chain_added_for" in facts:
            self.notes.append(f"the chain was added to this store on {facts['created_at']}, "
                              f"over the {facts['chain_added_for']} events it already held: "
                              "of those, it proves only that they have not changed since")

    def close(self) -> None:
        self.db.rollback()
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def count(self) -> int:
        row = self.db.execute(f"SELECT max(seq) FROM {CHAIN}").fetchone()
        return int(row[0] or 0)

    def event_count(self) -> int:
        return int(self.db.execute(f"SELECT count(*) FROM {EVENTS}").fetchone()[0])

    def chain(self, first: int, last: int) -> Iterator[ChainRow]:
        # A rowid lookup per entry costs less than two scans merged in Python.
        return self.db.execute(
            f"SELECT c.seq, c.position, c.hash, {event_columns('e')} "
            f"FROM {CHAIN} AS c LEFT JOIN {EVENTS} AS e ON e.rowid = c.position "
            "WHERE c.seq BETWEEN ? AND ? ORDER BY c.seq",
            (first, last),
        )

    def entry_before(self, seq: int) -> tuple[int, int, bytes] | None:
        row = self.db.execute(
            f"SELECT seq, position, hash FROM {CHAIN} WHERE seq < ? ORDER BY seq DESC LIMIT 1",
            (seq,),
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def event_positions(self) -> Iterator[int]:
        return (row[0] for row in self.db.execute(f"SELECT rowid FROM {EVENTS} ORDER BY rowid"))

    def chain_positions(self) -> Iterator[int]:
        return (row[0] for row in self.db.execute(
            f"SELECT position FROM {CHAIN} ORDER BY position"))

    def linked_identity(self, seq: int) -> tuple[bytes, int] | None:
        row = self.db.execute(
            f"SELECT CAST(originator_id AS BLOB), originator_version FROM {CHAIN} WHERE seq = ?",
            (seq,),
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def find(self, originator_id: bytes, originator_version: int) -> EventRow | None:
        row = self.db.execute(
            f"{SELECT_EVENTS} WHERE originator_id = ? AND originator_version = ?",
            (originator_id.decode(errors="replace"), originator_version),
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2], row[3], row[4])

    def source(self) -> dict[str, str]:
        return {"backend": "sqlite", "path": self.path}
