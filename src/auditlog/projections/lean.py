"""The lean fold behind `replay` and every fold of the whole log: the same answers as folding
every event into the domain's aggregates (``Universe``), at a fraction of the cost.

Why it exists: findings and their recommendations' events are nearly the whole log, and what
the compliance questions need of them is small (pemda, received date, withdrawal, and per
recommendation its status, value, deposits and due date). Building a pydantic event and a
pydantic aggregate for each of them cost more than ten times reading the rows. So:

- rows come from the checked stream (each proven by the hash chain, so trusted as decoded);
- a finding's event is read from its JSON dict straight into a small slots object;
- the other aggregates (pemda, grade series, commitments: few events) are folded by the
  domain's own code, through the ``Universe`` the reference fold uses;
- whole ``Finding`` aggregates, which only some reports need, are refolded from their own
  events when asked for (as the temporal model does), never kept for the whole log.

Which events a moment admits, and what each finding event does, mirror ``Moment.admits`` and
the handlers in domain/finding.py; tests/test_fast_reads.py checks on random logs (corrections,
withdrawals, reopenings, extensions, --as-of, --known-at) that both folds answer alike.
"""

import gc
import sys
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any, Protocol, Self, TypeVar
from uuid import UUID

import orjson

from auditlog.domain.aggregate import AGGREGATE_OF_EVENT
from auditlog.domain.commitment import Commitment
from auditlog.domain.events import (
    EVENT_TYPES,
    DueDateExtended,
    Event,
    FindingCorrected,
    FindingRecorded,
    FindingWithdrawn,
    FollowUpRecorded,
    RecommendationReopened,
    RecommendationReviewed,
    Status,
)
from auditlog.domain.finding import Finding
from auditlog.domain.grades import GradeSeries
from auditlog.domain.pemda import Pemda
from auditlog.domain.recommendation import ANSWER_DAYS
from auditlog.projections.model import (
    RETROACTIVE,
    Moment,
    RecRow,
    Universe,
    project_admitted,
    ref_key,
)
from auditlog.store.mapper import construct, floor_version, upcast
from auditlog.store.stream import ChainedRow, undecodable

# What the fold does with each stored topic.
SKIP, FINDING, DOMAIN = 0, 1, 2
_OPEN = (Status.BD.value, Status.BS.value)
_STATUSES = {s.value: s.value for s in Status}  # one string per status, shared by all
_ANSWER = timedelta(days=ANSWER_DAYS)


_DAYS: dict[str, date] = {}


def _day(text: str) -> date:
    """One date object per day, shared by every finding that names it (a log of ten years
    names a few thousand days): memory that follows the state, not the log."""
    day = _DAYS.get(text)
    if day is None:
        day = _DAYS[text] = date.fromisoformat(text)
    return day


class Numbered(Protocol):
    n: int


R = TypeVar("R", bound=Numbered)


def numbered(recs: list[R], n: int) -> R:
    """A finding's recommendation n, for both lean folds: found by its place when numbered
    1, 2, ... as recorded (nearly always), else by a scan."""
    if 0 < n <= len(recs) and recs[n - 1].n == n:
        return recs[n - 1]
    for rec in recs:
        if rec.n == n:
            return rec
    raise KeyError(f"recommendation {n}")


class LeanRec:
    """A recommendation as the compliance summary needs it (see Recommendation). Made by
    LeanFinding, attribute by attribute: a class call with __init__ per recommendation was
    a tenth of the fold."""

    __slots__ = ("deposited", "due_extended", "due_set", "n", "status", "value")
    n: int
    value: int | None
    due_set: date | None
    due_extended: date | None
    status: str
    deposited: int


_new = object.__new__


class LeanFinding:
    """A finding as the compliance summary needs it (see Finding). Kept for every finding
    of the log, so it is small: no dict, its reference as its sort key, shared strings."""

    __slots__ = ("id", "key", "pemda", "received", "recs", "withdrawn")

    def __init__(self, oid: bytes, state: dict[str, Any]) -> None:
        self.id = oid
        _kind, year, number = state["ref"].split("-")
        self.key = int(year) * 1_000_000_000 + int(number)  # as ref_key orders references
        self.pemda: str = sys.intern(state["pemda"])
        days = _DAYS
        text = state["received"]
        self.received = days.get(text) or _day(text)
        self.withdrawn = False
        recs: list[LeanRec] = []
        for r in state["recommendations"]:
            rec = _new(LeanRec)
            rec.n = r["n"]
            rec.value = r.get("value")
            due = r.get("due")
            rec.due_set = None if due is None else days.get(due) or _day(due)
            rec.due_extended = None
            rec.status = "BD"
            rec.deposited = 0
            recs.append(rec)
        self.recs = recs

    def rec(self, n: int) -> LeanRec:
        return numbered(self.recs, n)

    def rows(self) -> list[RecRow]:
        received = self.received
        return [RecRow(self.pemda, Status(r.status), r.value or 0, r.deposited,
                       r.due_extended or r.due_set or received + _ANSWER)
                for r in self.recs]


