"""Persisted projections: read models kept in the store's own database, caught up incrementally.

Rows and the tracked log position are written in one transaction, and only if the position is
still the one the batch started from, so two processes catching up at once never apply an
event twice. Rebuild folds the whole log once (findings by the lean fold of
projections/lean_rows.py, which writes the very state bytes the catch-up writes) and replaces
every table's rows in one transaction.
"""

import gc
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

from auditlog.domain.aggregate import AGGREGATE_OF_EVENT, Aggregate, project
from auditlog.domain.commitment import OPEN, Commitment
from auditlog.domain.events import CommitmentStatus, Event, FollowUpRecorded, Status
from auditlog.domain.finding import Finding
from auditlog.domain.grades import GradeEntry, GradeSeries
from auditlog.domain.pemda import Pemda
from auditlog.errors import DamagedStore, ProjectionsOutdated, StoreBusy
from auditlog.i18n import _
from auditlog.projections.commitments import CommitmentTally
from auditlog.projections.lean_rows import LogFold, finding_rows
from auditlog.projections.lean_rows import micros as micros  # its home before lean_rows
from auditlog.projections.model import (
    RETROACTIVE,
    RecRow,
    commitment_key,
    rec_rows_of,
    ref_key,
)

# The projection's identity and the grade columns' reading, shared with the fast `status`.
from auditlog.projections.quick import (
    LATEST_GRADES,
    NAME,
    OPEN_STATUS_CODES,
    PG_SCHEMA_SUFFIX,
    SCHEMA_VERSION,
    chain_hash,
    grade_cells,
)
from auditlog.projections.search import (
    MARK,
    PG_SEARCH,
    PG_SEARCH_SCHEMA,
    Hit,
    fts5_query,
    one_line,
    pg_tsquery,
)
from auditlog.store.app import Store

OPEN_VALUES = tuple(s.value for s in OPEN)
SCHEMA = """
CREATE TABLE IF NOT EXISTS projection_schema (version TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projection_position (
    name TEXT PRIMARY KEY, position BIGINT NOT NULL, hash TEXT);
CREATE TABLE IF NOT EXISTS projection_proven (
    name TEXT PRIMARY KEY, position BIGINT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projection_pemda (
    code TEXT PRIMARY KEY, id TEXT NOT NULL, recorded BIGINT NOT NULL, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projection_finding (
    id TEXT PRIMARY KEY, ref TEXT NOT NULL, pemda TEXT NOT NULL, withdrawn INTEGER NOT NULL,
    received TEXT NOT NULL, first_recorded BIGINT NOT NULL, last_recorded BIGINT NOT NULL,
    last_effective TEXT NOT NULL, state TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS projection_finding_pemda ON projection_finding (pemda);
CREATE TABLE IF NOT EXISTS projection_recommendation (
    finding_id TEXT NOT NULL, n INTEGER NOT NULL, pemda TEXT NOT NULL, status TEXT NOT NULL,
    value BIGINT NOT NULL, deposited BIGINT NOT NULL, due TEXT NOT NULL,
    PRIMARY KEY (finding_id, n));
CREATE INDEX IF NOT EXISTS projection_recommendation_pemda ON projection_recommendation (pemda);
CREATE INDEX IF NOT EXISTS projection_recommendation_open
    ON projection_recommendation (status, due, pemda);
CREATE TABLE IF NOT EXISTS projection_summary (
    pemda TEXT NOT NULL, status TEXT NOT NULL, count BIGINT NOT NULL, value BIGINT NOT NULL,
    deposited BIGINT NOT NULL, PRIMARY KEY (pemda, status));
CREATE TABLE IF NOT EXISTS projection_grades (
    id TEXT PRIMARY KEY, pemda TEXT NOT NULL, instrument TEXT NOT NULL,
    first_recorded BIGINT NOT NULL, last_recorded BIGINT NOT NULL, state TEXT NOT NULL,
    latest_grade TEXT, latest_score TEXT, latest_year INTEGER,
    previous_grade TEXT, previous_score TEXT, previous_year INTEGER);
CREATE TABLE IF NOT EXISTS projection_commitment (
    id TEXT PRIMARY KEY, ref TEXT NOT NULL, pemda TEXT NOT NULL, theme TEXT NOT NULL,
    status TEXT NOT NULL, deadline TEXT NOT NULL, progress TEXT,
    first_recorded BIGINT NOT NULL, last_recorded BIGINT NOT NULL,
    last_effective TEXT NOT NULL, state TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS projection_commitment_pemda ON projection_commitment (pemda);
"""
# The secondary indexes of SCHEMA, and their names (a rebuild on SQLite makes them again).
INDEXES = [statement.strip() for statement in SCHEMA.split(";")
           if statement.strip().startswith("CREATE INDEX")]
