"""Moving a log between stores (either engine, either direction), event by event, stored bytes
unchanged: the target's own recorder links every event into its chain as it is inserted, so
the same events give the same chain and checkpoint root on both."""

import os
from collections.abc import Callable
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from auditlog.errors import Refusal
from auditlog.store.app import Store, engine_for
from auditlog.store.integrity import Checkpoint, current_checkpoint
from auditlog.store.sqlite_integrity import STORE_ID_ENV

BATCH = 2000


def open_empty_target(target: str, store_id: str) -> Store:
    """A new store at ``target`` with the source's identity."""
    # The target is the same store, moved: it keeps the source's identity, so that a
    # checkpoint taken on the source verifies on the target.
    saved = os.environ.get(STORE_ID_ENV)
    os.environ[STORE_ID_ENV] = store_id
    try:
        return Store(target)
    finally:
        if saved is None:
            del os.environ[STORE_ID_ENV]
        else:
            os.environ[STORE_ID_ENV] = saved


def copy_events(source: Store, target: Store,
                progress: Callable[[int], None] | None = None) -> int:
    """Insert every event of ``source`` into ``target`` in log order, in batches."""
    recorder = target.app.recorder
    copied = 0
    for batch in source.notifications(batch=BATCH):
        recorder.insert_events([
            StoredEvent(originator_id=UUID(str(n.originator_id)),
                        originator_version=n.originator_version, topic=n.topic,
                        state=bytes(n.state))
            for n in batch])
        copied += len(batch)
        if progress is not None:
            progress(len(batch))
    return copied


def copy_store(source: Store, target: str, progress: Callable[[int], None] | None = None
               ) -> tuple[Checkpoint, Checkpoint]:
    """Copy the verified log of ``source`` into the empty ``target``; returns the checkpoints
    of both, which name the same store, size and root (checked here).

    A SQLite target is written under a temporary name beside it and renamed into place once
    it verifies, so it appears whole or not at all. A database on a server is filled in
    place (batches of BATCH events): if the copy stops, the message says so."""
    before = current_checkpoint(source)  # a damaged log is not spread: IntegrityFailure
    engine = engine_for(target)
    engine.check(existing=False, option="--to")
    if engine.exists():
        raise Refusal(f"{engine.display} already holds a store: copy needs an empty target "
                      "(a new file, or an empty database)")
    partial = f"{target}.partial-{os.getpid()}" if engine.name == "sqlite" else target
    try:
        copy = open_empty_target(partial, before.store_id)
        try:
            copy_events(source, copy, progress)
            after = current_checkpoint(copy, at=before.time)
        finally:
            copy.close()
        if (after.store_id, after.size, after.root) != (before.store_id, before.size,
                                                        before.root):
            raise Refusal(f"the copy at {engine.display} does not match the source (root "
                          f"{after.root} for {before.root}): it is not a faithful copy")
        if partial != target:
            for suffix in ("-wal", "-shm", ""):  # a log left in the WAL moves with its file
                if os.path.exists(partial + suffix):
                    os.replace(partial + suffix, target + suffix)
    except BaseException:
        if partial != target:
            engine_for(partial).discard()
        elif engine_for(target).exists():  # looked at afresh: it has changed
            raise Refusal(f"the copy into {engine.display} stopped before the end: the "
                          "database holds part of the log; empty it (drop and create it) "
                          "before copying again") from None
        raise
    return before, after
