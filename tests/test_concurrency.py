"""Several auditors recording into one SQLite file at once lose nothing; a conflict that never
resolves ends in exit 4 with nothing written."""

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from eventsourcing.persistence import RecordConflictError

from auditlog import commands
from auditlog.domain.aggregate import Aggregate, Context
from auditlog.domain.events import (
    FollowUpRecorded,
    RecommendationReviewed,
    RecommendationSpec,
    Status,
)
from auditlog.errors import StoreBusy
from auditlog.store.app import ATTEMPTS, AuditApplication, Store
from store_state import assert_one_line_refusal, observe, settle

from conftest import Run

WORKERS = 4
EACH = 15

# One worker: a real process that waits for the starting gun, then records EACH findings
# through the console script's own entry point, one command after the other.
WORKER = """
import os, sys, time
from auditlog.cli.main import main

from auditlog.store.app import AuditApplication
from eventsourcing.persistence import OperationalError, RecordConflictError

conflicts = []
saving = AuditApplication.save


def counted(self, *aggregates, **kwargs):  # counts the conflicts that were retried
    try:
        return saving(self, *aggregates, **kwargs)
    except (RecordConflictError, OperationalError) as conflict:
        conflicts.append(type(conflict).__name__)
        raise


AuditApplication.save = counted
worker, each, gun = sys.argv[1], int(sys.argv[2]), sys.argv[3]
while not os.path.exists(gun):
    time.sleep(0.005)
codes = []
for i in range(each):
    sys.argv = ["auditlog", "finding", "record", "--pemda", "35.73", "--title",
                f"Temuan {worker}-{i}", "--received", "2023-03-01", "-r", "Setor",
                "--format", "json"]
    try:
        main()
        codes.append(0)
    except SystemExit as done:
        codes.append(int(done.code or 0))
print("EXITS", codes, file=sys.stderr)
print("CONFLICTS", len(conflicts), file=sys.stderr)
"""


