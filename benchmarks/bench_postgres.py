"""PostgreSQL at N events, each path against a raw floor measured in the same run.

    .ci/pg .venv/bin/python benchmarks/bench_postgres.py [EVENTS]     (default 100000)

Needs AUDITLOG_TEST_PG, a superuser URL of a server to make throwaway databases on (.ci/pg
starts one). Prints times and ratios:
- recording in bulk (Store.save_in_chunks' insert path: our recorder, hash chain and
  triggers, chunks of copy.BATCH events in one transaction) against psycopg's executemany of
  the same rows into a bare table, in the same chunks;
- `auditlog status` against `auditlog --version` (start-up is the floor);
- `rebuild` against reading every row and decoding it to its event;
- 8 processes recording at once: events per second, and events lost (must be 0).
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psycopg
from build_store import build
from eventsourcing.persistence import StoredEvent
from psycopg.conninfo import conninfo_to_dict

from auditlog.projections.persisted import Projection
from auditlog.store.app import Store
from auditlog.store.copy import BATCH as BULK
from auditlog.store.copy import open_empty_target
from auditlog.store.integrity import verify_store
from auditlog.store.mapper import decode_event

AUDITLOG = str(Path(sys.executable).with_name("auditlog"))
RECORDERS = 8
EACH = 20  # findings per recorder (two events each: its reference and itself)

RECORDER = """
import sys
from datetime import UTC, date, datetime
from auditlog import commands
from auditlog.domain.aggregate import Context
from auditlog.domain.events import RecommendationSpec
from auditlog.store.app import Store

url, worker, each = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = Store(url)
user = store.session_user()
for i in range(each):
    commands.record_finding(store, Context(user, datetime.now(UTC)), commands.NewFinding(
        pemda="11.01", title=f"temuan {worker}-{i}", received=date(2024, 1, 2),
        recommendations=[RecommendationSpec(n=1, text="setor")]))
store.close()
"""


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """The median of ``repeat`` runs: a machine shared with other work has slow outliers."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextmanager
def database(admin: str) -> Iterator[str]:
    name = f"auditlog_bench_{uuid.uuid4().hex[:8]}"
    with closing(psycopg.connect(admin, autocommit=True)) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    parts = {k: v for k, v in conninfo_to_dict(admin).items() if v is not None}
    url = (f"postgresql://{parts['user']}:{parts['password']}@{parts['host']}:{parts['port']}"
           f"/{name}")
    try:
        yield url
    finally:
        with closing(psycopg.connect(admin, autocommit=True)) as db:
            db.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def raw_insert(url: str, rows: list[tuple[uuid.UUID, int, str, bytes]], batch: int) -> None:
    with closing(psycopg.connect(url)) as db:
        db.execute("CREATE TABLE raw (originator_id uuid NOT NULL, originator_version bigint "
                   "NOT NULL, topic text, state bytea, notification_id bigserial, "
                   "PRIMARY KEY (originator_id, originator_version))")
        db.commit()
        for start in range(0, len(rows), batch):
            with db.cursor() as cursor:
                cursor.executemany("INSERT INTO raw (originator_id, originator_version, topic, "
                                   "state) VALUES (%s, %s, %s, %s)", rows[start:start + batch])
            db.commit()


def raw_read_decode(url: str) -> int:
    count = 0
    with closing(psycopg.connect(url)) as db, db.cursor(name="all") as cursor:
        cursor.itersize = 2000
        cursor.execute("SELECT originator_id, originator_version, topic, state "
                       "FROM stored_events ORDER BY notification_id")
        import orjson

        for oid, version, topic, state in cursor:
            decode_event(topic, oid, version, orjson.loads(state))
            count += 1
    return count


def findings(url: str) -> int:
    with closing(psycopg.connect(url)) as db:
        row = db.execute("SELECT count(*) FROM stored_events "
                         "WHERE topic = 'auditlog.finding.recorded'").fetchone()
    assert row is not None
    return int(row[0])


def cli(*args: str) -> None:
    subprocess.run([AUDITLOG, *args], check=True, capture_output=True)


def main(events: int) -> None:
    admin = os.environ.get("AUDITLOG_TEST_PG")
    if not admin:
        sys.exit("set AUDITLOG_TEST_PG (run through .ci/pg)")
    with tempfile.TemporaryDirectory() as tmp:
        source_path = Path(tmp) / "source.db"
        size = build(source_path, events)
        source = Store(str(source_path))
        rows = [(uuid.UUID(str(n.originator_id)), n.originator_version, n.topic, bytes(n.state))
                for batch in source.notifications() for n in batch]
        print(f"{size} events, PostgreSQL {psycopg.connect(admin).info.server_version}")

        with database(admin) as url, database(admin) as floor:
            target = open_empty_target(url, str(uuid.uuid4()))
            stored = [StoredEvent(originator_id=oid, originator_version=version, topic=topic,
                                  state=state) for oid, version, topic, state in rows]
            recorder: Any = target.app.recorder
            start = time.perf_counter()
            # Store.save_in_chunks' insert path: one transaction, a chunk at a time.
            with recorder.datastore.transaction(commit=True) as cursor:
                for first in range(0, len(stored), BULK):
                    recorder.insert_in(cursor, stored[first:first + BULK])
            ours = time.perf_counter() - start
            target.close()
            start = time.perf_counter()
            raw_insert(floor, rows, BULK)
            raw = time.perf_counter() - start
            print(f"bulk record   {ours:7.2f} s   raw executemany {raw:7.2f} s   "
                  f"ratio {ours / raw:5.2f}x (goal <= 3x)")

            cli("--db", url, "status")  # brings the projections up to the log
            status = timed(lambda: cli("--db", url, "status"))
            version = timed(lambda: cli("--version"))
            print(f"status        {status:7.2f} s   --version       {version:7.2f} s   "
                  f"ratio {status / version:5.2f}x (goal <= 1.3x)")

            store = Store(url)
            projection = Projection(store)
            rebuild = timed(projection.rebuild, repeat=1)
            projection.close()
            store.close()
            floor_read = timed(lambda: raw_read_decode(url), repeat=1)
            print(f"rebuild       {rebuild:7.2f} s   read + decode   {floor_read:7.2f} s   "
                  f"ratio {rebuild / floor_read:5.2f}x (goal <= 3x)")

            store = Store(url)
            before, findings_before = store.max_position(), findings(url)
            store.close()
            # As auditors record: the store stamps each save under its lock. build() pinned
            # AUDITLOG_NOW for the built store; inherited, it kept the workers' own clock
            # times, taken before the lock, and the store refused those behind the log.
            clock = {k: v for k, v in os.environ.items() if k != "AUDITLOG_NOW"}
            start = time.perf_counter()
            workers = [subprocess.Popen([sys.executable, "-c", RECORDER, url, str(w),
                                         str(EACH)], env=clock) for w in range(RECORDERS)]
            codes = [w.wait() for w in workers]
            elapsed = time.perf_counter() - start
            store = Store(url)
            added = store.max_position() - before
            intact = verify_store(store).ok
            store.close()
            # A worker exits 0 only when every one of its findings was recorded.
            promised = EACH * codes.count(0)
            lost = promised - (findings(url) - findings_before)
            print(f"{RECORDERS} recorders    {elapsed:7.2f} s   {added / elapsed:7.0f} "
                  f"events/s ({added} events, process start-up included)   lost {lost}   "
                  f"exits {sorted(codes)}   chain {'intact' if intact else 'BROKEN'}")
        source.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
