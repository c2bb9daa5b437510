"""Importing a register of ROWS rows (the issue: 50,000) against the raw floor.

    python benchmarks/bench_import.py [ROWS]     (default 50000)

Prints, each measured in this run:
- import: the whole `auditlog import` (read, check every row, plan, save in one transaction
  with the hash chain, projections caught up) in a child process, against a raw SQLite
  executemany of the same stored rows (events and chain) in one transaction (goal <= 4x);
- its peak memory (the child's max RSS; goal <= 300 MB);
- reading alone: the importer's reader against python-calamine reading the same file
  (goal <= 1.5x);
- where the import's time goes: its phases, measured again in this process.
"""

import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import python_calamine
import xlsxwriter

from auditlog.clock import now
from auditlog.domain.aggregate import Context
from auditlog.importer import run
from auditlog.importer.columns import Matcher
from auditlog.importer.read import load, read_table
from auditlog.projections.persisted import Projection
from auditlog.store.app import Store

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


def raw_floor(store: Path, target: Path) -> tuple[float, int]:
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

    took = timed(insert)
    db.close()
    return took, len(rows["stored_events"])


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        register = folder / "register.xlsx"
        make_register(register, rows)
        print(f"register: {rows} rows, {register.stat().st_size / 1e6:.1f} MB")

        ours, raw = best_of_pair(lambda: our_reader(register), lambda: raw_calamine(register))
        print(f"reading alone: {ours:.2f} s against python-calamine {raw:.2f} s: "
              f"{ours / raw:.2f}x (goal <= 1.5x)")

        db = folder / "store.db"
        env = {**os.environ, "AUDITLOG_DB": str(db), "AUDITLOG_NOW": "2024-01-15T09:00:00Z",
               "AUDITLOG_ACTOR": "bench"}
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        begin = time.perf_counter()
        done = subprocess.run([str(Path(sys.executable).parent / "auditlog"), "import",
                               str(register)], env=env, capture_output=True, text=True,
                              check=False)
        took = time.perf_counter() - begin
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if done.returncode != 0:
            sys.exit(f"import failed: {done.stderr}")
        print(done.stdout.strip())
        floor, events = raw_floor(db, folder / "raw.db")
        print(f"import: {took:.2f} s for {events} events (process start included) against raw "
              f"executemany {floor:.2f} s: {took / floor:.1f}x (goal <= 4x)")
        print(f"peak memory of the import: {max(peak, before) / 1024:.0f} MB (goal <= 300 MB)")
        for name, took_part in phases(register, folder / "phases.db"):
            print(f"  {name}: {took_part:.2f} s ({took_part / floor:.1f}x the raw floor)")


def phases(register: Path, db: Path) -> list[tuple[str, float]]:
    """Where the import's time goes, measured again in this process, phase by phase."""
    os.environ["AUDITLOG_NOW"] = "2024-01-15T09:00:00Z"
    day = date(2024, 1, 15)
    store = Store(str(db))
    ctx = Context("bench", now())
    try:
        begin = time.perf_counter()
        prepared = run.prepare(register, None, None, day)
        read = time.perf_counter() - begin
        begin = time.perf_counter()
        run.save(store, ctx, prepared, day)
        saved = time.perf_counter() - begin
        projection = Projection(store)
        caught = timed(projection.catch_up)
        projection.close()
    finally:
        store.close()
    return [("reading and checking every row", read),
            ("planning through the aggregates and saving with the chain", saved),
            ("catching the projections up", caught)]


if __name__ == "__main__":
    main()
