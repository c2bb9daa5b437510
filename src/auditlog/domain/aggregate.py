"""A small aggregate base: state as a pydantic model, changes only through events.

The same ``apply`` is the fold used by commands (to check rules), by the persisted projections
and by temporal replay, so the three can never disagree about what an event means.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Self, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import BaseModel, PrivateAttr

from auditlog.domain.events import Event

NAMESPACE = uuid5(NAMESPACE_URL, "https://auditlog.invalid/ids")


def natural_id(kind: str, *parts: object) -> UUID:
    """Deterministic ids: re-recording the same thing is a clear refusal; imports are idempotent."""
    key = "\x1f".join([kind, *("" if p is None else str(p) for p in parts)])
    return uuid5(NAMESPACE, key)


@dataclass(frozen=True)
class Context:
    """Who is recording, and when (the transaction time stamped on every event)."""

    actor: str
    at: datetime


A = TypeVar("A", bound="Aggregate")
Handler = Callable[[Any, Any], None]


class Aggregate(BaseModel):
    id: UUID
    version: int = 0

    creation_event: ClassVar[type[Event]]
    handlers: ClassVar[dict[type[Event], Handler]]
    _pending: list[Event] = PrivateAttr(default_factory=list)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.handlers = {}

    @classmethod
    def from_creation(cls, event: Event) -> Self:
        raise NotImplementedError

    def apply(self, event: Event) -> None:
        handler = type(self).handlers.get(type(event))
        if handler is not None:
            handler(self, event)
        self.version = event.originator_version

    def trigger(self, ctx: Context, cls: type[Event], effective_on: date, **fields: Any) -> Event:
        event = cls(
            originator_id=self.id,
            originator_version=self.version + 1,
            actor=ctx.actor,
            recorded_at=ctx.at,
            effective_on=effective_on,
            **fields,
        )
        self.apply(event)
        self._pending.append(event)
        return event

    def collect_events(self) -> list[Event]:
        events, self._pending = self._pending, []
        return events


def handles(aggregate: type[Aggregate], *events: type[Event]) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for event in events:
            aggregate.handlers[event] = fn
            AGGREGATE_OF_EVENT[event] = aggregate
        return fn

    return register


AGGREGATE_OF_CREATION: dict[type[Event], type[Aggregate]] = {}
AGGREGATE_OF_EVENT: dict[type[Event], type[Aggregate]] = {}


def register_aggregate(cls: type[A]) -> type[A]:
    AGGREGATE_OF_CREATION[cls.creation_event] = cls
    AGGREGATE_OF_EVENT[cls.creation_event] = cls
    for event in cls.handlers:
        AGGREGATE_OF_EVENT[event] = cls
    return cls


def create_new(cls: type[A], ctx: Context, aggregate_id: UUID, effective_on: date,
               **fields: Any) -> A:
    event = cls.creation_event(
        originator_id=aggregate_id,
        originator_version=1,
        actor=ctx.actor,
        recorded_at=ctx.at,
        effective_on=effective_on,
        **fields,
    )
    aggregate = cls.from_creation(event)
    aggregate._pending.append(event)
    return aggregate


def project(aggregate: Aggregate | None, events: Iterable[Event]) -> Aggregate | None:
    """eventsourcing's projector function: fold the events onto the aggregate."""
    for event in events:
        if aggregate is None:
            aggregate = AGGREGATE_OF_CREATION[type(event)].from_creation(event)
        else:
            aggregate.apply(event)
    return aggregate
