"""The review's rows made without the general helpers say what those helpers say."""

import html
import random
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlog import i18n
from auditlog.domain.events import (
    DueDateExtended,
    Event,
    Evidence,
    FindingCorrected,
    FindingRecorded,
    FindingWithdrawn,
    FollowUpRecorded,
    RecommendationReopened,
    RecommendationReviewed,
    RecommendationSpec,
    Source,
    Status,
)
from auditlog.domain.inputs import format_rupiah
from auditlog.projections.model import Moment
from auditlog.projections.summary import STATUSES, Totals
from auditlog.reports import export, review
from auditlog.reports.review import Column, Kind, Lang, _flat, build_review
from auditlog.reports.review_fold import read_for_review
from auditlog.reports.views import event_detail
from auditlog.store import mapper
from auditlog.store.app import Store
from test_projection_property import KINDS, History


def test_a_matrix_row_is_what_totals_flat_gives() -> None:
    rng = random.Random(9)
    n = len(STATUSES)
    for _case in range(2000):
        # zeros often: a status with no recommendation, nothing to recover, nothing deposited
        sums = [rng.choice((0, 0, 1, 7, rng.randrange(10**12))) for _i in range(2 * n + 2)]
        expected = Totals(dict(zip(STATUSES, sums[:n], strict=True)),
                          dict(zip(STATUSES, sums[n:2 * n], strict=True)),
                          sums[-2], sums[-1]).flat()
        row = _flat(sums)
        assert row == expected
        assert list(row) == list(expected)  # the columns' order too (JSON keeps it)


# --- the activity's words from the stored fields ---------------------------------------------


def activity_rows(store: Store, year: int, on: date, lang: Lang,
                  describe: Callable[[Event, dict[Any, str]], tuple[str, str, str]]
                  ) -> list[dict[str, Any]]:
    log = read_for_review(store, year, Moment(as_of=on))
    review = build_review(log, year, describe, lang)
    return [row for s in review.sections if s.key == "activity" for row in s.each()]


def by_events(event: Event, subject_of: dict[Any, str]) -> tuple[str, str, str]:
    """event_detail, but not it: the review describes each event object, as before."""
    return event_detail(event, subject_of)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(),
       kinds=st.lists(st.sampled_from(KINDS), min_size=20, max_size=60),
       year=st.integers(2023, 2024))
def test_the_activity_from_stored_fields_is_the_activity_from_events(
        data: st.DataObject, kinds: list[str], year: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(str(Path(folder) / "review.db"))
        try:
            history = History(store, data)  # in English: it reads the refusals it provokes
            history.step("pemda")
            for kind in kinds:
                history.step(kind)
            on = date(year, 12, 31)
            for lang in ("id", "en"):
                i18n.set_language(lang)
                with mock.patch.object(review, "_row_of_state",
                                       wraps=review._row_of_state) as fast:
                    rows = activity_rows(store, year, on, lang, event_detail)
                assert fast.call_count == sum(
                    r["event"] not in ("grade.recorded", "grade.corrected") for r in rows)
                assert rows == activity_rows(store, year, on, lang, by_events)
                i18n.reset()
        finally:
            store.close()
            i18n.reset()


def stored(event: Event) -> dict[str, Any]:
    state = event.model_dump(mode="json", exclude={"originator_id", "originator_version"})
    return {k: v for k, v in state.items() if v is not None or k in ("previous", "value")}


AT = {"actor": "siti", "recorded_at": "2024-01-02T03:04:05.678901+00:00",
      "effective_on": date(2023, 5, 6)}
SOURCE = Source(file="register 2023.xlsx", sha256="ab" * 32, row=17)
EVENTS: list[Event] = [
    FollowUpRecorded(originator_id=uuid4(), originator_version=3, recommendation=2,
                     action="setor", deposit=1_500_000, slip="S-9",
                     evidence=(Evidence(name="slip.pdf", sha256="cd" * 32, size=5),
                               Evidence(name="foto.jpg", sha256="ef" * 32, size=7)),
                     source=SOURCE, **AT),
    FollowUpRecorded(originator_id=uuid4(), originator_version=3, recommendation=1,
                     action="rapat", **AT),
    RecommendationReviewed(originator_id=uuid4(), originator_version=4, recommendation=1,
                           previous=Status.BD, status=Status.TDTL, reason="tidak dapat",
                           source=SOURCE, **AT),
    RecommendationReopened(originator_id=uuid4(), originator_version=5, recommendation=3,
                           previous=Status.S, reason="bukti palsu", **AT),
    DueDateExtended(originator_id=uuid4(), originator_version=2, recommendation=1,
                    previous=date(2023, 2, 1), due=date(2023, 8, 17), reason="banjir", **AT),
    FindingCorrected(originator_id=uuid4(), originator_version=2, field="value",
                     recommendation=2, previous=None, value=5_000, reason="salah ketik", **AT),
    FindingCorrected(originator_id=uuid4(), originator_version=2, field="title",
                     previous="Kas 'lama'", value="Kas\nbaru", reason="judul", **AT),
    FindingWithdrawn(originator_id=uuid4(), originator_version=2, reason="ganda", **AT),
    FindingRecorded(originator_id=uuid4(), originator_version=1, ref="F-2023-0001",
                    pemda="35.73", title="Kas <b>", received=date(2023, 3, 1),
                    recommendations=(RecommendationSpec(n=1, text="Setor"),), source=SOURCE,
                    **AT),
    FindingRecorded(originator_id=uuid4(), originator_version=1, ref="F-2023-0002",
                    pemda="35.73", title="Aset", received=date(2023, 12, 31),
                    recommendations=(RecommendationSpec(n=1, text="a"),
                                     RecommendationSpec(n=2, text="b")), **AT),
]


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("ref", ["", "F-2023-0007"])
@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.topic)
def test_each_kind_from_its_stored_fields(event: Event, ref: str, lang: Lang) -> None:
    """Imports' sources, deposits with slips, evidence, corrections of every shape."""
    i18n.set_language(lang)
    try:
        topic = event.topic.encode()
        row = review._row_of_state(7, topic, stored(event), ref, review._DESCRIBED[topic])
        name, subject, text = event_detail(event, {event.originator_id: ref} if ref else {})
        assert row == {"position": 7, "effective_on": event.effective_on, "event": name,
                       "subject": subject, "detail": text, "actor": "siti",
                       "recorded_at": "2024-01-02T03:04:05Z"}
    finally:
        i18n.reset()


