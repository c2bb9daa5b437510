"""The SQLite engine: one store file, eventsourcing's own SQLite recorder with our chain hook."""

import contextlib
import os
import sqlite3
import stat
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

from eventsourcing.utils import get_topic

from auditlog.errors import Refusal
from auditlog.i18n import _
from auditlog.store.engine import AggregateRow, Cursor, EventTuple
from auditlog.store.sqlite_integrity import (
    CHAIN,
    EVENTS,
    SQLiteLog,
    event_columns,
    restore_triggers,
)
from auditlog.store.sqlite_rows import SQLiteRows


class SQLiteConnection:
    """sqlite3 in autocommit, with the write transaction SQLite needs: BEGIN IMMEDIATE takes
    the file's write lock first, so the check made inside it still holds at commit."""

    def __init__(self, path: str, timeout: float) -> None:
        self.db = sqlite3.connect(path, timeout=timeout, isolation_level=None)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self.db.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.db.executemany(sql, rows)

    def begin_write(self, lock: str) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def has_table(self, name: str) -> bool:
        return self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None

    def may_remake(self, tables: Sequence[str]) -> bool:
        return True  # a file without write permission fails at the write, as before

    def remade(self, tables: Sequence[str]) -> None:
        """A file has no logins, so no grants to give back."""

    def close(self) -> None:
        self.db.close()


def writable(path: Path) -> bool:
    """Whether this process may write the store file and the folder its journal lives in."""
    folder = path.parent if str(path.parent) else Path(".")
    return os.access(path, os.W_OK) and os.access(folder, os.W_OK)


def readonly_uri(path: Path) -> str:
    """A URI that opens a store without writing anything: mode=ro where SQLite can keep its
    shared-memory file beside it, else immutable (an archived copy on read-only media)."""
    uri = f"file:{quote(str(path.absolute()))}?mode=ro"
    try:
        probe = sqlite3.connect(uri, uri=True)
        try:
            probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            probe.close()
    except sqlite3.Error:
        return uri + "&immutable=1"
    return uri


_ENTRY = (f"SELECT c.seq, c.position, c.hash, p.hash FROM {CHAIN} AS c LEFT JOIN {CHAIN} AS p "
          "ON p.seq = c.seq - 1 WHERE c.{key} = ?")


def _entry_at(db: sqlite3.Cursor, position: int) -> tuple[Any, Any, Any, Any]:
    """(seq, position, hash, previous hash) of the chain entry at this log position.

    Positions and sequence numbers coincide in a store auditlog wrote (both count from 1,
    without gaps), so the entry is one primary-key lookup; the scan is only for a store
    that was altered."""
    entry = db.execute(_ENTRY.format(key="seq"), (position,)).fetchone()
    if entry is None or entry[1] != position:
        entry = db.execute(_ENTRY.format(key="position"), (position,)).fetchone()
    return (None, None, None, None) if entry is None else tuple(entry)


