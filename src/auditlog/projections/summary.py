"""The compliance projection of CLI.md: one summary per pemda on a reference date."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from auditlog.domain.events import Status
from auditlog.domain.grades import GradeEntry
from auditlog.domain.recommendation import CLOSED
from auditlog.projections.model import ReadModel, RecRow

STATUSES = tuple(Status)


def percent(part: int, whole: int) -> float | None:
    """Two decimals, rounded half up, computed exactly (no float artefacts in reports)."""
    if whole == 0:
        return None
    exact = Decimal(part * 100) / Decimal(whole)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def is_overdue(row: RecRow, on: date) -> bool:
    return row.status not in CLOSED and row.due < on


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
    count: dict[Status, int]
    value: dict[Status, int]
    deposited: int = 0
    overdue: int = 0

    @classmethod
    def empty(cls) -> "Totals":
        return cls({s: 0 for s in STATUSES}, {s: 0 for s in STATUSES})

    def add(self, row: RecRow, on: date) -> None:
        self.count[row.status] += 1
        self.value[row.status] += row.value
        self.deposited += row.deposited
        if is_overdue(row, on):
            self.overdue += 1

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


def status_report(model: ReadModel, on: date, pemda: str | None = None) -> list[dict[str, Any]]:
    """Per registered pemda: grades (latest and previous), recommendations, completion, overdue."""
    totals: dict[str, Totals] = {}
    for row in model.rec_rows(pemda):
        totals.setdefault(row.pemda, Totals.empty()).add(row, on)
    grades: dict[str, dict[str, Any]] = {}
    for series in model.grade_series(pemda):
        latest, previous = series.latest()
        if latest is None:
            continue
        entry = grade_json(latest)
        assert entry is not None
        entry["previous"] = grade_json(previous)
        grades.setdefault(series.pemda, {})[series.instrument] = entry
    report = []
    for p in model.pemda_list():
        if pemda is not None and p.code != pemda:
            continue
        report.append({
            "pemda": p.code,
            "name": p.name,
            "level": p.level,
            "grades": grades.get(p.code, {}),
            **totals.get(p.code, Totals.empty()).as_json(),
        })
    return report
