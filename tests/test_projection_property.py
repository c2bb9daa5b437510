"""A projection maintained incrementally equals one rebuilt from scratch, and equals the fold.

Random but valid histories are recorded through ``auditlog.commands`` (the API the CLI and the
importers share). Along the way the persisted projection catches up at random moments, in
batches of a random small size so that batch boundaries fall everywhere. At the end its rows
must equal the rows of a rebuild, and its reports must equal those of a ``Universe`` folded in
memory from every event.
"""

import tempfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from auditlog import commands, commitment_commands
from auditlog.domain.aggregate import Context
from auditlog.domain.commitment import CLOSED, REVIEWABLE, Commitment
from auditlog.domain.events import RecommendationSpec, Status
from auditlog.domain.finding import Finding
from auditlog.domain.grades import GradeSeries, rule_for, series_id
from auditlog.errors import Refusal
from auditlog.projections import persisted
from auditlog.projections.model import Moment, ReadModel
from auditlog.projections.persisted import Projection
from auditlog.projections.summary import status_report
from auditlog.reports.views import fold
from auditlog.store.app import Store

CODES = ("35.73", "35.78", "35.10", "35")
# The review transitions of DOMAIN.md (with BS -> BS and TDTL -> TDTL as re-reviews).
NEXT = {Status.BD: (Status.BS, Status.S, Status.TDTL),
        Status.BS: (Status.BS, Status.S, Status.TDTL),
        Status.S: (Status.TDTL,), Status.TDTL: (Status.TDTL,)}
KINDS = ("pemda", "finding", "finding", "followup", "review", "review", "reopen", "extend",
         "correct", "withdraw", "grade", "duplicate", "commitment", "commitment", "progress",
         "progress", "creview", "creopen", "theme")
REFERENCE_DATES = (date(2022, 6, 30), date(2023, 6, 30), date(2024, 1, 15), date(2026, 1, 1))


