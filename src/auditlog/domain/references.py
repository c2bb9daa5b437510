"""Finding references: short, unique in the store, typeable (F-2023-0007)."""

import re
from typing import Self
from uuid import UUID

from auditlog.domain.aggregate import Aggregate, natural_id, register_aggregate
from auditlog.domain.events import Event, ReferenceAllocated
from auditlog.errors import Refusal
from auditlog.i18n import N_, _

# re.ASCII: \d would otherwise accept any Unicode digit, which int() reads happily.
_REF = re.compile(r"^F-(\d{4})-(\d+)(?:\.(\d+))?$", re.IGNORECASE | re.ASCII)
REF_FORMS = N_("a finding reference such as F-2023-0007, or F-2023-0007.1 for its first "
                "recommendation")
# Far beyond any store, and small enough for the store's 64-bit integers (a longer number
# overflowed when the reference was looked up).
MAX_NUMBER_DIGITS = 9
MAX_RECOMMENDATION_DIGITS = 4


def counter_id(year: int) -> UUID:
    return natural_id("references", year)


def format_ref(year: int, n: int) -> str:
    return f"F-{year}-{n:04d}"


def parse_ref(text: str) -> tuple[int, int, int | None]:
    """(year, number, recommendation or None) of a reference typed by an auditor."""
    match = _REF.match(text.strip())
    if not match:
        raise Refusal(_("{text!r} is not a reference: use {REF_FORMS}").format(
                          text=text, REF_FORMS=_(REF_FORMS)))
    year, number, rec = match.groups()
    if len(number) > MAX_NUMBER_DIGITS or (rec is not None
                                           and len(rec) > MAX_RECOMMENDATION_DIGITS):
        raise Refusal(
            _("{text!r} is not a reference: its number has at most {MAX_NUMBER_DIGITS} "
              "digits and a recommendation's at most {MAX_RECOMMENDATION_DIGITS}; use "
              "{REF_FORMS}").format(
                text=text, MAX_NUMBER_DIGITS=MAX_NUMBER_DIGITS,
                MAX_RECOMMENDATION_DIGITS=MAX_RECOMMENDATION_DIGITS, REF_FORMS=_(REF_FORMS))
        )
    return int(year), int(number), (int(rec) if rec else None)


@register_aggregate
class ReferenceCounter(Aggregate):
    """The n-th ReferenceAllocated event of a year numbers the n-th finding of that year.

    Saved in the same transaction as the finding, so two auditors recording at once conflict
    on the counter's version and one retries: references never collide or skip.
    """

    creation_event = ReferenceAllocated

    year: int

    @classmethod
    def from_creation(cls, event: Event) -> Self:
        assert isinstance(event, ReferenceAllocated)
        return cls(id=event.originator_id, version=event.originator_version,
                   year=int(event.ref[2:6]))

    @classmethod
    def at(cls, year: int, version: int) -> Self:
        """The counter of a year whose last allocation is ``version``: its whole state.

        Recording reads only the counter's head version (an index lookup) instead of
        replaying every allocation of the year, so recording costs the same in a year's
        first finding and its ten-thousandth. Saving at ``version + 1`` still conflicts
        with any other writer that allocated first, which then retries.
        """
        return cls(id=counter_id(year), version=version, year=year)

    def next_ref(self) -> str:
        return format_ref(self.year, self.version + 1)
