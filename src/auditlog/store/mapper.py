"""Between pydantic events and stored rows: stable topics, orjson bytes, upcasting on read.

eventsourcing 9.5 ships no pydantic mapper; this one keeps the library's contract (topic,
state bytes, class_version inside the state) while using our explicit topic registry.
"""

from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder

from auditlog.domain.events import EVENT_TYPES, Event

# Events carry their identity in the row's columns, not in the state bytes.
_ROW_FIELDS = {"originator_id", "originator_version"}


class OrjsonTranscoder(Transcoder):
    """Sorted keys so that the same event always becomes the same bytes."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)


class UnknownEventTopic(Exception):
    pass


def decode_event(topic: str, originator_id: UUID | str, originator_version: int,
                 state: dict[str, Any]) -> Event:
    try:
        cls = EVENT_TYPES[topic]
    except KeyError:
        raise UnknownEventTopic(
            f"stored event topic {topic!r} is not known to this version of auditlog"
        ) from None
    from_version = state.pop("class_version", 1)
    while from_version < cls.class_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1
    state["originator_id"] = originator_id
    state["originator_version"] = originator_version
    return cls.model_validate(state)


class PydanticMapper(Mapper[UUID]):
    def __init__(self) -> None:
        super().__init__(transcoder=OrjsonTranscoder())

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        event: Event = domain_event
        state = event.model_dump(mode="json", exclude=_ROW_FIELDS)
        if type(event).class_version > 1:
            state["class_version"] = type(event).class_version
        return StoredEvent(
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            topic=event.topic,
            state=self.transcoder.encode(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return decode_event(
            stored_event.topic,
            stored_event.originator_id,
            stored_event.originator_version,
            self.transcoder.decode(stored_event.state),
        )
