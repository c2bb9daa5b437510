"""The read model every report is computed from, whether persisted or folded on the fly.

Reports take a ReadModel, so `status` (persisted projection, now) and `replay`/`--as-of`/
`--known-at` (events folded in memory) share every line of reporting code.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

from auditlog.domain import source_file  # noqa: F401  (registers its aggregate for folds)
from auditlog.domain.aggregate import AGGREGATE_OF_EVENT, Aggregate, project
from auditlog.domain.commitment import Commitment
from auditlog.domain.events import (
    Event,
    FindingCorrected,
    FindingRecorded,
    FindingWithdrawn,
    GradeCorrected,
    PemdaRegistered,
    ReferenceAllocated,
    Status,
)
from auditlog.domain.finding import Finding
from auditlog.domain.grades import GradeSeries
from auditlog.domain.pemda import Pemda


@dataclass(frozen=True)
class RecRow:
    """One recommendation as the compliance summary needs it."""

    pemda: str
    status: Status
    value: int
    deposited: int
    due: date


def rec_rows_of(finding: Finding) -> list[RecRow]:
    return [
        RecRow(finding.pemda, r.status, r.value or 0, r.deposited, r.due(finding.received))
        for r in finding.recommendations
    ]


@dataclass(frozen=True)
class FindingFilter:
    """The register's daily questions: which findings of this pemda, OPD, report (LHP/LHE),
    year of receipt, instrument. None asks nothing; OPD names compare without case."""

    pemda: str | None = None
    opd: str | None = None
    report: str | None = None
    year: int | None = None
    instrument: str | None = None

    @property
    def beyond_pemda(self) -> bool:
        """True when it narrows within a pemda (the per-pemda summary rows cannot answer)."""
        return any(v is not None for v in (self.opd, self.report, self.year, self.instrument))

    def matches(self, finding: Finding) -> bool:
        return (
            (self.pemda is None or finding.pemda == self.pemda)
            and (self.opd is None
                 or " ".join((finding.opd or "").split()).casefold()
                 == " ".join(self.opd.split()).casefold())
            and (self.report is None or (finding.report or "").strip() == self.report.strip())
            and (self.year is None or finding.received.year == self.year)
            and (self.instrument is None or finding.instrument == self.instrument)
        )

    def findings(self, model: "ReadModel") -> list[Finding]:
        return [f for f in model.active_findings(self.pemda) if self.matches(f)]


class ReadModel(Protocol):
    def pemda_list(self) -> list[Pemda]: ...

    def open_finding_ids(self) -> set[UUID]: ...

    def active_findings(self, pemda: str | None = None) -> list[Finding]: ...

    def rec_rows(self, pemda: str | None = None) -> list[RecRow]: ...

    def grade_series(self, pemda: str | None = None) -> list[GradeSeries]: ...

    def commitments(self, pemda: str | None = None) -> list[Commitment]: ...


@runtime_checkable
class Summarized(Protocol):
    """A read model that keeps per-pemda totals (the persisted projection): `status` reads
    those instead of every recommendation."""

    def summary_rows(self, on: date, pemda: str | None = None
                     ) -> tuple[list[tuple[str, Status, int, int, int]], dict[str, int]]: ...


# Events that say how things were rather than what happened on their own date: they apply in
# valid time to whatever they are about, whenever they were recorded.
RETROACTIVE: tuple[type[Event], ...] = (
    PemdaRegistered,
    ReferenceAllocated,
    FindingRecorded,
    FindingCorrected,
    FindingWithdrawn,
    GradeCorrected,
)


@dataclass(frozen=True)
class Moment:
    """The two times of a question: valid time (as_of) and transaction time (known_at)."""

    as_of: date | None = None
    known_at: datetime | None = None

    def admits(self, event: Event) -> bool:
        if self.known_at is not None and event.recorded_at > self.known_at:
            return False
        return not (
            self.as_of is not None
            and not isinstance(event, RETROACTIVE)
            and event.effective_on > self.as_of
        )

    def shows(self, finding: Finding) -> bool:
        if finding.withdrawn:
            return False
        return self.as_of is None or finding.received <= self.as_of


def project_admitted(events: Iterable[Event]) -> Aggregate | None:
    """Fold one aggregate's admitted events; those before its (admitted) creation are moot."""
    aggregate: Aggregate | None = None
    for event in events:
        if aggregate is None:
            kind = AGGREGATE_OF_EVENT[type(event)]
            if not isinstance(event, kind.creation_event):
                continue  # its creation lies outside this moment
        aggregate = project(aggregate, [event])
    return aggregate


