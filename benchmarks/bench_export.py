"""Exporting a year against replaying to the same date (issue 9: at most 1.5x, 2.5x for XLSX).

    python benchmarks/bench_export.py [EVENTS]     (default 100000)
"""

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from _store import build
from bench_replay import raw_read

from auditlog.projections.model import Moment
from auditlog.projections.summary import status_report
from auditlog.reports.export import write_review
from auditlog.reports.render import ExportFormat
from auditlog.reports.review import build_review
from auditlog.reports.review_fold import read_for_review
from auditlog.reports.views import event_detail, fold, read_model
from auditlog.store.app import Store


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    year, on = 2023, date(2023, 12, 31)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        size = build(path, events)
        store = Store(str(path))
        read_model(store, Moment())  # catch the projection up once, as any earlier command would
        floor = min(timed(lambda: raw_read(path)) for _ in range(3))
        replay = timed(lambda: status_report(fold(store, Moment(as_of=on)), on))
        results = {}
        for fmt in ExportFormat:
            target = Path(tmp) / ("review.zip" if fmt is ExportFormat.csv else f"review.{fmt}")

            def export(fmt: ExportFormat = fmt, target: Path = target) -> None:
                # What `auditlog export` does, minus parsing and printing.
                log = read_for_review(store, year, Moment(as_of=on))
                review = build_review(log, year, event_detail, "id")
                write_review(review, target, fmt, "id")

            results[fmt.value] = timed(export)
        store.close()
    print(f"store of {size} events; raw floor (read the rows) {floor:.3f} s")
    print(f"replay --to {on}: {replay:.3f} s ({replay / floor:.1f}x the floor)")
    for name, seconds in results.items():
        print(f"export --year {year} --format {name:5}: {seconds:7.3f} s  "
              f"{seconds / replay:5.2f}x replay  ({seconds / floor:.1f}x the floor)")


if __name__ == "__main__":
    main()
