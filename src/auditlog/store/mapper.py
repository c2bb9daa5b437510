"""Between pydantic events and stored rows: stable topics, orjson bytes, upcasting on read.

eventsourcing 9.5 ships no pydantic mapper; this one keeps the library's contract (topic,
state bytes, class_version inside the state) while using our explicit topic registry.
"""

import types
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from pydantic import BaseModel

from auditlog.domain.events import EVENT_TYPES, Event
from auditlog.i18n import _

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


def upcast(topic: str, state: dict[str, Any]) -> type[Event]:
    """The event type of a stored topic, with ``state`` upcast in place to its version."""
    try:
        cls = EVENT_TYPES[topic]
    except KeyError:
        raise UnknownEventTopic(_(
            "stored event topic {topic!r} is not known to this version of auditlog").format(
                topic=topic)) from None
    from_version = state.pop("class_version", 1)
    if from_version < cls.class_version:
        if not isinstance(from_version, int) or from_version < 1:
            raise ValueError(_("stored class_version {version!r} of {topic} is not a "
                               "version").format(version=from_version, topic=topic))
        for step in _upcasters(cls)[from_version - 1:]:
            step(state)
    return cls


@cache
def _upcasters(cls: type[Event]) -> tuple[Callable[[dict[str, Any]], Any], ...]:
    """Each version's upcaster, in order (looked up once: every decoded row upcasts)."""
    return tuple(getattr(cls, f"upcast_v{v}_v{v + 1}") for v in range(1, cls.class_version))


def decode_event(topic: str, originator_id: UUID | str, originator_version: int,
                 state: dict[str, Any]) -> Event:
    cls = upcast(topic, state)
    state["originator_id"] = originator_id
    state["originator_version"] = originator_version
    return cls.model_validate(state)


# --- decoding trusted bytes without re-validation ---------------------------------------------

Convert = Callable[[Any], Any]


def _converter(annotation: Any) -> Convert | None:
    """How a JSON value of a field becomes the Python value pydantic would have made of it
    (None: as it is). Raises TypeError for a type it does not know, which the test over every
    event type would show."""
    origin = get_origin(annotation)
    if annotation in (str, int, bool, Any) or origin is Literal:
        return None
    if annotation is date:
        return date.fromisoformat
    if annotation is datetime:
        return datetime.fromisoformat
    if annotation in (UUID, Decimal):
        return annotation  # type: ignore[no-any-return]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        members = annotation._value2member_map_  # a dict lookup; calling the enum is slower
        return members.__getitem__
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _constructor(annotation)
    if origin in (Union, types.UnionType):
        inner_types = [a for a in get_args(annotation) if a is not type(None)]
        if len(inner_types) != 1:
            raise TypeError(f"no fast decoding for {annotation}")
        inner = _converter(inner_types[0])
        if inner is None:
            return None
        return lambda value: None if value is None else inner(value)  # nested: None kept
    if origin is tuple:
        args = get_args(annotation)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise TypeError(f"no fast decoding for {annotation}")
        item = _converter(args[0])
        if item is None:
            return tuple
        return lambda values: tuple(map(item, values))
    raise TypeError(f"no fast decoding for {annotation}")


_CONSTRUCTORS: dict[type[BaseModel], Callable[..., Any]] = {}


def _constructor(cls: type[BaseModel]) -> Callable[..., Any]:
    """What model_validate gives for bytes it validated when they were written, at a fraction
    of its cost: each field converted from its JSON form, then the instance made as
    model_construct makes it (its generic code cost more than the rest of decoding), all
    fields set. A required field that is missing is an error, as in validation."""
    made = _CONSTRUCTORS.get(cls)
    if made is not None:
        return made
    converters = [(name, convert) for name, info in cls.model_fields.items()
                  if (convert := _converter(info.annotation)) is not None]
    defaults = {name: info.default for name, info in cls.model_fields.items()
                if not info.is_required() and info.default_factory is None}
    required = frozenset(name for name, info in cls.model_fields.items() if info.is_required())
    new = object.__new__
    setattr_ = object.__setattr__

    names = set(cls.model_fields)

    def make(state: dict[str, Any], **ready: Any) -> Any:
        for name, convert in converters:
            value = state.get(name)
            if value is not None:
                state[name] = convert(value)
        if ready:
            state.update(ready)
        if state.keys() != names:  # stored states hold every field; an upcast one may not
            unknown = state.keys() - names
            if unknown:
                raise ValueError(f"fields unknown to {cls.__name__}: {', '.join(sorted(unknown))}")
            state = {**defaults, **state}
            if not required <= state.keys():
                raise ValueError(
                    f"{cls.__name__} lacks {', '.join(sorted(required - state.keys()))}")
        instance = new(cls)
        setattr_(instance, "__dict__", state)
        setattr_(instance, "__pydantic_fields_set__", set(state))
        setattr_(instance, "__pydantic_extra__", None)
        setattr_(instance, "__pydantic_private__", None)
        return instance

    _CONSTRUCTORS[cls] = make
    return make


