"""The fast read paths (the streamed rows, the lean fold, the persisted and temporal
projections) give the answers of the reference fold.

The reference is the fold as it was before the streaming path: eventsourcing's notifications,
each decoded and validated by pydantic. On random logs (corrections, withdrawals,
reopenings, extensions, grades), at random moments in valid and transaction time, the
streamed fold (rows checked against the chain, decoded without validation), the persisted
projection with its summary rows, and the temporal model must all answer alike.
"""

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlog.domain.events import Event
from auditlog.projections.model import Moment, Universe
from auditlog.projections.persisted import Projection
from auditlog.reports.views import fold, read_model
from auditlog.store.app import Store
from test_projection_property import KINDS, History, reports


def reference_events(store: Store) -> list[tuple[int, Event]]:
    return [(n.id, store.decode(n)) for batch in store.notifications() for n in batch]


def reference_fold(store: Store, moment: Moment) -> Universe:
    def history(aggregate_id: Any, version: int) -> Any:
        return store.app.events.get(aggregate_id, lte=version)

    return Universe(moment=moment, history=history).fold(reference_events(store))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(),
       kinds=st.lists(st.sampled_from(KINDS), min_size=20, max_size=70),
       as_of=st.lists(st.none() | st.dates(date(2021, 12, 1), date(2025, 6, 1)),
                      min_size=3, max_size=3),
       known=st.lists(st.none() | st.floats(0, 1.05), min_size=3, max_size=3))
def test_streamed_and_projected_reads_equal_the_reference_fold(
        data: st.DataObject, kinds: list[str], as_of: list[date | None],
        known: list[float | None]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(str(Path(folder) / "fast.db"))
        projection = Projection(store)
        try:
            history = History(store, data)
            started = history.at
            history.step("pemda")
            for kind in kinds:
                history.step(kind)
            span = history.at - started

            streamed = [e for batch in store.stream(batch=3) for e in batch]
            reference = reference_events(store)
            assert [p for p, _ in streamed] == [p for p, _ in reference]
            for (_, fast), (_, validated) in zip(streamed, reference, strict=True):
                assert type(fast) is type(validated)
                assert fast == validated
                assert fast.model_dump(mode="json") == validated.model_dump(mode="json")

            projection.catch_up()
            moments = [Moment()] + [
                Moment(as_of=day, known_at=None if share is None
                       else started + timedelta(seconds=span.total_seconds() * share))
                for day, share in zip(as_of, known, strict=True)]
            for moment in moments:
                slow = reference_fold(store, moment)
                expected = reports(slow)
                lean = fold(store, moment)  # the lean fold of replay (projections/lean.py)
                assert reports(lean) == expected, moment
                assert lean.rec_rows() == slow.rec_rows(), moment  # the same order
                assert lean.open_finding_ids() == slow.open_finding_ids(), moment
                assert ((lean.events_read, lean.events_applied, lean.last_applied)
                        == (slow.events_read, slow.events_applied, slow.last_applied)), moment
                assert reports(read_model(store, moment, projection)) == expected, moment
        finally:
            projection.close()
            store.close()


def test_the_comparison_sees_a_decoding_that_differs(tmp_path: Path) -> None:
    """The property can fail: an event decoded with one field off differs from the reference."""
    from auditlog import commands
    from auditlog.domain.aggregate import Context

    store = Store(str(tmp_path / "one.db"))
    try:
        commands.register_pemda(store, Context("siti", datetime(2024, 1, 2, tzinfo=UTC)),
                                "35.73", None, None, date(2023, 1, 2))
        (_, fast), = [e for batch in store.stream() for e in batch]
        (_, validated), = reference_events(store)
        assert fast == validated
        assert fast.model_copy(update={"effective_on": date(2023, 1, 3)}) != validated
    finally:
        store.close()


def test_the_comparison_sees_a_lean_fold_that_differs(tmp_path: Path) -> None:
    """The property can fail: a lean fold that drops the deposits of follow-ups differs."""
    from unittest import mock

    from auditlog.domain.events import FollowUpRecorded
    from auditlog.projections import lean
    from test_lean_rows import small_store

    store = small_store(tmp_path / "lean.db")
    try:
        assert reports(fold(store, Moment())) == reports(reference_fold(store, Moment()))
        handlers = {**lean._HANDLERS, FollowUpRecorded.topic: lambda finding, state: None}
        with mock.patch.object(lean, "_HANDLERS", handlers):
            assert reports(fold(store, Moment())) != reports(reference_fold(store, Moment()))
    finally:
        store.close()
