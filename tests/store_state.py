"""Helpers for tests that prove a command wrote nothing: the store's bytes and event count."""

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from conftest import Result


@dataclass(frozen=True)
class StoreState:
    events: int
    main: bytes
    wal: bytes


def settle(db: Path) -> StoreState:
    """The store's state, taken so that "nothing was written" can be compared byte for byte.

    The store is SQLite in WAL mode: committed transactions first land in ``db-wal`` and are
    copied into the main file by a checkpoint, which SQLite also runs when the last connection
    closes. Comparing raw bytes of a store whose WAL still holds frames would therefore report a
    change that is only bookkeeping (or miss one that sits in the WAL). So before the command
    we count the events, checkpoint with TRUNCATE (everything into the main file, WAL emptied)
    and close our connection; then the main file holds the whole store and the WAL is empty or
    gone. After the command, ``observe`` reads the bytes *without* checkpointing: if anything
    was committed, either the WAL holds its frames (a connection is still open) or the
    checkpoint on close has rewritten the main file; both differ from the settled bytes.
    The ``-shm`` file is only a shared-memory index of the WAL and is not compared.
    """
    with closing(sqlite3.connect(db)) as con:
        events = con.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]
        busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, "another connection kept the checkpoint from completing"
    return observe(db, events)


def observe(db: Path, events: int | None = None) -> StoreState:
    wal = db.with_name(db.name + "-wal")
    main, log = db.read_bytes(), (wal.read_bytes() if wal.exists() else b"")
    if events is None:  # count after reading the bytes, so our own connection changes nothing
        with closing(sqlite3.connect(db)) as con:
            events = con.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]
    return StoreState(events, main, log)


def other_files(db: Path) -> set[str]:
    """Files beside the store other than its WAL (compared by bytes) and shared-memory index."""
    return {p.name for p in db.parent.iterdir() if not p.name.endswith(("-wal", "-shm"))}


def assert_one_line_refusal(result: Result, *fragments: str) -> str:
    assert result.exit_code == 1, result
    assert "Traceback" not in result.stderr + result.stdout, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result
    line = lines[0]
    assert line.startswith("auditlog: "), result
    assert result.stdout == "", result
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line
