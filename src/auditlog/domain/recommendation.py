"""A recommendation and the rules of its status (BPK categories, DOMAIN.md)."""

from datetime import date, timedelta

from pydantic import BaseModel

from auditlog.domain.events import Status
from auditlog.errors import Refusal
from auditlog.i18n import _

ANSWER_DAYS = 60  # UU 15/2004 art. 20: answer within 60 days of receiving the report

# A review is the only way a status changes (DOMAIN.md): BD->BS, BD->S, BS->S and any->TDTL.
# BS -> BS records a review of a new follow-up that still does not match; TDTL -> TDTL records a
# review that keeps it TDTL (on a new lawful ground). Going back from S or TDTL to BS is not a
# review: it is a reopening, a separate and deliberate act.
REVIEW_TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.BD: (Status.BS, Status.S, Status.TDTL),
    Status.BS: (Status.BS, Status.S, Status.TDTL),
    Status.S: (Status.TDTL,),
    Status.TDTL: (Status.TDTL,),
}
CLOSED = (Status.S, Status.TDTL)


def overdue(status: Status, due: date, on: date) -> bool:
    """Open (not S or TDTL) and past its due date on the reference date: the one rule for
    every report that counts or lists overdue recommendations."""
    return status not in CLOSED and due < on


def parse_status(text: str) -> Status:
    try:
        return Status(text.strip().upper())
    except ValueError:
        raise Refusal(_("status {text!r} is not valid: use BD, BS, S or TDTL").format(
            text=text)) from None


def check_review(ref: str, current: Status, new: Status) -> None:
    allowed = REVIEW_TRANSITIONS[current]
    if new in allowed:
        return
    names = ", ".join(s.value for s in allowed)
    if current in CLOSED:
        raise Refusal(
            _("{ref} is {value} (closed): a review may only set {names}; to bring it back to "
              "BS, reopen it with 'auditlog followup reopen {ref} --reason TEXT'").format(
                ref=ref, value=current.value, names=names)
        )
    raise Refusal(
        _("{ref} cannot go from {value} to {value2}: from {value} a review may set {names}").format(
            ref=ref, value=current.value, value2=new.value, names=names)
    )


class Recommendation(BaseModel):
    n: int
    text: str
    code: str | None = None
    value: int | None = None
    due_set: date | None = None  # set by the report itself
    due_extended: date | None = None  # the latest recorded extension
    status: Status = Status.BD
    deposited: int = 0
    followups: int = 0
    # The effective date of the latest review or reopening: a later one may not be dated before
    # it, or the history told --as-of would be impossible.
    status_changed_on: date | None = None
    # The effective date of its earliest follow-up, review, reopening or extension: the report
    # cannot have been received after it.
    first_activity_on: date | None = None

    def record_activity(self, on: date, *, status_change: bool = False) -> None:
        """Note an event effective on `on` (the fold: commands, projections and replay)."""
        if self.first_activity_on is None or on < self.first_activity_on:
            self.first_activity_on = on
        if status_change and (self.status_changed_on is None or on > self.status_changed_on):
            self.status_changed_on = on

    def due(self, received: date) -> date:
        if self.due_extended is not None:
            return self.due_extended
        if self.due_set is not None:
            return self.due_set
        return received + timedelta(days=ANSWER_DAYS)

    def is_overdue(self, received: date, on: date) -> bool:
        return overdue(self.status, self.due(received), on)

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED
