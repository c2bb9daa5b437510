"""`status` from the persisted projection's summary rows, with nothing but the database driver.

The persisted projection (projections/persisted.py) keeps per-pemda totals beside the state of
every aggregate, so `status` needs only O(pemda) rows. Reading them through the store and the
domain costs eventsourcing, pydantic and every model's definition, several times the time of
the reading itself. This module reads the same rows with plain SQL, and answers only when the
answer is certainly the one the full path gives:

- the store has its integrity tables and identity (else the full path reports the damage);
- the projection is of this schema version, and current: its tracked position is the log's
  last one, and the chain entry there is the one it was built on (``Projection.check_head``);
- every row reads as the full path would read it (known statuses).

Anything else returns None, and the caller takes the full path, which catches the projection
up, folds, or refuses, exactly as before. Kept free of the domain and of pydantic on purpose:
tests/test_startup.py checks what a `status` loads, and tests/test_quick_status.py that its
report equals the full path's.
"""

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

# The projection's identity: projections/persisted.py writes these, this module reads them.
NAME = "compliance"
# 8: projection_grades keeps each series' latest grade and the one before it in columns.
SCHEMA_VERSION = "8"
# The search table came later on PostgreSQL, then its accent folding.
PG_SCHEMA_SUFFIX = "+search-unaccent"

EVENTS = "stored_events"
CHAIN = "integrity_chain"
META = "integrity_meta"
# What the status report is built from, and what a store must hold for it to be read at all.
NEEDED = frozenset({EVENTS, CHAIN, META, "projection_schema", "projection_position",
                    "projection_pemda", "projection_summary", "projection_recommendation",
                    "projection_grades", "projection_commitment"})

# The domain's codes, as the rows hold them (tests/test_quick_status.py checks each against
# the domain's own): recommendation statuses in report order, instruments in column order,
# and the commitment statuses that count as achieved and as open.
STATUS_CODES = ("BD", "BS", "S", "TDTL")
OPEN_STATUS_CODES = ("BD", "BS")
INSTRUMENT_ORDER = ("SAKIP", "RB", "SPIP", "BPK")
ACHIEVED = "tercapai"
OPEN_COMMITMENTS = ("berjalan", "sebagian")


class Cursor(Protocol):
    def __iter__(self) -> Iterator[Any]: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """A DB-API connection whose ``execute`` takes ``?`` placeholders (sqlite3's does)."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Cursor: ...


class NotCurrent(Exception):
    """The rows cannot answer for the log as it stands: take the full path."""


def chain_hash(db: Connection, position: int) -> str | None:
    """The hash of the chain entry at a log position (positions and sequence numbers
    coincide in a store auditlog wrote: one lookup; a scan only in an altered store); the
    projection's head check reads it too."""
    row = db.execute(f"SELECT hash FROM {CHAIN} WHERE seq = ? AND position = ?",
                     (position, position)).fetchone()
    if row is None:
        row = db.execute(f"SELECT hash FROM {CHAIN} WHERE position = ?", (position,)).fetchone()
    return None if row is None else bytes(row[0]).hex()


def check_current(db: Connection, version: str) -> None:
    """Raise NotCurrent unless the projection is of ``version``, at the log's last position,
    and rests on the entry of the chain it was built on there."""
    row = db.execute("SELECT version FROM projection_schema").fetchone()
    if row is None or row[0] != version:
        raise NotCurrent("schema")
    if db.execute(f"SELECT 1 FROM {META} WHERE key = 'store_id'").fetchone() is None:
        raise NotCurrent("identity")
    head = db.execute("SELECT position, hash FROM projection_position WHERE name = ?",
                      (NAME,)).fetchone()
    if head is None or not head[0]:
        raise NotCurrent("empty")  # a new store: rare, and the full path is quick there
    position = int(head[0])
    last = db.execute(f"SELECT max(rowid) FROM {EVENTS}").fetchone()
    if last is None or last[0] != position:
        raise NotCurrent("behind")
    if chain_hash(db, position) != head[1]:
        raise NotCurrent("head")  # damage: the full path says what, and exits 3


def percent(part: int, whole: int) -> float | None:
    """summary.percent: two decimals, rounded half up, computed exactly (in integers)."""
    if whole == 0:
        return None
    if part < 0 or whole < 0:
        from decimal import ROUND_HALF_UP, Decimal

        exact = Decimal(part * 100) / Decimal(whole)
        return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    hundredths = (part * 20000 + whole) // (2 * whole)  # part * 100 / whole, half up
    return hundredths / 100


# GradeSeries.latest of each graded series, as the projection keeps it in columns
# (persisted._grades_row): read by the fast path and by Projection.latest_grades.
LATEST_GRADES = (
    "SELECT pemda, instrument, latest_grade, latest_score, latest_year, previous_grade, "
    "previous_score, previous_year FROM projection_grades WHERE latest_year IS NOT NULL")


