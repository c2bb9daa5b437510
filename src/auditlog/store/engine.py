"""The store contract: what an engine (SQLite, PostgreSQL) supplies to the one Store.

Everything above the store (projections, reports, the command line) talks to ``Store`` and,
for the derived tables, to a ``SqlConnection``; only the modules ``store/sqlite.py`` and
``store/postgres.py`` know which database is underneath. The integrity chain's logic is shared
(store/chain.py); each engine says where its entries live and how to read one snapshot.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Protocol, Self
from uuid import UUID

from auditlog.store.chain import LogReader
from auditlog.store.stream import RowSource

EventTuple = tuple[UUID, int, str, bytes]
"""(aggregate id, version, topic, state) of a stored event."""

AggregateRow = tuple[int, Any, int, Any, Any, Any, Any, Any, Any]
"""(position, aggregate id bytes, version, topic bytes, state bytes) of one stored event, then
(seq, position, hash) of the chain entry at its position and the hash of the entry before
that one (Nones where there is none): what a per-aggregate read checks before decoding."""


class Snapshot(LogReader, Protocol):
    """A LogReader that holds its snapshot until closed."""

    def close(self) -> None: ...

    def hashes_after(self, seq: int) -> Iterator[bytes]:
        """The stored hashes of the chain's entries after ``seq``, in order."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None: ...


class Cursor(Protocol):
    def __iter__(self) -> Iterator[Any]: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class SqlConnection(Protocol):
    """A connection for the store's derived tables, in autocommit until ``begin_write``.

    SQL is written once with ``?`` placeholders and types both engines know (TEXT, BIGINT);
    upserts use ``INSERT ... ON CONFLICT``, which both accept.
    """

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def begin_write(self, lock: str) -> None:
        """Begin a transaction that holds the write lock on table ``lock`` (and, on SQLite,
        on the whole file) until commit or rollback."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def has_table(self, name: str) -> bool: ...

    def may_remake(self, tables: Sequence[str]) -> bool:
        """Whether this login may drop these derived tables and create them again (on a
        server, only their owner may)."""
        ...

    def remade(self, tables: Sequence[str]) -> None:
        """Inside the write transaction that created these derived tables again: give back
        the rights the store's groups had on them (a server's; nothing on SQLite)."""
        ...

    def close(self) -> None: ...


class Engine(Protocol):
    """One database engine under the store."""

    name: str
    display: str
    """How to name the store in messages: never holds a password."""
    readonly: bool
    """Whether this process can only read it (a SQLite file without write permission)."""

    def env(self) -> dict[str, str]:
        """eventsourcing's settings for this engine."""
        ...

    def exists(self) -> bool: ...

    def check(self, *, existing: bool, option: str = "--db") -> None:
        """Refuse (Refusal) what cannot be a store before anything is written to it;
        ``option`` names where the user gave it (--db, or copy's --to)."""
        ...

    def events_of(self, recorder: Any, aggregate_ids: Sequence[UUID]) -> list[EventTuple]:
        """The stored events of these aggregates, by aggregate and version."""
        ...

    def aggregate_rows(self, recorder: Any, aggregate_id: UUID, *, gt: int | None,
                       lte: int | None, last: bool) -> list[AggregateRow]:
        """One aggregate's events (versions above ``gt``, up to ``lte``; only the last one
        if ``last``) in version order, each with its chain entry: index lookups, not a scan."""
        ...

    def head_version(self, recorder: Any, aggregate_id: UUID) -> int:
        """The version of an aggregate's last event, 0 when it has none (one index lookup)."""
        ...

    def row_source(self) -> tuple[RowSource, Callable[[], None]]:
        """The streaming read path's rows (store/stream.py), on a connection of its own that
        only reads; with what closes it."""
        ...

    def log_reader(self, recorder: Any) -> Snapshot:
        """One consistent snapshot of the events and their hash chain, for verify."""
        ...

    def session_user(self, recorder: Any) -> str | None:
        """Whom the database authenticated (None: the engine has no logins)."""
        ...

    def restore_triggers(self) -> list[str]:
        """Put back removed append-only triggers (only 'auditlog init', after the log
        verifies); returns their names."""
        ...

    def connect(self) -> SqlConnection:
        """A connection of its own for the derived tables (projections)."""
        ...

    def writing(self) -> AbstractContextManager[None]:
        """Held while a command decides and saves: on a server, so that writers in several
        processes decide one after the other instead of conflicting and retrying."""
        ...

    def close(self) -> None: ...

    def discard(self) -> None:
        """Remove a store that a refused first command had just created (SQLite: its files;
        a server's database is left as it was, empty tables and all)."""
        ...
