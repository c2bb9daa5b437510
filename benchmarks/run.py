"""Every measure of issue 9 against its floor, measured in the same run, in one table.

    benchmarks/run [--events N] [--stores DIR] [--only replay,verify,...]

Builds (or reuses) a store of N events (default 100000) with build_store.py, then runs each
command as the user would (the `auditlog` console script, one process each) and each floor as
a plain script doing only the raw work, and prints: seconds, floor seconds, the ratio, the
issue's goal, peak RSS of that process (os.wait4), and the growth against the 100k run when
one was recorded. Results are kept beside the store (N.json) for that growth column.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
AUDITLOG = str(Path(PYTHON).parent / "auditlog")

RAW_READ = """
import sqlite3, sys, orjson
db = sqlite3.connect(sys.argv[1])
cur = db.execute("SELECT rowid, originator_id, originator_version, topic, state "
                 "FROM stored_events ORDER BY rowid")
decode = %s
while rows := cur.fetchmany(5000):
    for row in rows:
        decode(row[4])
"""
FLOOR_DECODE = RAW_READ % "orjson.loads"
FLOOR_SELECT = RAW_READ % "len"

VERIFY_ONE_PROCESS = """
import sys
from auditlog.store.app import Store
from auditlog.store.integrity import verify_store
store = Store.open_existing(sys.argv[1])
assert verify_store(store, workers=1).ok
store.close()
"""

RECORD = """
import statistics, sys, time
from datetime import UTC, date, datetime
from auditlog import commands
from auditlog.domain.aggregate import Context
from auditlog.domain.events import RecommendationSpec
from auditlog.store.app import Store
store = Store.open_existing(sys.argv[1])
times = []
for n in range(int(sys.argv[2])):
    ctx = Context("bench", datetime(2026, 6, 1, 9, tzinfo=UTC))
    new = commands.NewFinding(pemda="11", title=f"bench {time.time_ns()}",
        received=date(2026, 5, 30), report="BENCH", recommendations=[
        RecommendationSpec(n=1, text="setor", value=1000000)])
    start = time.perf_counter()
    commands.record_finding(store, ctx, new)
    times.append(time.perf_counter() - start)
store.close()
print(statistics.median(times))
"""

RECORD_FLOOR = """
import sqlite3, statistics, sys, time, os
src = sqlite3.connect(sys.argv[1])
rows = src.execute("SELECT originator_id, originator_version + 1000000, topic, state "
                   "FROM stored_events ORDER BY rowid DESC LIMIT 2").fetchall()
chain = src.execute("SELECT seq + 1000000, position, originator_id, originator_version, hash "
                    "FROM integrity_chain ORDER BY seq DESC LIMIT 2").fetchall()
src.close()
db = sqlite3.connect(sys.argv[1] + ".floor", isolation_level=None)
db.execute("PRAGMA journal_mode = WAL")
db.execute("CREATE TABLE IF NOT EXISTS e (originator_id TEXT, originator_version INTEGER, "
           "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))")
db.execute("CREATE TABLE IF NOT EXISTS c (seq INTEGER PRIMARY KEY, position INTEGER, "
           "originator_id TEXT, originator_version INTEGER, hash BLOB)")
times = []
for n in range(int(sys.argv[2])):
    batch = [(a, b + n * 10, c, d) for a, b, c, d in rows]
    links = [(a + n * 10, b, c, d, e) for a, b, c, d, e in chain]
    start = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT INTO e VALUES (?, ?, ?, ?)", batch)
    db.executemany("INSERT INTO c VALUES (?, ?, ?, ?, ?)", links)
    db.execute("COMMIT")
    times.append(time.perf_counter() - start)
db.close()
os.remove(sys.argv[1] + ".floor")
print(statistics.median(times))
"""

REPLAY_GC = """
import gc, sys, time
if sys.argv[2] == "off":
    gc.freeze = lambda: None  # the stream's freezing of what the fold keeps, undone
