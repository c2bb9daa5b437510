"""The PostgreSQL engine: eventsourcing's own ``eventsourcing.postgres`` recorder (psycopg 3 and
its pool), with the integrity chain written in the insert transaction, after the library's
table lock, so that log order is commit order and the chain is as dense as the log.

Append-only rests on triggers owned by the schema owner (a role granted UPDATE for the lock
that eventsourcing takes still cannot change a row, nor drop the trigger): UPDATE, DELETE and
TRUNCATE on the event, chain and facts tables are refused.
"""

import getpass
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import RecordConflictError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import get_topic
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, tuple_row

from auditlog.clock import now
from auditlog.errors import Refusal, StoreBusy
from auditlog.i18n import _
from auditlog.store.chain import GENESIS, ChainRow, EventRow, SnapshotBase, recorded_time
from auditlog.store.engine import AggregateRow, Cursor, EventTuple
from auditlog.store.recorder import chain_links, in_time_order
from auditlog.store.sqlite_integrity import CHAIN, EVENTS, META, new_store_id

CONNECT_TIMEOUT = 10
TABLES = (EVENTS, CHAIN, META)
SETUP_LOCK = 7_142_857  # an advisory lock: two processes opening a new store set it up once
WRITE_LOCK = 7_142_858  # an advisory lock: one command decides and saves at a time
REFUSE_FUNCTION = "auditlog_refuse_change"
POSITION_INDEX = f"{CHAIN}_position"
# Per-aggregate reads find each event's chain entry by position (Engine.aggregate_rows).
POSITION_INDEX_SQL = f"CREATE INDEX IF NOT EXISTS {POSITION_INDEX} ON {CHAIN} (position)"
TRIGGERS = {f"{table}_no_{action}": (table, action)
            for table in TABLES for action in ("update", "delete", "truncate")}
# Kept evidence (store/postgres_evidence.py): append-only as the log. A store made before it
# is not "missing" anything; once the tables are there, their triggers are guards like the
# log's (reported by verify, put back by init).
EVIDENCE_TABLES = ("evidence_blob", "evidence_chunk")
EVIDENCE_TRIGGERS = {f"{table}_no_{action}": (table, action)
                     for table in EVIDENCE_TABLES for action in ("update", "delete", "truncate")}
READER = "auditlog_reader"  # store/roles.py's group, which every other group includes
AUDITOR = "auditlog_auditor"  # store/roles.py's group that records (and keeps evidence)

SCHEMA = [
    f"CREATE TABLE IF NOT EXISTS {META} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # As on SQLite: seq is dense even where positions are not; the identity beside the hash
    # tells a moved event from an edited one.
    f"CREATE TABLE IF NOT EXISTS {CHAIN} (seq BIGINT PRIMARY KEY, position BIGINT NOT NULL, "
    "originator_id TEXT NOT NULL, originator_version BIGINT NOT NULL, hash BYTEA NOT NULL)",
    POSITION_INDEX_SQL,
    f"CREATE OR REPLACE FUNCTION {REFUSE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'auditlog: % is append-only: % refused', TG_TABLE_NAME, TG_OP "
    "USING ERRCODE = 'insufficient_privilege'; END $$",
]


def _trigger_sql(name: str, table: str, action: str) -> str:
    level = "STATEMENT" if action == "truncate" else "ROW"
    return (f"CREATE OR REPLACE TRIGGER {name} BEFORE {action.upper()} ON {table} "
            f"FOR EACH {level} EXECUTE FUNCTION {REFUSE_FUNCTION}()")