INDEX_NAMES = [statement.split()[5] for statement in INDEXES]
TABLES = ("projection_pemda", "projection_finding", "projection_recommendation",
          "projection_summary", "projection_grades", "projection_commitment",
          "projection_position", "projection_proven")
BATCH = 10000
# Aggregates kept folded between batches of one catch-up, so that a finding touched again a
# few batches later is not reread and re-parsed from its row: the cost of a rebuild.
CACHE = 20000
# Keys per ``IN (...)`` query of a catch-up's reads: well under SQLite's and PostgreSQL's limits
# on bound parameters.
CHUNK = 500
# A lock held past AUDITLOG_LOCK_TIMEOUT by another writer (PostgreSQL's connection raises
# StoreBusy itself).
BUSY = sqlite3.OperationalError
# SQLite's full-text index of the register (FTS5). A PostgreSQL projection answers the same
# question with its own full-text search (projections/search.py: PG_SEARCH_SCHEMA).
SEARCH_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS projection_search USING fts5(
    finding_id UNINDEXED, title, body, recommendations, followups,
    tokenize = 'unicode61 remove_diacritics 2')
"""
PROJECTED = (Pemda, Finding, GradeSeries, Commitment)




@dataclass(frozen=True)
class Meta:
    """When an aggregate's events were recorded, and the latest date they were effective on.

    Lets a question about the past reuse the current state of every aggregate that nothing
    after that moment touched, and refold only the others from their own events.
    """

    first_recorded: int = 0
    last_recorded: int = 0
    last_effective: str = ""

    def after(self, event: Event) -> "Meta":
        at = micros(event.recorded_at)
        effective = self.last_effective
        if not isinstance(event, RETROACTIVE):
            effective = max(effective, event.effective_on.isoformat())
        return Meta(self.first_recorded or at, max(self.last_recorded, at), effective)

Progress = Callable[[int], None]


def search_key(finding: Finding) -> int:
    """The search row's rowid, from the finding's reference (unique and never reused), so a
    finding's row is found through the index, not by scanning an unindexed column."""
    return search_rowid(finding.ref)


def search_rowid(ref: str) -> int:
    """search_key of the finding with this reference (F-2023-0007 sorts as ref_key)."""
    _, year, number = ref.split("-")
    return int(year) * 1_000_000_000 + int(number)


UPSERT_PEMDA = (
    "INSERT INTO projection_pemda (code, id, recorded, state) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET id = excluded.id, "
    "recorded = excluded.recorded, state = excluded.state")
UPSERT_GRADES = (
    "INSERT INTO projection_grades "
    "(id, pemda, instrument, first_recorded, last_recorded, state, latest_grade, "
    "latest_score, latest_year, previous_grade, previous_score, previous_year) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
    "pemda = excluded.pemda, instrument = excluded.instrument, "
    "first_recorded = excluded.first_recorded, "
    "last_recorded = excluded.last_recorded, state = excluded.state, "
    "latest_grade = excluded.latest_grade, latest_score = excluded.latest_score, "
    "latest_year = excluded.latest_year, previous_grade = excluded.previous_grade, "
    "previous_score = excluded.previous_score, previous_year = excluded.previous_year")
UPSERT_COMMITMENT = (
    "INSERT INTO projection_commitment (id, ref, pemda, theme, status, deadline, "
    "progress, first_recorded, last_recorded, last_effective, state) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
    "ref = excluded.ref, pemda = excluded.pemda, theme = excluded.theme, "
    "status = excluded.status, deadline = excluded.deadline, "
    "progress = excluded.progress, first_recorded = excluded.first_recorded, "
    "last_recorded = excluded.last_recorded, "
    "last_effective = excluded.last_effective, state = excluded.state")
UPSERT_FINDING = (
    "INSERT INTO projection_finding (id, ref, pemda, withdrawn, received, "
    "first_recorded, last_recorded, last_effective, state) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
    "ref = excluded.ref, pemda = excluded.pemda, withdrawn = excluded.withdrawn, "
    "received = excluded.received, first_recorded = excluded.first_recorded, "
    "last_recorded = excluded.last_recorded, "
    "last_effective = excluded.last_effective, state = excluded.state")
INSERT_REC = (
    "INSERT INTO projection_recommendation "
    "(finding_id, n, pemda, status, value, deposited, due) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)")
UPSERT_SUMMARY = (
    "INSERT INTO projection_summary (pemda, status, count, value, deposited) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (pemda, status) DO UPDATE SET "
    "count = projection_summary.count + excluded.count, "
    "value = projection_summary.value + excluded.value, "
    "deposited = projection_summary.deposited + excluded.deposited")