class History:
    """Draws the next valid command from what the store holds now, and records it."""

    def __init__(self, store: Store, data: st.DataObject) -> None:
        self.store = store
        self.data = data
        self.at = datetime(2023, 1, 2, 8, 0, tzinfo=UTC)
        self.pemdas: list[str] = []
        self.refs: list[str] = []
        self.keys: dict[str, tuple[str, str, str | None, date]] = {}
        self.commitments: list[str] = []
        self.themes = ["stunting", "investasi"]

    def ctx(self) -> Context:
        self.at += timedelta(minutes=self.data.draw(st.integers(1, 600)))
        return Context(actor=self.data.draw(st.sampled_from(["siti", "budi"])), at=self.at)

    def draw(self, strategy: st.SearchStrategy[Any]) -> Any:
        return self.data.draw(strategy)

    def active(self) -> list[Finding]:
        found = [self.store.finding(ref)[0] for ref in self.refs]
        return [f for f in found if not f.withdrawn]

    def day_after(self, start: date, days: int = 400) -> date:
        return start + timedelta(days=self.draw(st.integers(0, days)))

    def step(self, kind: str) -> None:
        getattr(self, f"_{kind}")()

    def _pemda(self) -> None:
        free = [c for c in CODES if c not in self.pemdas]
        if not free:
            return
        code = self.draw(st.sampled_from(free))
        commands.register_pemda(self.store, self.ctx(), code, None, None, date(2023, 1, 2))
        self.pemdas.append(code)

    def _finding(self) -> None:
        if not self.pemdas:
            return self._pemda()
        received = self.day_after(date(2022, 1, 1), 700)
        count = self.draw(st.integers(1, 3))
        due = self.draw(st.none() | st.integers(0, 120).map(lambda d: received + timedelta(d)))
        specs = [RecommendationSpec(n=i + 1, text=f"rekomendasi {i + 1}", due=due,
                                    value=self.draw(st.none() | st.integers(0, 10**9)))
                 for i in range(count)]
        pemda, title = self.draw(st.sampled_from(self.pemdas)), f"temuan {len(self.refs)}"
        report = self.draw(st.none() | st.just("700/012/ITDA/2023"))
        finding = commands.record_finding(self.store, self.ctx(), commands.NewFinding(
            pemda=pemda, title=title, received=received, recommendations=specs, report=report,
            value=self.draw(st.none() | st.integers(0, 10**9))))
        self.refs.append(finding.ref)
        self.keys[finding.ref] = (pemda, title, report, received)

    def _duplicate(self) -> None:
        """Re-recording an existing finding is refused and writes nothing (a withdrawn one
        never existed: its key is free again)."""
        active = [f.ref for f in self.active()]
        if not active:
            return self._finding()
        ref = self.draw(st.sampled_from(active))
        pemda, title, report, received = self.keys[ref]
        before = self.store.max_position()
        try:
            commands.record_finding(self.store, self.ctx(), commands.NewFinding(
                pemda=pemda, title=f" {title.upper()} ", report=report, received=received,
                recommendations=[RecommendationSpec(n=1, text="lagi")]))
        except Refusal as refused:
            assert ref in str(refused)
        else:
            raise AssertionError("a duplicate finding was recorded")
        assert self.store.max_position() == before

    def _pick_rec(self) -> tuple[Finding, int] | None:
        active = self.active()
        if not active:
            self._finding()  # nothing to act on yet: record something first
            return None
        finding = self.draw(st.sampled_from(active))
        return finding, self.draw(st.sampled_from([r.n for r in finding.recommendations]))

    def _followup(self) -> None:
        if (picked := self._pick_rec()) is None:
            return
        finding, n = picked
        commands.record_followup(self.store, self.ctx(), f"{finding.ref}.{n}",
                                 self.day_after(finding.received), "tindak lanjut",
                                 self.draw(st.integers(0, 10**8)), None, ())

    def _review(self) -> None:
        if (picked := self._pick_rec()) is None:
            return
        finding, n = picked
        rec = finding.recommendation(n)
        new = self.draw(st.sampled_from(NEXT[rec.status]))
        commands.review(self.store, self.ctx(), f"{finding.ref}.{n}", new, "alasan",
                        self.day_after(rec.status_changed_on or finding.received))

    def _reopen(self) -> None:
        closed = [(f, r.n) for f in self.active() for r in f.recommendations
                  if r.status in (Status.S, Status.TDTL)]
        if not closed:
            return self._review()
        finding, n = self.draw(st.sampled_from(closed))
        changed = finding.recommendation(n).status_changed_on
        commands.reopen(self.store, self.ctx(), f"{finding.ref}.{n}", "dibuka kembali",
                        self.day_after(changed or finding.received))

    def _extend(self) -> None:
        if (picked := self._pick_rec()) is None:
            return
        finding, n = picked
        due = finding.recommendation(n).due(finding.received)
        commands.extend(self.store, self.ctx(), f"{finding.ref}.{n}",
                        due + timedelta(days=self.draw(st.integers(1, 200))), "perpanjangan",
                        self.day_after(finding.received, 30))

    def _correct(self) -> None:
        active = self.active()
        if not active:
            return self._finding()
        finding = self.draw(st.sampled_from(active))
        field = self.draw(st.sampled_from(["title", "opd", "value", "code", "received"]))
        target: str = finding.ref
        on = self.day_after(finding.received, 30)
        if field == "received":
            # on or before every due date, the first activity and the correction itself
            limits = [d for r in finding.recommendations for d in (r.due_set, r.due_extended)
                      if d is not None]
            if finding.first_activity_on is not None:
                limits.append(finding.first_activity_on)
            latest = min([*limits, on, finding.received + timedelta(days=90)])
            value = (finding.received + timedelta(
                days=self.draw(st.integers(-90, (latest - finding.received).days)))).isoformat()
            if value == finding.received.isoformat():
                return
        elif field == "value":
            value = str(self.draw(st.integers(0, 10**9)))
            if self.draw(st.booleans()):  # a recommendation's value
                target = f"{finding.ref}.{finding.recommendations[0].n}"
            owner = finding if target == finding.ref else finding.recommendations[0]
            if owner.value == int(value):
                return
        elif field == "code":
            value = self.draw(st.sampled_from(["101", "1.02.03", "2.01.", "30101"]))
            if finding.code == {"101": "1.01.00", "1.02.03": "1.02.03", "2.01.": "2.01.00",
                                "30101": "3.01.01"}[value]:
                return
        else:
            value = f"{field} {self.at.isoformat()}"
        commands.correct(self.store, self.ctx(), target, field, value, "koreksi", on)

    def _withdraw(self) -> None:
        active = self.active()
        if len(active) < 2:  # keep something to act on
            return self._finding()
        finding = self.draw(st.sampled_from(active))
        commands.withdraw(self.store, self.ctx(), finding.ref, "tercatat ganda",
                          self.day_after(finding.received, 30))

    def _grade(self) -> None:
        if not self.pemdas:
            return self._pemda()
        pemda = self.draw(st.sampled_from(self.pemdas))
        instrument = self.draw(st.sampled_from(["SAKIP", "RB", "SPIP", "BPK"]))
        year = self.draw(st.integers(2019, 2023))
        rule = rule_for(instrument, None)
        score: Decimal | None = None
        grade: str | None = None
        if rule.bands and self.draw(st.booleans()):
            score = Decimal(self.draw(st.integers(0, 10_000))) / 100
        else:
            grade = self.draw(st.sampled_from(rule.grades))
        series = self.store.get(series_id(pemda, instrument))
        exists = isinstance(series, GradeSeries) and year in series.years
        mine = [r for r in self.refs if self.store.finding(r)[0].pemda == pemda
                and not self.store.finding(r)[0].withdrawn]
        because = self.draw(st.lists(st.sampled_from(mine), max_size=2)) if mine else []
        before = self.store.max_position()
        try:
            commands.record_grade(self.store, self.ctx(), pemda, instrument, year, rule, grade,
                                  score, because, date(year + 1, 3, 1),
                                  "koreksi" if exists else None)
        except Refusal as refused:  # a correction to the grade already there changes nothing
            assert exists and "nothing to correct" in str(refused)
            assert self.store.max_position() == before


    # --- commitments -----------------------------------------------------------------------

    def _theme(self) -> None:
        code = f"tema-{len(self.themes)}"
        commitment_commands.add_theme(self.store, self.ctx(), code, f"tema {len(self.themes)}",
                                      date(2023, 1, 2))
        self.themes.append(code)

    def _commitment(self) -> None:
        if not self.pemdas:
            return self._pemda()
        on = self.day_after(date(2022, 1, 1), 700)
        measured = self.draw(st.booleans())
        baseline = Decimal(self.draw(st.integers(0, 100)))
        target = baseline + self.draw(st.sampled_from([-7, -1, 3, 50]))
        answers = [r for r in self.refs[:3] if (f := self.store.finding(r)[0]).pemda ==
                   self.pemdas[0] and not f.withdrawn]
        commitment = commitment_commands.record_commitment(
            self.store, self.ctx(), commitment_commands.NewCommitment(
                pemda=self.pemdas[0], opd=self.draw(st.sampled_from(["Dinkes", "DPMPTSP"])),
                theme=self.draw(st.sampled_from(self.themes)),
                text=f"komitmen {len(self.commitments)}", owner="Sekretaris",
                by=on + timedelta(days=self.draw(st.integers(0, 500))), on=on,
                indicator="indikator" if measured else None, unit="%" if measured else None,
                baseline=baseline if measured else None, target=target if measured else None,
                answers=tuple(answers[:1])))
        self.commitments.append(commitment.ref)

    def _pick_commitment(self) -> Commitment | None:
        if not self.commitments:
            self._commitment()
            return None
        ref = self.draw(st.sampled_from(self.commitments))
        return commitment_commands.get_commitment(self.store, ref)

    def _progress(self) -> None:
        if (commitment := self._pick_commitment()) is None:
            return
        if commitment.status in CLOSED:
            return self._creopen()
        measured = commitment.indicator is not None
        commitment_commands.record_progress(
            self.store, self.ctx(), commitment.ref, self.day_after(commitment.made_on),
            Decimal(self.draw(st.integers(-20, 120))) if measured else None,
            None if measured else "realisasi", ())

    def _creview(self) -> None:
        if (commitment := self._pick_commitment()) is None:
            return
        if commitment.status in CLOSED:
            return self._creopen()
        commitment_commands.review(
            self.store, self.ctx(), commitment.ref, self.draw(st.sampled_from(REVIEWABLE)),
            "penilaian", self.day_after(commitment.status_changed_on or commitment.made_on))

    def _creopen(self) -> None:
        closed = [c for c in (commitment_commands.get_commitment(self.store, r)
                              for r in self.commitments) if c.status in CLOSED]
        if not closed:
            return self._creview()
        commitment = self.draw(st.sampled_from(closed))
        commitment_commands.reopen(self.store, self.ctx(), commitment.ref, "dibuka kembali",
                                   self.day_after(commitment.status_changed_on
                                                  or commitment.made_on))