EVIDENCE_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS evidence_blob (sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS evidence_chunk (sha256 TEXT NOT NULL REFERENCES evidence_blob "
    "(sha256), n INTEGER NOT NULL, content BYTEA NOT NULL, PRIMARY KEY (sha256, n))",
    *(_trigger_sql(name, table, action) for name, (table, action) in EVIDENCE_TRIGGERS.items()),
]


# The id as text without dashes: the 32 hex digits the SQLite recorder stores, so the same
# event has the same bytes (and chain hash) on both engines.
def event_columns(alias: str, *, named: bool = False) -> str:
    # Named where eventsourcing's cursor gives rows as dicts, keyed by column name.
    oid, topic = (" AS oid", " AS topic_bytes") if named else ("", "")
    return (f"convert_to(replace({alias}.originator_id::text, '-', ''), 'UTF8'){oid}, "
            f"{alias}.originator_version, convert_to({alias}.topic, 'UTF8'){topic}, "
            f"{alias}.state")


# --- the URL -------------------------------------------------------------------------------


class PostgresTarget:
    """A postgresql:// URL taken apart; the password stays here and in libpq, nowhere else."""

    def __init__(self, url: str) -> None:
        try:
            parts = conninfo_to_dict(url)
        except psycopg.ProgrammingError as error:
            raise Refusal(_("--db is not a valid PostgreSQL URL ({error}): give "
                            "postgresql://user@host:port/dbname").format(
                error=_first_line(error))) from None
        self.params = {k: str(v) for k, v in parts.items() if v is not None}
        # libpq's own defaults, said out loud so that messages can name them.
        self.host = self.params.get("host") or os.environ.get("PGHOST") or "localhost"
        self.port = self.params.get("port") or os.environ.get("PGPORT") or "5432"
        self.user = self.params.get("user") or os.environ.get("PGUSER") or _login()
        self.dbname = self.params.get("dbname") or os.environ.get("PGDATABASE") or self.user
        if not self.port.isdigit():  # not echoed: a mistyped URL may hold a password there
            raise Refusal(_("--db has a port that is not a number: give "
                            "postgresql://user@host:5432/dbname"))
        # Without a password in the URL, libpq reads PGPASSWORD itself, then ~/.pgpass.
        self.password = self.params.get("password")

    @property
    def display(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"

    def where(self) -> str:
        return _("database {dbname} on {host}:{port}").format(
            dbname=self.dbname, host=self.host, port=self.port)

    def connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {k: v for k, v in self.params.items() if k != "password"}
        kwargs.update(host=self.host, port=self.port, user=self.user, dbname=self.dbname)
        if self.password is not None:
            kwargs["password"] = self.password
        kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT)
        kwargs.setdefault("application_name", "auditlog")
        return kwargs

    def connect(self, **extra: Any) -> psycopg.Connection[Any]:
        """A connection of its own, or a Refusal that names host and database."""
        try:
            return psycopg.connect(**self.connect_kwargs(), **extra)
        except psycopg.OperationalError as error:
            raise Refusal(self.explain(error)) from None

    def explain(self, error: BaseException) -> str:
        text = str(error)
        if "password authentication failed" in text or "no password supplied" in text:
            return _("PostgreSQL refused the login of {user} to {where}: wrong or missing "
                     "password (give it in the URL, PGPASSWORD or ~/.pgpass)").format(
                user=self.user, where=self.where())
        if "does not exist" in text and "database" in text:
            return _("{where} does not exist: create it (CREATE DATABASE {dbname}) or check "
                     "--db").format(where=self.where(), dbname=self.dbname)
        if "role" in text and "does not exist" in text:
            return _("PostgreSQL has no role {user} at {where}: check --db").format(
                user=self.user, where=self.where())
        if ("Connection refused" in text or "resolve host" in text or "timeout" in text
                or "could not connect" in text or "No such file" in text):
            return _("cannot reach PostgreSQL for {where}: is the server running and the "
                     "host and port right? check --db").format(where=self.where())
        return _("cannot open {where}: {error}").format(where=self.where(),
                                                         error=_first_line(error))


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    return text.removeprefix("connection failed: ")


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return os.environ.get("USER", "postgres")


# --- the recorder ----------------------------------------------------------------------------


class PostgresAuditRecorder(PostgresApplicationRecorder):
    missing: list[str]

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = EVENTS) -> None:
        # The same table name as on SQLite (eventsourcing would name it after the
        # application), so that both engines are read and checked by the same SQL.
        super().__init__(datastore, events_table_name=EVENTS)

    def create_table(self) -> None:
        """Only a new store gets the integrity tables and triggers; on any other, what is
        missing is noted (``missing``), never silently put back or laid over its events.

        Opening a store only reads, but for upgrades: a store made before its chain had an
        index on position, or before kept evidence, gets them when its owner opens it
        (``auditlog init`` as the owner does that). Two processes creating the same store
        set it up once (an advisory lock held for the transaction)."""
        self.missing = []
        with self.datastore.transaction(commit=False) as c:
            names = _names(c)
            new = _is_new(c, names)
            if not new:
                self.missing = _missing(c, names)
                upgrades = _upgrades(c)
        if not new:
            if upgrades:
                with self.datastore.transaction(commit=True) as c:
                    for statement in upgrades:
                        c.execute(statement)
                    if EVIDENCE_SCHEMA[0] in upgrades:
                        grant_evidence(c)
            return
        super().create_table()
        with self.datastore.transaction(commit=True) as c:
            c.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_LOCK,))
            if _is_new(c):
                _set_up(c)
            else:
                self.missing = _missing(c)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any
                      ) -> Sequence[int] | None:
        """One save's events and their chain entries in a transaction of their own, which any
        exception rolls back: the refusal of an event recorded before the log's last one
        (ClockBehind, raised once the events are in, as the head is known only under the
        table lock) included. eventsourcing's own insert keeps an exception raised after its
        insert until its transaction block has ended, and so committed the events without
        their chain entries. Nor does it retry a lock timeout ten times: a table locked past
        AUDITLOG_LOCK_TIMEOUT is busy now (exit 4), with nothing written. Returns the
        events' positions, in the order inserted (in time order)."""
        if not stored_events:
            return []
        with self.datastore.transaction(commit=True) as c:
            return self.insert_in(c, stored_events)

    def insert_in(self, c: psycopg.Cursor[DictRow], stored_events: Sequence[StoredEvent]
                  ) -> list[int]:
        """Insert (and chain) events inside a transaction the caller holds, so that a bulk
        write (Store.save_in_chunks) goes in chunk by chunk and still commits, or rolls
        back, as one: after eventsourcing's table lock, one statement for the events and one
        pipelined executemany for their chain entries (not a composite-typed array and a
        round trip per save). Returns their positions."""
        try:
            self._lock_table(c)
            head = c.execute(f"SELECT seq, hash FROM {CHAIN} ORDER BY seq DESC LIMIT 1"
                             ).fetchone()
            seq, prev = (head["seq"], bytes(head["hash"])) if head else (0, GENESIS)
            before = c.execute(f"SELECT state FROM {EVENTS} ORDER BY notification_id DESC "
                               "LIMIT 1").fetchone()
            last = recorded_time(bytes(before["state"])) if before is not None else None
            ids: list[int] = []
            insert_linked(c, in_time_order(stored_events), seq, prev, last, ids)
            return ids
        except psycopg.errors.LockNotAvailable:
            raise StoreBusy(_("another writer held the store's events table past "
                              "{lock_timeout} s (AUDITLOG_LOCK_TIMEOUT); nothing was "
                              "written: try again").format(
                lock_timeout=self.datastore.lock_timeout)) from None
        except psycopg.errors.UniqueViolation as error:  # someone saved first: retried
            raise RecordConflictError(str(error)) from None