INSERT_SEARCH = (
    "INSERT INTO projection_search "
    "(rowid, finding_id, title, body, recommendations, followups) "
    "VALUES (?, ?, ?, ?, ?, ?)")
Row = tuple[object, ...]
# The big tables of a rebuild on PostgreSQL, written by columns (Projection._insert_by_columns).
BULK_COLUMNS = {
    UPSERT_FINDING: ("projection_finding", (
        "id", "ref", "pemda", "withdrawn", "received", "first_recorded", "last_recorded",
        "last_effective", "state"), (
        "text", "text", "text", "integer", "text", "bigint", "bigint", "text", "text")),
    INSERT_REC: ("projection_recommendation", (
        "finding_id", "n", "pemda", "status", "value", "deposited", "due"), (
        "text", "integer", "text", "text", "bigint", "bigint", "text")),
    INSERT_SEARCH: ("projection_search", (
        "rowid", "finding_id", "title", "body", "recommendations", "followups"), (
        "bigint", "text", "text", "text", "text", "text")),
}
BULK_CHUNK = 5000


def _first_two(row: Row) -> tuple[Any, Any]:
    """A row's primary key, or a prefix of it that orders it."""
    return row[0], row[1]
# The saved state of each kind, as (id, state, first recorded, last recorded, last effective),
# for ids ``IN`` a list.
LOAD: dict[type[Aggregate], str] = {
    Pemda: "SELECT id, state, recorded, recorded, '' FROM projection_pemda WHERE id IN",
    Finding: "SELECT id, state, first_recorded, last_recorded, last_effective "
             "FROM projection_finding WHERE id IN",
    Commitment: "SELECT id, state, first_recorded, last_recorded, last_effective "
                "FROM projection_commitment WHERE id IN",
    GradeSeries: "SELECT id, state, first_recorded, last_recorded, '' FROM projection_grades "
                 "WHERE id IN",
}


def _pemda_row(pemda: Pemda, meta: Meta, state: str) -> Row:
    return (pemda.code, str(pemda.id), meta.first_recorded, state)


def _grade_cells(entry: GradeEntry | None) -> Row:
    """(grade, score, year) of an entry as `status` prints it (summary.grade_json), or NULLs."""
    if entry is None:
        return (None, None, None)
    return (entry.grade, None if entry.score is None else str(entry.score), entry.year)


def _grades_row(series: GradeSeries, meta: Meta, state: str) -> Row:
    """The series' row, with its latest grade and the one before it in columns: `status`
    reads those, not the state, so no series is parsed to print its cell."""
    latest, previous = series.latest()
    return (str(series.id), series.pemda, series.instrument, meta.first_recorded,
            meta.last_recorded, state, *_grade_cells(latest), *_grade_cells(previous))


def _commitment_row(commitment: Commitment, meta: Meta, state: str) -> Row:
    return (str(commitment.id), commitment.ref, commitment.pemda, commitment.theme,
            commitment.status.value, commitment.by.isoformat(),
            None if commitment.progress is None else str(commitment.progress),
            meta.first_recorded, meta.last_recorded, meta.last_effective, state)


def _finding_row(finding: Finding, meta: Meta, state: str) -> Row:
    return (str(finding.id), finding.ref, finding.pemda, int(finding.withdrawn),
            finding.received.isoformat(), meta.first_recorded, meta.last_recorded,
            meta.last_effective, state)


def _rec_rows(finding: Finding, fid: str) -> list[Row]:
    """The finding's recommendation rows; a withdrawn finding leaves the projections."""
    if finding.withdrawn:
        return []
    return [(fid, rec.n, row.pemda, row.status.value, row.value, row.deposited,
             row.due.isoformat())
            for rec, row in zip(finding.recommendations, rec_rows_of(finding), strict=True)]


def _search_row(finding: Finding, followups: str) -> Row:
    body = "\n".join(t for t in (finding.condition, finding.criteria, finding.cause,
                                 finding.effect) if t)
    return (search_key(finding), str(finding.id), finding.title, body,
            "\n".join(r.text for r in finding.recommendations), followups)


def last_proven(store: Store) -> tuple[int, str] | None:
    """(position, time) of the last time verify --projections found the rows equal to a fold;
    only read (verify also runs on read-only stores)."""
    db = store.engine.connect()
    try:
        if not db.has_table("projection_proven"):
            return None
        row = db.execute("SELECT position, at FROM projection_proven WHERE name = ?",
                         (NAME,)).fetchone()
    except Exception:  # a projection of an earlier shape, or none: never proven
        return None
    finally:
        db.close()
    return None if row is None else (int(row[0]), str(row[1]))