def construct_event(topic: str, originator_id: UUID, originator_version: int,
                    state: dict[str, Any]) -> Event:
    """decode_event for bytes the hash chain proves unchanged since they were validated:
    upcast as usual, then build the event without validating it again."""
    return construct(upcast(topic, state), originator_id, originator_version, state)


def construct(cls: type[Event], originator_id: UUID, originator_version: int,
              state: dict[str, Any]) -> Event:
    """construct_event for a state already upcast to ``cls`` (by a reader that looked at it
    first)."""
    event: Event = _constructor(cls)(state, originator_id=originator_id,
                                     originator_version=originator_version)
    return event


def stored_version(cls: type[Event], state: dict[str, Any]) -> int:
    """The oldest version that expresses this state; later optional fields left unset are
    dropped. An event that uses nothing new is stored byte for byte as its older version was,
    which that version's schema describes and the upcasters read back unchanged."""
    if not cls.optional_since:
        return cls.class_version
    version = floor_version(cls)
    for name, since in cls.optional_since.items():
        if state.get(name) is None:
            state.pop(name, None)
        else:
            version = max(version, since)
    return version


@cache
def floor_version(cls: type[Event]) -> int:
    """The latest version that changed more than optional fields: it keeps its number, and
    a state stored at it or later reads as the current version without upcasting."""
    added = set(cls.optional_since.values())
    return max((v for v in range(1, cls.class_version + 1) if v not in added), default=1)


class PydanticMapper(Mapper[UUID]):
    def __init__(self) -> None:
        super().__init__(transcoder=OrjsonTranscoder())

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        event: Event = domain_event
        state = event.model_dump(mode="json", exclude=_ROW_FIELDS)
        version = stored_version(type(event), state)
        if version > 1:
            state["class_version"] = version
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


@cache
def _times() -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(datetime)


def json_time(moment: datetime) -> str:
    """A transaction time as an event's state holds it (pydantic's JSON form)."""
    text: str = _times().dump_python(moment, mode="json")
    return text


@cache
def _state_fields(cls: type[Event]) -> frozenset[str]:
    """The fields of an event's state before its transaction time is set."""
    return frozenset(cls.model_fields) - _ROW_FIELDS - {"recorded_at"}


class Rows:
    """Events of a bulk writer (the importer) made straight in their stored form: building,
    validating and dumping a pydantic event for each cost more than all the rest of saving.

    Each state is what ``PydanticMapper.to_stored_event`` writes for the same event, given as
    JSON values (dates in ISO form, ids as text, statuses as codes) by a writer whose values
    were checked already; the version is chosen by the same ``stored_version``. The
    transaction time goes in when the rows are saved (``at``, restamped as aggregates are).
    tests/test_import.py proves that the bytes decode, validated, into events that encode back
    to the same bytes."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.events: list[tuple[UUID, int, str, dict[str, Any]]] = []

    def add(self, cls: type[Event], aggregate_id: UUID, version: int, actor: str,
            effective_on: date, state: dict[str, Any]) -> None:
        state["actor"] = actor
        state["effective_on"] = effective_on.isoformat()
        if state.keys() != _state_fields(cls):  # a field added to the event and not here
            raise TypeError(f"{cls.__name__} rows need exactly the fields "
                            f"{sorted(_state_fields(cls))}, not {sorted(state)}")
        stored = stored_version(cls, state)
        if stored > 1:
            state["class_version"] = stored
        self.events.append((aggregate_id, version, cls.topic, state))

    def collect_stored(self) -> list[StoredEvent]:
        """The stored events, once (as ``collect_events`` gives an aggregate's)."""
        stamp = json_time(self.at)
        stored = []
        for aggregate_id, version, topic, state in self.events:
            state["recorded_at"] = stamp
            stored.append(StoredEvent(originator_id=aggregate_id, originator_version=version,
                                      topic=topic,
                                      state=orjson.dumps(state, option=orjson.OPT_SORT_KEYS)))
        self.events = []
        return stored
