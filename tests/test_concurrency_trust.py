"""Eight writers and two readers at once, with AUDITLOG_LOCK_TIMEOUT 0 and 1: every command
finishes (exit 0) or gives up in time (exit 4) with nothing half-written; what was said to be
recorded is stored; the log verifies against its witness; projections equal a fold.

And the timeout bounds the whole command: a store held locked by another writer makes a
command give up after about AUDITLOG_LOCK_TIMEOUT seconds, retries included.
"""

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import FIXED_NOW, FIXED_STORE_ID, Run

TALLY: Counter[str] = Counter()
EACH = int(os.environ.get("AUDITLOG_CONCURRENCY_EACH", "4"))

WORKER = """
import json, os, sys, time
from auditlog.cli.main import main

role, name, each, gun = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
commands = {
    "finding": lambda i: ["finding", "record", "--pemda", "35.73", "--title",
                          f"Temuan {name}-{i}", "--received", "2023-03-14", "-r", "Perbaiki"],
    "followup": lambda i: ["followup", "record", "F-2023-0001.1", "--on", "2023-04-01",
                           "--action", f"Tindak lanjut {name}-{i}"],
    "review": lambda i: ["followup", "review", "F-2023-0001.1", "--status", "BS", "--on",
                         "2023-04-02", "--reason", f"Belum sesuai {name}-{i}"],
    "reader": lambda i: [["status"], ["finding", "list"], ["history"]][i % 3],
}
while not os.path.exists(gun):
    time.sleep(0.002)
results = []
for i in range(each):
    sys.argv = ["auditlog", *commands[role](i)]
    started = time.monotonic()
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code or 0
    results.append([code, time.monotonic() - started])
print("RESULTS " + json.dumps(results))
"""

ROLES = ["finding", "finding", "finding", "followup", "followup", "followup", "review",
         "review", "reader", "reader"]


def _env(folder: Path, timeout: int) -> dict[str, str]:
    return {**os.environ, "AUDITLOG_DB": str(folder / "auditlog.db"),
            "AUDITLOG_WITNESS": str(folder / "witness"), "AUDITLOG_NOW": FIXED_NOW,
            "AUDITLOG_STORE_ID": FIXED_STORE_ID, "AUDITLOG_ACTOR": "auditor",
            "AUDITLOG_LOCK_TIMEOUT": str(timeout)}


@pytest.mark.parametrize("timeout", [0, 1])
def test_eight_writers_and_two_readers(timeout: int, ok: Run, tmp_path: Path) -> None:
    folder = tmp_path / f"t{timeout}"
    folder.mkdir()
    env = _env(folder, timeout)
    os.environ.update({k: env[k] for k in ("AUDITLOG_DB", "AUDITLOG_WITNESS")})
    ok("pemda", "register", "35.73")
    ok("finding", "record", "--pemda", "35.73", "--title", "Bersama", "--received",
       "2023-03-14", "-r", "Perbaiki")
    gun = folder / "go"
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, role, str(i), str(EACH), str(gun)],
                         cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for i, role in enumerate(ROLES)]
    time.sleep(0.5)
    gun.touch()
    done = {"finding": 0, "followup": 0, "review": 0}
    for role, worker in zip(ROLES, workers, strict=True):
        out, err = worker.communicate(timeout=600)
        assert "Traceback" not in err, err
        line = next(x for x in out.splitlines() if x.startswith("RESULTS "))
        for code, _elapsed in json.loads(line.removeprefix("RESULTS ")):
            assert code in (0, 4), (role, code, err)
            TALLY[f"lock timeout {timeout}: {role} exit {code}"] += 1
            if code == 0 and role in done:
                done[role] += 1
        for message in err.splitlines():  # a command that gave up says so in one line
            assert message.startswith("auditlog: "), message
    shown = json.loads(ok("finding", "show", "F-2023-0001", "--format", "json").stdout)
    trail = [step.get("what", step) for step in shown["trail"]]
    assert len(shown["trail"]) - 1 == done["followup"] + done["review"], trail
    listed = json.loads(ok("finding", "list", "--format", "json").stdout)
    assert len(listed) == 1 + done["finding"]
    ok("verify", "--projections")  # the witness too: every write was witnessed


def test_the_lock_timeout_bounds_the_whole_command(ok: Run, run: Run, isolated: Path) -> None:
    ok("pemda", "register", "35.73")
    holder = sqlite3.connect(isolated, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the store
    try:
        for timeout in (0, 1, 2):
            started = time.monotonic()
            result = run("pemda", "register", "35.10",
                         env={"AUDITLOG_LOCK_TIMEOUT": str(timeout)})
            elapsed = time.monotonic() - started
            assert result.exit_code == 4, result
            assert len(result.stderr.splitlines()) == 1
            TALLY[f"held lock, timeout {timeout}: gave up after {elapsed:.1f} s"] += 1
            assert elapsed < timeout + 1.5, elapsed  # was 5 s for 0, 27 s for 3
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_zz_concurrency_tally(capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print("\nconcurrency (8 writers, 2 readers):")
        for outcome, count in sorted(TALLY.items()):
            print(f"  {count:3d}  {outcome}")
    assert TALLY