def _value(row: Any) -> Any:
    """The first column of a row, from a plain cursor (a tuple) or eventsourcing's (a dict)."""
    assert row is not None
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


def _bytes(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


Names = tuple[set[str], set[str]]


def _names(c: psycopg.Cursor[Any]) -> Names:
    """The tables of the schema and the triggers of the database, in one round trip."""
    row = c.execute(
        "SELECT ARRAY(SELECT tablename::text FROM pg_tables WHERE schemaname = "
        "current_schema()) AS tables, ARRAY(SELECT tgname::text FROM pg_trigger "
        "WHERE NOT tgisinternal) AS triggers").fetchone()
    assert row is not None
    tables, triggers = row.values() if isinstance(row, dict) else row
    return set(tables), set(triggers)


def _is_new(c: psycopg.Cursor[Any], names: Names | None = None) -> bool:
    """No event and no integrity table yet: the only store that may be given its chain."""
    tables = (names or _names(c))[0]
    if {META, CHAIN} & tables:
        return False
    return EVENTS not in tables or c.execute(f"SELECT 1 FROM {EVENTS} LIMIT 1").fetchone() is None


def _upgrades(c: psycopg.Cursor[Any]) -> list[str]:
    """What a store made by an earlier auditlog lacks (the chain's index on position, the
    tables of kept evidence) when the role logged in owns it, and so may add it; any other
    role reads it without (slower, and with no kept evidence) until its owner opens it."""
    row = c.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_indexes AS i WHERE i.schemaname = t.schemaname "
        "AND i.indexname = %s) AS indexed, EXISTS (SELECT 1 FROM pg_tables AS e WHERE "
        "e.schemaname = t.schemaname AND e.tablename = %s) AS evidence FROM pg_tables AS t "
        "WHERE t.schemaname = current_schema() AND t.tablename = %s "
        "AND pg_has_role(t.tableowner, 'MEMBER')",
        (POSITION_INDEX, EVIDENCE_TABLES[-1], CHAIN)).fetchone()
    if row is None:
        return []
    indexed, evidence = row.values() if isinstance(row, dict) else row
    return ([] if indexed else [POSITION_INDEX_SQL]) + ([] if evidence else EVIDENCE_SCHEMA)