from datetime import date
from auditlog.projections.model import Moment
from auditlog.projections.summary import status_report
from auditlog.reports.views import fold
from auditlog.store.app import Store
store = Store.open_existing(sys.argv[1])
start = time.perf_counter()
status_report(fold(store, Moment(as_of=date(2024, 12, 31))), date(2024, 12, 31))
print(time.perf_counter() - start)
"""

BULK = """
import sys, time
sys.path.insert(0, sys.argv[3])
from build_store import build
start = time.perf_counter()
build(__import__("pathlib").Path(sys.argv[1]), int(sys.argv[2]), seed=11, pemdas=50)
print(time.perf_counter() - start)
"""

BULK_FLOOR = """
import sqlite3, sys, time
src = sqlite3.connect(sys.argv[1])
rows = src.execute("SELECT originator_id, originator_version, topic, state "
                   "FROM stored_events ORDER BY rowid").fetchall()
chain = src.execute("SELECT * FROM integrity_chain ORDER BY seq").fetchall()
src.close()
db = sqlite3.connect(sys.argv[2], isolation_level=None)
db.execute("PRAGMA journal_mode = WAL")
db.execute("CREATE TABLE e (originator_id TEXT, originator_version INTEGER, topic TEXT, "
           "state BLOB, PRIMARY KEY (originator_id, originator_version))")
db.execute("CREATE TABLE c (seq INTEGER PRIMARY KEY, position INTEGER, originator_id TEXT, "
           "originator_version INTEGER, hash BLOB)")
start = time.perf_counter()
db.execute("BEGIN IMMEDIATE")
db.executemany("INSERT INTO e VALUES (?, ?, ?, ?)", rows)
db.executemany("INSERT INTO c VALUES (?, ?, ?, ?, ?)", chain)
db.execute("COMMIT")
print(time.perf_counter() - start)
"""


GROUPS = ("rebuild", "replay", "status", "verify", "export", "startup", "record", "bulk")


def minimal_app(folder: Path) -> Path:
    """A Typer app with auditlog's command tree and nothing behind it: the start-up floor."""
    import typer.main

    from auditlog.cli.main import app

    lines = ["import typer", "app = typer.Typer(no_args_is_help=True)",
             "def version(value: bool) -> None:",
             "    if value:", "        print('auditlog 0')", "        raise typer.Exit()",
             "@app.callback()",
             "def main(version: bool = typer.Option(False, '--version', callback=version, "
             "is_eager=True)) -> None:", "    pass"]
    root = typer.main.get_command(app)

    def walk(group: Any, owner: str, depth: int) -> None:
        for name, command in sorted(group.commands.items()):
            ident = f"{owner}_{name}".replace("-", "_")
            if hasattr(command, "commands"):
                lines.append(f"{ident} = typer.Typer()")
                lines.append(f"{owner}.add_typer({ident}, name={name!r})")
                walk(command, ident, depth + 1)
            else:
                lines.append(f"@{owner}.command({name!r})")
                lines.append(f"def {ident}() -> None:")
                lines.append("    pass")

    walk(root, "app", 0)
    lines.append("app()")
    path = folder / "minimal_app.py"
    path.write_text("\n".join(lines) + "\n")
    return path


