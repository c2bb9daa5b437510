"""Importing a register of ROWS rows (the issue: 50,000) against the raw floor.

    python benchmarks/bench_import.py [ROWS] [RUNS]     (default 50000 rows, 3 runs)

Prints, each measured in this run:
- reading alone: the importer's reader against python-calamine reading the same file
  (goal <= 1.5x);
- per run, then the median of the runs: the whole `auditlog import` (read, check every row,
  plan, save in one transaction with the hash chain, projections caught up) in a child
  process into a new store, against a raw SQLite executemany of the same stored rows (events
  and chain) in one transaction (goal <= 4x); where its time went (reading and checking,
  planning and saving, catching the projections up, the rest: start-up, witness, output),
  timed inside that child; the same ratio in CPU time (a loaded machine stretches wall
  times unevenly); and its peak memory (its max RSS; goal <= 300 MB).
"""

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import python_calamine
import xlsxwriter

from auditlog.importer.columns import Matcher
from auditlog.importer.read import load, read_table

PEMDA = ["35.73", "35.10", "35.78", "35.07", "35.15", "33.74", "32.73", "31.74"]
STATUSES = ["Belum Ditindaklanjuti", "Dalam Proses", "Sesuai", "", "Belum Sesuai"]
HEAD = ["No", "Pemda", "OPD", "Nomor LHP", "Tanggal LHP", "Judul Temuan", "Nilai Temuan",
        "Rekomendasi", "Nilai Rekomendasi", "Tindak Lanjut", "Tanggal Tindak Lanjut",
        "Nilai Setor", "Status", "Tanggal Reviu"]


