"""A finding (temuan / catatan) with its recommendations: one consistency boundary.

Status transitions, follow-ups, extensions and corrections are all checked here, against the
finding's own history, so that two auditors can never interleave into a state the rules forbid.
"""

from datetime import date
from typing import Any, Self
from uuid import UUID

from pydantic import BaseModel

from auditlog.domain.aggregate import Aggregate, Context, handles, natural_id, register_aggregate
from auditlog.domain.events import (
    DueDateExtended,
    Event,
    Evidence,
    FindingCorrected,
    FindingRecorded,
    FindingWithdrawn,
    FollowUpRecorded,
    RecommendationReopened,
    RecommendationReviewed,
    Source,
    Status,
)
from auditlog.domain.grades import instrument_name
from auditlog.domain.inputs import (
    normalise_finding_code,
    normalise_recommendation_code,
    parse_date,
    parse_rupiah,
    parse_year,
    require_text,
)
from auditlog.domain.recommendation import CLOSED, Recommendation, check_review
from auditlog.errors import Refusal
from auditlog.i18n import _


def finding_id(pemda: str, report: str | None, title: str, generation: int = 1) -> UUID:
    """Same pemda, report number and title is the same finding, however it is typed.

    A withdrawn finding never existed, so its key may be recorded again: the n-th finding
    recorded under one key (n >= 2, each earlier one withdrawn) has generation n. The first
    generation is the id without one, as every store made before generations has it.
    """
    key = " ".join(title.casefold().split())
    report_key = (report or "").strip().casefold()
    if generation == 1:
        return natural_id("finding", pemda, report_key, key)
    return natural_id("finding", pemda, report_key, key, generation)


def require_received_by(ref: str, received: date, on: date, what: str) -> None:
    """Nothing can happen to a finding before its report was received (also the rule of the
    importer's bulk path, which records new findings without building their aggregates)."""
    if on < received:
        raise Refusal(
            _("{what} date {on} is before {ref} was received ({received}): use a date on "
              "or after the received date").format(
                what=what, on=on, ref=ref, received=received)
        )


# Which fields a correction may change, and how a typed value becomes the stored one.
FINDING_FIELDS: dict[str, Any] = {
    "title": str,
    "opd": str,
    "report": str,
    "issued": lambda v: parse_date(v, what="issued").isoformat(),
    "received": lambda v: parse_date(v, what="received").isoformat(),
    "instrument": instrument_name,
    "year": lambda v: parse_year(v),
    "condition": str,
    "criteria": str,
    "cause": str,
    "effect": str,
    "code": normalise_finding_code,
    "value": lambda v: parse_rupiah(v, what="value"),
}
RECOMMENDATION_FIELDS: dict[str, Any] = {
    "text": str,
    "code": normalise_recommendation_code,
    "value": lambda v: parse_rupiah(v, what="value"),
}


class FollowUp(BaseModel):
    on: date
    action: str
    deposit: int
    evidence: tuple[Evidence, ...] = ()