def _followed_up(r: LeanRec, s: dict[str, Any]) -> None:
    r.deposited += s["deposit"]


def _reviewed(r: LeanRec, s: dict[str, Any]) -> None:
    r.status = _STATUSES[s["status"]]


def _reopened(r: LeanRec, s: dict[str, Any]) -> None:
    r.status = "BS"


def _extended(r: LeanRec, s: dict[str, Any]) -> None:
    r.due_extended = _day(s["due"])


def _corrected(f: LeanFinding, s: dict[str, Any]) -> None:
    n, field, value = s.get("recommendation"), s["field"], s.get("value")
    if n is None:
        if field == "received" and value is not None:
            f.received = _day(value)
    elif field == "value":
        f.rec(n).value = value


def _withdrawn(f: LeanFinding, s: dict[str, Any]) -> None:
    f.withdrawn = True


# What each finding event after the first does; those of _PER_REC are handed the
# recommendation their state names (looked up in the fold's loop: a call less per event).
_HANDLERS: dict[str, Any] = {
    FollowUpRecorded.topic: _followed_up,
    RecommendationReviewed.topic: _reviewed,
    RecommendationReopened.topic: _reopened,
    DueDateExtended.topic: _extended,
    FindingCorrected.topic: _corrected,
    FindingWithdrawn.topic: _withdrawn,
}
_PER_REC = frozenset({FollowUpRecorded.topic, RecommendationReviewed.topic,
                      RecommendationReopened.topic, DueDateExtended.topic})


Plan = tuple[str, int, bool, type[Event], bool]
Step = tuple[str, int, bool, type[Event], bool, Any]
# What the lean fold does with a finding's event (beyond PLAN's SKIP, FINDING, DOMAIN).
_RECORDED, _REC, _WHOLE = 3, 4, 5


def _upcasts(cls: type[Event], todo: int) -> bool:
    """Whether a stored state of this type must be upcast before the fold reads it: always
    before building a domain event (it takes only known fields), else only when a version
    changed more than optional fields (mapper.floor_version: most versions only added an
    optional field no fold reads; upcasting was a tenth of the fold)."""
    if cls.class_version == 1:
        return False
    if todo == DOMAIN:
        return True
    return floor_version(cls) > 1


def _plan() -> dict[bytes, Plan]:
    """Per stored topic: (topic, what to do, retroactive in valid time, event type, whether
    a stored state must be upcast)."""
    plan: dict[bytes, Plan] = {}
    for topic, cls in EVENT_TYPES.items():
        kind = AGGREGATE_OF_EVENT.get(cls)
        todo = (FINDING if kind is Finding
                else DOMAIN if kind in (Pemda, GradeSeries, Commitment) else SKIP)
        if todo == FINDING and cls is not FindingRecorded and topic not in _HANDLERS:
            raise RuntimeError(f"the lean fold does not know the finding event {topic}")
        plan[topic.encode()] = (topic, todo, issubclass(cls, RETROACTIVE), cls,
                                _upcasts(cls, todo))
    return plan