def make_register(path: Path, rows: int) -> None:
    """Findings of two recommendations each, merged title cells, half with a follow-up."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("Matriks")
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write(0, 0, "MATRIKS PEMANTAUAN TINDAK LANJUT")
    sheet.write_row(2, 0, HEAD)
    start = date(2021, 1, 4)
    for i in range(rows):
        r = 3 + i
        finding = i // 2
        issued = start + timedelta(days=finding % 900)
        sheet.write_row(r, 0, [i + 1, PEMDA[finding % len(PEMDA)], f"OPD {finding % 40}",
                               f"700/{finding}/ITDA"])
        sheet.write_datetime(r, 4, issued, day)
        sheet.write_row(r, 5, [f"Temuan nomor {finding} tentang pengelolaan keuangan",
                               (finding % 97) * 1_000_000,
                               f"Rekomendasi {i % 2 + 1} atas temuan {finding}",
                               (finding % 13) * 500_000])
        if i % 2 == 0:
            sheet.write_row(r, 9, ["Setoran ke kas daerah"])
            sheet.write_datetime(r, 10, issued + timedelta(days=30), day)
            sheet.write(r, 11, f"Rp{(finding % 7) * 100_000:,}".replace(",", "."))
        sheet.write(r, 12, STATUSES[i % len(STATUSES)])
        if STATUSES[i % len(STATUSES)] not in ("", "Belum Ditindaklanjuti"):
            sheet.write_datetime(r, 13, issued + timedelta(days=40), day)
    workbook.close()


def timed(fn: Callable[[], object]) -> float:
    begin = time.perf_counter()
    fn()
    return time.perf_counter() - begin


def best_of_pair(a: Callable[[], object], b: Callable[[], object], times: int = 5
                 ) -> tuple[float, float]:
    """Each one's best of `times`, run alternately so that load from elsewhere on the machine
    falls on both alike."""
    runs = [(timed(a), timed(b)) for _ in range(times)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def raw_calamine(path: Path) -> None:
    with python_calamine.CalamineWorkbook.from_path(str(path)) as workbook:
        workbook.get_sheet_by_name("Matriks").to_python(skip_empty_area=False)


def our_reader(path: Path) -> None:
    matcher = Matcher()
    read_table(load(path), None, matcher.score)


def raw_floor(store: Path, target: Path) -> tuple[float, float, int]:
    """executemany of the store's event and chain rows into an empty copy of its schema."""
    source = sqlite3.connect(store)
    tables = ["stored_events", "integrity_chain"]
    schema = [sql for name, sql in source.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table'") if name in tables]
    rows = {t: source.execute(f"SELECT * FROM {t}").fetchall() for t in tables}
    source.close()
    db = sqlite3.connect(target, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    for sql in schema:
        db.execute(sql)

    def insert() -> None:
        db.execute("BEGIN")
        for table, values in rows.items():
            marks = ",".join("?" * len(values[0]))
            db.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
        db.execute("COMMIT")

    cpu = time.process_time()
    took = timed(insert)
    cpu = time.process_time() - cpu
    db.close()
    return took, cpu, len(rows["stored_events"])


# The child: `auditlog import FILE` as the console script runs it, with each phase timed.
CHILD = """
import json, os, resource, sys, time
from auditlog.importer import run
from auditlog.projections.persisted import Projection

times = {}

def timed(name, fn):
    def phase(*args, **kwargs):
        begin, cpu = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            times[name] = times.get(name, 0.0) + time.perf_counter() - begin
            times[name + " cpu"] = times.get(name + " cpu", 0.0) + time.process_time() - cpu
            times[name + " peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return phase

run.prepare = timed("read", run.prepare)
run.save = timed("save", run.save)
Projection.catch_up = timed("project", Projection.catch_up)
Projection.rebuild = timed("project", Projection.rebuild)  # an import into an empty store
sys.argv = ["auditlog", "import", sys.argv[1]]
from auditlog.cli.main import main
try:
    main()
finally:
    with open(os.environ["BENCH_TIMES"], "w") as out:
        json.dump(times, out)
"""
PHASES = (("read", "reading and checking every row"),
          ("save", "planning and saving with the chain"),
          ("project", "catching the projections up"),
          ("rest", "the rest (start-up, witness, output)"))


def one_import(register: Path, folder: Path) -> tuple[dict[str, float], str]:
    """One import into a new store in a child process: its figures (seconds and MB) and
    what it printed."""
    for old in folder.glob("store.db*"):
        old.unlink()
    db = folder / "store.db"
    env = {**os.environ, "AUDITLOG_DB": str(db), "AUDITLOG_NOW": "2024-01-15T09:00:00Z",
           "AUDITLOG_ACTOR": "bench", "BENCH_TIMES": str(folder / "times.json"),
           "AUDITLOG_WITNESS": str(folder / "witness")}
    with (folder / "out.txt").open("w") as out, (folder / "err.txt").open("w") as err:
        begin = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(register)], env=env,
                                 stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        took = time.perf_counter() - begin
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"import failed: {(folder / 'err.txt').read_text()}")
    times = json.loads((folder / "times.json").read_text())
    peaks = {key: times.pop(key) for key in list(times) if key.endswith((" peak", " cpu"))}
    floor, floor_cpu, events = raw_floor(db, folder / "raw.db")
    (folder / "raw.db").unlink()
    cpu = usage.ru_utime + usage.ru_stime
    peaks["rest cpu"] = cpu - sum(peaks[f"{key} cpu"] for key in times)
    return ({"total": took, **times, "rest": took - sum(times.values()), "floor": floor,
             "events": events, "peak": usage.ru_maxrss / 1024, **peaks,
             "cpu": cpu, "floor cpu": floor_cpu},
            (folder / "out.txt").read_text().strip())


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        register = folder / "register.xlsx"
        make_register(register, rows)
        print(f"register: {rows} rows, {register.stat().st_size / 1e6:.1f} MB")

        ours, raw = best_of_pair(lambda: our_reader(register), lambda: raw_calamine(register))
        print(f"reading alone: {ours:.2f} s against python-calamine {raw:.2f} s: "
              f"{ours / raw:.2f}x (goal <= 1.5x)")

        done = []
        for n in range(1, runs + 1):
            figures, summary = one_import(register, folder)
            if n == 1:
                print(summary)
            done.append(figures)
            split = ", ".join(f"{key} {figures[key]:.2f} s" for key, _ in PHASES)
            print(f"run {n}: {figures['total']:.2f} s for {figures['events']:.0f} events "
                  f"against raw executemany {figures['floor']:.2f} s: "
                  f"{figures['total'] / figures['floor']:.1f}x ({split}); "
                  f"peak {figures['peak']:.0f} MB (after reading "
                  f"{figures['read peak']:.0f}, saving {figures['save peak']:.0f})")

        def median(key: str) -> float:
            return statistics.median(f[key] for f in done)

        ratio = statistics.median(f["total"] / f["floor"] for f in done)
        print(f"import (median of {runs}): {median('total'):.2f} s against raw executemany "
              f"{median('floor'):.2f} s: {ratio:.1f}x (goal <= 4x)")
        for key, name in PHASES:
            part = statistics.median(f[key] / f["floor"] for f in done)
            part_cpu = statistics.median(f[key + " cpu"] / f["floor cpu"] for f in done)
            print(f"  {name}: {median(key):.2f} s ({part:.1f}x the raw floor; CPU "
                  f"{median(key + ' cpu'):.2f} s, {part_cpu:.1f}x the floor's)")
        # Wall times follow the load the machine is under; CPU times much less so.
        cpu = statistics.median(f["cpu"] / f["floor cpu"] for f in done)
        print(f"  in CPU time (user and system): {median('cpu'):.2f} s against "
              f"{median('floor cpu'):.2f} s: {cpu:.1f}x")
        print(f"peak memory of the import (median): {median('peak'):.0f} MB (goal <= 300 MB)")


if __name__ == "__main__":
    main()