def precompile() -> None:
    """Write auditlog's bytecode before anything is timed, as installing it does (pip compiles
    every module it installs; the floor's Typer was compiled so). Without it, a run under
    PYTHONDONTWRITEBYTECODE (or from a source tree never imported) compiles our modules again
    in every process, and the start-up ratios measure the compiler instead of the code."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("auditlog")
    assert spec is not None and spec.submodule_search_locations is not None
    for folder in spec.submodule_search_locations:
        compileall.compile_dir(folder, quiet=1)


class Runner:
    """Runs each process through wait4, so its own peak RSS is known."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def once(self, args: list[str]) -> tuple[float, float, str]:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.env)
        assert proc.stdout is not None and proc.stderr is not None
        out = proc.stdout.read()
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{err.decode()}")
        return seconds, usage.ru_maxrss / 1024, out.decode()

    def best(self, args: list[str], repeat: int) -> tuple[float, float, str]:
        runs = [self.once(args) for _ in range(repeat)]
        return min(r[0] for r in runs), max(r[1] for r in runs), runs[0][2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--stores", type=Path, default=HERE / ".stores")
    parser.add_argument("--only", default=",".join(GROUPS),
                        help=f"comma-separated groups to measure (default all: {','.join(GROUPS)})")
    args = parser.parse_args()
    precompile()
    only = set(args.only.split(","))
    if only - set(GROUPS):
        parser.error(f"--only takes {', '.join(GROUPS)}")
    args.stores.mkdir(parents=True, exist_ok=True)
    store = args.stores / f"{args.events}.db"
    started = time.perf_counter()
    built = None
    if not store.exists():
        start = time.perf_counter()
        subprocess.run([PYTHON, str(HERE / "build_store.py"), str(args.events), str(store)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        built = time.perf_counter() - start

    tmp = Path(tempfile.mkdtemp(prefix="auditlog-bench-"))
    env = {**os.environ, "AUDITLOG_DB": str(store), "AUDITLOG_NOW": "2026-06-01T09:00:00+00:00",
           "AUDITLOG_ACTOR": "bench", "XDG_DATA_HOME": str(tmp / "data"),
           "AUDITLOG_WITNESS": str(tmp / "witness.log"), "COLUMNS": "200"}
    r = Runner(env)
    rows: list[dict[str, Any]] = []

    def add(name: str, result: tuple[float, float, str], floor_name: str, floor: float,
            goal: str) -> None:
        rows.append({"measure": name, "seconds": result[0], "floor_name": floor_name,
                     "floor": floor, "ratio": result[0] / floor if floor else None,
                     "rss": result[1], "goal": goal})

    try:
        events = int(r.once([PYTHON, "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1])"
                             ".execute('SELECT count(*) FROM stored_events').fetchone()[0])",
                             str(store)])[2])
        decode_floor = r.best([PYTHON, "-c", FLOOR_DECODE, str(store)], 3)
        select_floor = r.best([PYTHON, "-c", FLOOR_SELECT, str(store)], 3)
        rows.append({"measure": "floor: SELECT every row + orjson.loads",
                     "seconds": decode_floor[0], "rss": decode_floor[1]})
        rows.append({"measure": "floor: SELECT every row", "seconds": select_floor[0],
                     "rss": select_floor[1]})

        if "rebuild" in only:
            rebuild = r.once([AUDITLOG, "rebuild"])
            add("rebuild", rebuild, "select+decode", decode_floor[0], "<= 3x")
        if only & {"replay", "export"}:
            replay = r.once([AUDITLOG, "replay", "--to", "2024-12-31", "--format", "json"])
            add("replay --to 2024-12-31", replay, "select+decode", decode_floor[0],
                "<= 3x, <= 150 MB")
        if "replay" in only:
            frozen = r.once([PYTHON, "-c", REPLAY_GC, str(store), "on"])
            thawed = r.once([PYTHON, "-c", REPLAY_GC, str(store), "off"])
            add("replay fold, gc.freeze per batch (in-process)",
                (float(frozen[2]), frozen[1], ""), "the same without gc.freeze",
                float(thawed[2]), "")
        version = r.best([AUDITLOG, "--version"], 5)
        if "status" in only:
            status = r.best([AUDITLOG, "status"], 5)
            add("status", status, "auditlog --version", version[0], "<= 1.2x")
        if "verify" in only:
            verify = r.once([AUDITLOG, "verify"])
            add("verify (CLI, workers)", verify, "select", select_floor[0], "")
            verify_one = r.once([PYTHON, "-c", VERIFY_ONE_PROCESS, str(store)])
            add("verify (one process)", verify_one, "select", select_floor[0],
                "<= 2.5x, flat memory")
        for fmt in ("json", "csv", "md", "html", "xlsx") if "export" in only else ():
            suffix = "zip" if fmt == "csv" else fmt
            result = r.once([AUDITLOG, "export", "--year", "2023", "--to",
                             str(tmp / f"review.{suffix}"), "--format", fmt])
            add(f"export --year 2023 {fmt}", result, "replay", replay[0],
                "<= 2.5x, <= 300 MB" if fmt == "xlsx" else "<= 1.5x, <= 300 MB")

        if "startup" in only:
            app = minimal_app(tmp)
            floor_version = r.best([PYTHON, str(app), "--version"], 5)
            floor_help = r.best([PYTHON, str(app), "--help"], 5)
            add("auditlog --version", version, "minimal Typer --version", floor_version[0],
                "<= 1.3x")
            helped = r.best([AUDITLOG, "--help"], 5)
            add("auditlog --help", helped, "minimal Typer --help", floor_help[0], "<= 1.3x")

        if "record" in only:
            records = 20
            record = r.once([PYTHON, "-c", RECORD, str(store), str(records)])
            record_floor = r.once([PYTHON, "-c", RECORD_FLOOR, str(store), str(records)])
            add("finding record (commands API, median)", (float(record[2]), record[1], ""),
                "raw insert of its rows", float(record_floor[2]), "flat in N")
        if "bulk" in only:
            scratch = tmp / "bulk.db"
            bulk = r.once([PYTHON, "-c", BULK, str(scratch), "20000", str(HERE)])
            bulk_floor = r.once([PYTHON, "-c", BULK_FLOOR, str(scratch),
                                 str(tmp / "floor.db")])
            add("bulk ingest of 20k events (domain, 1 tx per 20k)",
                (float(bulk[2]), bulk[1], ""), "executemany of its rows",
                float(bulk_floor[2]), "")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    disk = sum(p.stat().st_size for p in store.parent.glob(store.name + "*"))
    baseline_path = args.stores / "100000.json"
    baseline = {}
    if args.events != 100_000 and baseline_path.exists():
        baseline = {row["measure"]: row for row in json.loads(baseline_path.read_text())["rows"]}
    (args.stores / f"{args.events}.json").write_text(json.dumps(
        {"events": events, "disk": disk, "rows": rows}, indent=1))

    print(f"store: {events} events, {disk / 2**20:.0f} MiB on disk"
          + (f", built in {built:.0f} s" if built is not None else ", reused"))
    header = (f"{'measure':<50} {'seconds':>9} {'floor':>9} {'ratio':>7}  {'goal (1M)':<20}"
              f"{'peak RSS':>9} {'growth':>8}")
    print(header)
    print("-" * len(header))
    for row in rows:
        base = baseline.get(row["measure"])
        growth = f"{row['seconds'] / base['seconds']:.1f}x" if base else ""
        ratio = f"{row['ratio']:.2f}x" if row.get("ratio") else ""
        floor = f"{row['floor']:.3f}" if row.get("floor") is not None else ""
        print(f"{row['measure']:<50} {row['seconds']:>9.3f} {floor:>9} {ratio:>7}  "
              f"{row.get('goal', ''):<20}{row['rss']:>6.0f} MB {growth:>8}")
    print(f"(growth: seconds at {events} events over seconds at 100k; "
          f"whole run {time.perf_counter() - started:.0f} s)")
    if baseline:
        extrapolate(rows, baseline, events, disk, json.loads(baseline_path.read_text()))


def extrapolate(rows: list[dict[str, Any]], baseline: dict[str, dict[str, Any]], events: int,
                disk: int, base_run: dict[str, Any], target: int = 10_000_000) -> None:
    """Each measure at ``target`` events, from the growth measured between 100k and this run:
    a power law through both points (time ~ N^k, k = log(growth) / log(N / 100k))."""
    import math

    span = math.log(events / base_run["events"])
    reach = math.log(target / events)

    def grow(now: float, then: float) -> tuple[float, float]:
        k = math.log(now / then) / span if now > 0 and then > 0 else 0.0
        return k, now * math.exp(k * reach)

    print(f"\nextrapolated to {target:,} events (power law through 100k and {events:,}):")
    header = f"{'measure':<50} {'k time':>7} {'seconds':>10} {'k RSS':>6} {'peak RSS':>10}"
    print(header)
    print("-" * len(header))
    for row in rows:
        base = baseline.get(row["measure"])
        if not base or "seconds" not in base:
            continue
        k_t, seconds = grow(row["seconds"], base["seconds"])
        k_m, rss = grow(row["rss"], base["rss"])
        print(f"{row['measure']:<50} {k_t:>7.2f} {seconds:>10.1f} {k_m:>6.2f} {rss:>7.0f} MB")
    k_d, size = grow(disk, base_run["disk"])
    print(f"disk: {disk / 2**20:.0f} MiB at {events:,}, {size / 2**30:.1f} GiB at {target:,} "
          f"(k {k_d:.2f})")


if __name__ == "__main__":
    main()
