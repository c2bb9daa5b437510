"""The eventsourcing application behind auditlog, and the retrying command loop."""

import os
import random
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import (
    DatabaseError,
    Mapper,
    Notification,
    OperationalError,
    RecordConflictError,
)
from eventsourcing.utils import get_topic

from auditlog.clock import NOW_ENV, now
from auditlog.domain.aggregate import Aggregate, project
from auditlog.domain.events import Event, ReferenceAllocated
from auditlog.domain.finding import Finding
from auditlog.domain.references import counter_id, parse_ref
from auditlog.errors import DamagedStore, Refusal, StoreBusy
from auditlog.store import stream, witness
from auditlog.store.chain import GENESIS, entry_hash
from auditlog.store.mapper import PydanticMapper
from auditlog.store.recorder import AuditRecorder, ClockBehind
from auditlog.store.sqlite_integrity import (
    CHAIN,
    EVENTS,
    META,
    MMAP_SIZE,
    SQLiteLog,
    event_columns,
    restore_triggers,
)
from auditlog.store.sqlite_rows import SQLiteRows

ATTEMPTS = 8
BATCH = 1000
T = TypeVar("T")


class AuditApplication(Application[UUID]):
    name = "auditlog"

    def construct_mapper(self) -> Mapper[UUID]:
        return PydanticMapper()


def lock_timeout() -> int:
    """Seconds to wait for another writer's lock (AUDITLOG_LOCK_TIMEOUT, default 15)."""
    raw = os.environ.get("AUDITLOG_LOCK_TIMEOUT", "15")
    if not raw.isdigit():
        raise Refusal(f"AUDITLOG_LOCK_TIMEOUT={raw!r} is not valid: give whole seconds, e.g. 15")
    return int(raw)


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


def _check_row(db: sqlite3.Cursor, row: tuple[Any, ...]) -> None:
    """Raise DamagedStore unless this event row is the one its chain entry was made for.

    Positions and sequence numbers coincide in a store auditlog wrote (both count from 1,
    without gaps), so the entry is one primary-key lookup; the scan is only for a store
    that was altered."""
    position, oid, version, topic, state = row
    entry = db.execute(f"SELECT c.seq, c.position, c.hash, p.hash FROM {CHAIN} AS c LEFT JOIN "
                       f"{CHAIN} AS p ON p.seq = c.seq - 1 WHERE c.seq = ?",
                       (position,)).fetchone()
    if entry is None or entry[1] != position:
        entry = db.execute(f"SELECT c.seq, c.position, c.hash, p.hash FROM {CHAIN} AS c LEFT "
                           f"JOIN {CHAIN} AS p ON p.seq = c.seq - 1 WHERE c.position = ?",
                           (position,)).fetchone()
    if entry is None:
        raise stream.damaged(position, "an event here has no chain entry")
    seq, _, stored, prev = entry
    if prev is None and seq != 1:
        raise stream.damaged(position, "the chain entry before it is gone")
    if oid is None or entry_hash(seq, GENESIS if seq == 1 else prev, oid, version, topic,
                                 state) != stored:
        raise stream.damaged(position, "its bytes are not those its chain entry was made for")


def restamp(aggregates: Sequence[Aggregate], at: datetime) -> None:
    for aggregate in aggregates:
        aggregate._pending = [event.model_copy(update={"recorded_at": at})
                              for event in aggregate._pending]


