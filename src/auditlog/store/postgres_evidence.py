"""Kept evidence on PostgreSQL: the same promise as on SQLite (store/evidence.py), in two
append-only tables made with the store (postgres.EVIDENCE_SCHEMA): ``evidence_blob`` names each
kept file by its SHA-256 with its size, ``evidence_chunk`` holds its bytes as bytea rows of
CHUNK bytes, so a file is written and read a chunk at a time, never whole in memory.

A file is kept in one transaction that commits only if the bytes written hash to the SHA-256
recorded in the follow-up; two writers keeping the same file at once keep it once (the second
waits on the primary key, then finds it kept).
"""

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import psycopg

from auditlog.errors import Refusal
from auditlog.i18n import _
from auditlog.store import evidence
from auditlog.store.evidence import Kept, rehash, the_one, wanted_sha
from auditlog.store.postgres import EVIDENCE_TABLES, PostgresEngine, _first_line


class PostgresVault:
    def __init__(self, engine: PostgresEngine) -> None:
        self.engine = engine
        self.db: psycopg.Connection[Any] = engine.target.connect()
        self._readable = False

    def _require_readable(self) -> None:
        """A role whose group lacks the grants on the kept evidence is told so in one line
        before a read, not with the database's 'permission denied' (checked once)."""
        if self._readable:
            return
        user, tables = self.unreadable()
        if tables:
            raise Refusal(_("the role {user} may not read the kept evidence in {where} "
                            "({tables}): have the store's owner run 'auditlog roles setup' "
                            "again").format(user=user, where=self.engine.target.where(),
                                            tables=", ".join(tables)))
        self._readable = True

    def close(self) -> None:
        self.db.close()

    def _refused(self, error: psycopg.Error) -> Refusal:
        if isinstance(error, psycopg.errors.UndefinedTable):
            return Refusal(_("the store at {target} has no table for kept evidence yet (made "
                             "by an earlier auditlog): its owner adds it by running "
                             "'auditlog init' once").format(target=self.engine.display))
        return Refusal(_("the database refused to keep evidence: {line}; nothing was kept "
                         "(ask the store's owner for 'auditlog roles grant')").format(
                             line=_first_line(error)))

    def keep(self, file: Path, sha256: str, size: int) -> bool:
        """Copy the file in, unless its bytes are already kept; False when they were."""
        try:
            with self.db.transaction(), self.db.cursor() as c:
                c.execute("SELECT set_config('lock_timeout', %s, true)",
                          (f"{int(self.engine.lock_timeout)}s",))
                c.execute("INSERT INTO evidence_blob (sha256, size) VALUES (%s, %s) "
                          "ON CONFLICT (sha256) DO NOTHING", (sha256, size))
                if c.rowcount == 0:
                    return False
                with file.open("rb") as source:
                    # evidence.CHUNK read here, as on SQLite, not bound at import
                    whole = write_chunks(c, sha256, size,
                                         iter(lambda: source.read(evidence.CHUNK), b""))
                if not whole:
                    raise Refusal(_("evidence file {path} changed while it was being kept: "
                                    "record the follow-up again once the file is "
                                    "final").format(path=file))
            return True
        except psycopg.errors.LockNotAvailable:
            raise Refusal(_("another writer held the store at {target} past "
                            "AUDITLOG_LOCK_TIMEOUT; nothing was kept: try again").format(
                                target=self.engine.display)) from None
        except (psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege) as error:
            raise self._refused(error) from None

    def _keys(self, query: str, params: tuple[Any, ...]) -> list[Any]:
        try:
            with self.db.transaction():
                return self.db.execute(query, params).fetchall()
        except psycopg.errors.UndefinedTable:  # a store from before kept evidence: none kept
            return []

    def find(self, prefix: str) -> Kept:
        wanted = wanted_sha(prefix)
        self._require_readable()
        return the_one(wanted, self._keys(
            "SELECT sha256, size FROM evidence_blob WHERE sha256 >= %s AND sha256 < %s "
            "LIMIT 2", (wanted, wanted + "g")))

    def chunks(self, sha256: str) -> Iterator[bytes]:
        # A server-side cursor, one chunk fetched at a time, in one snapshot.
        self._require_readable()
        with self.db.transaction(), self.db.cursor(name="auditlog_evidence") as cursor:
            cursor.itersize = 1
            cursor.execute("SELECT content FROM evidence_chunk WHERE sha256 = %s ORDER BY n",
                           (sha256,))
            for (content,) in cursor:
                yield bytes(content)

    def kept(self) -> list[Kept]:
        self._require_readable()
        with self.db.cursor() as c:
            return kept_files(c)

    def unreadable(self) -> tuple[str, list[str]]:
        """The role logged in, and the tables of kept evidence it may not read (none in a
        store from before kept evidence): a role may hold the log's grants and not these
        (the owner's upgrade adds them, without grants, to a store set up earlier)."""
        with self.db.transaction():
            row = self.db.execute(
                "SELECT session_user::text, ARRAY(SELECT tablename::text FROM pg_tables "
                "WHERE schemaname = current_schema() AND tablename = ANY(%s) AND NOT "
                "has_table_privilege(quote_ident(schemaname) || '.' || quote_ident(tablename), "
                "'SELECT') ORDER BY tablename)", (list(EVIDENCE_TABLES),)).fetchone()
        assert row is not None
        return str(row[0]), list(row[1])

    def damaged(self) -> tuple[int, list[str]]:
        self._require_readable()
        keys = self._keys("SELECT sha256, size FROM evidence_blob ORDER BY sha256", ())
        return len(keys), rehash(self, keys)


def write_chunks(c: psycopg.Cursor[Any], sha256: str, size: int, chunks: Iterable[bytes]
                 ) -> bool:
    """Insert these bytes as the chunk rows of ``sha256`` (its evidence_blob row already
    inserted, in the caller's transaction); False when they do not hash to it or differ in
    size, and the caller then rolls back."""
    digest = hashlib.sha256()
    written = 0
    for n, chunk in enumerate(chunks):
        if written + len(chunk) > size:
            written += len(chunk)
            break
        c.execute("INSERT INTO evidence_chunk (sha256, n, content) VALUES (%s, %s, %s)",
                  (sha256, n, chunk))
        digest.update(chunk)
        written += len(chunk)
    return written == size and digest.hexdigest() == sha256


def kept_files(c: psycopg.Cursor[Any], held: bool = False) -> list[Kept]:
    """Every kept file by SHA-256, with its recorded size, or (``held``) the bytes its chunk
    rows hold; none in a store from before kept evidence."""
    size = "coalesce(sum(length(k.content)), 0)" if held else "b.size"
    try:
        with c.connection.transaction():
            c.execute(f"SELECT b.sha256, {size} FROM evidence_blob AS b LEFT JOIN "
                      "evidence_chunk AS k ON k.sha256 = b.sha256 GROUP BY b.sha256, b.size "
                      "ORDER BY b.sha256")
            return [Kept(sha, int(n)) for sha, n in c.fetchall()]
    except psycopg.errors.UndefinedTable:
        return []
