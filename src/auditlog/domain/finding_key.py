"""A finding's other keys: the pemda/report/title a correction gave it, claimed for it."""

from typing import Self
from uuid import UUID

from auditlog.domain.aggregate import Aggregate, register_aggregate
from auditlog.domain.events import Event, FindingKeyClaimed


@register_aggregate
class FindingKey(Aggregate):
    """Lives at the natural id of a key; says which finding holds that key."""

    creation_event = FindingKeyClaimed

    finding_id: UUID
    ref: str

    @classmethod
    def from_creation(cls, event: Event) -> Self:
        assert isinstance(event, FindingKeyClaimed)
        return cls(id=event.originator_id, version=event.originator_version,
                   finding_id=event.finding_id, ref=event.ref)
