"""Evidence kept in the store, when the auditor asks: bytes addressed by their SHA-256.

The follow-up event records each file's SHA-256 (inside the hash chain); with --keep the bytes
go into `evidence_blob` beside the events, once however often they are cited. A kept file is
never changed or removed (triggers refuse it), and `verify` rehashes every one. Files are read
and written in chunks (SQLite incremental blob I/O; on PostgreSQL rows of bytea, one per
chunk: store/postgres_evidence.py), never whole in memory.
"""

import hashlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from auditlog.errors import Refusal
from auditlog.i18n import _

if TYPE_CHECKING:
    from auditlog.store.app import Store

CHUNK = 1 << 20
DEFAULT_MAX = 50_000_000  # 50 MB: a scanned deposit slip or decree, not a video
TABLE = "evidence_blob"
# Guards like the log's own: a missing one is reported by verify and put back only by init
# (store/sqlite_integrity.py), once the table exists.
TRIGGERS = {
    "evidence_blob_no_update": "CREATE TRIGGER IF NOT EXISTS evidence_blob_no_update BEFORE "
    "UPDATE ON evidence_blob BEGIN SELECT RAISE(ABORT, 'kept evidence is never changed'); END;",
    "evidence_blob_no_delete": "CREATE TRIGGER IF NOT EXISTS evidence_blob_no_delete BEFORE "
    "DELETE ON evidence_blob BEGIN SELECT RAISE(ABORT, 'kept evidence is never removed'); END;",
}
SCHEMA = ("CREATE TABLE IF NOT EXISTS evidence_blob (\n"
          "    sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, content BLOB NOT NULL);\n"
          + "\n".join(TRIGGERS.values()) + "\n")


def max_size() -> int:
    raw = os.environ.get("AUDITLOG_EVIDENCE_MAX", "").strip()
    if not raw:
        return DEFAULT_MAX
    if not raw.isascii() or not raw.isdigit() or int(raw) == 0:
        raise Refusal(_("AUDITLOG_EVIDENCE_MAX={raw!r} is not a size: give a whole number of "
                        "bytes such as 50000000").format(raw=raw))
    return int(raw)


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size % 1_000_000 else f"{size // 1_000_000} MB"


def check_size(path: Path, size: int) -> None:
    limit = max_size()
    if size > limit:
        raise Refusal(_("evidence file {path} is {size}, above the limit of {limit} "
                        "(AUDITLOG_EVIDENCE_MAX) for kept evidence: keep a smaller file, or "
                        "record it without --keep (fingerprint only)").format(
            path=path, size=megabytes(size), limit=megabytes(limit)))


@dataclass(frozen=True)
class Kept:
    sha256: str
    size: int


def wanted_sha(prefix: str) -> str:
    """A SHA-256 or its beginning as typed, checked: lower-case hex, 12 to 64 digits."""
    wanted = prefix.strip().lower().removeprefix("sha256:")
    if not (12 <= len(wanted) <= 64 and all(c in "0123456789abcdef" for c in wanted)):
        raise Refusal(_("{text!r} is not a SHA-256: give its 64 hexadecimal digits (or the "
                        "first 12 or more, as history shows them)").format(text=prefix))
    return wanted


def the_one(wanted: str, rows: Sequence[Sequence[Any]]) -> Kept:
    """The one kept file of these (sha256, size) rows that begin with ``wanted``."""
    if not rows:
        raise Refusal(_("no evidence with SHA-256 {sha} is kept in this store: only files "
                        "recorded with --evidence FILE --keep are").format(sha=wanted))
    if len(rows) > 1:
        raise Refusal(_("SHA-256 {sha} begins more than one kept file: give more of its "
                        "digits").format(sha=wanted))
    return Kept(rows[0][0], rows[0][1])


class Vaults(Protocol):
    """Kept evidence of one store, on either engine."""

    def keep(self, file: Path, sha256: str, size: int) -> bool: ...

    def find(self, prefix: str) -> Kept: ...

    def chunks(self, sha256: str) -> Iterator[bytes]: ...

    def kept(self) -> list[Kept]: ...

    def damaged(self) -> tuple[int, list[str]]: ...

    def close(self) -> None: ...


