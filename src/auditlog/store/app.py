"""The eventsourcing application behind auditlog, and the retrying command loop."""

import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import (
    Application,
)
from eventsourcing.persistence import (
    DatabaseError,
    Mapper,
    Notification,
    OperationalError,
    ProgrammingError,
    RecordConflictError,
    StoredEvent,
)

from auditlog.clock import NOW_ENV, now
from auditlog.domain.aggregate import Aggregate, project
from auditlog.domain.events import Event, ReferenceAllocated
from auditlog.domain.finding import Finding
from auditlog.domain.references import counter_id, parse_ref
from auditlog.errors import DamagedStore, Refusal, StoreBusy
from auditlog.i18n import _
from auditlog.store import stream, witness
from auditlog.store.chain import GENESIS, entry_hash
from auditlog.store.engine import AggregateRow, Engine, Snapshot
from auditlog.store.mapper import PydanticMapper, Rows
from auditlog.store.recorder import ClockBehind
from auditlog.store.sqlite import SQLiteEngine, readonly_uri, writable  # noqa: F401 - kept here
from auditlog.store.sqlite_integrity import CHAIN, META

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
        raise Refusal(_("AUDITLOG_LOCK_TIMEOUT={raw!r} is not valid: give whole seconds, "
                        "e.g. 15").format(raw=raw))
    return int(raw)


def _check_row(row: AggregateRow) -> tuple[int, bytes, int, bytes, bytes]:
    """The event of this row, unless it is not the one its chain entry was made for
    (DamagedStore): the entry at its position, and that entry's link to the one before."""
    position, oid, version, topic, state, seq, entry_position, stored, prev = row
    if seq is None or entry_position != position:
        raise stream.damaged(position, _("an event here has no chain entry"))
    if prev is None and seq != 1:
        raise stream.damaged(position, _("the chain entry before it is gone"))
    if oid is None or entry_hash(seq, GENESIS if seq == 1 else prev, oid, version, topic,
                                 state) != stored:
        raise stream.damaged(position, _("its bytes are not those its chain entry was made for"))
    return position, oid, version, topic, state


Pending = Aggregate | Rows
"""What a save takes: aggregates with pending events, or a bulk writer's rows (mapper.Rows)."""


def restamp(aggregates: Sequence[Pending], at: datetime) -> None:
    for aggregate in aggregates:
        if isinstance(aggregate, Rows):
            aggregate.at = at
            continue
        aggregate._pending = [event.model_copy(update={"recorded_at": at})
                              for event in aggregate._pending]