def _missing(c: psycopg.Cursor[Any], names: Names | None = None) -> list[str]:
    """What is gone of the store's guards: tables, triggers, identity (read, never put back:
    only 'auditlog init' restores a trigger, once the log verifies)."""
    tables, triggers = names or _names(c)
    missing = [name for name in (META, CHAIN) if name not in tables]
    missing += sorted(name for name in TRIGGERS if name not in triggers)
    missing += _missing_evidence_triggers(tables, triggers)
    if META in tables and c.execute(
            f"SELECT 1 FROM {META} WHERE key = 'store_id'").fetchone() is None:
        missing.append(f"{META}.store_id")
    return missing


def grant_evidence(c: psycopg.Cursor[Any]) -> None:
    """Where 'auditlog roles setup' was run (its reader group may read the log here), the
    tables of kept evidence that the owner's upgrade adds get the grants setup gives them:
    readers read the kept files, auditors keep them (without, both met 'permission denied')."""
    row = c.execute(
        "SELECT CASE WHEN to_regrole(%s) IS NULL OR to_regrole(%s) IS NULL THEN false "
        "ELSE has_table_privilege(%s, %s, 'SELECT') END AS set_up",
        (READER, AUDITOR, READER, EVENTS)).fetchone()
    if not _value(row):
        return
    tables = sql.SQL(", ").join(sql.Identifier(t) for t in EVIDENCE_TABLES)
    c.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(tables, sql.Identifier(READER)))
    c.execute(sql.SQL("GRANT INSERT ON {} TO {}").format(tables, sql.Identifier(AUDITOR)))


def _missing_evidence_triggers(tables: set[str], triggers: set[str]) -> list[str]:
    return sorted(name for name, (table, _action) in EVIDENCE_TRIGGERS.items()
                  if table in tables and name not in triggers)


def _set_up(c: psycopg.Cursor[Any], store_id: str | None = None) -> None:
    for statement in SCHEMA:
        c.execute(statement)
    for name, (table, action) in TRIGGERS.items():
        c.execute(_trigger_sql(name, table, action))
    for statement in EVIDENCE_SCHEMA:
        c.execute(statement)
    c.executemany(f"INSERT INTO {META} VALUES (%s, %s)",
                  [("store_id", store_id or new_store_id()), ("chain", "auditlog-chain-v1"),
                   ("created_at", now().isoformat())])


# Many events in one statement, their positions returned in the order given (the order of
# the arrays, kept by ORDINALITY): no composite type, so it also runs in the transaction that
# creates the tables.
INSERT_ROWS = (f"INSERT INTO {EVENTS} (originator_id, originator_version, topic, state) "
               "SELECT o, v, t, s FROM unnest(%s::uuid[], %s::bigint[], %s::text[], "
               "%s::bytea[]) WITH ORDINALITY AS u(o, v, t, s, n) ORDER BY n "
               "RETURNING notification_id")
INSERT_LINKS = f"INSERT INTO {CHAIN} VALUES (%s, %s, %s, %s, %s)"


def insert_linked(c: psycopg.Cursor[Any], stored_events: Sequence[StoredEvent], seq: int,
                  prev: bytes, last: datetime | None, positions: list[int] | None = None
                  ) -> tuple[int, bytes, datetime | None]:
    """Insert events and their chain entries after the entry (seq, prev), in a transaction
    the caller holds; returns the new head (seq, hash, recorded time of the last event), and
    adds the events' positions to ``positions`` when given."""
    if not stored_events:
        return seq, prev, last
    ids = [_value(row) for row in c.execute(INSERT_ROWS, (
        [UUID(str(e.originator_id)) for e in stored_events],
        [e.originator_version for e in stored_events],
        [e.topic for e in stored_events], [e.state for e in stored_events])).fetchall()]
    entries = chain_links(stored_events, ids, seq, prev, last)
    c.executemany(INSERT_LINKS, entries)
    if positions is not None:
        positions.extend(ids)
    for stored in reversed(stored_events):
        when = recorded_time(stored.state)
        if when is not None:
            last = when
            break
    return entries[-1][0], entries[-1][4], last


# --- reading one snapshot, for verify ---------------------------------------------------------


