"""The bulk path: many commands, one transaction, chain and projections caught up."""

import contextlib
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest

from auditlog import commands
from auditlog.domain.aggregate import Context
from auditlog.domain.events import RecommendationSpec, Status
from auditlog.domain.grades import rule_for
from auditlog.errors import Refusal
from auditlog.projections.model import Moment
from auditlog.projections.persisted import Projection
from auditlog.reports.views import fold
from auditlog.store.app import Store
from auditlog.store.integrity import verify_store
from auditlog.store.recorder import AuditRecorder
from test_projection_property import reports


def story(store: Store) -> None:
    """Findings recorded, followed up by reference, reviewed, corrected, withdrawn, graded:
    each command reads what the ones before it decided."""
    at = datetime(2024, 1, 2, 8, tzinfo=UTC)
    for code in ("35.73", "35.78"):
        at += timedelta(minutes=1)
        commands.register_pemda(store, Context("siti", at), code, None, None, date(2023, 1, 2))
    for n in range(12):
        at += timedelta(minutes=1)
        ctx = Context("siti", at)
        finding = commands.record_finding(store, ctx, commands.NewFinding(
            pemda=("35.73", "35.78")[n % 2], title=f"temuan {n}", received=date(2023, 3, 1 + n),
            report="700/1/2023", recommendations=[
                RecommendationSpec(n=i + 1, text="setor", value=1_000_000 * (i + 1))
                for i in range(1 + n % 3)]))
        ref = f"{finding.ref}.1"
        commands.record_followup(store, ctx, ref, date(2023, 5, 1), "setor", 500_000, None, ())
        commands.review(store, ctx, ref, Status.S if n % 2 else Status.BS, "cek",
                        date(2023, 5, 2))
        if n % 4 == 3:
            commands.reopen(store, ctx, ref, "ternyata kurang", date(2023, 6, 1))
        if n % 5 == 1:
            commands.correct(store, ctx, finding.ref, "title", f"temuan {n} (koreksi)",
                             "salah ketik", date(2023, 5, 3))
        if n == 7:
            commands.withdraw(store, ctx, finding.ref, "tercatat ganda", date(2023, 5, 4))
    commands.record_grade(store, Context("siti", at), "35.73", "SAKIP", 2023,
                          rule_for("SAKIP", None), "A", None, ["F-2023-0003"],
                          date(2024, 1, 2), None)


def stored_rows(path: Path) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT originator_id, originator_version, topic, state "
                          "FROM stored_events ORDER BY rowid").fetchall()


def test_bulk_stores_what_the_same_commands_store_one_by_one(tmp_path: Path) -> None:
    one_by_one = Store(str(tmp_path / "one.db"))
    story(one_by_one)
    one_by_one.close()

    store = Store(str(tmp_path / "bulk.db"))
    try:
        inserts: list[int] = []
        real = AuditRecorder.after_insert

        def counted(self: AuditRecorder, c: object, stored: list[object], ids: object) -> None:
            inserts.append(len(stored))
            real(self, c, stored, ids)  # type: ignore[arg-type]

        with mock.patch.object(AuditRecorder, "after_insert", counted):
            commands.bulk(store, story)
        assert inserts == [store.max_position()]  # one transaction for the whole work
        assert verify_store(store).ok
        projection = Projection(store)
        try:
            assert projection.position() == store.max_position()  # caught up in the run
            assert reports(projection) == reports(fold(store, Moment()))
        finally:
            projection.close()
    finally:
        store.close()
    # Same events, same versions, same bytes, in the same order.
    assert stored_rows(tmp_path / "bulk.db") == stored_rows(tmp_path / "one.db")


def test_a_refusal_anywhere_in_the_work_writes_nothing(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "bulk.db"))
    try:
        commands.register_pemda(store, Context("siti", datetime(2024, 1, 2, tzinfo=UTC)),
                                "35.73", None, None, date(2023, 1, 2))
        before = store.max_position()

        def work(batch: Store) -> None:
            ctx = Context("siti", datetime(2024, 1, 2, tzinfo=UTC))
            new = commands.NewFinding(pemda="35.73", title="kas", received=date(2023, 3, 1),
                                      recommendations=[RecommendationSpec(n=1, text="setor")])
            commands.record_finding(batch, ctx, new)
            commands.record_finding(batch, ctx, new)  # the same finding again: refused

        with pytest.raises(Refusal, match="already recorded as F-2023-0001"):
            commands.bulk(store, work)
        assert store.max_position() == before

        def carries_on(batch: Store) -> None:
            with contextlib.suppress(Refusal):  # a caller that swallows a refusal
                work(batch)

        with pytest.raises(Refusal, match="1 commands of this work were refused"):
            commands.bulk(store, carries_on)
        assert store.max_position() == before
    finally:
        store.close()


def test_bulk_retries_the_whole_work_when_someone_else_saved_first(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "bulk.db"))
    other = Store(str(tmp_path / "bulk.db"))
    try:
        ctx = Context("siti", datetime(2024, 1, 2, tzinfo=UTC))
        commands.register_pemda(store, ctx, "35.73", None, None, date(2023, 1, 2))
        runs: list[str] = []

        def work(batch: Store) -> None:
            finding = commands.record_finding(batch, ctx, commands.NewFinding(
                pemda="35.73", title=f"kas {len(runs)}", received=date(2023, 3, 1),
                recommendations=[RecommendationSpec(n=1, text="setor")]))
            runs.append(finding.ref)
            if len(runs) == 1:  # another auditor takes F-2023-0001 meanwhile
                commands.record_finding(other, ctx, commands.NewFinding(
                    pemda="35.73", title="lain", received=date(2023, 3, 1),
                    recommendations=[RecommendationSpec(n=1, text="setor")]))

        call: Callable[[Store], None] = work
        store.bulk(call)
        assert runs == ["F-2023-0001", "F-2023-0002"]
        assert verify_store(store).ok
    finally:
        other.close()
        store.close()


def test_one_save_keeps_the_order_it_was_given_when_the_times_allow_it() -> None:
    """Events of equal time keep their order (a copied log's order is its identity); a later
    aggregate's events go after an earlier one's; an aggregate's own never overtake each
    other."""
    import orjson
    from eventsourcing.persistence import StoredEvent

    from auditlog.store.recorder import in_time_order

    def event(aggregate: str, version: int, minute: int) -> StoredEvent:
        state = orjson.dumps({"recorded_at": f"2024-01-02T08:{minute:02d}:00Z"})
        return StoredEvent(originator_id=aggregate, originator_version=version,
                           topic="t", state=state)

    tied = [event("b", 1, 0), event("a", 1, 0), event("b", 2, 0), event("c", 1, 0)]
    assert in_time_order(tied) == tied
    later_first = [event("a", 1, 5), event("a", 2, 6), event("b", 1, 1), event("b", 2, 7)]
    assert [(e.originator_id, e.originator_version) for e in in_time_order(later_first)] == [
        ("b", 1), ("a", 1), ("a", 2), ("b", 2)]
    backwards = [event("a", 1, 5), event("a", 2, 1), event("b", 1, 3)]
    assert [(e.originator_id, e.originator_version) for e in in_time_order(backwards)] == [
        ("b", 1), ("a", 1), ("a", 2)]