@register_aggregate
class Finding(Aggregate):
    creation_event = FindingRecorded

    ref: str
    pemda: str
    title: str
    opd: str | None = None
    report: str | None = None
    issued: date | None = None
    received: date
    instrument: str | None = None
    year: int | None = None
    condition: str | None = None
    criteria: str | None = None
    cause: str | None = None
    effect: str | None = None
    code: str | None = None
    value: int | None = None
    recommendations: list[Recommendation]
    withdrawn: bool = False

    @classmethod
    def from_creation(cls, event: Event) -> Self:
        assert isinstance(event, FindingRecorded)
        fields = event.model_dump(
            exclude={"originator_id", "originator_version", "actor", "recorded_at",
                     "effective_on", "recommendations", "source"}
        )
        return cls(
            id=event.originator_id,
            version=event.originator_version,
            recommendations=[
                Recommendation(n=r.n, text=r.text, code=r.code, value=r.value, due_set=r.due)
                for r in event.recommendations
            ],
            **fields,
        )

    # --- queries ---------------------------------------------------------------------------

    def recommendation(self, n: int) -> Recommendation:
        for rec in self.recommendations:
            if rec.n == n:
                return rec
        numbers = ", ".join(f"{self.ref}.{r.n}" for r in self.recommendations)
        raise Refusal(_("{ref} has no recommendation {n}: it has {numbers}").format(
                          ref=self.ref, n=n, numbers=numbers))

    @property
    def is_closed(self) -> bool:
        return all(r.status in CLOSED for r in self.recommendations)

    @property
    def effective_on(self) -> date:
        return self.received

    @property
    def first_activity_on(self) -> date | None:
        """The earliest follow-up, review, reopening or extension of any recommendation."""
        dates = [r.first_activity_on for r in self.recommendations
                 if r.first_activity_on is not None]
        return min(dates) if dates else None

    def _require_active(self) -> None:
        if self.withdrawn:
            raise Refusal(_("{ref} was withdrawn: nothing more can be recorded on it").format(
                              ref=self.ref))

    def _require_received_by(self, on: date, what: str) -> None:
        require_received_by(self.ref, self.received, on, what)

    def _require_after_status_change(self, rec: Recommendation, on: date, what: str) -> None:
        """Statuses change in date order, or --as-of would tell an impossible history."""
        if rec.status_changed_on is not None and on < rec.status_changed_on:
            raise Refusal(
                _("{what} date {on} is before the latest status change of {ref}.{n} "
                  "({status_changed_on}): use a date on or after {status_changed_on}").format(
                    what=what, on=on, ref=self.ref, n=rec.n,
                    status_changed_on=rec.status_changed_on)
            )

    def _check_received(self, received: date, on: date) -> None:
        """A corrected received date must lie before the correction and everything recorded
        on the finding, as a received date given when recording must."""
        if received > on:
            raise Refusal(
                _("received date {received} is in the future (the correction is dated {on}): "
                  "give a received date on or before {on}").format(received=received, on=on)
            )
        first = self.first_activity_on
        if first is not None and received > first:
            raise Refusal(
                _("received date {received} is after the first follow-up, review, reopening "
                  "or extension of {ref} ({first}): give a received date on or before "
                  "{first}").format(received=received, ref=self.ref, first=first)
            )

    def _check_dates(self, issued: date | None, received: date) -> None:
        """A correction of issued/received must keep the report's dates in order."""
        if issued is not None and received < issued:
            raise Refusal(_("received date {received} would be before the issue date "
                            "{issued}: a report is received on or after it is issued").format(
                              received=received, issued=issued))
        for rec in self.recommendations:
            for due in (rec.due_set, rec.due_extended):
                if due is not None and due < received:
                    raise Refusal(
                        _("{ref}.{n} is due {due}, before a received date of {received}: "
                          "give a received date on or before {due}").format(
                            ref=self.ref, n=rec.n, due=due, received=received)
                    )

    # --- commands --------------------------------------------------------------------------

    def record_followup(self, ctx: Context, n: int, on: date, action: str, deposit: int,
                        slip: str | None, evidence: tuple[Evidence, ...],
                        source: Source | None = None) -> None:
        self._require_active()
        self.recommendation(n)
        self._require_received_by(on, _("follow-up"))
        self.trigger(ctx, FollowUpRecorded, on, recommendation=n, action=action,
                     deposit=deposit, slip=slip, evidence=evidence, source=source)

    def review(self, ctx: Context, n: int, status: Status, reason: str, on: date,
               source: Source | None = None) -> None:
        self._require_active()
        reason = require_text(reason, what=_("the reason of a review"))
        rec = self.recommendation(n)
        self._require_received_by(on, _("review"))
        self._require_after_status_change(rec, on, "review")
        check_review(f"{self.ref}.{n}", rec.status, status)
        self.trigger(ctx, RecommendationReviewed, on, recommendation=n, previous=rec.status,
                     status=status, reason=reason, source=source)

    def reopen(self, ctx: Context, n: int, reason: str, on: date) -> None:
        self._require_active()
        reason = require_text(reason, what=_("the reason of a reopening"))
        rec = self.recommendation(n)
        self._require_received_by(on, _("reopening"))
        if rec.status not in CLOSED:
            raise Refusal(
                _("{ref}.{n} is {value}, not closed: only S or TDTL can be reopened").format(
                    ref=self.ref, n=n, value=rec.status.value)
            )
        self._require_after_status_change(rec, on, "reopening")
        self.trigger(ctx, RecommendationReopened, on, recommendation=n, previous=rec.status,
                     reason=reason)

    def extend(self, ctx: Context, n: int, due: date, reason: str, on: date) -> None:
        self._require_active()
        reason = require_text(reason, what=_("the reason of an extension"))
        rec = self.recommendation(n)
        self._require_received_by(on, _("extension"))
        current = rec.due(self.received)
        if due <= current:
            raise Refusal(
                _("new due date {due} is not later than the current one ({current}) of "
                  "{ref}.{n}: an extension must give a later date").format(
                    due=due, current=current, ref=self.ref, n=n)
            )
        self.trigger(ctx, DueDateExtended, on, recommendation=n, previous=current, due=due,
                     reason=reason)

    def correct(self, ctx: Context, field: str, raw: str, reason: str, on: date,
                n: int | None = None) -> None:
        self._require_active()
        reason = require_text(reason, what=_("the reason of a correction"))
        if n is None:
            parsers, target = FINDING_FIELDS, _("a finding")
        else:
            parsers, target = RECOMMENDATION_FIELDS, _("a recommendation")
        if field not in parsers:
            raise Refusal(
                _("{field!r} is not a field of {target} that can be corrected: use one of "
                  ).format(field=field, target=target)
                + ", ".join(sorted(parsers))
            )
        value = parsers[field](raw)
        if isinstance(value, str):
            value = value.strip()
            if not value:
                raise Refusal(_("the new value of {field} must not be empty").format(field=field))
        owner: BaseModel = self if n is None else self.recommendation(n)
        previous = getattr(owner, field)
        if isinstance(previous, date):
            previous = previous.isoformat()
        if previous == value:
            raise Refusal(_("{field} is already {value!r}: nothing to correct").format(
                              field=field, value=value))
        if field == "issued":
            self._check_dates(date.fromisoformat(value), self.received)
        elif field == "received":
            self._check_received(date.fromisoformat(value), on)
            self._check_dates(self.issued, date.fromisoformat(value))
        self.trigger(ctx, FindingCorrected, on, field=field, recommendation=n,
                     previous=previous, value=value, reason=reason)

    def withdraw(self, ctx: Context, reason: str, on: date) -> None:
        self._require_active()
        reason = require_text(reason, what=_("the reason of a withdrawal"))
        self.trigger(ctx, FindingWithdrawn, on, reason=reason)