class Projection:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[UUID, tuple[Aggregate, Meta]] = {}
        self._cached_at: int | None = None  # the position the cache is valid at
        self.db = store.engine.connect()
        self.on_server = store.engine.name == "postgresql"
        # The search table came later on PostgreSQL: its own schema version there (remade
        # when its search configuration began to fold accents).
        self.version = SCHEMA_VERSION + (PG_SCHEMA_SUFFIX if self.on_server else "")
        self.tables = (*TABLES[:-1], "projection_search", TABLES[-1])
        try:
            self._ensure_schema()
        except ProjectionsOutdated:
            self.db.close()
            raise
        except BUSY as error:
            self.db.close()
            raise StoreBusy(_("the store at {target} stayed busy ({error}); nothing was "
                              "changed: try again").format(
                                  target=store.target, error=error)) from None

    def _ensure_schema(self) -> None:
        """Projections are derived data: a different shape is dropped and rebuilt from events."""
        exists = self.db.has_table("projection_schema")
        version = (self.db.execute("SELECT version FROM projection_schema").fetchone()
                   if exists else None)
        if version is not None and version[0] == self.version:
            return
        tables = (*self.tables, "projection_schema")
        if not self.db.may_remake(tables):  # a server's role that does not own them
            raise ProjectionsOutdated(_(
                "the read-model tables of {target} are of an earlier auditlog and only their "
                "owner may make them again: the owner runs 'auditlog rebuild'; nothing was "
                "changed").format(target=self.store.target))
        self.db.begin_write("stored_events")
        try:
            if self.db.has_table("projection_schema"):  # another process made it meanwhile
                current = self.db.execute("SELECT version FROM projection_schema").fetchone()
                if current is not None and current[0] == self.version:
                    self.db.commit()
                    return
            for table in tables:
                self.db.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in SCHEMA.split(";"):  # executescript would commit midway
                if statement.strip():
                    self.db.execute(statement)
            for statement in PG_SEARCH_SCHEMA if self.on_server else [SEARCH_SCHEMA]:
                self.db.execute(statement)
            self.db.execute("INSERT INTO projection_schema (version) VALUES (?)",
                            (self.version,))
            self.db.remade(tables)
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise

    def close(self) -> None:
        self.db.close()

    def position(self) -> int:
        row = self.db.execute(
            "SELECT position FROM projection_position WHERE name = ?", (NAME,)
        ).fetchone()
        return int(row[0]) if row else 0

    # --- writing ---------------------------------------------------------------------------

    def catch_up(self, progress: Progress | None = None) -> int:
        """Apply every event after the tracked position; returns how many were applied."""
        try:
            return self._catch_up(progress)
        except BUSY as error:  # locked past the timeout by another writer
            raise self._busy(error) from None

    def _busy(self, error: Exception) -> StoreBusy:
        return StoreBusy(_("the store at {target} stayed busy ({error}); nothing was "
                           "changed: try again").format(target=self.store.target, error=error))

    def _chain_hash(self, position: int) -> str | None:
        """The hash of the chain entry at this log position (positions and sequence numbers
        coincide in a store auditlog wrote: one lookup; a scan only in an altered store)."""
        return chain_hash(self.db, position)

    def check_head(self) -> None:
        """The projection must rest on this log: the chain entry at its position is the one
        it was built up to. A log cut short or rewritten under it is damage (exit 3), never
        an answer from rows derived from events that are gone."""
        row = self.db.execute("SELECT position, hash FROM projection_position WHERE name = ?",
                              (NAME,)).fetchone()
        if row is None or not row[0]:
            return
        position, built_on = int(row[0]), row[1]
        if self._chain_hash(position) != built_on:
            raise DamagedStore(
                _("the projections were built up to position {position} of a log whose "
                  "entry there was different (or is gone): the log was cut short or "
                  "rewritten; run 'auditlog verify', then 'auditlog rebuild'").format(
                    position=position))

    def mark_proven(self, at: datetime) -> None:
        """verify --projections found the rows equal to a fold of the events, up to here."""
        position = self.position()
        self.db.begin_write("stored_events")
        try:
            self.db.execute(
                "INSERT INTO projection_proven (name, position, at) VALUES (?, ?, ?) ON "
                "CONFLICT (name) DO UPDATE SET position = excluded.position, at = excluded.at",
                (NAME, position, at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise

    def proven(self) -> tuple[int, str] | None:
        """(position, time) of the last proof that the rows equal a fold, if any."""
        row = self.db.execute("SELECT position, at FROM projection_proven WHERE name = ?",
                              (NAME,)).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def _catch_up(self, progress: Progress | None) -> int:
        """Streams the log (checked against the chain, see Store.stream) from the tracked
        position; starts again from the new position when another process moved it."""
        self.check_head()
        applied = 0
        while True:
            start = self.position()
            moved = False
            for batch in self.store.stream(after=start, batch=BATCH):
                end = batch[-1][0]
                if not self._apply_batch(start, end, [event for _, event in batch]):
                    moved = True
                    break
                applied += len(batch)
                if progress is not None:
                    progress(len(batch))
                start = end
            if not moved:
                return applied

    def _apply_batch(self, start: int, end: int, events: Sequence[Event]) -> bool:
        by_id: dict[UUID, list[Event]] = {}
        for event in events:
            kind = AGGREGATE_OF_EVENT.get(type(event))
            if kind in PROJECTED:
                by_id.setdefault(event.originator_id, []).append(event)
        self.db.begin_write("projection_position")
        try:
            if self.position() != start:  # another process got here first: start again
                self.db.rollback()
                self._cache.clear()
                return False
            if self._cached_at != start:  # rows written by someone else since: reread them
                self._cache.clear()
            cache = self._cache
            loaded = self._load_many({aggregate_id: AGGREGATE_OF_EVENT[type(its_events[0])]
                                      for aggregate_id, its_events in by_id.items()
                                      if aggregate_id not in cache})
            saved = [held for _, held, _ in loaded.values() if isinstance(held, Finding)]
            saved += [held for i, (held, _) in cache.items()
                      if isinstance(held, Finding) and i in by_id]
            recs, followups = self._finding_rows(saved)
            for aggregate_id, its_events in by_id.items():
                held = cache.pop(aggregate_id, None)
                if held is None:
                    _, current, meta = loaded.get(aggregate_id, (None, None, Meta()))
                else:
                    current, meta = held
                # Never saved before (most aggregates in a rebuild): it has no rows to replace.
                new = current is None
                updated = project(current, its_events)
                assert updated is not None
                for event in its_events:
                    meta = meta.after(event)
                fid = str(aggregate_id)
                self._save(updated, meta, new=new, before=recs.get(fid, []))
                cache[aggregate_id] = (updated, meta)
                if isinstance(updated, Finding):
                    self._index(updated, its_events, new=new,
                                before=followups.get(search_key(updated)))
            self.db.execute(
                "INSERT INTO projection_position (name, position, hash) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position, "
                "hash = excluded.hash",
                (NAME, end, self._chain_hash(end)),
            )
            self.db.commit()
            self._cached_at = end
            while len(cache) > CACHE:  # the least recently touched go first
                del cache[next(iter(cache))]
            return True
        except BaseException:
            self.db.rollback()
            self._cache.clear()  # folded in place: no longer what the rows hold
            raise

    def _in(self, sql: str, keys: Sequence[object]) -> list[tuple[Any, ...]]:
        """sql ending in ``IN`` for every key, a chunk of keys per query: one round trip per
        chunk and table, not one per aggregate (a blocking read each on PostgreSQL)."""
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start:start + CHUNK]
            rows += self.db.execute(f"{sql} ({', '.join('?' * len(chunk))})",
                                    tuple(chunk)).fetchall()
        return rows

    def _load_many(self, kinds: dict[UUID, type[Aggregate]]
                   ) -> dict[UUID, tuple[type[Aggregate], Aggregate, Meta]]:
        """The saved state of each of these aggregates that has rows (the others are new)."""
        found: dict[UUID, tuple[type[Aggregate], Aggregate, Meta]] = {}
        for kind, sql in LOAD.items():
            ids = [str(i) for i, k in kinds.items() if k is kind]
            for key, state, first, last, effective in self._in(sql, ids) if ids else []:
                found[UUID(key)] = (kind, kind.model_validate_json(state),
                                    Meta(first, last, effective))
        return found

    def _finding_rows(self, findings: list[Finding]
                      ) -> tuple[dict[str, list[Row]], dict[int, str]]:
        """The saved findings' recommendation rows, negated for the summary (by finding id),
        and their search rows' follow-ups (by search key)."""
        recs: dict[str, list[Row]] = {}
        if not findings:
            return recs, {}
        for fid, *row in self._in(
                "SELECT finding_id, pemda, status, -1, -value, -deposited "
                "FROM projection_recommendation WHERE finding_id IN",
                [str(f.id) for f in findings]):
            recs.setdefault(fid, []).append(tuple(row))
        followups = dict(self._in("SELECT rowid, followups FROM projection_search WHERE rowid IN",
                                  [search_key(f) for f in findings]))
        return recs, followups

    def _save(self, aggregate: Aggregate, meta: Meta, *, new: bool = False,
              before: Sequence[Row] = ()) -> None:
        """Upsert the aggregate's rows; ``before``: a saved finding's recommendation rows,
        negated (read for the whole batch at once)."""
        state = aggregate.model_dump_json()
        if isinstance(aggregate, Pemda):
            self.db.execute(UPSERT_PEMDA, _pemda_row(aggregate, meta, state))
        elif isinstance(aggregate, GradeSeries):
            self.db.execute(UPSERT_GRADES, _grades_row(aggregate, meta, state))
        elif isinstance(aggregate, Commitment):
            self.db.execute(UPSERT_COMMITMENT, _commitment_row(aggregate, meta, state))
        elif isinstance(aggregate, Finding):
            fid = str(aggregate.id)
            self.db.execute(UPSERT_FINDING, _finding_row(aggregate, meta, state))
            # The per-pemda summary behind `status` moves by what this finding's rows were
            # and now are, so `status` reads one row per pemda and status, not every row.
            if not new:
                self.db.execute("DELETE FROM projection_recommendation WHERE finding_id = ?",
                                (fid,))
            rows = _rec_rows(aggregate, fid)
            self.db.executemany(INSERT_REC, rows)
            self.db.executemany(UPSERT_SUMMARY,
                                [*before, *((r[2], r[3], 1, r[4], r[5]) for r in rows)])
            # An emptied total goes, so the rows equal a rebuild's, which never made it.
            self.db.executemany(
                "DELETE FROM projection_summary WHERE pemda = ? AND status = ? AND count = 0",
                [(p, st) for p, st, *_ in before])

    def _index(self, finding: Finding, events: Sequence[Event], *, new: bool = False,
               before: str | None = None) -> None:
        """The finding's texts in the search table; follow-ups live only in events, so their
        actions are appended as they come to ``before`` (its saved follow-ups, read for the
        whole batch at once)."""
        key = search_key(finding)
        if not new:
            self.db.execute("DELETE FROM projection_search WHERE rowid = ?", (key,))
        if finding.withdrawn:  # it leaves the register, and so the search
            return
        actions = [e.action for e in events if isinstance(e, FollowUpRecorded)]
        followups = "\n".join([before, *actions] if before else actions)
        self.db.execute(INSERT_SEARCH, _search_row(finding, followups))

    def search(self, query: str) -> list[Hit]:
        """Findings matching every word of the query, best first (bm25, the title weighing
        most), with the matching words marked."""
        if self.on_server:  # ts_rank, weighted as bm25 below; ts_headline marks the words
            rows = self.db.execute(PG_SEARCH, (pg_tsquery(query),)).fetchall()
            return [Hit(UUID(fid), title, one_line(snippet)) for fid, title, snippet in rows]
        rows = self.db.execute(
            "SELECT finding_id, highlight(projection_search, 1, ?, ?), "
            "snippet(projection_search, -1, ?, ?, '…', 12) FROM projection_search "
            "WHERE projection_search MATCH ? "
            "ORDER BY bm25(projection_search, 0, 10.0, 4.0, 2.0, 1.0), rowid",
            (MARK, MARK, MARK, MARK, fts5_query(query)),
        ).fetchall()
        return [Hit(UUID(fid), title, one_line(snippet)) for fid, title, snippet in rows]

    def rebuild(self, progress: Progress | None = None) -> int:
        """Fold the whole log in memory, each aggregate once, then replace every table's rows
        in one transaction: no row is read back, and each aggregate's state is serialised once
        (the incremental path rewrites an aggregate in every batch that touches it). Findings
        go through the lean fold (projections/lean_rows.py: no pydantic event or aggregate,
        the same bytes). The remedy for a projection that no longer rests on the log, so its
        head is not checked."""
        try:
            return self._rebuild(progress)
        except BUSY as error:  # locked past the timeout by another writer
            raise self._busy(error) from None

    def _rebuild(self, progress: Progress | None) -> int:
        """The collector stays off throughout: the fold and the rows make many objects and
        keep nearly all of them until they are written, so a collection frees nothing and
        each full one rescans all of them (a quarter of a rebuild at a million events)."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._rebuild_rows(progress)
        finally:
            if enabled:
                gc.enable()

    def _rebuild_rows(self, progress: Progress | None) -> int:
        self._cache.clear()
        # Findings by the lean fold (projections/lean_rows.py), each row made once; the few
        # other aggregates by the domain's fold.
        log = LogFold().fold(self.store.checked_rows(batch=BATCH), progress)
        applied, end = log.applied, log.end
        tables: dict[str, list[Row]] = {UPSERT_PEMDA: [], UPSERT_GRADES: [],
                                        UPSERT_COMMITMENT: [], UPSERT_FINDING: [],
                                        INSERT_REC: [], INSERT_SEARCH: []}
        for aggregate, first, last, effective in log.others.values():
            meta = Meta(micros(first), micros(last),
                        "" if effective is None else effective.isoformat())
            state = aggregate.model_dump_json()
            if isinstance(aggregate, Pemda):
                tables[UPSERT_PEMDA].append(_pemda_row(aggregate, meta, state))
            elif isinstance(aggregate, GradeSeries):
                tables[UPSERT_GRADES].append(_grades_row(aggregate, meta, state))
            elif isinstance(aggregate, Commitment):
                tables[UPSERT_COMMITMENT].append(_commitment_row(aggregate, meta, state))
        findings = tables[UPSERT_FINDING]
        recs = tables[INSERT_REC]
        search = tables[INSERT_SEARCH]
        summary: dict[tuple[str, str], list[int]] = {}
        held_findings = log.findings
        # In id order, so the rows come out nearly sorted; each finding's recording and
        # slots are let go once its rows are made, so memory holds one or the other.
        for oid in sorted(held_findings):
            f = finding_rows(held_findings.pop(oid))
            findings.append((f.id, f.ref, f.pemda, int(f.withdrawn), f.received,
                             f.first, f.last, f.effective, f.state))
            recs += f.recs
            for _fid, _n, pemda, status, value, deposited, _due in f.recs:
                total = summary.get((pemda, status))
                if total is None:
                    total = summary[pemda, status] = [0, 0, 0]
                total[0] += 1
                total[1] += value
                total[2] += deposited
            if f.search is not None:
                search.append((search_rowid(f.ref), f.id, *f.search))
        del log
        # In key order, so each table's primary key grows at its end instead of splitting
        # pages all over (finding ids are random UUIDs).
        for table in (UPSERT_FINDING, INSERT_REC, INSERT_SEARCH):
            tables[table].sort(key=_first_two)
        self._write_all(tables, summary, applied, end)
        return applied

    def _write_all(self, tables: dict[str, list[Row]],
                   summary: dict[tuple[str, str], list[int]], applied: int, end: int) -> None:
        """Every table's rows replaced in one transaction."""
        self.db.begin_write("projection_position")
        try:
            for table in self.tables:
                if table == "projection_search" and not self.on_server:
                    # An FTS5 table deletes row by row: made again, empty, in one step.
                    self.db.execute("DROP TABLE projection_search")
                    self.db.execute(SEARCH_SCHEMA)
                else:
                    self.db.execute(f"DELETE FROM {table}")
            if not self.on_server:
                # Secondary indexes made again over the rows (sorted once) rather than kept
                # up row by row (a random place in each for every row).
                for name in INDEX_NAMES:
                    self.db.execute(f"DROP INDEX IF EXISTS {name}")
            for statement, rows in tables.items():
                if self.on_server and statement in BULK_COLUMNS:
                    self._insert_by_columns(statement, rows)
                else:
                    self.db.executemany(statement, rows)
            if not self.on_server:
                for create in INDEXES:
                    self.db.execute(create)
            self.db.executemany(UPSERT_SUMMARY, [(p, st, *total)
                                                 for (p, st), total in summary.items()])
            if applied:
                self.db.execute(
                    "INSERT INTO projection_position (name, position, hash) VALUES (?, ?, ?)",
                    (NAME, end, self._chain_hash(end)))
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise

    def _insert_by_columns(self, statement: str, rows: list[Row]) -> None:
        """PostgreSQL: a chunk of rows per statement, sent as one JSON array (orjson writes
        it; psycopg's own array quoting cost more than the rest of a rebuild) and taken
        apart by the server, instead of a statement per row (the rows of a rebuild are new:
        nothing to upsert)."""
        table, columns, types = BULK_COLUMNS[statement]
        sql = (f"INSERT INTO {table} ({', '.join(columns)}) SELECT "
               + ", ".join(f"(r->>{i})::{t}" for i, t in enumerate(types))
               + " FROM json_array_elements(?::json) AS r")
        for start in range(0, len(rows), BULK_CHUNK):
            self.db.execute(sql, (orjson.dumps(rows[start:start + BULK_CHUNK]).decode(),))

    def dump(self) -> dict[str, list[tuple[object, ...]]]:
        """Every row, in a stable order: for comparing incremental against rebuilt."""
        return {
            table: sorted(self.db.execute(f"SELECT * FROM {table}").fetchall())
            for table in self.tables
            if table not in ("projection_position", "projection_proven")
        }

    # --- ReadModel -------------------------------------------------------------------------

    def pemda_list(self) -> list[Pemda]:
        rows = self.db.execute("SELECT state FROM projection_pemda ORDER BY code").fetchall()
        return [Pemda.model_validate_json(r[0]) for r in rows]

    def open_finding_ids(self) -> set[UUID]:
        rows = self.db.execute(
            "SELECT DISTINCT finding_id FROM projection_recommendation "
            "WHERE status IN ('BD', 'BS')").fetchall()
        return {UUID(r[0]) for r in rows}

    def _rows(self, sql: str, pemda: str | None, order: str = "",
              params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """sql (with a WHERE clause) narrowed to one pemda when asked."""
        if pemda is None:
            return self.db.execute(sql + order, params).fetchall()
        return self.db.execute(sql + " AND pemda = ?" + order, (*params, pemda)).fetchall()

    def active_findings(self, pemda: str | None = None) -> list[Finding]:
        found = [Finding.model_validate_json(r[0]) for r in self._rows(
            "SELECT state FROM projection_finding WHERE withdrawn = 0", pemda)]
        return sorted(found, key=ref_key)

    def summary_rows(self, on: date, pemda: str | None = None
                     ) -> tuple[list[tuple[str, Status, int, int, int]], dict[str, int]]:
        """The per-pemda totals `status` prints, from the summary rows: (pemda, status, count,
        rupiah to recover, deposited) for each pemda and status, and the overdue count per
        pemda on ``on``: the open ones (summed in the summary rows) less those not yet due
        (an index range over the recommendations due on or after ``on``, few on a recent
        date however long the log, where the overdue ones grow with it)."""
        totals = [(p, Status(s), c, v, d) for p, s, c, v, d in self._rows(
            "SELECT pemda, status, count, value, deposited FROM projection_summary "
            "WHERE 1 = 1", pemda)]
        overdue: dict[str, int] = {}
        for code, status, count, _value, _deposited in totals:
            if status.value in OPEN_STATUS_CODES:
                overdue[code] = overdue.get(code, 0) + count
        for code, pending in self._rows(
                "SELECT pemda, count(*) FROM projection_recommendation "
                "WHERE status IN ('BD', 'BS') AND due >= ?", pemda, " GROUP BY pemda",
                (on.isoformat(),)):
            overdue[code] -= pending
        return totals, {code: late for code, late in overdue.items() if late}

    def rec_rows(self, pemda: str | None = None) -> list[RecRow]:
        return [
            RecRow(p, Status(s), v, d, date.fromisoformat(due))
            for p, s, v, d, due in self._rows(
                "SELECT pemda, status, value, deposited, due FROM projection_recommendation "
                "WHERE 1 = 1", pemda)
        ]

    def grade_series(self, pemda: str | None = None) -> list[GradeSeries]:
        return [GradeSeries.model_validate_json(r[0]) for r in self._rows(
            "SELECT state FROM projection_grades WHERE 1 = 1", pemda,
            " ORDER BY pemda, instrument")]

    def latest_grades(self, pemda: str | None = None) -> dict[str, dict[str, Any]]:
        """`status`'s grade cells (GradesSummarized), from the columns that keep each
        series' latest grade and the one before it: no series' state is parsed."""
        return grade_cells(self._rows(LATEST_GRADES, pemda, " ORDER BY pemda, instrument"))

    def commitments(self, pemda: str | None = None) -> list[Commitment]:
        found = [Commitment.model_validate_json(r[0]) for r in self._rows(
            "SELECT state FROM projection_commitment WHERE 1 = 1", pemda)]
        return sorted(found, key=commitment_key)

    def commitment_tallies(self, on: date, pemda: str | None = None
                           ) -> dict[str, dict[str, CommitmentTally]]:
        """Commitments per pemda and theme for `status`, from their columns (no state is
        decoded); progress is kept as exact decimal text and summed exactly."""
        tallies: dict[str, dict[str, CommitmentTally]] = {}
        for code, theme, status, deadline, progress in self._rows(
                "SELECT pemda, theme, status, deadline, progress FROM projection_commitment "
                "WHERE 1 = 1", pemda, " ORDER BY pemda, theme"):
            tally = tallies.setdefault(code, {}).setdefault(theme, CommitmentTally())
            tally.count += 1
            tally.achieved += status == CommitmentStatus.TERCAPAI.value
            tally.overdue += status in OPEN_VALUES and deadline < on.isoformat()
            if progress is not None:
                tally.measured += 1
                tally.progress += Decimal(progress)
        return tallies