def open_vault(store: "Store") -> Vaults:
    """The store's kept evidence: a table beside the events on either engine."""
    from auditlog.store.app import lock_timeout

    if store.engine.name == "postgresql":
        from auditlog.store.postgres_evidence import PostgresVault

        return PostgresVault(store.engine)  # type: ignore[arg-type]
    return Vault(store.path, lock_timeout())


def rehash(vault: Vaults, keys: Sequence[Sequence[Any]]) -> list[str]:
    """The SHA-256 of each kept file (of these (sha256, size)) whose bytes no longer hash to
    it or whose size differs."""
    bad: list[str] = []
    for sha256, size in keys:
        digest = hashlib.sha256()
        length = 0
        for chunk in vault.chunks(sha256):
            digest.update(chunk)
            length += len(chunk)
        if digest.hexdigest() != sha256 or length != size:
            bad.append(sha256)
    return bad


class Vault:
    """The evidence_blob table of one SQLite store."""

    def __init__(self, path: Path, timeout: float = 15.0) -> None:
        self.db = sqlite3.connect(path, timeout=timeout, isolation_level=None)

    def close(self) -> None:
        self.db.close()

    def _exists(self) -> bool:
        return self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'evidence_blob'").fetchone() is not None

    def keep(self, file: Path, sha256: str, size: int) -> bool:
        """Copy the file in, unless its bytes are already kept; False when they were.

        The copy is hashed as it is written: a file changed since it was fingerprinted is
        refused and nothing is kept."""
        with file.open("rb") as source:
            return self.put(sha256, size, iter(lambda: source.read(CHUNK), b""), Refusal(_(
                "evidence file {path} changed while it was being kept: record the follow-up "
                "again once the file is final").format(path=file)))

    def put(self, sha256: str, size: int, chunks: Iterable[bytes], mismatch: Refusal) -> bool:
        """Write these bytes in as the kept file ``sha256``, unless it is already kept (False);
        ``mismatch`` is raised, and nothing kept, when they do not hash to it or differ in
        size."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for statement in SCHEMA.split(";\n"):
                if statement.strip():
                    self.db.execute(statement)
            if self.db.execute("SELECT 1 FROM evidence_blob WHERE sha256 = ?",
                               (sha256,)).fetchone():
                self.db.execute("ROLLBACK")
                return False
            cursor = self.db.execute(
                "INSERT INTO evidence_blob (sha256, size, content) VALUES (?, ?, zeroblob(?))",
                (sha256, size, size))
            digest = hashlib.sha256()
            written = 0
            with self.db.blobopen("evidence_blob", "content", cursor.lastrowid or 0) as blob:
                for chunk in chunks:
                    if written + len(chunk) > size:
                        written += len(chunk)
                        break
                    blob.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
            if written != size or digest.hexdigest() != sha256:
                raise mismatch
            self.db.execute("COMMIT")
            return True
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def kept(self) -> list[Kept]:
        """Every kept file, by SHA-256."""
        if not self._exists():
            return []
        return [Kept(sha, size) for sha, size in self.db.execute(
            "SELECT sha256, size FROM evidence_blob ORDER BY sha256")]

    def find(self, prefix: str) -> Kept:
        """The kept file whose SHA-256 is, or begins with (12 hex digits or more), prefix."""
        wanted = wanted_sha(prefix)
        rows = self.db.execute(
            "SELECT sha256, size FROM evidence_blob WHERE sha256 >= ? AND sha256 < ? LIMIT 2",
            (wanted, wanted + "g"),
        ).fetchall() if self._exists() else []
        return the_one(wanted, rows)

    def chunks(self, sha256: str) -> Iterator[bytes]:
        row = self.db.execute("SELECT rowid FROM evidence_blob WHERE sha256 = ?",
                              (sha256,)).fetchone()
        with self.db.blobopen("evidence_blob", "content", row[0], readonly=True) as blob:
            while chunk := blob.read(CHUNK):
                yield chunk

    def damaged(self) -> tuple[int, list[str]]:
        """(how many kept files were checked, the SHA-256 of each whose bytes no longer hash
        to it or whose size differs)."""
        if not self._exists():
            return 0, []
        keys = self.db.execute("SELECT sha256, size FROM evidence_blob ORDER BY sha256"
                               ).fetchall()
        return len(keys), rehash(self, keys)