def is_postgres(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def engine_for(target: str) -> Engine:
    """The engine a --db names: a postgresql:// (or postgres://) URL, else a SQLite file."""
    if is_postgres(target):
        from auditlog.store.postgres import PostgresEngine  # psycopg only when asked for

        return PostgresEngine(target, lock_timeout())
    return SQLiteEngine(target, lock_timeout())


def refusal_of(error: ProgrammingError) -> Exception:
    """A save the database refused to the role logged in (its grants, or auditlog's trigger
    on PostgreSQL) as one line; the transaction was rolled back, so nothing was written.
    Any other programming error is a bug, and stays one."""
    line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if line.startswith("auditlog: "):
        from auditlog.store.roles import gate_refusal  # psycopg: only a server refuses so

        return Refusal(_("{refusal}; nothing was written").format(
            refusal=gate_refusal(line.removeprefix("auditlog: "))))
    if line.startswith("permission denied"):
        return Refusal(_("the database refused: {line}; nothing was written (ask the store's "
                         "owner for 'auditlog roles grant')").format(line=line))
    return error


class Store:
    """One opened store: the event log plus helpers to read aggregates and the log in order."""

    def __init__(self, target: str, engine: Engine | None = None) -> None:
        self.engine = engine or engine_for(target)  # the one that just checked it, if any
        self.target = self.engine.display  # never a password
        self.path = Path(target)  # the SQLite file (meaningless on PostgreSQL)
        self.readonly = self.engine.readonly
        try:
            self.app = AuditApplication(env=self.engine.env())
        except (OperationalError, sqlite3.OperationalError):
            raise  # locked or unreachable: not the user's mistake
        except (DatabaseError, sqlite3.DatabaseError) as error:  # a file that is no store
            if "permission denied" in str(error):  # a server's role outside auditlog's groups
                raise Refusal(_("the role logged in may not read {target}: ask the store's "
                                "owner for 'auditlog roles grant LOGIN reader'").format(
                                  target=self.target)) from None
            raise Refusal(_("{target} is not an auditlog store: {error}").format(
                              target=self.target, error=error)) from None
        self._closers: list[Callable[[], None]] = [self.engine.close]
        self._rows: stream.RowSource | None = None
        self.warnings: list[str] = []  # told to the user, never a reason to undo a write
        self.missing_guards: list[str] = list(getattr(self.app.recorder, "missing", []))
        # AUDITLOG_LOCK_TIMEOUT bounds the whole command, retries included: every wait for
        # another writer's lock is given only what is left of it.
        self.deadline = time.monotonic() + lock_timeout()
        self._bound_new_connections()

    @staticmethod
    def exists(target: str) -> bool:
        engine = engine_for(target)
        try:
            return engine.exists()
        finally:
            engine.close()

    @classmethod
    def open_existing(cls, target: str) -> "Store":
        engine = engine_for(target)
        try:
            if not engine.exists():
                raise Refusal(
                    _("no store at {display}: create one with 'auditlog init' or point --db "
                      "(AUDITLOG_DB) at an existing store").format(display=engine.display)
                )
            engine.check(existing=True)
        except BaseException:
            engine.close()
            raise
        return cls(target, engine)  # its connection serves the command (one login less)

    @staticmethod
    def check_target(target: str, *, existing: bool) -> None:
        """Refuse what cannot be a store before anything touches it (see each engine)."""
        engine = engine_for(target)
        try:
            engine.check(existing=existing)
        finally:
            engine.close()

    def session_user(self) -> str | None:
        """The database role logged in, on an engine that authenticates (PostgreSQL)."""
        return self.engine.session_user(self.app.recorder)

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
        rows = self.engine.aggregate_rows(self.app.recorder, aggregate_id, gt=gt, lte=lte,
                                          last=last)
        return [event for _, event in stream.decode_rows([_check_row(r) for r in rows], {})]

    def events_of_many(self, aggregate_ids: Sequence[UUID], chunk: int = 500
                       ) -> dict[UUID, list[Event]]:
        """The events of many aggregates, in version order, in a few queries instead of one
        each (a question about the past may refold thousands of findings)."""
        found: dict[UUID, list[Event]] = {aggregate_id: [] for aggregate_id in aggregate_ids}
        for start in range(0, len(aggregate_ids), chunk):
            part = aggregate_ids[start:start + chunk]
            for aggregate_id, version, topic, state in self.engine.events_of(
                    self.app.recorder, part):
                event = self.app.mapper.to_domain_event(StoredEvent(
                    originator_id=aggregate_id, originator_version=version,
                    topic=topic, state=state))
                assert isinstance(event, Event)
                found[aggregate_id].append(event)
        return found

    def head_version(self, aggregate_id: UUID) -> int:
        """The version of an aggregate's last event, 0 when it has none: one index lookup
        (the events' primary key is (originator_id, originator_version))."""
        return self.engine.head_version(self.app.recorder, aggregate_id)

    def last_event(self, aggregate_id: UUID) -> Event | None:
        """An aggregate's last event alone (one index lookup), for aggregates whose state
        it holds whole."""
        last = self._checked_events(aggregate_id, last=True)
        return last[0] if last else None

    def events_of(self, aggregate_id: UUID) -> list[Event]:
        return self._checked_events(aggregate_id)

    def finding_id_of(self, ref: str) -> tuple[UUID, str, int | None]:
        """Resolve F-2023-0007[.n] to (finding id, finding ref, recommendation number)."""
        year, number, rec = parse_ref(ref)
        allocated: list[Any] = self._checked_events(counter_id(year), gt=number - 1,
                                                    lte=number)
        if not allocated:
            raise Refusal(_("no finding {value} in this store: 'auditlog finding list' shows "
                            "the references").format(value=ref.split('.')[0].upper()))
        event = allocated[0]
        return event.finding_id, event.ref, rec

    def finding(self, ref: str) -> tuple[Finding, int | None]:
        finding_id, finding_ref, rec = self.finding_id_of(ref)
        finding = self.get(finding_id)
        if not isinstance(finding, Finding):
            raise Refusal(_("no finding {finding_ref} in this store").format(
                              finding_ref=finding_ref))
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

    def _row_source(self) -> stream.RowSource:
        """The streaming reader's own connection: reads only, each batch its own snapshot."""
        if self._rows is None:
            self._rows, closer = self.engine.row_source()
            self.on_close(closer)
        return self._rows

    def checked_rows(self, after: int = 0, stop: int | None = None, batch: int = stream.BATCH
                     ) -> Iterator[list[tuple[int, bytes, int, bytes, bytes]]]:
        """The log's rows in order, each proven by the hash chain (see store/stream.py), for
        readers that look at the JSON before deciding which events to build."""
        return stream.checked_rows(self._row_source(), after, stop, batch)

    def verified_rows(self, after: int = 0, stop: int | None = None, batch: int = stream.BATCH
                      ) -> Iterator[list[stream.ChainedRow]]:
        """As checked_rows, the rows as the engine gives them (chain entry and event; see
        stream.verified): for the lean fold, which unpacks them itself."""
        return stream.verified(self._row_source(), after, stop, batch)

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

    def log_reader(self) -> Snapshot:
        """One consistent snapshot of the events and their hash chain, for verify."""
        return self.engine.log_reader(self.app.recorder)

    # --- the time a command may wait ------------------------------------------------------

    def remaining(self) -> float:
        """Seconds left of AUDITLOG_LOCK_TIMEOUT for this command (never below 0)."""
        return max(0.0, self.deadline - time.monotonic())

    def _sqlite_pool(self) -> Any:
        """eventsourcing's pool of SQLite connections (None on another engine)."""
        pool = getattr(getattr(self.app.recorder, "datastore", None), "pool", None)
        return pool if hasattr(pool, "_create_connection") and hasattr(pool, "_pool") else None

    def _bound_new_connections(self) -> None:
        """eventsourcing opens SQLite connections with a fixed busy timeout (and reads 0 as its
        own default of 5 s): each new one gets what is left of the command's time instead."""
        pool = self._sqlite_pool()
        if pool is None:
            return
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
            raise StoreBusy(_("the store at {target} stayed locked or kept changing "
                              "for AUDITLOG_LOCK_TIMEOUT={lock_timeout} s; nothing was "
                              "written: try again").format(
                target=self.target, lock_timeout=lock_timeout()))
        pool = self._sqlite_pool()
        for connection in list(pool._pool) if pool is not None else []:
            connection._sqlite_conn.execute(f"PRAGMA busy_timeout = {self._wait_ms()}")

    # --- guards ----------------------------------------------------------------------------

    def require_intact_tables(self) -> None:
        """A store whose integrity tables are gone cannot have anything it holds checked:
        every command but verify stops here (exit 3)."""
        tables = [name for name in self.missing_guards if name in (CHAIN, META)
                  or name.startswith(META + ".")]
        if tables:
            raise DamagedStore(_("the store at {target} has lost its integrity tables "
                                 "({tables}): nothing in it can be checked; run "
                                 "'auditlog verify'").format(
                target=self.target, tables=', '.join(tables)))

    def require_writable(self) -> None:
        """Refuse to record into a store that is read-only or whose guards were removed."""
        self.require_intact_tables()
        if self.missing_guards:
            raise DamagedStore(_("the store at {target} lacks its append-only trigger "
                                 "{missing_guards}: someone went around auditlog; "
                                 "nothing was written: run 'auditlog verify', then "
                                 "'auditlog init' to put it back").format(
                target=self.target, missing_guards=self.missing_guards[0]))
        if self.readonly:
            raise Refusal(_("the store at {target} is read-only: reading and verify work, "
                            "recording needs a writable copy").format(target=self.target))

    def witness(self) -> None:
        """Append the log's new checkpoint to the witness log outside the store."""
        with self.log_reader() as log:
            self.warnings.extend(witness.witness(log))

    def restore_triggers(self) -> list[str]:
        """Put back removed append-only triggers: only 'auditlog init' calls this, after the
        log verifies."""
        restored = self.engine.restore_triggers()
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
            with self.engine.writing():  # one decision at a time, where the engine can
                aggregates = decide()
                saved = self._save_once(aggregates, attempt)
            if saved:
                return aggregates
            time.sleep(min(0.5, 0.01 * 2**attempt) * (1 + random.random()))
        raise StoreBusy(
            _("the store at {target} kept changing or stayed locked through {ATTEMPTS} "
              "attempts; nothing was written: try again").format(
                target=self.target, ATTEMPTS=ATTEMPTS)
        )

    def _save_once(self, aggregates: Sequence[Pending], attempt: int) -> bool:
        """One attempt to save; True when saved (and witnessed), False to retry."""
        self._bound_waits(attempt)
        if os.environ.get(NOW_ENV) is None:
            # Stamp the events just before they are saved, not when the command began, so
            # that a writer who began earlier but saves later than another does not step
            # backwards in time (which the store refuses).
            restamp(aggregates, now())
        try:
            if any(isinstance(a, Rows) for a in aggregates):
                # Rows are stored events already: the recorder takes them all in one insert.
                self.app.recorder.insert_events(self._stored(aggregates))
            else:
                self.app.save(*[a for a in aggregates if isinstance(a, Aggregate)])
        except ProgrammingError as error:
            raise refusal_of(error) from None
        except ClockBehind as behind:
            if os.environ.get(NOW_ENV) is not None or attempt == ATTEMPTS - 1:
                raise Refusal(
                    _("the event would be recorded at {recorded}, before the last event in "
                      "the log ({head}): transaction time never goes backwards; check the "
                      "system clock (or AUDITLOG_NOW)").format(
                        recorded=behind.recorded, head=behind.head)) from None
            return False
        except (RecordConflictError, OperationalError) as error:
            if "readonly" in str(error):
                raise Refusal(_("the store at {target} is read-only: reading and verify "
                                "work, recording needs a writable copy").format(
                                  target=self.target)) from None
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
                raise Refusal(_("{refused} commands of this work were refused: nothing was "
                                "written").format(refused=batch.refused))
            if self._save_once(list(batch.changed.values()), attempt):
                return result
            time.sleep(min(0.5, 0.01 * 2**attempt) * (1 + random.random()))
        raise StoreBusy(
            _("the store at {target} kept changing or stayed locked through {ATTEMPTS} "
              "attempts; nothing was written: try again").format(
                target=self.target, ATTEMPTS=ATTEMPTS)
        )

    def save_in_chunks(self, plan: Callable[[], Iterator[Sequence[Pending]]]) -> None:
        """Like ``bulk``, for work too big to hold at once (an import of 50,000 rows): each
        chunk of changed aggregates that ``plan()`` yields has its events inserted, with their
        hash-chain entries, as soon as it is yielded, all inside ONE transaction that commits
        when the iterator ends; memory then follows a chunk, not the work.

        A Refusal raised by the iterator (once it has checked all it must, so that it can
        list every problem) rolls everything back. Someone else saving first, or the clock
        behind the log, reruns ``plan()`` on fresh reads, as ``command`` does.
        """
        self.require_writable()
        recorder: Any = self.app.recorder  # either engine's: both have insert_in
        pinned = os.environ.get(NOW_ENV) is not None
        for attempt in range(ATTEMPTS):
            at = now()
            try:
                with recorder.datastore.transaction(commit=True) as cursor:
                    for chunk in plan():
                        if not pinned:
                            restamp(chunk, at)
                        stored = self._stored(chunk)
                        if stored:
                            recorder.insert_in(cursor, stored)
            except ClockBehind as behind:
                if pinned or attempt == ATTEMPTS - 1:
                    raise Refusal(
                        _("the event would be recorded at {recorded}, before the last event "
                          "in the log ({head}): transaction time never goes backwards; check "
                          "the system clock (or AUDITLOG_NOW)").format(
                            recorded=behind.recorded, head=behind.head)) from None
            except (RecordConflictError, OperationalError) as error:
                if "readonly" in str(error):
                    raise Refusal(_("the store at {target} is read-only: reading and verify "
                                    "work, recording needs a writable copy").format(
                                      target=self.target)) from None
            else:
                self.witness()
                return
            time.sleep(min(0.5, 0.01 * 2**attempt) * (1 + random.random()))
        raise StoreBusy(
            _("the store at {target} kept changing or stayed locked through {ATTEMPTS} "
              "attempts; nothing was written: try again").format(
                target=self.target, ATTEMPTS=ATTEMPTS)
        )

    def _stored(self, pending: Sequence[Pending]) -> list[StoredEvent]:
        """Every pending event in stored form, each encoded once, in the order given."""
        stored: list[StoredEvent] = []
        encode = self.app.mapper.to_stored_event
        for item in pending:
            if isinstance(item, Rows):
                stored.extend(item.collect_stored())
            else:
                stored.extend(map(encode, item.collect_events()))
        return stored


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
        self._scanned: dict[UUID, int] = {}  # pending events already looked at, per aggregate

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
                # the events still pending on the one it replaces (extended, not copied:
                # a counter may hold thousands in one work).
                before._pending.extend(aggregate._pending)
                aggregate._pending = before._pending
            pending = aggregate._pending
            for event in pending[self._scanned.get(aggregate.id, 0):]:  # only the new ones
                if isinstance(event, ReferenceAllocated):
                    year, number, _ = parse_ref(event.ref)
                    self._allocated[(year, number)] = (event.finding_id, event.ref)
            self._scanned[aggregate.id] = len(pending)
            self.changed[aggregate.id] = aggregate
            self._seen[aggregate.id] = aggregate
        return aggregates
