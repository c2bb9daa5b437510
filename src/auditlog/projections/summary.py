"""The compliance projection of CLI.md: one summary per pemda on a reference date."""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol, runtime_checkable

from auditlog.domain.events import Status
from auditlog.domain.grades import GradeEntry
from auditlog.domain.recommendation import overdue
from auditlog.projections.commitments import CommitmentsSummarized, by_pemda_and_theme
from auditlog.projections.model import FindingFilter, ReadModel, RecRow, Summarized, rec_rows_of

STATUSES = tuple(Status)


def percent(part: int, whole: int) -> float | None:
    """Two decimals, rounded half up, computed exactly (no float artefacts in reports)."""
    if whole == 0:
        return None
    exact = Decimal(part * 100) / Decimal(whole)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


STATUS_CODES = [(s, s.value) for s in STATUSES]  # .value once: enum attribute access is slow


def is_overdue(row: RecRow, on: date) -> bool:
    return overdue(row.status, row.due, on)


def grade_json(entry: GradeEntry | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {
        "grade": entry.grade,
        "score": None if entry.score is None else str(entry.score),
        "year": entry.year,
    }


@dataclass
class Totals:
    """Recommendations counted by status, in number and rupiah: the one tally behind status,
    the monitoring matrices and the annual review's summary."""

    # dict.fromkeys: a Totals is made per OPD and per report, and enum iteration is slow
    count: dict[Status, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    value: dict[Status, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    deposited: int = 0
    overdue: int = 0

    def add(self, status: Status, value: int, deposited: int, late: bool) -> None:
        self.count[status] += 1
        self.value[status] += value
        self.deposited += deposited
        self.overdue += int(late)

    def add_row(self, row: RecRow, on: date) -> None:
        self.add(row.status, row.value, row.deposited, is_overdue(row, on))

    def merge(self, other: "Totals") -> None:
        for s in STATUSES:
            self.count[s] += other.count[s]
            self.value[s] += other.value[s]
        self.deposited += other.deposited
        self.overdue += other.overdue

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Totals":
        """The inverse of as_json (a row of status_report)."""
        return cls({s: data["recommendations"][code] for s, code in STATUS_CODES},
                   {s: data["value"][code] for s, code in STATUS_CODES},
                   data["deposited"], data["overdue"])

    @property
    def total(self) -> int:
        return sum(self.count.values())

    @property
    def to_recover(self) -> int:
        return sum(self.value.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "recommendations": {s.value: self.count[s] for s in STATUSES},
            "value": {s.value: self.value[s] for s in STATUSES},
            "total": self.total,
            "completion_pct": percent(self.count[Status.S], self.total),
            "value_to_recover": self.to_recover,
            "deposited": self.deposited,
            "completion_value_pct": percent(self.deposited, self.to_recover),
            "overdue": self.overdue,
        }

    def flat(self) -> dict[str, Any]:
        """As as_json, with counts under the status codes and rupiah under value_<code>."""
        return {
            **{code: self.count[s] for s, code in STATUS_CODES},
            **{f"value_{code}": self.value[s] for s, code in STATUS_CODES},
            "total": self.total,
            "completion_pct": percent(self.count[Status.S], self.total),
            "value_to_recover": self.to_recover,
            "deposited": self.deposited,
            "completion_value_pct": percent(self.deposited, self.to_recover),
            "overdue": self.overdue,
        }


@runtime_checkable
class GradesSummarized(Protocol):
    """A read model that keeps each grade series' latest grade and the one before it (the
    persisted projection): `status` reads those instead of parsing every series."""

    def latest_grades(self, pemda: str | None = None) -> dict[str, dict[str, Any]]: ...


def _latest_grades(model: ReadModel, pemda: str | None) -> dict[str, dict[str, Any]]:
    grades: dict[str, dict[str, Any]] = {}
    for series in model.grade_series(pemda):
        latest, previous = series.latest()
        if latest is None:
            continue
        entry = grade_json(latest)
        assert entry is not None
        entry["previous"] = grade_json(previous)
        grades.setdefault(series.pemda, {})[series.instrument] = entry
    return grades


def status_report(model: ReadModel, on: date, pemda: str | None = None,
                  only: FindingFilter | None = None) -> list[dict[str, Any]]:
    """Per registered pemda: grades (latest and previous), recommendations, completion, overdue.

    `only` narrows the recommendations to findings of an OPD, report, year or instrument."""
    totals: dict[str, Totals] = {}
    if only is not None and only.beyond_pemda:  # the summary rows are per pemda only
        for row in (r for f in only.findings(model) for r in rec_rows_of(f)):
            totals.setdefault(row.pemda, Totals()).add_row(row, on)
    elif isinstance(model, Summarized):
        rows, overdue = model.summary_rows(on, pemda)
        for code, status, count, value, deposited in rows:
            tally = totals.setdefault(code, Totals())
            tally.count[status] += count
            tally.value[status] += value
            tally.deposited += deposited
        for code, late in overdue.items():
            totals.setdefault(code, Totals()).overdue = late
    else:
        for row in model.rec_rows(pemda):
            totals.setdefault(row.pemda, Totals()).add_row(row, on)
    grades = (model.latest_grades(pemda) if isinstance(model, GradesSummarized)
              else _latest_grades(model, pemda))
    commitments = (model.commitment_tallies(on, pemda)
                   if isinstance(model, CommitmentsSummarized)
                   else by_pemda_and_theme(model.commitments(pemda), on))
    report = []
    for p in model.pemda_list():
        if pemda is not None and p.code != pemda:
            continue
        report.append({
            "pemda": p.code,
            "name": p.name,
            "level": p.level,
            "grades": grades.get(p.code, {}),
            **totals.get(p.code, Totals()).as_json(),
            "commitments": {theme: tally.as_json()
                            for theme, tally in commitments.get(p.code, {}).items()},
        })
    return report
