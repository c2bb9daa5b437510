"""Commitments counted per pemda and theme, and per owner: the one tally behind `status`,
`commitment list` and the annual review's commitments section."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol, runtime_checkable

from auditlog.domain.commitment import Commitment


def mean_pct(total: Decimal, measured: int) -> float | None:
    """Two decimals, rounded half up, computed exactly."""
    if not measured:
        return None
    exact = total / measured
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass
class CommitmentTally:
    """How many commitments, how many achieved (tercapai), how many open past their deadline,
    and the mean progress of those measured so far (an indicator and a realisation: a
    commitment without either has no progress to average, rather than a progress of zero)."""

    count: int = 0
    achieved: int = 0
    overdue: int = 0
    measured: int = 0
    progress: Decimal = field(default_factory=Decimal)  # the sum over the measured ones

    def add(self, commitment: Commitment, on: date) -> None:
        self.count += 1
        self.achieved += int(commitment.achieved)
        self.overdue += int(commitment.is_overdue(on))
        if commitment.progress is not None:
            self.measured += 1
            self.progress += commitment.progress

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "achieved": self.achieved, "overdue": self.overdue,
                "measured": self.measured,
                "mean_progress_pct": mean_pct(self.progress, self.measured)}


@runtime_checkable
class CommitmentsSummarized(Protocol):
    """A read model that tallies commitments in SQL (the persisted projection): `status` reads
    one row per pemda and theme instead of every commitment's state."""

    def commitment_tallies(self, on: date, pemda: str | None = None
                           ) -> dict[str, dict[str, CommitmentTally]]: ...


def by_pemda_and_theme(commitments: Iterable[Commitment], on: date
                       ) -> dict[str, dict[str, CommitmentTally]]:
    """pemda -> theme -> tally, themes in order of code."""
    tallies: dict[str, dict[str, CommitmentTally]] = {}
    for commitment in commitments:
        themes = tallies.setdefault(commitment.pemda, {})
        themes.setdefault(commitment.theme, CommitmentTally()).add(commitment, on)
    return {p: dict(sorted(themes.items())) for p, themes in sorted(tallies.items())}


def by_owner(commitments: Iterable[Commitment], on: date
             ) -> dict[tuple[str, str, str], CommitmentTally]:
    """(pemda, owner, OPD) -> tally: who answers for what, and how far it got."""
    tallies: dict[tuple[str, str, str], CommitmentTally] = {}
    for commitment in commitments:
        key = (commitment.pemda, commitment.owner, commitment.opd)
        tallies.setdefault(key, CommitmentTally()).add(commitment, on)
    return dict(sorted(tallies.items()))