class LeanUniverse:
    """A ReadModel of the whole log at a Moment, folded from the checked rows."""

    def __init__(self, moment: Moment, history: Any = None) -> None:
        self.moment = moment
        self.others = Universe(moment=moment)  # pemda, grade series, commitments
        self.findings: dict[bytes, LeanFinding] = {}
        self.history = history  # (aggregate ids) -> their events, for whole findings
        self.position = 0
        self.events_read = 0
        self.events_applied = 0
        self.last_applied = 0
        self.steps = self._steps()

    def _steps(self) -> dict[bytes, Step]:
        """PLAN for this moment: per stored topic (topic, what to do, whether the as-of date
        gates it, event type, whether to upcast, its handler). Worked out once per fold, so
        the loop tests one flag per row instead of the moment and the event's kind."""
        gated = self.moment.as_of is not None
        steps: dict[bytes, Step] = {}
        for key, (topic, todo, retroactive, cls, upcasts) in PLAN.items():
            act = _HANDLERS.get(topic)
            what = (todo if todo != FINDING
                    else _RECORDED if cls is FindingRecorded
                    else _REC if topic in _PER_REC else _WHOLE)
            steps[key] = (topic, what, gated and not retroactive, cls, upcasts, act)
        return steps

    def fold(self, batches: Iterable[list[ChainedRow]]) -> Self:
        """Fold batches of verified rows (seq, position, hash, id bytes, version, topic,
        state bytes; store/stream.py's ``verified``).

        The collector is kept from rescanning what the fold keeps (gc.freeze after each
        batch, as store/stream.py does; everything unfrozen at the end)."""
        frozen = gc.get_freeze_count()
        try:
            for rows in batches:
                self._fold_rows(rows)
                gc.freeze()
        finally:
            if frozen == 0:
                gc.unfreeze()
        return self

    def _fold_rows(self, rows: list[ChainedRow]) -> None:
        steps = self.steps
        loads = orjson.loads
        known = self.moment.known_at
        day = None if self.moment.as_of is None else self.moment.as_of.isoformat()
        findings = self.findings
        get = findings.get
        applied = 0
        last = self.last_applied
        position = self.position
        for _seq, position, _hash, oid, version, topic_bytes, raw in rows:
            try:
                topic, todo, gated, cls, upcasts, act = steps[topic_bytes]
                state = loads(raw)
                if upcasts:
                    upcast(topic, state)
                if known is not None and datetime.fromisoformat(state["recorded_at"]) > known:
                    continue
                if gated and state["effective_on"] > day:
                    continue
                applied += 1
                last = position
                if todo == _REC:  # most of the log: follow-ups and reviews
                    finding = get(oid)
                    if finding is not None:  # else its creation lies outside this moment
                        n = state["recommendation"]
                        recs = finding.recs
                        if 0 < n <= len(recs) and (rec := recs[n - 1]).n == n:
                            act(rec, state)
                        else:
                            act(numbered(recs, n), state)
                elif todo == _RECORDED:
                    findings[oid] = LeanFinding(oid, state)
                elif todo == _WHOLE:
                    finding = get(oid)
                    if finding is not None:
                        act(finding, state)
                elif todo == DOMAIN:
                    self.others.apply(construct(cls, UUID(oid.decode()), version, state))
            except (KeyError, ValueError, TypeError, AttributeError) as error:
                raise undecodable(position, error, topic_bytes, steps) from None
        self.position = position
        self.events_read += len(rows)
        self.events_applied += applied
        self.last_applied = last

    # --- ReadModel -------------------------------------------------------------------------

    def _shown(self, pemda: str | None) -> Iterator[LeanFinding]:
        as_of = self.moment.as_of
        for f in self.findings.values():
            if (not f.withdrawn and (as_of is None or f.received <= as_of)
                    and (pemda is None or f.pemda == pemda)):
                yield f

    def pemda_list(self) -> list[Pemda]:
        return self.others.pemda_list()

    def open_finding_ids(self) -> set[UUID]:
        return {UUID(f.id.decode()) for f in self._shown(None)
                if any(r.status in _OPEN for r in f.recs)}

    def active_findings(self, pemda: str | None = None) -> list[Finding]:
        """Whole findings, refolded from their own admitted events (few reports ask)."""
        if self.history is None:
            raise RuntimeError("this lean fold was made without the store's history")
        ids = [UUID(f.id.decode()) for f in self._shown(pemda)]
        found = []
        for events in self.history(ids).values():
            finding = project_admitted(e for e in events if self.moment.admits(e))
            assert isinstance(finding, Finding)
            found.append(finding)
        return sorted(found, key=ref_key)

    def rec_rows(self, pemda: str | None = None) -> list[RecRow]:
        return [row for f in sorted(self._shown(pemda), key=lambda f: f.key)
                for row in f.rows()]

    def summary_rows(self, on: date, pemda: str | None = None
                     ) -> tuple[list[tuple[str, Status, int, int, int]], dict[str, int]]:
        """The per-pemda totals `status` and `replay` print, as the persisted projection's
        summary rows give them (Summarized), added up from the slots: a RecRow per
        recommendation cost more than the rest of the report at a million events."""
        totals: dict[tuple[str, str], list[int]] = {}
        overdue: dict[str, int] = {}
        for f in self._shown(pemda):
            code = f.pemda
            fallback = None
            for r in f.recs:
                status = r.status
                tally = totals.get((code, status))
                if tally is None:
                    tally = totals[code, status] = [0, 0, 0]
                tally[0] += 1
                tally[1] += r.value or 0
                tally[2] += r.deposited
                if status in _OPEN:
                    due = r.due_extended or r.due_set
                    if due is None:
                        due = fallback = fallback or f.received + _ANSWER
                    if due < on:
                        overdue[code] = overdue.get(code, 0) + 1
        return ([(code, Status(status), count, value, deposited)
                 for (code, status), (count, value, deposited) in totals.items()], overdue)

    def grade_series(self, pemda: str | None = None) -> list[GradeSeries]:
        return self.others.grade_series(pemda)

    def commitments(self, pemda: str | None = None) -> list[Commitment]:
        return self.others.commitments(pemda)


PLAN = _plan()
