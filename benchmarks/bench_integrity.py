"""What the hash chain costs: recording with and without it, and verify against plain reading.

    python benchmarks/bench_integrity.py            # 100k events to verify, 3k recordings
    python benchmarks/bench_integrity.py --events 1000000 --records 5000

Prints figures and the ratios the integrity issue promises: recording an event with its chain
entry costs at most 1.3x recording it without, and verifying a log takes at most 3x the time
of reading its rows. Each timing is the best of a few runs, taken in turns, on fresh
temporary stores. Verify runs once in one process and once as it does by default (worker
processes, one per CPU, from 65536 events on): on a busy machine the second needs idle CPUs.
"""

import argparse
import gc
import os
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import Application
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic

from auditlog.domain.aggregate import Aggregate
from auditlog.domain.events import Evidence, FollowUpRecorded
from auditlog.store.app import Store
from auditlog.store.integrity import verify_store
from auditlog.store.mapper import PydanticMapper
from auditlog.store.recorder import AuditRecorder

FINDING = uuid5(NAMESPACE_URL, "https://auditlog.invalid/bench")


def follow_up(n: int, originator: UUID = FINDING) -> FollowUpRecorded:
    """A typical event: a follow-up with a deposit and two evidence fingerprints (~500 bytes)."""
    return FollowUpRecorded(
        originator_id=originator, originator_version=n, actor="auditor.inspektorat",
        recorded_at=datetime(2024, 1, 15, 9, 0, tzinfo=UTC), effective_on=date(2024, 1, 10),
        recommendation=1 + n % 3, action=f"Setoran ke kas daerah, tahap {n}",
        deposit=1_500_000 + n, slip=f"STS-{n:06d}",
        evidence=(Evidence(name="sts.pdf", sha256="ab" * 32, size=48_213),
                  Evidence(name="sk-iku.pdf", sha256="cd" * 32, size=120_004)),
    )


class Holder(Aggregate):
    """Just enough of an aggregate for Application.save to take pending events from."""


def app_for(path: Path, recorder: type[SQLiteApplicationRecorder]) -> Application[UUID]:
    class Bench(Application[UUID]):
        name = "auditlog"

        def construct_mapper(self) -> Mapper[UUID]:
            return PydanticMapper()

    return Bench(env={
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "15", "APPLICATION_RECORDER_TOPIC": get_topic(recorder),
    })


# --- recording ---------------------------------------------------------------------------------


def record_with(recorder: type[SQLiteApplicationRecorder], count: int, folder: Path) -> float:
    """Seconds to save `count` events, one per transaction, as commands do."""
    app = app_for(folder / f"{recorder.__name__}-{time.perf_counter_ns()}.db", recorder)
    holder = Holder(id=FINDING)
    events = [follow_up(n) for n in range(1, count + 1)]
    gc.collect()
    start = time.perf_counter()
    for event in events:
        holder._pending.append(event)
        app.save(holder)
    elapsed = time.perf_counter() - start
    app.close()
    return elapsed


def insert_with(recorder: type[SQLiteApplicationRecorder], count: int, folder: Path) -> float:
    """Seconds for the recorder alone to store `count` mapped events, one per transaction."""
    app = app_for(folder / f"{recorder.__name__}-raw-{time.perf_counter_ns()}.db", recorder)
    stored = [app.mapper.to_stored_event(follow_up(n)) for n in range(1, count + 1)]
    gc.collect()
    start = time.perf_counter()
    for one in stored:
        app.recorder.insert_events([one])
    elapsed = time.perf_counter() - start
    app.close()
    return elapsed


def raw_inserts(count: int, folder: Path) -> float:
    """The floor: plain sqlite3 INSERTs of the same rows, one committed transaction each."""
    db = sqlite3.connect(folder / f"raw-{time.perf_counter_ns()}.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
               "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))")
    mapper = PydanticMapper()
    rows = [(UUID(str(s.originator_id)).hex, s.originator_version, s.topic, s.state)
            for s in (mapper.to_stored_event(follow_up(n)) for n in range(1, count + 1))]
    start = time.perf_counter()
    for row in rows:
        db.execute("BEGIN")
        db.execute("INSERT INTO stored_events VALUES (?, ?, ?, ?)", row)
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


# --- verifying ---------------------------------------------------------------------------------


def build_log(path: Path, count: int, batch: int = 1000) -> None:
    """`count` events through the real recorder (so every one has its link), in big batches."""
    store = Store(str(path))
    mapper = store.app.mapper
    made = 0
    while made < count:
        size = min(batch, count - made)
        originator = uuid5(NAMESPACE_URL, f"https://auditlog.invalid/bench/{made}")
        events: Sequence[StoredEvent] = [
            mapper.to_stored_event(follow_up(n, originator)) for n in range(1, size + 1)]
        store.app.recorder.insert_events(events)
        made += size
    store.close()