def reports(model: ReadModel) -> list[Any]:
    """Everything a report reads from a model, in comparable form."""
    return [
        [status_report(model, on) for on in REFERENCE_DATES],
        [p.model_dump(mode="json") for p in model.pemda_list()],
        [f.model_dump(mode="json") for f in model.active_findings()],
        sorted((r.pemda, r.status.value, r.value, r.deposited, r.due) for r in model.rec_rows()),
        [g.model_dump(mode="json") for g in model.grade_series()],
        [c.model_dump(mode="json") for c in model.commitments()],
    ]


def assert_projection_is_the_fold(projection: Projection, store: Store) -> None:
    assert reports(projection) == reports(fold(store, Moment()))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), batch=st.integers(1, 7),
       kinds=st.lists(st.tuples(st.sampled_from(KINDS), st.booleans()), min_size=25,
                      max_size=80))
def test_incremental_projection_equals_rebuild_and_fold(
        data: st.DataObject, batch: int, kinds: list[tuple[str, bool]]) -> None:
    with tempfile.TemporaryDirectory() as folder, \
            mock.patch.object(persisted, "BATCH", batch):
        store = Store(str(Path(folder) / "property.db"))
        projection = Projection(store)
        try:
            history = History(store, data)
            history.step("pemda")
            for kind, catch_up in kinds:
                history.step(kind)
                if catch_up:
                    projection.catch_up()
                    assert_projection_is_the_fold(projection, store)
            projection.catch_up()
            assert projection.position() == store.max_position()
            event(f"log of {store.max_position() // 10 * 10}+ events")  # show-statistics
            incremental = projection.dump()
            assert_projection_is_the_fold(projection, store)

            applied = projection.rebuild()
            assert applied == store.max_position()
            assert projection.dump() == incremental
            assert_projection_is_the_fold(projection, store)
            assert projection.catch_up() == 0  # nothing left after a rebuild
        finally:
            projection.close()
            store.close()


def test_the_comparison_sees_a_projection_that_fell_behind(tmp_path: Path) -> None:
    """The property can fail: a projection missing one event differs from the fold."""
    store = Store(str(tmp_path / "behind.db"))
    projection = Projection(store)
    try:
        ctx = Context(actor="siti", at=datetime(2023, 1, 2, tzinfo=UTC))
        commands.register_pemda(store, ctx, "35.73", None, None, date(2023, 1, 2))
        commands.record_finding(store, ctx, commands.NewFinding(
            pemda="35.73", title="Kas", received=date(2023, 3, 1),
            recommendations=[RecommendationSpec(n=1, text="Setor")]))
        projection.catch_up()
        assert_projection_is_the_fold(projection, store)
        commands.review(store, ctx, "F-2023-0001.1", Status.S, "lunas", date(2023, 4, 1))
        assert reports(projection) != reports(fold(store, Moment()))
        before = projection.dump()
        assert projection.catch_up() == 1
        assert projection.dump() != before
        assert_projection_is_the_fold(projection, store)
    finally:
        projection.close()
        store.close()