def is_postgres(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


class Store:
    """One opened store: the event log plus helpers to read aggregates and the log in order."""

    def __init__(self, target: str) -> None:
        self.target = target
        if is_postgres(target):
            raise Refusal(
                "PostgreSQL stores are not supported by this version yet: "
                "use a SQLite file path for --db"
            )
        self.path = Path(target)
        self.readonly = os.path.exists(target) and not writable(self.path)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": readonly_uri(self.path) if self.readonly else str(self.path),
            "SQLITE_LOCK_TIMEOUT": str(lock_timeout()),
            "APPLICATION_RECORDER_TOPIC": get_topic(AuditRecorder),
        }
        try:
            self.app = AuditApplication(env=env)
        except (OperationalError, sqlite3.OperationalError):
            raise  # locked or unreachable: not the user's mistake
        except (DatabaseError, sqlite3.DatabaseError) as error:  # a file that is no store
            raise Refusal(f"{target} is not an auditlog store: {error}") from None
        self._closers: list[Callable[[], None]] = []
        self._rows: SQLiteRows | None = None
        self.warnings: list[str] = []  # told to the user, never a reason to undo a write
        # AUDITLOG_LOCK_TIMEOUT bounds the whole command, retries included: every wait for
        # another writer's lock is given only what is left of it.
        self.deadline = time.monotonic() + lock_timeout()
        self._bound_new_connections()
        recorder = self.app.recorder
        assert isinstance(recorder, AuditRecorder)
        self.missing_guards: list[str] = list(recorder.missing)

    @staticmethod
    def exists(target: str) -> bool:
        return is_postgres(target) or os.path.exists(target)

    @classmethod
    def open_existing(cls, target: str) -> "Store":
        if not cls.exists(target):
            raise Refusal(
                f"no store at {target}: create one with 'auditlog init' "
                "or point --db (AUDITLOG_DB) at an existing store"
            )
        cls.check_target(target, existing=True)
        return cls(target)

    @staticmethod
    def check_target(target: str, *, existing: bool) -> None:
        """Refuse what cannot be a store before anything touches it: an empty name, memory, a
        folder, or a SQLite file of some other program (auditlog would add its tables to it)."""
        if is_postgres(target):
            return
        if not target.strip():
            raise Refusal("--db is empty: give the path of a store file, e.g. auditlog.db")
        if target == ":memory:" or "mode=memory" in target:
            raise Refusal("an in-memory --db would lose everything at exit: give a file path")
        if os.path.isdir(target):
            raise Refusal(f"{target} is a folder: give the path of a store file inside it, "
                          f"e.g. {os.path.join(target, 'auditlog.db')}")
        if os.path.exists(target) and not stat.S_ISREG(os.stat(target).st_mode):
            raise Refusal(f"{target} is not a regular file (a device or a pipe): give the "
                          "path of a store file, e.g. auditlog.db")
        if not os.path.exists(target) or os.path.getsize(target) == 0:
            if existing:
                raise Refusal(f"{target} is empty, not an auditlog store: create one with "
                              "'auditlog init' or point --db at an existing store")
            return
        try:
            db = sqlite3.connect(readonly_uri(Path(target)), uri=True)
            try:
                tables = {r[0] for r in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                db.close()
        except sqlite3.DatabaseError:
            raise Refusal(f"{target} is not an auditlog store (not a SQLite database): "
                          "check --db") from None
        if "stored_events" not in tables and tables:
            raise Refusal(f"{target} is a database of something else, not an auditlog store: "
                          "check --db")

    def on_close(self, closer: Callable[[], None]) -> None:
        self._closers.append(closer)

    def close(self) -> None:
        for closer in reversed(self._closers):
            closer()
        self.app.close()

    # --- reading ---------------------------------------------------------------------------

    def get(self, aggregate_id: UUID) -> Aggregate | None:
        events = self._checked_events(aggregate_id)
        return project(None, events) if events else None

    # An aggregate's rows, read by the primary key (originator_id, originator_version), each
    # checked against its chain entry before it is decoded: the same promise as the streaming
    # path (store/stream.py) for what a command reads one aggregate at a time.
    def _checked_events(self, aggregate_id: UUID, *, gt: int | None = None,
                        lte: int | None = None, last: bool = False) -> list[Event]:
        recorder = self.app.recorder
        assert isinstance(recorder, AuditRecorder)
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
            checked = [tuple(row) for row in rows]
            for row in checked:
                _check_row(db, row)
        return [event for _, event in stream.decode_rows(checked, {})]

    def events_of_many(self, aggregate_ids: Sequence[UUID], chunk: int = 500
                       ) -> dict[UUID, list[Event]]:
        """The events of many aggregates, in version order, in a few queries instead of one
        each (a question about the past may refold thousands of findings)."""
        found: dict[UUID, list[Event]] = {aggregate_id: [] for aggregate_id in aggregate_ids}
        recorder = self.app.recorder
        assert isinstance(recorder, AuditRecorder)
        for start in range(0, len(aggregate_ids), chunk):
            part = aggregate_ids[start:start + chunk]
            marks = ",".join("?" * len(part))
            with recorder.datastore.transaction(commit=False) as c:
                db = c.sqlite_cursor
                rows = [tuple(row) for row in db.execute(
                    f"SELECT rowid, {event_columns(EVENTS)} FROM {EVENTS} "
                    f"WHERE originator_id IN ({marks}) "
                    "ORDER BY originator_id, originator_version",
                    [a.hex for a in part],
                ).fetchall()]
                for row in rows:
                    _check_row(db, row)
            for _, event in stream.decode_rows(rows, {}):
                found[event.originator_id].append(event)
        return found

    def head_version(self, aggregate_id: UUID) -> int:
        """The version of an aggregate's last event, 0 when it has none: one index lookup
        (the events' primary key is (originator_id, originator_version))."""
        recorder = self.app.recorder
        assert isinstance(recorder, AuditRecorder)
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT max(originator_version) FROM {recorder.events_table_name} "
                      "WHERE originator_id = ?", [aggregate_id.hex])
            row = c.fetchone()
        return int(row[0] or 0)

    def last_event(self, aggregate_id: UUID) -> Event | None:
        """An aggregate's last event alone (one index lookup), for aggregates whose state
        it holds whole."""
        found = self._checked_events(aggregate_id, last=True)
        return found[0] if found else None

    def events_of(self, aggregate_id: UUID) -> list[Event]:
        return self._checked_events(aggregate_id)

    def finding_id_of(self, ref: str) -> tuple[UUID, str, int | None]:
        """Resolve F-2023-0007[.n] to (finding id, finding ref, recommendation number)."""
        year, number, rec = parse_ref(ref)
        allocated = self._checked_events(counter_id(year), gt=number - 1, lte=number)
        if not allocated:
            raise Refusal(f"no finding {ref.split('.')[0].upper()} in this store: "
                          "'auditlog finding list' shows the references")
        event = allocated[0]
        return event.finding_id, event.ref, rec  # type: ignore[attr-defined]

    def finding(self, ref: str) -> tuple[Finding, int | None]:
        finding_id, finding_ref, rec = self.finding_id_of(ref)
        finding = self.get(finding_id)
        if not isinstance(finding, Finding):
            raise Refusal(f"no finding {finding_ref} in this store")
        return finding, rec

    def notifications(self, after: int = 0, stop: int | None = None,
                      batch: int = BATCH) -> Iterator[Sequence[Notification]]:
        """The log in order, in batches, so memory stays flat however long the log is."""
        position = after
        while True:
            rows = self.app.recorder.select_notifications(
                start=position, limit=batch, stop=stop, inclusive_of_start=False
            )
            if not rows:
                return
            yield rows
            position = rows[-1].id
            if len(rows) < batch:
                return

    def _row_source(self) -> "SQLiteRows":
        """The streaming reader's own connection: reads only, each batch its own snapshot."""
        if self._rows is None:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                 timeout=lock_timeout())
            db.execute("PRAGMA query_only = ON")
            db.execute(f"PRAGMA mmap_size = {MMAP_SIZE}")
            self._rows = SQLiteRows(db)
            self.on_close(db.close)
        return self._rows

    def checked_rows(self, after: int = 0, stop: int | None = None, batch: int = stream.BATCH
                     ) -> Iterator[list[tuple[int, bytes, int, bytes, bytes]]]:
        """The log's rows in order, each proven by the hash chain (see store/stream.py), for
        readers that look at the JSON before deciding which events to build."""
        return stream.checked_rows(self._row_source(), after, stop, batch)

    def stream(self, after: int = 0, stop: int | None = None, batch: int = stream.BATCH
               ) -> Iterator[list[tuple[int, Event]]]:
        """The log's events after position ``after`` up to ``stop``, in batches of
        (position, event): THE read path of every command that decodes the log. Each row is
        checked against the hash chain as it is read (DamagedStore at the first that fails)
        and decoded without re-validation; memory holds one batch."""
        return stream.events(self._row_source(), after, stop, batch)

    def decode(self, notification: Notification) -> Event:
        return self.app.mapper.to_domain_event(notification)  # type: ignore[return-value]

    def max_position(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def log_reader(self) -> SQLiteLog:
        """One consistent snapshot of the events and their hash chain, for verify."""
        return SQLiteLog(str(self.path), readonly=self.readonly)

    # --- the time a command may wait ------------------------------------------------------

    def remaining(self) -> float:
        """Seconds left of AUDITLOG_LOCK_TIMEOUT for this command (never below 0)."""
        return max(0.0, self.deadline - time.monotonic())

    def _pool(self) -> Any:
        recorder = self.app.recorder
        assert isinstance(recorder, AuditRecorder)
        return recorder.datastore.pool

    def _bound_new_connections(self) -> None:
        """eventsourcing opens connections with a fixed busy timeout (and reads 0 as its own
        default of 5 s): each new one gets what is left of the command's time instead."""
        pool = self._pool()
        create = pool._create_connection

        def bounded() -> Any:
            connection = create()
            connection._sqlite_conn.execute(f"PRAGMA busy_timeout = {self._wait_ms()}")
            return connection

        pool._create_connection = bounded

    def _wait_ms(self) -> int:
        return int(self.remaining() * 1000)

    def _bound_waits(self, attempt: int) -> None:
        """Before each attempt: give up when the command's time is spent (always one try),
        else let each pooled connection wait only for what is left of it."""
        if attempt > 0 and self.remaining() <= 0:
            raise StoreBusy(f"the store at {self.target} stayed locked or kept changing for "
                            f"AUDITLOG_LOCK_TIMEOUT={lock_timeout()} s; nothing was written: "
                            "try again")
        for connection in list(self._pool()._pool):
            connection._sqlite_conn.execute(f"PRAGMA busy_timeout = {self._wait_ms()}")

    # --- guards ----------------------------------------------------------------------------

    def require_intact_tables(self) -> None:
        """A store whose integrity tables are gone cannot have anything it holds checked:
        every command but verify stops here (exit 3)."""
        tables = [name for name in self.missing_guards if name in (CHAIN, META)
                  or name.startswith(META + ".")]
        if tables:
            raise DamagedStore(f"the store at {self.target} has lost its integrity tables "
                          f"({', '.join(tables)}): nothing in it can be checked; run "
                          "'auditlog verify'")

    def require_writable(self) -> None:
        """Refuse to record into a store that is read-only or whose guards were removed."""
        self.require_intact_tables()
        if self.missing_guards:
            raise DamagedStore(f"the store at {self.target} lacks its append-only trigger "
                          f"{self.missing_guards[0]}: someone went around auditlog; nothing "
                          "was written: run 'auditlog verify', then 'auditlog init' to put "
                          "it back")
        if self.readonly:
            raise Refusal(f"the store at {self.target} is read-only: reading and verify work, "
                          "recording needs a writable copy")

    def witness(self) -> None:
        """Append the log's new checkpoint to the witness log outside the store."""
        with self.log_reader() as log:
            self.warnings.extend(witness.witness(log))

    def restore_triggers(self) -> list[str]:
        """Put back removed append-only triggers: only 'auditlog init' calls this, after the
        log verifies."""
        db = sqlite3.connect(self.path, isolation_level=None, timeout=self.remaining())
        try:
            db.execute("BEGIN IMMEDIATE")
            restored = restore_triggers(db)
            db.execute("COMMIT")
        finally:
            db.close()
        self.missing_guards = [m for m in self.missing_guards if m not in restored]
        return restored

    # --- writing ---------------------------------------------------------------------------

    def command(self, decide: Callable[[], Sequence[Aggregate]]) -> Any:
        """Run decide (which reads fresh state and returns changed aggregates) and save.

        A conflict (someone else saved first, or the file stayed locked) is retried from a
        fresh read; nothing is ever half-written because eventsourcing saves all the pending
        events of one call in one transaction.
        """
        self.require_writable()
        for attempt in range(ATTEMPTS):
            aggregates = decide()
            if self._save_once(aggregates, attempt):
                return aggregates
            time.sleep(min(0.5, 0.01 * 2**attempt) * (1 + random.random()))
        raise StoreBusy(
            f"the store at {self.target} kept changing or stayed locked through {ATTEMPTS} "
            "attempts; nothing was written: try again"
        )

    def _save_once(self, aggregates: Sequence[Aggregate], attempt: int) -> bool:
        """One attempt to save; True when saved (and witnessed), False to retry."""
        self._bound_waits(attempt)
        if os.environ.get(NOW_ENV) is None:
            # Stamp the events just before they are saved, not when the command began, so
            # that a writer who began earlier but saves later than another does not step
            # backwards in time (which the store refuses).
            restamp(aggregates, now())
        try:
            self.app.save(*aggregates)
        except ClockBehind as behind:
            if os.environ.get(NOW_ENV) is not None or attempt == ATTEMPTS - 1:
                raise Refusal(
                    f"the event would be recorded at {behind.recorded}, before the last "
                    f"event in the log ({behind.head}): transaction time never goes "
                    "backwards; check the system clock (or AUDITLOG_NOW)") from None
            return False
        except (RecordConflictError, OperationalError) as error:
            if "readonly" in str(error):
                raise Refusal(f"the store at {self.target} is read-only: reading and "
                              "verify work, recording needs a writable copy") from None
            return False
        self.witness()
        return True

    def bulk(self, work: "Callable[[Store], T]") -> T:
        """Run many commands as one: every event they decide is saved in ONE transaction
        (with its hash-chain entries, as every save), or none is.

        ``work`` receives a Batch, a Store whose reads see what earlier commands of the same
        work decided (a finding recorded by one command can be followed up by the next, by
        its reference) and whose ``command`` decides without saving. Pass it to the functions
        of ``auditlog.commands`` exactly as a Store::

            def work(batch: Store) -> None:
                for row in rows:
                    commands.record_finding(batch, ctx, row)

            store.bulk(work)

        A Refusal from any command abandons the whole work, nothing written. Someone else
        saving first is retried by running ``work`` again on fresh reads, so ``work`` must not
        have effects other than its commands. ``auditlog.commands.bulk`` does this and then
        catches the persisted projections up in the same run; importers and ``copy`` call that.
        """
        self.require_writable()
        for attempt in range(ATTEMPTS):
            batch = Batch(self)
            result = work(batch)
            if batch.refused:
                # A command refused and the work carried on: what it began may be pending.
                raise Refusal(f"{batch.refused} commands of this work were refused: nothing "
                              "was written")
            if self._save_once(list(batch.changed.values()), attempt):
                return result
            time.sleep(min(0.5, 0.01 * 2**attempt) * (1 + random.random()))
        raise StoreBusy(
            f"the store at {self.target} kept changing or stayed locked through {ATTEMPTS} "
            "attempts; nothing was written: try again"
        )


class Batch(Store):
    """The Store that ``Store.bulk`` hands to its work: same log, decisions kept pending.

    It shares the opened store (no new connection); aggregates read are cached, so each is
    loaded once per work however many commands touch it.
    """

    def __init__(self, store: Store) -> None:
        self.__dict__.update(store.__dict__)
        self.changed: dict[UUID, Aggregate] = {}
        self._seen: dict[UUID, Aggregate | None] = {}
        self._allocated: dict[tuple[int, int], tuple[UUID, str]] = {}
        self.refused = 0

    def get(self, aggregate_id: UUID) -> Aggregate | None:
        if aggregate_id not in self._seen:
            self._seen[aggregate_id] = super().get(aggregate_id)
        return self._seen[aggregate_id]

    def head_version(self, aggregate_id: UUID) -> int:
        held = self._seen.get(aggregate_id)
        if held is not None:
            return held.version
        return super().head_version(aggregate_id)

    def finding_id_of(self, ref: str) -> tuple[UUID, str, int | None]:
        year, number, rec = parse_ref(ref)
        pending = self._allocated.get((year, number))
        if pending is not None:
            return pending[0], pending[1], rec
        return super().finding_id_of(ref)

    def command(self, decide: Callable[[], Sequence[Aggregate]]) -> Any:
        try:
            aggregates = decide()
        except BaseException:
            self.refused += 1
            raise
        for aggregate in aggregates:
            before = self.changed.get(aggregate.id) or self._seen.get(aggregate.id)
            if before is not None and before is not aggregate:
                # A fresh object built at the pending head (a counter): it carries on from
                # the events still pending on the one it replaces.
                aggregate._pending[:0] = before._pending
                before._pending = []
            for event in aggregate._pending:
                if isinstance(event, ReferenceAllocated):
                    year, number, _ = parse_ref(event.ref)
                    self._allocated[(year, number)] = (event.finding_id, event.ref)
            self.changed[aggregate.id] = aggregate
            self._seen[aggregate.id] = aggregate
        return aggregates