def count_events(db: Path) -> int:
    with closing(sqlite3.connect(db)) as con:
        return int(con.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


def test_four_processes_recording_at_once_lose_nothing(ok: Run, isolated: Path,
                                                       tmp_path: Path) -> None:
    ok("pemda", "register", "35.73")
    before = count_events(isolated)
    gun = tmp_path / "go"
    env = {**os.environ, "AUDITLOG_DB": str(isolated), "AUDITLOG_ACTOR": "auditor"}
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(w), str(EACH), str(gun)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(WORKERS)
    ]
    time.sleep(0.3)  # let every worker import and reach the gun
    gun.touch()
    outputs = [w.communicate(timeout=120) for w in workers]
    printed: list[dict[str, Any]] = []
    conflicts = 0
    for worker, (stdout, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr
        assert f"EXITS {[0] * EACH}" in stderr, stderr
        assert "Traceback" not in stderr
        conflicts += int(stderr.split("CONFLICTS ")[1].split()[0])
        decoder = json.JSONDecoder()
        text = stdout.strip()
        while text:  # the JSON objects printed one after the other
            data, end = decoder.raw_decode(text)
            printed.append(data)
            text = text[end:].strip()

    expected_titles = {f"Temuan {w}-{i}" for w in range(WORKERS) for i in range(EACH)}
    expected_refs = {f"F-2023-{n:04d}" for n in range(1, WORKERS * EACH + 1)}
    # what each process was told
    assert len(printed) == WORKERS * EACH
    assert {p["ref"] for p in printed} == expected_refs
    assert {p["title"] for p in printed} == expected_titles
    # what the store holds: each finding once, numbered 1..60 with no gap and no duplicate
    listed = json.loads(ok("finding", "list", "--format", "json").stdout)
    assert sorted(f["ref"] for f in listed) == sorted(expected_refs)
    assert {(f["ref"], f["title"]) for f in listed} == {(p["ref"], p["title"]) for p in printed}
    store = Store(str(isolated))
    try:
        titles = [store.finding(ref)[0].title for ref in sorted(expected_refs)]
    finally:
        store.close()
    assert sorted(titles) == sorted(expected_titles)
    # a reference allocation and the finding itself for each: nothing more, nothing less
    assert count_events(isolated) == before + 2 * WORKERS * EACH
    csv = ok("finding", "list", "--pemda", "35.73", "--format", "csv").stdout
    assert len(csv.splitlines()) == 1 + WORKERS * EACH
    # the workers did race: some saves lost to another process and were retried
    assert conflicts > 0


# --- a conflict, retried or never resolved -----------------------------------------------------


CTX = Context(actor="auditor", at=datetime(2024, 1, 15, 9, tzinfo=UTC))
DAY = date(2023, 5, 1)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setattr(time, "sleep", lambda seconds: None)  # no backoff waits
    opened = Store(str(tmp_path / "conflict.db"))
    commands.register_pemda(opened, CTX, "35.73", None, None, DAY)
    commands.record_finding(opened, CTX, commands.NewFinding(
        pemda="35.73", title="Kas", received=date(2023, 3, 1),
        recommendations=[RecommendationSpec(n=1, text="Setor")]))
    try:
        yield opened
    finally:
        opened.close()


def _review_racing(store: Store, rival: Store, races: int) -> tuple[Any, list[int]]:
    """A review whose first `races` attempts lose to a rival recording a follow-up meanwhile."""
    attempts: list[int] = []

    def decide() -> Sequence[Aggregate]:
        finding, _ = store.finding("F-2023-0001.1")
        attempts.append(finding.version)
        finding.review(CTX, 1, Status.BS, "sebagian", DAY)
        if len(attempts) <= races:
            commands.record_followup(rival, CTX, "F-2023-0001.1", DAY,
                                     f"rival {len(attempts)}", 0, None, ())
        return [finding]

    return store.command(decide), attempts


def test_a_conflict_is_retried_from_a_fresh_read(store: Store, tmp_path: Path) -> None:
    rival = Store(str(tmp_path / "conflict.db"))
    try:
        (finding,), attempts = _review_racing(store, rival, races=2)
    finally:
        rival.close()
    assert attempts == [1, 2, 3]  # each attempt read the version the rival had just made
    events = store.events_of(finding.id)
    assert [type(e) for e in events[-3:]] == [FollowUpRecorded, FollowUpRecorded,
                                              RecommendationReviewed]
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    assert store.finding("F-2023-0001")[0].recommendation(1).followups == 2


def test_a_conflict_that_never_resolves_is_store_busy_and_writes_nothing(
        store: Store, tmp_path: Path) -> None:
    rival = Store(str(tmp_path / "conflict.db"))
    before = store.max_position()
    try:
        with pytest.raises(StoreBusy) as busy:
            _review_racing(store, rival, races=ATTEMPTS)
    finally:
        rival.close()
    assert "nothing was written" in str(busy.value)
    finding, _ = store.finding("F-2023-0001")
    events = store.events_of(finding.id)
    assert not any(isinstance(e, RecommendationReviewed) for e in events)
    assert store.max_position() == before + ATTEMPTS  # only the rival's follow-ups
    assert finding.recommendation(1).status is Status.BD


def test_the_cli_exits_4_when_the_store_stays_busy(ok: Run, run: Run, isolated: Path) -> None:
    ok("pemda", "register", "35.73")
    ok("finding", "record", "--pemda", "35.73", "--title", "Kas", "--received", "2023-03-01",
       "-r", "Setor")
    tries: list[int] = []

    def always_conflicts(self: AuditApplication, *aggregates: Any, **kwargs: Any) -> Any:
        tries.append(len(aggregates))
        raise RecordConflictError("someone else saved first")

    before = settle(isolated)
    with mock.patch.object(time, "sleep", lambda seconds: None), \
            mock.patch.object(AuditApplication, "save", always_conflicts):
        busy = [run(*args) for args in (
            ("followup", "record", "F-2023-0001.1", "--on", "2023-04-01", "--action", "x"),
            ("finding", "record", "--pemda", "35.73", "--title", "Aset", "--received",
             "2023-03-01", "-r", "Catat"))]
    assert len(tries) == 2 * ATTEMPTS  # every attempt tried to save, and none could
    for result in busy:
        assert result.exit_code == 4, result
        assert "Traceback" not in result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert "nothing was written" in result.stderr and "try again" in result.stderr
    assert observe(isolated) == before
    assert_one_line_refusal(run("finding", "show", "F-2023-0002"), "no finding F-2023-0002")