class PostgresLog(SnapshotBase):
    """One REPEATABLE READ, read-only transaction: a consistent snapshot, streamed through a
    server-side cursor so that memory stays flat however long the log is."""

    def __init__(self, target: PostgresTarget, pool: PostgresDatastore) -> None:
        """On a connection of the store's pool, the one its save just used: the witness
        after every write logs in no more (verify and copy read this way too); the
        snapshot's transaction ends with it, and the connection goes back to the pool."""
        self.target = target
        self._lent = ExitStack()
        self.db = self._lent.enter_context(pool.get_connection())
        self.notes: list[str] = []
        self._cursors = 0
        try:
            # Tuples, though the pool's connections give dicts.
            self.c = self.db.cursor(row_factory=tuple_row)
            self.c.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            names = _names(self.c)
            self.missing = _missing(self.c, names)
            tables = names[0]
            self.has_chain = CHAIN in tables
            facts = (dict(self.c.execute(f"SELECT key, value FROM {META}").fetchall())
                     if META in tables else {})
            self.read_facts(facts)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        try:
            if not self.db.closed:
                self.db.rollback()  # the snapshot's transaction ends here
        finally:
            self._lent.close()  # back to the pool, for the command's next use

    def _stream(self, query: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        self._cursors += 1
        with self.db.cursor(name=f"auditlog_{self._cursors}",
                            row_factory=tuple_row) as cursor:
            cursor.itersize = 5000
            cursor.execute(query, params)
            yield from cursor

    def count(self) -> int:
        return int(_value(self.c.execute(f"SELECT coalesce(max(seq), 0) FROM {CHAIN}")
                          .fetchone()))

    def hashes_after(self, seq: int) -> Iterator[bytes]:
        if not self.has_chain:
            return iter(())
        return (bytes(row[0]) for row in self._stream(
            f"SELECT hash FROM {CHAIN} WHERE seq > %s ORDER BY seq", (seq,)))

    def event_count(self) -> int:
        return int(_value(self.c.execute(f"SELECT count(*) FROM {EVENTS}").fetchone()))

    def chain(self, first: int, last: int) -> Iterator[ChainRow]:
        return self._stream(
            f"SELECT c.seq, c.position, c.hash, {event_columns('e')} FROM {CHAIN} AS c "
            f"LEFT JOIN {EVENTS} AS e ON e.notification_id = c.position "
            "WHERE c.seq BETWEEN %s AND %s ORDER BY c.seq", (first, last))

    def entry_before(self, seq: int) -> tuple[int, int, bytes] | None:
        row = self.c.execute(
            f"SELECT seq, position, hash FROM {CHAIN} WHERE seq < %s ORDER BY seq DESC LIMIT 1",
            (seq,)).fetchone()
        return None if row is None else (row[0], row[1], bytes(row[2]))

    def event_positions(self) -> Iterator[int]:
        return (row[0] for row in self._stream(
            f"SELECT notification_id FROM {EVENTS} ORDER BY notification_id"))

    def chain_positions(self) -> Iterator[int]:
        return (row[0] for row in self._stream(
            f"SELECT position FROM {CHAIN} ORDER BY position"))

    def linked_identity(self, seq: int) -> tuple[bytes, int] | None:
        row = self.c.execute(
            f"SELECT originator_id, originator_version FROM {CHAIN} WHERE seq = %s",
            (seq,)).fetchone()
        return None if row is None else (row[0].encode(), row[1])

    def find(self, originator_id: bytes, originator_version: int) -> EventRow | None:
        try:
            wanted = UUID(originator_id.decode())
        except ValueError:
            return None
        row = self.c.execute(
            f"SELECT e.notification_id, {event_columns('e')} FROM {EVENTS} AS e "
            "WHERE e.originator_id = %s AND e.originator_version = %s",
            (wanted, originator_version)).fetchone()
        return None if row is None else (row[0], row[1], row[2], row[3], row[4])

    def source(self) -> dict[str, str] | None:
        return None  # verify checks in this process: a worker would need the password


# --- the streaming read path (store/stream.py) ----------------------------------------------


_NO_STOP = 1 << 62


class PostgresRows:
    """A RowSource over one autocommit connection: each query its own snapshot, so a long
    read holds no transaction open between batches; paging by chain seq is an index range."""

    def __init__(self, db: psycopg.Connection[Any]) -> None:
        self.db = db

    def entry_at_or_before(self, position: int) -> tuple[int, int, bytes] | None:
        row = self.db.execute(
            f"SELECT seq, position, hash FROM {CHAIN} WHERE position <= %s "
            "ORDER BY seq DESC LIMIT 1", (position,)).fetchone()
        return None if row is None else (row[0], row[1], bytes(row[2]))

    def chained(self, after_seq: int, stop: int | None, limit: int) -> list[Any]:
        return self.db.execute(
            f"SELECT c.seq, c.position, c.hash, {event_columns('e')} FROM {CHAIN} AS c "
            f"LEFT JOIN {EVENTS} AS e ON e.notification_id = c.position "
            "WHERE c.seq > %s AND c.position <= %s ORDER BY c.seq LIMIT %s",
            (after_seq, _NO_STOP if stop is None else stop, limit)).fetchall()

    def events_between(self, first: int, last: int) -> int:
        return int(_value(self.db.execute(
            f"SELECT count(*) FROM {EVENTS} WHERE notification_id BETWEEN %s AND %s",
            (first, last)).fetchone()))

    def unchained_tail(self) -> int | None:
        value = _value(self.db.execute(
            f"SELECT min(notification_id) FROM {EVENTS} WHERE notification_id > coalesce("
            f"(SELECT position FROM {CHAIN} ORDER BY seq DESC LIMIT 1), 0)").fetchone())
        return None if value is None else int(value)


# --- the derived tables ----------------------------------------------------------------------


def grant_projections(db: psycopg.Connection[Any], tables: Sequence[str]) -> None:
    """What 'auditlog roles setup' gives the groups on the derived read-model tables: every
    group may bring them up to the log (they are not the log; verify --projections checks
    them against it)."""
    db.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
        sql.SQL(", ").join(sql.Identifier(t) for t in tables), sql.Identifier(READER)))


