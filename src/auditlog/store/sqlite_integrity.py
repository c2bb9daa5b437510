"""The integrity tables on SQLite: schema, append-only triggers, the one-time backfill, reading.

The chain's logic is backend-neutral (store/chain.py); this module only says where its
entries live in a SQLite file, and how to read the events and entries of one snapshot.
"""

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

from auditlog.clock import now
from auditlog.errors import Refusal
from auditlog.i18n import _
from auditlog.store.chain import ChainRow, EventRow, SnapshotBase

EVENTS = "stored_events"
CHAIN = "integrity_chain"
META = "integrity_meta"
STORE_ID_ENV = "AUDITLOG_STORE_ID"

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
            raise Refusal(_("{STORE_ID_ENV} {pinned!r} is not a UUID").format(
                              STORE_ID_ENV=STORE_ID_ENV, pinned=pinned)) from None
    return str(uuid.uuid4())


def names_in(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")}


def has_events(db: sqlite3.Connection) -> bool:
    return db.execute(f"SELECT 1 FROM {EVENTS} LIMIT 1").fetchone() is not None


def is_new(db: sqlite3.Connection) -> bool:
    """A store that holds no event and no integrity table yet: the only kind that may be
    given its integrity tables and triggers (so a chain is never laid over events that might
    already have been changed)."""
    names = names_in(db)
    return not ({META, CHAIN} & names) and (EVENTS not in names or not has_events(db))


def missing_guards(db: sqlite3.Connection) -> list[str]:
    """What is gone from a store that had its integrity tables: tables, triggers, identity.

    Only read, never put back: a removed trigger is evidence that someone went around the
    store, and only 'auditlog init' may restore one, after the log verifies.
    """
    names = names_in(db)
    missing = [name for name in (META, CHAIN) if name not in names]
    missing += sorted(name for name in _guards(names) if name not in names)
    if META in names and db.execute(
            f"SELECT 1 FROM {META} WHERE key = 'store_id'").fetchone() is None:
        missing.append(f"{META}.store_id")
    return missing


def set_up(db: sqlite3.Connection) -> None:
    """Give a new store its integrity tables, triggers and identity, inside the caller's write
    transaction (see is_new)."""
    for statement in TABLES:
        db.execute(statement)
    for statement in TRIGGERS.values():
        db.execute(statement)
    facts = [("store_id", new_store_id()), ("chain", "auditlog-chain-v1"),
             ("created_at", now().isoformat())]
    db.executemany(f"INSERT INTO {META} VALUES (?, ?)", facts)


def restore_triggers(db: sqlite3.Connection) -> list[str]:
    """Put back removed triggers (only 'auditlog init' does, once the log verifies)."""
    names = names_in(db)
    guards = _guards(names)
    restored = sorted(name for name in guards if name not in names)
    for name in restored:
        db.execute(guards[name])
    return restored


def _guards(names: set[str]) -> dict[str, str]:
    """The append-only triggers this store should have: the log's, and kept evidence's once
    its table exists (a store that never kept a file lacks nothing)."""
    from auditlog.store import evidence

    return TRIGGERS | (evidence.TRIGGERS if evidence.TABLE in names else {})


class SQLiteLog(SnapshotBase):
    """One read transaction over the file: a consistent snapshot, streamed.

    Its own connection, so that a long verify holds no connection of the application's pool
    and writers (WAL) carry on meanwhile; they are simply not part of this snapshot.
    """

    db: sqlite3.Connection

    def __init__(self, path: str, readonly: bool = False) -> None:
        self.path = os.path.abspath(path)
        if readonly:
            uri = f"file:{Path(self.path).as_posix()}?mode=ro"
            self.db = sqlite3.connect(uri, uri=True, isolation_level=None,
                                      check_same_thread=False)
        else:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        # No memory map: verify reads every page once, and mapped pages would count in its
        # memory, which then grows with the log instead of staying flat.
        self.db.execute("BEGIN")
        self.notes: list[str] = []
        self.missing = missing_guards(self.db)
        names = names_in(self.db)
        self.has_chain = CHAIN in names
        facts = (dict(self.db.execute(f"SELECT key, value FROM {META}").fetchall())
                 if META in names else {})
        self.read_facts(facts)

    def count(self) -> int:
        if not self.has_chain:
            return 0
        row = self.db.execute(f"SELECT max(seq) FROM {CHAIN}").fetchone()
        return int(row[0] or 0)

    def hashes_after(self, seq: int) -> Iterator[bytes]:
        """The stored hashes of the chain's entries after ``seq``, in order."""
        if not self.has_chain:
            return iter(())
        return (row[0] for row in self.db.execute(
            f"SELECT hash FROM {CHAIN} WHERE seq > ? ORDER BY seq", (seq,)))

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
        if not self.has_chain:
            return iter(())
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