def grade_cells(rows: Iterable[Sequence[Any]]) -> dict[str, dict[str, Any]]:
    """summary.status_report's grades (per pemda, per instrument: grade_json of the latest
    entry and "previous") from LATEST_GRADES rows, in their order."""
    grades: dict[str, dict[str, Any]] = {}
    for (code, instrument, grade, score, year, previous_grade, previous_score,
         previous_year) in rows:
        grades.setdefault(code, {})[instrument] = {
            "grade": grade, "score": score, "year": year,
            "previous": None if previous_year is None else {
                "grade": previous_grade, "score": previous_score, "year": previous_year}}
    return grades


def _mean_pct(progress: str | None) -> float | None:
    """commitments.mean_pct of the measured progress texts (exact decimals, one space
    between them), summed as CommitmentTally sums them."""
    if progress is None:
        return None
    from decimal import ROUND_HALF_UP, Decimal

    total = Decimal()
    texts = progress.split(" ")
    for text in texts:
        total += Decimal(text)
    exact = total / len(texts)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _only(pemda: str | None, column: str) -> str:
    return "" if pemda is None else f" AND {column} = ?"


def status_report(db: Connection, on: str, pemda: str | None = None) -> list[dict[str, Any]]:
    """summary.status_report of a current persisted projection, on the ISO date ``on``: the
    rows Projection.summary_rows, latest_grades, commitment_tallies and pemda_list read,
    totalled and ordered the same way, with the same values. The sums are SQL's, so the
    rows pass through Python once per pemda, not once per row."""
    params: tuple[object, ...] = () if pemda is None else (pemda,)
    # Per pemda: counts by status, rupiah by status, deposited (summed here: a pivot in SQL
    # costs more than this loop over a few rows per pemda).
    column = {status: i for i, status in enumerate(STATUS_CODES)}
    totals: dict[str, list[int]] = {}
    for code, status, count, value, deposited in db.execute(
            "SELECT pemda, status, count, value, deposited FROM projection_summary "
            f"WHERE 1 = 1{_only(pemda, 'pemda')}", params):
        i = column.get(status)
        if i is None:
            raise NotCurrent("status")  # a status the domain does not know
        tally = totals.get(code)
        if tally is None:
            tally = totals[code] = [0] * (2 * len(STATUS_CODES) + 1)
        tally[i] += count
        tally[len(STATUS_CODES) + i] += value
        tally[-1] += deposited
    # Overdue: the open ones less those due on or after the date (Projection.summary_rows):
    # an index range over the few not yet due, where the overdue ones grow with the log.
    pending = dict(db.execute(
        "SELECT pemda, count(*) FROM projection_recommendation "
        f"WHERE status IN ('BD', 'BS') AND due >= ?{_only(pemda, 'pemda')} GROUP BY pemda",
        (on, *params)).fetchall())
    opened = [column[status] for status in OPEN_STATUS_CODES]

    grades = grade_cells(db.execute(f"{LATEST_GRADES}{_only(pemda, 'pemda')} "
                                    "ORDER BY pemda, instrument", params))

    tallies: dict[str, dict[str, dict[str, Any]]] = {}
    for code, theme, count, achieved, late, measured, progress in db.execute(
            "SELECT pemda, theme, count(*), sum(status = ?), "
            f"sum(status IN ({', '.join('?' * len(OPEN_COMMITMENTS))}) AND deadline < ?), "
            "count(progress), group_concat(progress, ' ') FROM projection_commitment "
            f"WHERE 1 = 1{_only(pemda, 'pemda')} GROUP BY pemda, theme ORDER BY pemda, theme",
            (ACHIEVED, *OPEN_COMMITMENTS, on, *params)):
        tallies.setdefault(code, {})[theme] = {
            "count": count, "achieved": achieved, "overdue": late, "measured": measured,
            "mean_progress_pct": _mean_pct(progress)}

    report = []
    empty = [0] * (2 * len(STATUS_CODES) + 1)
    for code, name, level in db.execute(
            "SELECT json_extract(state, '$.code'), json_extract(state, '$.name'), "
            "json_extract(state, '$.level') FROM projection_pemda ORDER BY code"):
        if pemda is not None and code != pemda:
            continue
        row = totals.get(code, empty)
        count = dict(zip(STATUS_CODES, row[:4], strict=True))
        value = dict(zip(STATUS_CODES, row[4:8], strict=True))
        total = sum(row[:4])
        to_recover = sum(row[4:8])
        report.append({
            "pemda": code,
            "name": name,
            "level": level,
            "grades": grades.get(code, {}),
            "recommendations": count,
            "value": value,
            "total": total,
            "completion_pct": percent(row[2], total),
            "value_to_recover": to_recover,
            "deposited": row[8],
            "completion_value_pct": percent(row[8], to_recover),
            "overdue": sum(row[i] for i in opened) - pending.get(code, 0),
            "commitments": tallies.get(code, {}),
        })
    return report
