"""The checkpoints issued from a store: one aggregate, so they are numbered in order."""

from datetime import date
from typing import Self
from uuid import UUID

from auditlog.domain.aggregate import (
    Aggregate,
    Context,
    create_new,
    handles,
    natural_id,
    register_aggregate,
)
from auditlog.domain.events import CheckpointRecorded, Event

CHECKPOINTS_ID = natural_id("checkpoints")


@register_aggregate
class CheckpointLog(Aggregate):
    """Every checkpoint issued, newest last. Read models have nothing to learn from it."""

    creation_event = CheckpointRecorded

    issued: int = 0
    last_size: int = 0

    @classmethod
    def from_creation(cls, event: Event) -> Self:
        log = cls(id=event.originator_id)
        log.apply(event)
        return log

    @classmethod
    def after(cls, last: CheckpointRecorded) -> Self:
        """The log's whole state from its last event alone (issued counts from 1), so
        issuing a checkpoint costs the same however many were issued before."""
        return cls(id=last.originator_id, version=last.originator_version,
                   issued=last.originator_version, last_size=last.size)

    def record(self, ctx: Context, on: date, store_id: UUID, size: int, root: str,
               signed: bool) -> None:
        self.trigger(ctx, CheckpointRecorded, on, store_id=store_id, size=size, root=root,
                     signed=signed)


@handles(CheckpointLog, CheckpointRecorded)
def _issued(log: CheckpointLog, event: CheckpointRecorded) -> None:
    log.issued += 1
    log.last_size = event.size


def record_checkpoint(current: Aggregate | None, ctx: Context, store_id: UUID, size: int,
                      root: str, signed: bool) -> CheckpointLog:
    """The checkpoint log with one more checkpoint pending (created with the first one)."""
    on = ctx.at.astimezone().date()
    if isinstance(current, CheckpointLog):
        current.record(ctx, on, store_id, size, root, signed)
        return current
    return create_new(CheckpointLog, ctx, CHECKPOINTS_ID, on, store_id=store_id, size=size,
                      root=root, signed=signed)
