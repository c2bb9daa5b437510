"""The annual review's one pass over the log (reports/review_fold.py) gives what the domain's
own fold gives.

On random logs (corrections, withdrawals, reopenings, extensions, grades, commitments), for a
random year, --as-of and --known-at: the findings the review holds active and every field a
section prints of them, the summary, which events the activity lists, and the checkpoint (of
the whole log, or of the prefix known at --known-at) equal what the reference fold of every
event into pydantic aggregates, and verify, give.
"""

import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlog.domain.events import (
    Event,
    FindingCorrected,
    FindingRecorded,
    FindingWithdrawn,
)
from auditlog.projections.model import Moment, ReadModel, ref_key
from auditlog.projections.summary import status_report
from auditlog.reports import review_fold
from auditlog.reports.review import ACTIVITY_KINDS
from auditlog.reports.review_fold import ReviewLog, read_for_review
from auditlog.store.app import Store
from auditlog.store.integrity import current_checkpoint, prefix_checkpoint
from test_fast_reads import reference_events, reference_fold
from test_projection_property import KINDS, History


def printed(f: Any) -> list[Any]:
    """What the review's sections print of a finding (a Finding or a ReviewFinding)."""
    return [f.ref, f.pemda, f.opd, f.report, f.received, f.instrument, f.year, f.code, f.title,
            [(r.n, r.text, r.status.value, r.value, r.deposited, r.due(f.received))
             for r in f.recommendations]]


def expected_review(store: Store, year: int, moment: Moment) -> dict[str, Any]:
    """The same answers from the reference fold and the events, as the review defines them."""
    assert moment.as_of is not None
    first, last = date(year, 1, 1), min(moment.as_of, date(year, 12, 31))
    known = moment.known_at
    events = reference_events(store)
    admitted = [(p, e) for p, e in events if known is None or e.recorded_at <= known]
    received: dict[UUID, date] = {}
    withdrawn: set[UUID] = set()
    for _, e in admitted:
        if isinstance(e, FindingRecorded):
            received[e.originator_id] = e.received
        elif isinstance(e, FindingCorrected) and e.field == "received" and e.value:
            received[e.originator_id] = date.fromisoformat(e.value)
        elif isinstance(e, FindingWithdrawn):
            withdrawn.add(e.originator_id)
    listed = tuple(cls for cls, _text in ACTIVITY_KINDS)

    def in_activity(e: Event) -> bool:
        if not isinstance(e, listed):
            return False
        if e.originator_id in withdrawn and not isinstance(e, FindingWithdrawn):
            return False
        day = received[e.originator_id] if isinstance(e, FindingRecorded) else e.effective_on
        return first <= day <= last

    activity = [(p, e) for p, e in admitted if in_activity(e)]
    touched = {e.originator_id for p, e in admitted if first <= e.effective_on <= last}
    at_end = reference_fold(store, moment)
    at_start = reference_fold(store, Moment(as_of=date(year - 1, 12, 31), known_at=known))
    open_at_start = at_start.open_finding_ids()
    active = [f for f in at_end.active_findings()
              if f.received.year == year or f.id in open_at_start or f.id in touched
              or not f.is_closed]
    size = sum(1 for _ in admitted)
    if known is None:
        whole = current_checkpoint(store)
        checkpoint = (whole.store_id, whole.size, whole.root)
    else:
        prefix = prefix_checkpoint(store, size)
        checkpoint = (prefix.store_id, size, prefix.root)
    return {"active": [printed(f) for f in sorted(active, key=ref_key)],
            "summary": status_report(at_end, moment.as_of),
            "activity": activity, "checkpoint": checkpoint}


def review_answers(log: ReviewLog, year: int) -> dict[str, Any]:
    assert log.moment.as_of is not None
    start = date(year - 1, 12, 31)
    active = sorted((f for f in log.shown()
                     if f.received.year == year or f.touched or not f.is_closed
                     or f.open_at_start(start)), key=lambda f: f.sort_key)
    return {"active": [printed(f) for f in active],
            "summary": status_report(cast(ReadModel, log), log.moment.as_of),
            # read again from the log as written: positions, the events, and their findings
            "activity": [(p, e) for p, e, _refs in log.activity_events(chunk=3)],
            "checkpoint": (log.store_id, log.size, log.root)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(),
       kinds=st.lists(st.sampled_from(KINDS), min_size=20, max_size=70),
       year=st.integers(2023, 2024),
       as_of=st.none() | st.integers(0, 400),
       known=st.none() | st.floats(0, 1.05))
def test_the_reviews_fold_answers_as_the_reference_fold(
        data: st.DataObject, kinds: list[str], year: int, as_of: int | None,
        known: float | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(str(Path(folder) / "review.db"))
        try:
            history = History(store, data)
            started = history.at
            history.step("pemda")
            for kind in kinds:
                history.step(kind)
            span = history.at - started
            on = date(year, 12, 31) if as_of is None else date(year, 1, 1) + timedelta(as_of)
            moment = Moment(as_of=on, known_at=None if known is None
                            else started + timedelta(seconds=span.total_seconds() * known))
            log = read_for_review(store, year, moment)
            assert review_answers(log, year) == expected_review(store, year, moment)
        finally:
            store.close()


def test_the_comparison_sees_a_fold_that_differs(tmp_path: Path) -> None:
    """The property can fail: a fold that drops the deposits of follow-ups differs."""
    from unittest import mock

    from auditlog.domain.events import FollowUpRecorded
    from test_lean_rows import small_store

    store = small_store(tmp_path / "fold.db")
    try:
        moment = Moment(as_of=date(2023, 12, 31))
        expected = expected_review(store, 2023, moment)
        assert review_answers(read_for_review(store, 2023, moment), 2023) == expected
        original = review_fold._apply

        def forgetful(f: Any, topic: str, s: dict[str, Any], by_start: bool) -> None:
            if topic != FollowUpRecorded.topic:
                original(f, topic, s, by_start)

        with mock.patch.object(review_fold, "_apply", forgetful):
            assert review_answers(read_for_review(store, 2023, moment), 2023) != expected
    finally:
        store.close()