class PostgresConnection:
    """psycopg in autocommit, with ``?`` placeholders as in the shared SQL; on the engine's
    one connection (``db``), which the engine closes."""

    def __init__(self, target: PostgresTarget, lock_timeout: int,
                 db: psycopg.Connection[Any]) -> None:
        self.target = target
        self.db = db
        self.lock_timeout = lock_timeout
        self._pipeline: AbstractContextManager[psycopg.Pipeline] | None = None

    def execute(self, query: str, params: Sequence[Any] = ()) -> Cursor:
        try:
            return self.db.execute(query.replace("?", "%s"), params)
        except psycopg.errors.LockNotAvailable as error:
            raise StoreBusy(_("the store at {display} stayed busy ({error}); nothing "
                              "was changed: try again").format(
                display=self.target.display, error=_first_line(error))) from None

    def executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.db.cursor() as cursor:
            cursor.executemany(query.replace("?", "%s"), rows)

    def begin_write(self, lock: str) -> None:
        """The transaction runs in pipeline mode: a write is sent without waiting for its
        answer, only a read (its fetch) or the commit waits, so a catch-up pays a round trip
        per read, not per statement (a write's error surfaces at the next wait, and the
        transaction rolls back as before)."""
        self._pipeline = self.db.pipeline()
        pipeline = self._pipeline.__enter__()
        try:
            self.execute("BEGIN")
            self.execute(f"SET LOCAL lock_timeout = '{int(self.lock_timeout)}s'")
            self.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(
                sql.Identifier(lock)).as_string(self.db))
            pipeline.sync()  # the lock is held, or busy, now
        except psycopg.errors.LockNotAvailable as error:
            self.rollback()
            raise StoreBusy(_("the store at {display} stayed busy ({error}); nothing "
                              "was changed: try again").format(
                display=self.target.display, error=_first_line(error))) from None
        except BaseException:
            self.rollback()
            raise

    def commit(self) -> None:
        self.db.execute("COMMIT")
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            pipeline.__exit__(None, None, None)  # waits for every answer: errors raise here

    def rollback(self) -> None:
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            error = RuntimeError("rolled back")  # answers still due are read, errors ignored
            pipeline.__exit__(type(error), error, None)
        if self.db.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self.db.execute("ROLLBACK")

    def has_table(self, name: str) -> bool:
        return self.db.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = %s",
            (name,)).fetchone() is not None

    def may_remake(self, tables: Sequence[str]) -> bool:
        """Only a table's owner (or a member of its owner role) may drop it, and only a role
        with CREATE on the schema may make it again."""
        row = self.db.execute(
            "SELECT has_schema_privilege(current_schema(), 'CREATE') AND coalesce(bool_and("
            "pg_has_role(tableowner, 'MEMBER')), true) FROM pg_tables WHERE schemaname = "
            "current_schema() AND tablename = ANY(%s)", (list(tables),)).fetchone()
        return bool(row is not None and row[0])

    def remade(self, tables: Sequence[str]) -> None:
        """Where 'auditlog roles setup' was run on this database (its reader group may read
        the log here), tables made again get their grants back in the same transaction:
        readers and auditors go on after an upgrade without a second roles setup."""
        row = self.db.execute(
            "SELECT CASE WHEN to_regrole(%s) IS NULL THEN false "
            "ELSE has_table_privilege(%s, %s, 'SELECT') END",
            (READER, READER, EVENTS)).fetchone()
        if row is not None and row[0]:
            grant_projections(self.db, tables)

    def close(self) -> None:
        if not self.db.closed:
            self.rollback()  # the engine's connection, left as it was lent