GONE = object()  # the field is missing


@pytest.mark.parametrize("change", [{"status": "DONE"}, {"surprise": 1}, {"reason": GONE},
                                    {"effective_on": "2023-02-30"}])
def test_a_state_that_is_no_event_is_left_to_decoding(change: dict[str, Any]) -> None:
    """Damage is said by the event's decoding (exit 3), never worded as if it were fine."""
    event = EVENTS[2]
    topic = event.topic.encode()
    state = {k: v for k, v in {**stored(event), **change}.items() if v is not GONE}
    assert review._row_of_state(7, topic, state, "", review._DESCRIBED[topic]) is None


@pytest.mark.parametrize("event", [e for e in EVENTS if getattr(e, "source", None) is None],
                         ids=lambda e: e.topic)
def test_a_finding_event_stored_as_an_older_version_reads_as_it_is(event: Event) -> None:
    """The review's pass skips upcasting a finding's event stored at or after floor_version:
    from there the upcasters change nothing of a state (stored as mapper.stored_version
    stores it)."""
    cls = type(event)
    since = mapper.floor_version(cls)
    state = stored(event)
    for version in range(since, cls.class_version):
        older = {**state, "class_version": version}
        mapper.upcast(cls.topic, older)
        assert older == state


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("kind", ["text", "int", "rupiah", "date", "pct"])
def test_a_cell_worded_by_its_column_is_the_general_cell(kind: Kind, lang: Lang) -> None:
    """Markdown and HTML cells with the column's kind decided once say what the general
    _md_cell and _html_cell say, whatever the value."""
    column = Column("k", "K", kind)
    values: list[Any] = [None, "", "a <b> | & c\nd", "=1+1", 0, 12_150_000, True, 37.5,
                         date(2023, 7, 26)]
    for escape, general in ((export.md_text, export._md_cell),
                            (html.escape, export._html_cell)):
        worded = export._worded(column, lang, escape, general)
        for value in values:
            assert said(worded, value) == said(general, column, value, lang), (kind, value)


def said(cell: Callable[..., str], *args: Any) -> str:
    """The cell's text, or the error it raises (a value no such column holds)."""
    try:
        return cell(*args)
    except (ValueError, TypeError) as error:
        return repr(error)


@given(st.integers(-10**18, 10**18))
def test_a_rupiah_cells_width_is_the_length_of_its_text(value: int) -> None:
    assert export.rupiah_width(value) == len(format_rupiah(value))