class SQLiteEngine:
    name = "sqlite"

    def __init__(self, target: str, lock_timeout: int) -> None:
        self.target = target
        self.display = target
        self.lock_timeout = lock_timeout
        self.readonly = os.path.exists(target) and not writable(Path(target))

    def env(self) -> dict[str, str]:
        from auditlog.store.recorder import AuditRecorder

        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": (readonly_uri(Path(self.target)) if self.readonly
                              else self.target),
            "SQLITE_LOCK_TIMEOUT": str(self.lock_timeout),
            "APPLICATION_RECORDER_TOPIC": get_topic(AuditRecorder),
        }

    def exists(self) -> bool:
        return os.path.exists(self.target)

    def check(self, *, existing: bool, option: str = "--db") -> None:
        """Refuse what cannot be a store before anything touches it: an empty name, memory, a
        folder, or a SQLite file of some other program (auditlog would add its tables to it).
        ``option`` is what the user typed the target as, for the message."""
        target = self.target
        if not target.strip():
            raise Refusal(_("{option} is empty: give the path of a store file, e.g. "
                            "auditlog.db").format(
                option=option))
        if target == ":memory:" or "mode=memory" in target:
            raise Refusal(_("an in-memory {option} would lose everything at exit: give "
                            "a file path").format(
                option=option))
        if os.path.isdir(target):
            raise Refusal(_("{target} is a folder: give the path of a store file "
                            "inside it, e.g. {example}").format(
                target=target, example=os.path.join(target, 'auditlog.db')))
        if os.path.exists(target) and not stat.S_ISREG(os.stat(target).st_mode):
            raise Refusal(_("{target} is not a regular file (a device or a pipe): give "
                            "the path of a store file, e.g. auditlog.db").format(
                target=target))
        if not os.path.exists(target) or os.path.getsize(target) == 0:
            if existing:
                raise Refusal(_("{target} is empty, not an auditlog store: create one "
                                "with 'auditlog init' or point {option} at an existing "
                                "store").format(
                    target=target, option=option))
            parent = os.path.dirname(os.path.abspath(target))
            if not os.path.isdir(parent):
                raise Refusal(_("folder {parent} does not exist: create it or choose "
                                "another {option}").format(
                    parent=parent, option=option))
            return
        try:
            db = sqlite3.connect(readonly_uri(Path(target)), uri=True)
            try:
                tables = {r[0] for r in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                db.close()
        except sqlite3.DatabaseError:
            raise Refusal(_("{target} is not an auditlog store (not a SQLite "
                            "database): check {option}").format(
                target=target, option=option)) from None
        if "stored_events" not in tables and tables:
            raise Refusal(_("{target} is a database of something else, not an auditlog "
                            "store: check {option}").format(
                target=target, option=option))

    def events_of(self, recorder: Any, aggregate_ids: Sequence[UUID]) -> list[EventTuple]:
        marks = ",".join("?" * len(aggregate_ids))
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT originator_id, originator_version, topic, state "
                f"FROM {recorder.events_table_name} WHERE originator_id IN ({marks}) "
                "ORDER BY originator_id, originator_version",
                [a.hex for a in aggregate_ids],
            )
            rows = c.fetchall()
        return [(UUID(r["originator_id"]), r["originator_version"], r["topic"], r["state"])
                for r in rows]

    def aggregate_rows(self, recorder: Any, aggregate_id: UUID, *, gt: int | None,
                       lte: int | None, last: bool) -> list[AggregateRow]:
        where = "originator_id = ?"
        args: list[object] = [aggregate_id.hex]
        if gt is not None:
            where, args = where + " AND originator_version > ?", [*args, gt]
        if lte is not None:
            where, args = where + " AND originator_version <= ?", [*args, lte]
        order = "DESC LIMIT 1" if last else "ASC"
        with recorder.datastore.transaction(commit=False) as c:
            db = c.sqlite_cursor
            rows = db.execute(f"SELECT rowid, {event_columns(EVENTS)} FROM {EVENTS} "
                              f"WHERE {where} ORDER BY originator_version {order}",
                              args).fetchall()
            return [(*row, *_entry_at(db, row[0])) for row in rows]

    def head_version(self, recorder: Any, aggregate_id: UUID) -> int:
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT max(originator_version) FROM {recorder.events_table_name} "
                      "WHERE originator_id = ?", [aggregate_id.hex])
            row = c.fetchone()
        return int(row[0] or 0)

    def row_source(self) -> tuple[SQLiteRows, Callable[[], None]]:
        db = sqlite3.connect(self.target, isolation_level=None, check_same_thread=False,
                             timeout=self.lock_timeout)
        db.execute("PRAGMA query_only = ON")
        # No memory map: every page of the log passes through a stream once, and mapped
        # pages count in the process's memory, which then grows with the log (SQLite's own
        # small page cache keeps it flat, at no cost in speed measured at 100k and 1M).
        return SQLiteRows(db), db.close

    def log_reader(self, recorder: Any) -> SQLiteLog:
        return SQLiteLog(self.target, readonly=self.readonly)

    def restore_triggers(self) -> list[str]:
        db = sqlite3.connect(self.target, isolation_level=None, timeout=self.lock_timeout)
        try:
            db.execute("BEGIN IMMEDIATE")
            restored = restore_triggers(db)
            db.execute("COMMIT")
        finally:
            db.close()
        return restored

    def session_user(self, recorder: Any) -> str | None:
        return None  # a file knows no logins: the actor is whom --actor names

    def connect(self) -> SQLiteConnection:
        return SQLiteConnection(self.target, self.lock_timeout)

    def writing(self) -> AbstractContextManager[None]:
        # Decisions read outside the file's write lock: a conflict is retried from a fresh
        # read (Store.command); taking the lock first would hold it while deciding.
        return contextlib.nullcontext()

    def close(self) -> None:
        pass

    def discard(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.target + suffix)