@handles(Finding, FollowUpRecorded)
def _followed_up(finding: Finding, event: FollowUpRecorded) -> None:
    rec = finding.recommendation(event.recommendation)
    rec.deposited += event.deposit
    rec.followups += 1
    rec.record_activity(event.effective_on)


@handles(Finding, RecommendationReviewed)
def _reviewed(finding: Finding, event: RecommendationReviewed) -> None:
    rec = finding.recommendation(event.recommendation)
    rec.status = event.status
    rec.record_activity(event.effective_on, status_change=True)


@handles(Finding, RecommendationReopened)
def _reopened(finding: Finding, event: RecommendationReopened) -> None:
    rec = finding.recommendation(event.recommendation)
    rec.status = Status.BS
    rec.record_activity(event.effective_on, status_change=True)


@handles(Finding, DueDateExtended)
def _extended(finding: Finding, event: DueDateExtended) -> None:
    rec = finding.recommendation(event.recommendation)
    rec.due_extended = event.due
    rec.record_activity(event.effective_on)


@handles(Finding, FindingCorrected)
def _corrected(finding: Finding, event: FindingCorrected) -> None:
    owner: BaseModel = (
        finding if event.recommendation is None else finding.recommendation(event.recommendation)
    )
    value = event.value
    if event.field in ("issued", "received") and value is not None:
        value = date.fromisoformat(value)
    setattr(owner, event.field, value)


@handles(Finding, FindingWithdrawn)
def _withdrawn(finding: Finding, event: FindingWithdrawn) -> None:
    finding.withdrawn = True