def _eventsourcing_schema(engine: "PostgresEngine") -> list[Any]:
    """eventsourcing's own statements for the events table (its type, table and index), as
    its recorder would run them: taken from a recorder that is never opened for use."""
    t = engine.target
    datastore = PostgresDatastore(
        dbname=t.dbname, host=t.host, port=t.port, user=t.user,
        password=t.password if t.password is not None else os.environ.get("PGPASSWORD", ""))
    try:
        return list(PostgresAuditRecorder(datastore).sql_create_statements)
    finally:
        datastore.close()


# --- the engine ------------------------------------------------------------------------------


class PostgresEngine:
    name = "postgresql"

    readonly = False  # what a role may not write, the server refuses

    def __init__(self, url: str, lock_timeout: int) -> None:
        self.target = PostgresTarget(url)
        self.display = self.target.display
        self.lock_timeout = lock_timeout
        self._tables: set[str] | None = None
        self._writer: psycopg.Connection[Any] | None = None
        self._db: psycopg.Connection[Any] | None = None

    def _shared(self) -> psycopg.Connection[Any]:
        """One autocommit connection for all a command reads and derives beside
        eventsourcing's pool (the tables, the projections, the streamed log): each new one
        costs a login (SCRAM) and a round trip or two, more than a status's queries."""
        if self._db is None or self._db.closed:
            self._db = self.target.connect(autocommit=True)
        return self._db

    def env(self) -> dict[str, str]:
        t = self.target
        password = t.password if t.password is not None else os.environ.get("PGPASSWORD", "")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": t.dbname,
            "POSTGRES_HOST": t.host,
            "POSTGRES_PORT": t.port,
            "POSTGRES_USER": t.user,
            # Empty: libpq falls back to ~/.pgpass.
            "POSTGRES_PASSWORD": password,
            "POSTGRES_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
            "POSTGRES_LOCK_TIMEOUT": str(self.lock_timeout),
            # No connection opened ahead (psycopg_pool would open one in the background
            # while the first command opens another): one, made when needed, and reused.
            "POSTGRES_POOL_SIZE": "0",
            "POSTGRES_MAX_OVERFLOW": "5",
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "0",
            "APPLICATION_RECORDER_TOPIC": get_topic(PostgresAuditRecorder),
        }

    def tables(self) -> set[str]:
        """The tables of the URL's database, read once: connecting here first turns an
        unreachable server or a wrong password into one line instead of a pool's retries."""
        if self._tables is None:
            self._tables = {r[0] for r in self._shared().execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
        return self._tables

    def exists(self) -> bool:
        """Whether the database holds a store; one that holds something else is refused as
        soon as it is looked at, for reading and writing alike."""
        tables = self.tables()
        if tables and EVENTS not in tables:
            raise Refusal(_("{target} holds something else ({count} tables), not an "
                            "auditlog store: give an empty database or a store").format(
                target=self.target.where(), count=len(tables)))
        return EVENTS in tables

    def check(self, *, existing: bool, option: str = "--db") -> None:
        if not self.exists() and existing:
            raise Refusal(_("no store in {target}: create one with 'auditlog --db "
                            "{display} init'").format(
                target=self.target.where(), display=self.display))

    def events_of(self, recorder: Any, aggregate_ids: Sequence[UUID]) -> list[EventTuple]:
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT originator_id, originator_version, topic, state "
                f"FROM {recorder.events_table_name} WHERE originator_id = ANY(%s) "
                "ORDER BY originator_id, originator_version", (list(aggregate_ids),))
            rows = c.fetchall()
        return [(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
                for r in rows]

    def aggregate_rows(self, recorder: Any, aggregate_id: UUID, *, gt: int | None,
                       lte: int | None, last: bool) -> list[AggregateRow]:
        # The chain entry at each event's position (the first, should an altered chain hold
        # two) through the index on position: seq and position differ on a server, whose
        # sequence skips the numbers of rolled-back inserts.
        order = "DESC LIMIT 1" if last else "ASC"
        with recorder.datastore.transaction(commit=False) as c:
            rows = c.execute(
                f"SELECT e.notification_id, {event_columns('e', named=True)}, c.seq, "
                "c.position AS entry_position, c.hash, p.hash AS prev "
                f"FROM {EVENTS} AS e LEFT JOIN LATERAL (SELECT seq, position, hash "
                f"FROM {CHAIN} WHERE position = e.notification_id ORDER BY seq LIMIT 1) AS c "
                f"ON true LEFT JOIN {CHAIN} AS p ON p.seq = c.seq - 1 "
                "WHERE e.originator_id = %s AND e.originator_version > %s "
                f"AND e.originator_version <= %s ORDER BY e.originator_version {order}",
                (aggregate_id, -1 if gt is None else gt, _NO_STOP if lte is None else lte),
            ).fetchall()
        return [tuple(_bytes(v) for v in row.values()) for row in rows]

    def head_version(self, recorder: Any, aggregate_id: UUID) -> int:
        with recorder.datastore.transaction(commit=False) as c:
            row = c.execute(f"SELECT max(originator_version) AS v FROM {EVENTS} "
                            "WHERE originator_id = %s", (aggregate_id,)).fetchone()
        return int(_value(row) or 0)

    def row_source(self) -> tuple[PostgresRows, Callable[[], None]]:
        # Only SELECTs, each fetched whole: it shares the connection safely with the
        # projections, which write between two of its batches.
        return PostgresRows(self._shared()), lambda: None

    def log_reader(self, recorder: Any) -> PostgresLog:
        return PostgresLog(self.target, recorder.datastore)

    def restore_triggers(self) -> list[str]:
        with self.target.connect() as db, db.transaction(), db.cursor() as c:
            tables, triggers = _names(c)
            restored = sorted(name for name in TRIGGERS if name not in triggers)
            evidence = _missing_evidence_triggers(tables, triggers)
            for name in restored:
                c.execute(_trigger_sql(name, *TRIGGERS[name]))
            for name in evidence:
                c.execute(_trigger_sql(name, *EVIDENCE_TRIGGERS[name]))
        return sorted(restored + evidence)

    def session_user(self, recorder: Any) -> str | None:
        with recorder.datastore.transaction(commit=False) as c:
            return str(_value(c.execute("SELECT session_user").fetchone()))

    def connect(self) -> PostgresConnection:
        return PostgresConnection(self.target, self.lock_timeout, self._shared())

    @contextmanager
    def writing(self) -> Iterator[None]:
        """An advisory lock, on a connection of its own, while a command decides and saves.

        Without it, recorders in several processes all read the year's reference counter,
        all but one conflict, and retry; with it they take turns (eventsourcing's table lock
        serialises the inserts anyway). A lock held past AUDITLOG_LOCK_TIMEOUT is busy."""
        if self._writer is None:
            self._writer = self.target.connect(autocommit=True)
            self._writer.execute(f"SET lock_timeout = '{int(self.lock_timeout)}s'")
        try:
            self._writer.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK,))
        except psycopg.errors.LockNotAvailable:
            raise StoreBusy(_("another writer held the store at {display} for "
                              "{lock_timeout} s; nothing was written: try again").format(
                display=self.display, lock_timeout=self.lock_timeout)) from None
        try:
            yield
        finally:
            self._writer.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK,))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._db is not None:
            self._db.close()
            self._db = None

    def discard(self) -> None:
        """A server's database is the administrator's: a refused first command leaves it."""

    def fill(self, batches: Iterable[Sequence[StoredEvent]], store_id: str,
             confirm: Callable[[int, bytes], None],
             also: Callable[[psycopg.Cursor[Any]], None] | None = None) -> None:
        """Make a store in this empty database from a copied log, all in ONE transaction:
        tables, triggers, identity, every event and its chain entry. ``confirm(size, head)``
        is called before the commit and may refuse, as may ``also(cursor)``, called after it
        to write more in the same transaction (the kept evidence); a copy stopped anywhere (an
        error, a kill, a lost connection) leaves the database as empty as it was."""
        with self.target.connect() as db, db.transaction(), db.cursor() as c:
            c.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_LOCK,))
            tables, _triggers = _names(c)
            if tables:
                raise Refusal(_("{display} already holds {count} tables: copy needs an "
                                "empty database").format(
                    display=self.display, count=len(tables)))
            for statement in _eventsourcing_schema(self):
                c.execute(statement)
            _set_up(c, store_id)
            seq, head, last = 0, GENESIS, None
            for batch in batches:
                seq, head, last = insert_linked(c, batch, seq, head, last)
            confirm(seq, head)
            if also is not None:
                also(c)