def plain_read(path: Path) -> float:
    """The floor: every row of the events table, in log order, through plain sqlite3."""
    db = sqlite3.connect(path)
    start = time.perf_counter()
    for _ in db.execute("SELECT rowid, * FROM stored_events ORDER BY rowid"):
        pass
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def notifications_read(path: Path) -> float:
    """For context: the same rows read the way projections read them (eventsourcing batches)."""
    store = Store(str(path))
    start = time.perf_counter()
    for _ in store.notifications():
        pass
    elapsed = time.perf_counter() - start
    store.close()
    return elapsed


def verify_time(path: Path, workers: int | None) -> float:
    store = Store(str(path))
    start = time.perf_counter()
    report = verify_store(store, workers=workers)
    elapsed = time.perf_counter() - start
    store.close()
    assert report.ok, [p.line() for p in report.problems]
    return elapsed


def verify_peak(path: Path) -> int:
    """Peak Python memory during verify, in bytes (sqlite's own page cache is bounded)."""
    store = Store(str(path))
    gc.collect()
    tracemalloc.start()
    verify_store(store, workers=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    store.close()
    return peak


def interleaved(runs: int, *fns: Callable[[], float]) -> list[float]:
    """Best of `runs` for each, taken in turns so that a busy moment hits all of them alike."""
    best_of = [float("inf")] * len(fns)
    for _ in range(runs):
        for i, fn in enumerate(fns):
            best_of[i] = min(best_of[i], fn())
    return best_of


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events to verify")
    parser.add_argument("--records", type=int, default=2_000, help="events to record, timed")
    parser.add_argument("--runs", type=int, default=5, help="best of this many runs")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        n = args.records
        print(f"recording {n} events, one transaction each (best of {args.runs}, in turns):")
        raw, plain, chained = interleaved(
            args.runs,
            lambda: raw_inserts(n, folder),
            lambda: record_with(SQLiteApplicationRecorder, n, folder),
            lambda: record_with(AuditRecorder, n, folder),
        )
        print(f"  raw sqlite3 INSERT + COMMIT        {raw / n * 1e6:8.1f} us/event")
        print(f"  app.save without the chain         {plain / n * 1e6:8.1f} us/event"
              f"  ({plain / raw:.2f}x raw)")
        print(f"  app.save with the chain            {chained / n * 1e6:8.1f} us/event"
              f"  ({chained / raw:.2f}x raw)")
        print(f"  ratio with/without chain           {chained / plain:8.2f}x   (promise: <= 1.3x)")
        plain_rec, chained_rec = interleaved(
            args.runs,
            lambda: insert_with(SQLiteApplicationRecorder, n, folder),
            lambda: insert_with(AuditRecorder, n, folder),
        )
        print(f"  recorder alone, without / with     {plain_rec / n * 1e6:8.1f} / "
              f"{chained_rec / n * 1e6:.1f} us/event = {chained_rec / plain_rec:.2f}x")

        path = folder / "log.db"
        print(f"\nbuilding a log of {args.events} events ...", flush=True)
        build_log(path, args.events)
        print(f"  file size {os.path.getsize(path) / 1e6:.1f} MB")
        cpus = os.cpu_count() or 1
        read, notes, one, split = interleaved(
            args.runs,
            lambda: plain_read(path),
            lambda: notifications_read(path),
            lambda: verify_time(path, 1),
            lambda: verify_time(path, None),
        )
        print(f"verifying {args.events} events (best of {args.runs}, in turns):")
        print(f"  plain read of the rows (sqlite3)   {read:8.3f} s")
        print(f"  read as notifications (batches)    {notes:8.3f} s")
        print(f"  verify, one process                {one:8.3f} s  = {one / read:.2f}x plain read")
        print(f"  verify, default ({cpus} CPU{'s' if cpus > 1 else ''})         {split:8.3f} s"
              f"  = {split / read:.2f}x plain read   (promise: <= 3x)"
              f"  ({args.events / split:,.0f} events/s)")

        small = folder / "small.db"
        build_log(small, max(1, args.events // 10))
        print("peak Python memory during verify (tracemalloc, one process):")
        print(f"  {args.events // 10:>9} events  {verify_peak(small) / 1024:8.0f} KiB")
        print(f"  {args.events:>9} events  {verify_peak(path) / 1024:8.0f} KiB")


if __name__ == "__main__":
    main(sys.argv[1:])