@dataclass
class Universe:
    """Every aggregate folded in memory from the events a Moment admits."""

    moment: Moment = field(default_factory=Moment)
    pemdas: dict[str, Pemda] = field(default_factory=dict)
    findings: dict[UUID, Finding] = field(default_factory=dict)
    grades: dict[UUID, GradeSeries] = field(default_factory=dict)
    commitment_table: dict[UUID, Commitment] = field(default_factory=dict)
    position: int = 0  # the last log position read
    events_read: int = 0
    events_applied: int = 0
    last_applied: int = 0  # the log position of the last event the moment admitted
    # With `history` (an aggregate's events up to a version), findings out of view on the
    # as-of date (received later, or withdrawn) are kept as bare ids, so memory follows the
    # state on that date rather than the log; a later correction of the received date that
    # brings one into view refolds it from its own events.
    history: Callable[[UUID, int], Iterable[Event]] | None = None
    outside: set[UUID] = field(default_factory=set)

    def _outside_view(self, event: Event) -> bool:
        """True when the event concerns a finding kept out of view (and stays so)."""
        fid = event.originator_id
        if fid not in self.outside:
            return False
        assert self.history is not None and self.moment.as_of is not None
        if (isinstance(event, FindingCorrected) and event.field == "received"
                and date.fromisoformat(event.value) <= self.moment.as_of):
            found = project_admitted(
                e for e in self.history(fid, event.originator_version) if self.moment.admits(e))
            assert isinstance(found, Finding)
            self.outside.discard(fid)
            self.findings[fid] = found
        return True

    def apply(self, event: Event) -> None:
        kind = AGGREGATE_OF_EVENT.get(type(event))
        if kind not in (Pemda, Finding, GradeSeries, Commitment):
            return  # bookkeeping aggregates (references, keys, checkpoints) have no read model
        if kind is Finding and self.outside and self._outside_view(event):
            return
        table: dict[UUID, Aggregate] = (
            self.findings if kind is Finding  # type: ignore[assignment]
            else self.grades if kind is GradeSeries
            else self.commitment_table if kind is Commitment
            else {}
        )
        if kind is Pemda:
            assert isinstance(event, PemdaRegistered)
            self.pemdas[event.code] = project(None, [event])  # type: ignore[assignment]
            return
        current = table.get(event.originator_id)
        if current is None and not isinstance(event, kind.creation_event):
            return  # its creation lies outside this moment
        updated = project(current, [event])
        assert updated is not None
        if (isinstance(updated, Finding) and self.history is not None
                and self.moment.as_of is not None and not self.moment.shows(updated)):
            table.pop(event.originator_id, None)
            self.outside.add(event.originator_id)
            return
        table[event.originator_id] = updated

    def fold(self, events: Iterable[tuple[int, Event]]) -> "Universe":
        for position, event in events:
            self.position = position
            self.events_read += 1
            if self.moment.admits(event):
                self.apply(event)
                self.events_applied += 1
                self.last_applied = position
        return self

    # --- ReadModel -------------------------------------------------------------------------

    def pemda_list(self) -> list[Pemda]:
        return [self.pemdas[c] for c in sorted(self.pemdas)]

    def open_finding_ids(self) -> set[UUID]:
        return {f.id for f in self.active_findings() if not f.is_closed}

    def active_findings(self, pemda: str | None = None) -> list[Finding]:
        found = [
            f for f in self.findings.values()
            if self.moment.shows(f) and (pemda is None or f.pemda == pemda)
        ]
        return sorted(found, key=ref_key)

    def rec_rows(self, pemda: str | None = None) -> list[RecRow]:
        return [row for f in self.active_findings(pemda) for row in rec_rows_of(f)]

    def grade_series(self, pemda: str | None = None) -> list[GradeSeries]:
        found = [g for g in self.grades.values() if pemda is None or g.pemda == pemda]
        return sorted(found, key=lambda g: (g.pemda, g.instrument))

    def commitments(self, pemda: str | None = None) -> list[Commitment]:
        found = [c for c in self.commitment_table.values() if pemda is None or c.pemda == pemda]
        return sorted(found, key=commitment_key)


def ref_key(finding: Finding) -> tuple[int, int]:
    """F-2023-0007 sorts by year, then number (numbers may grow past four digits)."""
    _, year, number = finding.ref.split("-")
    return int(year), int(number)


def commitment_key(commitment: Commitment) -> tuple[int, int]:
    """K-2023-0007 sorts as finding references do."""
    _, year, number = commitment.ref.split("-")
    return int(year), int(number)


@dataclass
class Snapshot:
    """A ReadModel over what was already read, so one report reads the store only once."""

    pemdas: list[Pemda]
    findings: list[Finding]
    grades: list[GradeSeries]
    commitment_list: list[Commitment] = field(default_factory=list)

    def pemda_list(self) -> list[Pemda]:
        return self.pemdas

    def open_finding_ids(self) -> set[UUID]:
        return {f.id for f in self.findings if not f.is_closed}

    def active_findings(self, pemda: str | None = None) -> list[Finding]:
        return [f for f in self.findings if pemda is None or f.pemda == pemda]

    def rec_rows(self, pemda: str | None = None) -> list[RecRow]:
        return [row for f in self.active_findings(pemda) for row in rec_rows_of(f)]

    def grade_series(self, pemda: str | None = None) -> list[GradeSeries]:
        return [g for g in self.grades if pemda is None or g.pemda == pemda]

    def commitments(self, pemda: str | None = None) -> list[Commitment]:
        return [c for c in self.commitment_list if pemda is None or c.pemda == pemda]
