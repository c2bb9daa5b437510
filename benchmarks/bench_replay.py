"""Replay to a date and rebuild against the raw floor: reading the same rows from SQLite
and decoding their JSON (orjson.loads), nothing else, as benchmarks/run.py's floor.

    python benchmarks/bench_replay.py [EVENTS]     (default 100000)

Prints the times and the ratios (in-process: no start-up), and the peak memory of a replay to
an early and a late date: replay streams the log in batches, so its memory follows the state,
not the log.
"""

import sqlite3
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path

import orjson
from build_store import build

from auditlog.projections.model import Moment
from auditlog.projections.persisted import Projection
from auditlog.projections.summary import status_report
from auditlog.reports.views import fold, read_model
from auditlog.store.app import Store


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def raw_read(path: Path) -> None:
    db = sqlite3.connect(path)
    cursor = db.execute("SELECT rowid, originator_id, originator_version, topic, state "
                        "FROM stored_events ORDER BY rowid")
    while rows := cursor.fetchmany(5000):
        for row in rows:
            orjson.loads(row[4])
    db.close()


def peak_mib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        start = time.perf_counter()
        size = build(path, events)
        print(f"built a store of {size} events in {time.perf_counter() - start:.1f} s")
        store = Store(str(path))
        floor = timed(lambda: raw_read(path))
        late, early = date(2024, 12, 31), date(2019, 6, 30)
        replay_late = timed(lambda: status_report(fold(store, Moment(as_of=late)), late), 1)
        replay_early = timed(lambda: status_report(fold(store, Moment(as_of=early)), early), 1)
        start = time.perf_counter()
        status_report(read_model(store, Moment()), late)  # first call catches up
        catch_up = time.perf_counter() - start
        now = timed(lambda: status_report(read_model(store, Moment()), late))
        snapshot = timed(lambda: status_report(
            read_model(store, Moment(as_of=date(2023, 6, 30))), date(2023, 6, 30)))
        projection = Projection(store)
        rebuild = timed(projection.rebuild, 1)
        projection.close()
        mem_late = peak_mib(lambda: fold(store, Moment(as_of=late)))
        mem_early = peak_mib(lambda: fold(store, Moment(as_of=early)))
        store.close()
    print(f"raw floor: read and decode {size} rows       {floor:8.3f} s")
    print(f"replay --to {late} (whole log)          {replay_late:8.3f} s  "
          f"ratio {replay_late / floor:6.1f}x")
    print(f"replay --to {early} (early date)         {replay_early:8.3f} s  "
          f"ratio {replay_early / floor:6.1f}x")
    print(f"projection catch-up from empty            {catch_up:8.3f} s")
    print(f"rebuild (lean fold, one write)            {rebuild:8.3f} s  "
          f"ratio {rebuild / floor:6.1f}x")
    print(f"status (persisted projection)             {now:8.3f} s  ratio {now / floor:6.1f}x")
    print(f"status --as-of 2023-06-30 (semester)      {snapshot:8.3f} s  "
          f"ratio {snapshot / floor:6.1f}x")
    print(f"replay peak memory: late {mem_late:.1f} MiB, early {mem_early:.1f} MiB")


if __name__ == "__main__":
    main()
