"""Valid time (--as-of), transaction time (--known-at), replay, and reproducible reports."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlog import commands, commitment_commands
from auditlog.domain.aggregate import Context
from auditlog.domain.commitment import REVIEWABLE
from auditlog.domain.events import RecommendationSpec, Status
from auditlog.domain.grades import rule_for
from auditlog.errors import Refusal
from auditlog.projections.model import Moment, ReadModel
from auditlog.projections.summary import status_report
from auditlog.reports.views import fold, read_model
from auditlog.store.app import Store

from conftest import Run

START = datetime(2022, 1, 3, 8, 0, tzinfo=UTC)
PEMDAS = ("35.73", "35.78")

# One step of a random history: (kind, a few small integers that pick targets and values).
step = st.tuples(
    st.sampled_from(["finding", "followup", "review", "reopen", "extend", "correct",
                     "withdraw", "grade", "regrade", "commit", "progress", "creview",
                     "creopen"]),
    st.integers(0, 30), st.integers(0, 3), st.integers(0, 900), st.integers(1, 72),
)


def _apply(store: Store, ctx: Context, refs: list[str], kind: str, a: int, b: int, day: int
           ) -> None:
    on = date(2022, 1, 1) + timedelta(days=day)
    statuses = [Status.BS, Status.S, Status.TDTL, Status.BS]
    if kind == "finding":
        specs = [RecommendationSpec(n=i + 1, text=f"rec {i + 1}", value=(a + 1) * 1000 * i)
                 for i in range(1 + b % 3)]
        finding = commands.record_finding(store, ctx, commands.NewFinding(
            pemda=PEMDAS[a % 2], title=f"finding {len(refs)}", received=on,
            recommendations=specs))
        refs.append(finding.ref)
        return
    if kind in ("grade", "regrade"):
        instrument = "SAKIP" if a % 2 else "RB"
        grade = ["AA", "A", "BB", "B"][b]
        commands.record_grade(store, ctx, PEMDAS[a % 2], instrument, 2021 + day % 3,
                              rule_for(instrument, None), grade, None, (), on,
                              "koreksi" if kind == "regrade" else None)
        return
    if kind == "commit":
        commitment_commands.record_commitment(store, ctx, commitment_commands.NewCommitment(
            pemda=PEMDAS[a % 2], opd="Dinkes", theme="stunting", text=f"komitmen {day} {a}",
            owner="Sekretaris", by=on + timedelta(days=30 * b), on=on,
            indicator="prevalensi" if a % 3 else None, unit="%" if a % 3 else None,
            baseline=Decimal(20) if a % 3 else None, target=Decimal(14) if a % 3 else None))
        return
    if kind in ("progress", "creview", "creopen"):
        ref = f"K-{2022 + a % 3}-{1 + b:04d}"
        if kind == "progress":
            commitment_commands.record_progress(store, ctx, ref, on,
                                               Decimal(a) if a % 2 else None, "realisasi", ())
        elif kind == "creview":
            commitment_commands.review(store, ctx, ref, REVIEWABLE[b], "penilaian", on)
        else:
            commitment_commands.reopen(store, ctx, ref, "dibuka kembali", on)
        return
    if not refs:
        return
    ref = refs[a % len(refs)]
    rec = f"{ref}.{1 + b % 3}"
    if kind == "followup":
        commands.record_followup(store, ctx, rec, on, "tindak lanjut", a * 500, None, ())
    elif kind == "review":
        commands.review(store, ctx, rec, statuses[b], "alasan", on)
    elif kind == "reopen":
        commands.reopen(store, ctx, rec, "dibuka kembali", on)
    elif kind == "extend":
        commands.extend(store, ctx, rec, on + timedelta(days=120), "perpanjangan", on)
    elif kind == "correct":
        commands.correct(store, ctx, ref, "received", on.isoformat(), "salah ketik", on)
    elif kind == "withdraw":
        commands.withdraw(store, ctx, ref, "tercatat ganda", on)


def _record_history(store: Store, steps: list[tuple[str, int, int, int, int]]
                    ) -> list[datetime]:
    """Apply the steps (refusals are part of life and skipped); return the recording times."""
    refs: list[str] = []
    at = START
    times = []
    for code in PEMDAS:
        commands.register_pemda(store, Context("tester", at), code, None, None, START.date())
    for kind, a, b, day, hours in steps:
        at += timedelta(hours=hours)
        try:
            _apply(store, Context("tester", at), refs, kind, a, b, day)
            times.append(at)
        except Refusal:
            pass
    return times


def _snapshot(model: ReadModel, on: date) -> tuple[Any, Any, Any, Any]:
    return (status_report(model, on),
            [f.model_dump(mode="json") for f in model.active_findings()],
            sorted(model.open_finding_ids()),
            [c.model_dump(mode="json") for c in model.commitments()])


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=40), probe=st.lists(
    st.tuples(st.integers(0, 1000), st.integers(0, 40)), min_size=1, max_size=4))
def test_projection_at_any_moment_equals_folding_the_log(
        tmp_path: Path, steps: list[tuple[str, int, int, int, int]],
        probe: list[tuple[int, int]]) -> None:
    db = tmp_path / f"{uuid4().hex}.db"  # hypothesis reuses tmp_path across examples
    store = Store(str(db))
    try:
        times = _record_history(store, steps)
        today = date(2025, 1, 1)
        # Now: the persisted projection equals the fold of every event (status == replay).
        now = _snapshot(read_model(store, Moment()), today)
        assert now == _snapshot(fold(store, Moment()), today)
        assert len(now[0]) == len(PEMDAS)
        for day, tick in probe:
            as_of = date(2022, 1, 1) + timedelta(days=day)
            known = times[min(tick, len(times) - 1)] if times else START
            for moment in (Moment(as_of=as_of), Moment(known_at=known),
                           Moment(as_of=as_of, known_at=known)):
                on = moment.as_of or today
                assert _snapshot(read_model(store, moment), on) == _snapshot(
                    fold(store, moment), on), moment
    finally:
        store.close()


def _story(ok: Run) -> None:
    ok("pemda", "register", "35.73", env={"AUDITLOG_NOW": "2023-01-02T09:00:00Z"})
    ok("finding", "record", "--pemda", "35.73", "--title", "Kas tekor", "--received",
       "2023-03-01", "--value", "5.000.000", "-r", "Setor ke kas daerah", "--rec-value",
       "5000000", env={"AUDITLOG_NOW": "2023-03-02T09:00:00Z"})
    ok("finding", "record", "--pemda", "35.73", "--title", "Aset tidak tercatat", "--received",
       "2023-04-01", "-r", "Catat aset", env={"AUDITLOG_NOW": "2023-04-02T09:00:00Z"})
    ok("followup", "record", "F-2023-0001.1", "--on", "2023-05-01", "--action", "Setor",
       "--deposit", "5000000", env={"AUDITLOG_NOW": "2023-05-02T09:00:00Z"})


def test_a_late_correction_changes_as_of_answers_but_not_known_at(ok: Run) -> None:
    _story(ok)
    # Recorded in 2024: the report was actually received on 2023-02-01 (due 2023-04-02).
    ok("finding", "correct", "F-2023-0001", "--field", "received", "--value", "2023-02-01",
       "--reason", "tanggal terima salah ketik", env={"AUDITLOG_NOW": "2024-02-01T09:00:00Z"})

    def overdue(*args: str) -> int:
        data = ok("status", "--pemda", "35.73", "--format", "json", *args).stdout
        return int(__import__("json").loads(data)[0]["overdue"])

    assert overdue("--as-of", "2023-04-15") == 1  # due 2023-04-02 under the correction
    # What we believed in 2023 about that date: received 2023-03-01, due 2023-04-30.
    assert overdue("--as-of", "2023-04-15", "--known-at", "2023-12-31") == 0
    shown = ok("finding", "show", "F-2023-0001", "--known-at", "2023-12-31", "--format",
               "json").stdout
    assert '"received": "2023-03-01"' in shown
    shown = ok("finding", "show", "F-2023-0001", "--as-of", "2023-02-15", "--format",
               "json").stdout
    assert '"received": "2023-02-01"' in shown


def test_a_withdrawn_finding_never_existed_in_valid_time(ok: Run, run: Run) -> None:
    _story(ok)
    ok("finding", "withdraw", "F-2023-0002", "--reason", "tercatat ganda",
       env={"AUDITLOG_NOW": "2023-06-01T09:00:00Z"})
    as_of = ok("finding", "list", "--as-of", "2023-05-01", "--format", "json").stdout
    assert "F-2023-0002" not in as_of and "F-2023-0001" in as_of
    believed = ok("finding", "list", "--known-at", "2023-05-15", "--format", "json").stdout
    assert "F-2023-0002" in believed
    assert "F-2023-0002" in ok("history").stdout
    refused = run("finding", "show", "F-2023-0002", "--as-of", "2023-05-01")
    assert refused.exit_code == 1 and "withdrawn" in refused.stderr


def test_a_report_is_reproduced_to_the_byte_with_known_at(ok: Run) -> None:
    _story(ok)
    moment = "2023-06-01T00:00:00Z"
    questions = [("status",), ("finding", "list"), ("finding", "show", "F-2023-0001"),
                 ("history",), ("grade", "list"), ("replay", "--to", "2023-05-31")]
    formats = ("table", "json", "csv", "md")
    before = {(q, f): ok(*q, "--format", f, env={"AUDITLOG_NOW": moment}).stdout
              for q in questions for f in formats}
    ok("followup", "review", "F-2023-0001.1", "--status", "S", "--on", "2023-06-05",
       "--reason", "Lunas", env={"AUDITLOG_NOW": "2023-06-06T09:00:00Z"})
    ok("finding", "correct", "F-2023-0002", "--field", "title", "--value", "Aset tetap",
       "--reason", "judul", env={"AUDITLOG_NOW": "2023-07-01T09:00:00Z"})
    ok("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP", "--year", "2022",
       "--grade", "A", "--on", "2023-06-20", env={"AUDITLOG_NOW": "2023-07-01T10:00:00Z"})
    for (q, f), text in before.items():
        again = ok(*q, "--format", f, "--known-at", moment,
                   env={"AUDITLOG_NOW": "2024-01-15T09:00:00Z"}).stdout
        if q[0] == "replay" and f in ("table",):
            # the replay line names the moment it was asked about
            again = again.replace(f", as known at {datetime(2023, 6, 1, tzinfo=UTC).isoformat()}",
                                  "")
        if q == ("status",) or q == ("finding", "list"):
            # "now" differs between the two runs; a reproduced report pins --as-of too
            continue
        assert again == text, (q, f)
    for q in (("status",), ("finding", "list")):
        for f in formats:
            first = ok(*q, "--format", f, "--as-of", "2023-05-31", "--known-at", moment).stdout
            ok("followup", "record", "F-2023-0002.1", "--on", "2023-05-20", "--action", "x",
               env={"AUDITLOG_NOW": "2024-02-01T09:00:00Z"})
            later = ok(*q, "--format", f, "--as-of", "2023-05-31", "--known-at", moment).stdout
            assert first == later


def test_replay_prints_the_status_shape_and_what_it_read(ok: Run) -> None:
    _story(ok)
    text = ok("replay", "--to", "2023-04-15").stdout
    assert text.startswith("replayed ")
    assert "(up to log position 5) to 2023-04-15" in text
    replayed = ok("replay", "--to", "2023-04-15", "--format", "json").stdout
    status = ok("status", "--as-of", "2023-04-15", "--format", "json").stdout
    assert replayed == status


def test_history_to_a_date_lists_what_happened_by_then(ok: Run) -> None:
    _story(ok)
    text = ok("history", "--to", "2023-03-31", "--format", "json").stdout
    assert "Kas tekor" in text and "Aset tidak tercatat" not in text
    assert "followup.recorded" not in text
