"""Moving a log between stores (either engine, either direction), event by event, stored bytes
unchanged: the target's own recorder links every event into its chain as it is inserted, so
the same events give the same chain and checkpoint root on both."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from auditlog.errors import Refusal
from auditlog.i18n import N_, _
from auditlog.store.app import Store, engine_for
from auditlog.store.chain import GENESIS
from auditlog.store.evidence import Kept, Vault, Vaults, open_vault
from auditlog.store.integrity import Checkpoint, current_checkpoint
from auditlog.store.sqlite_integrity import STORE_ID_ENV

if TYPE_CHECKING:  # psycopg is imported only for a server
    from typing import Any

    import psycopg

    from auditlog.store.postgres import PostgresEngine

BATCH = 2000
EVIDENCE_UNREADABLE = N_(
    "the role {user} may read the log in {where} but not its kept evidence ({tables}), and "
    "a copy carries both; nothing was written: have the store's owner run 'auditlog roles "
    "setup' again, or copy as the owner")


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
    for batch in stored_batches(source, progress):
        recorder.insert_events(batch)
        copied += len(batch)
    return copied


def stored_batches(source: Store, progress: Callable[[int], None] | None = None
                   ) -> Iterator[list[StoredEvent]]:
    """The log of ``source`` in order, in batches of stored events, bytes as stored."""
    for batch in source.notifications(batch=BATCH):
        yield [StoredEvent(originator_id=UUID(str(n.originator_id)),
                           originator_version=n.originator_version, topic=n.topic,
                           state=bytes(n.state))
               for n in batch]
        if progress is not None:
            progress(len(batch))


def copy_store(source: Store, target: str, progress: Callable[[int], None] | None = None
               ) -> tuple[Checkpoint, Checkpoint]:
    """Copy the verified log of ``source`` and its kept evidence (chunk by chunk, rehashed as
    written) into the empty ``target``; returns the checkpoints of both, which name the same
    store, size and root (checked here, as are the kept files' SHA-256 and sizes).

    Either target appears whole or not at all: a SQLite target is written under a temporary
    name beside it and renamed into place once it verifies; a database on a server is filled
    in one transaction that commits only once the copy's chain ends where the source's does."""
    before = current_checkpoint(source)  # a damaged log is not spread: IntegrityFailure
    engine = engine_for(target)
    engine.check(existing=False, option="--to")
    if engine.exists():
        raise Refusal(_("{display} already holds a store: copy needs an empty target "
                        "(a new file, or an empty database)").format(
            display=engine.display))
    vault = open_vault(source)
    try:
        _may_read_evidence(source, vault)
        if engine.name == "postgresql":
            try:
                _fill_server(source, cast("PostgresEngine", engine), before, progress, vault)
            finally:
                engine.close()  # its connection looked for tables; the copy had its own
        else:
            after = _fill_file(source, target, engine.display, before, progress, vault)
    finally:
        vault.close()
    if engine.name == "postgresql":
        copy = Store(target)
        try:
            after = current_checkpoint(copy, at=before.time)
        finally:
            copy.close()
    return before, after


def _fill_file(source: Store, target: str, display: str, before: Checkpoint,
               progress: Callable[[int], None] | None, vault: Vaults) -> Checkpoint:
    partial = f"{target}.partial-{os.getpid()}"
    try:
        copy = open_empty_target(partial, before.store_id)
        try:
            copy_events(source, copy, progress)
            after = current_checkpoint(copy, at=before.time)
        finally:
            copy.close()
        _same(display, before, after.store_id, after.size, after.root)
        files = vault.kept()
        if files:  # a store that never kept a file gets no evidence table, as before
            into = Vault(Path(partial))
            try:
                for kept in files:
                    into.put(kept.sha256, kept.size, vault.chunks(kept.sha256),
                             _damaged(kept))
                _same_files(display, files, into.kept())
            finally:
                into.close()
        for suffix in ("-wal", "-shm", ""):  # a log left in the WAL moves with its file
            if os.path.exists(partial + suffix):
                os.replace(partial + suffix, target + suffix)
    except BaseException:
        engine_for(partial).discard()
        raise
    return after


def _may_read_evidence(source: Store, vault: Vaults) -> None:
    """A role that may read a server's log but not its kept evidence would see the copy stop
    half-way on a database error: it is told before the target is touched."""
    if source.engine.name != "postgresql":
        return
    from auditlog.store.postgres_evidence import PostgresVault

    server = cast("PostgresVault", vault)
    user, tables = server.unreadable()
    if tables:
        raise Refusal(_(EVIDENCE_UNREADABLE).format(
            user=user, where=server.engine.target.where(), tables=", ".join(tables)))


def _damaged(kept: Kept) -> Refusal:
    return Refusal(_("the kept evidence file {sha} of the source no longer matches its "
                     "SHA-256: a damaged store is not copied ('auditlog verify' names what "
                     "is wrong)").format(sha=kept.sha256))


def _same_files(display: str, source: list[Kept], copied: list[Kept]) -> None:
    if copied != source:
        raise Refusal(_("the copy at {display} does not hold the same kept evidence as the "
                        "source ({copied} files for {source}): it is not a faithful "
                        "copy").format(display=display, copied=len(copied),
                                       source=len(source)))


def _same(display: str, before: Checkpoint, store_id: str, size: int, root: str) -> None:
    if (store_id, size, root) != (before.store_id, before.size, before.root):
        raise Refusal(_("the copy at {display} does not match the source (root {root} "
                        "for {source_root}): it is not a faithful copy").format(
            display=display, root=root, source_root=before.root))


def _fill_server(source: Store, engine: "PostgresEngine", before: Checkpoint,
                 progress: Callable[[int], None] | None, vault: Vaults) -> None:
    with source.log_reader() as log:  # the source's head at the size it was checked at
        entry = log.entry_before(before.size + 1) if before.size else None
    expected = entry[2] if entry is not None else GENESIS

    def confirm(size: int, head: bytes) -> None:
        # Entry hashes chain every earlier entry and its number: the same head at the same
        # size is the same chain, so the same root.
        _same(engine.display, before, before.store_id, size,
              before.root if head == expected else head.hex())

    def evidence(c: "psycopg.Cursor[Any]") -> None:
        from auditlog.store.postgres_evidence import kept_files, write_chunks

        files = vault.kept()
        for kept in files:
            c.execute("INSERT INTO evidence_blob (sha256, size) VALUES (%s, %s)",
                      (kept.sha256, kept.size))
            if not write_chunks(c, kept.sha256, kept.size, vault.chunks(kept.sha256)):
                raise _damaged(kept)
        # What the chunk rows hold, not only what the names say, is what the source has.
        _same_files(engine.display, files, kept_files(c))
        _same_files(engine.display, files, kept_files(c, held=True))

    try:
        engine.fill(stored_batches(source, progress), before.store_id, confirm, evidence)
    except Refusal:
        raise
    except BaseException as error:  # Ctrl-C, a lost connection, a full disk
        why = " ".join(str(error).split())[:160] or type(error).__name__
        raise Refusal(_("the copy into {display} stopped before the end ({why}); "
                        "nothing was written: the database is as empty as before").format(
            display=engine.display, why=why)) from None
