"""The rules of DOMAIN.md as the aggregates enforce them: statuses, deadlines, grades, causes.

Expected tables (transitions, grade bands, due dates) are written out here from DOMAIN.md, so a
change in the code that breaks a rule fails a test instead of silently redefining the rule.
"""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import product
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditlog import commands
from auditlog.domain.aggregate import Context, create_new, natural_id, project
from auditlog.domain.events import (
    DueDateExtended,
    Event,
    FindingCorrected,
    FindingWithdrawn,
    GradeCorrected,
    GradeRecorded,
    RecommendationReopened,
    RecommendationReviewed,
    RecommendationSpec,
    Status,
)
from auditlog.domain.finding import Finding, finding_id
from auditlog.domain.grades import (
    GradeSeries,
    decide_grade,
    instrument_name,
    parse_score,
    rule_for,
)
from auditlog.domain.pemda import resolve_identity
from auditlog.errors import Refusal
from auditlog.store.app import Store

CTX = Context(actor="auditor", at=datetime(2024, 1, 15, 9, 0, tzinfo=UTC))
RECEIVED = date(2023, 3, 6)
LATER = date(2023, 6, 1)

BD, BS, S, TDTL = Status.BD, Status.BS, Status.S, Status.TDTL

# DOMAIN.md: BD->BS, BD->S, BS->S, any->TDTL; BS->BS records a review of a new follow-up that
# still does not match. Nothing else is a review; S/TDTL -> BS is a reopening.
ALLOWED = {(BD, BS), (BD, S), (BD, TDTL), (BS, BS), (BS, S), (BS, TDTL), (S, TDTL), (TDTL, TDTL)}


def new_finding(*, received: date = RECEIVED, recs: int = 2, due: date | None = None,
                issued: date | None = None) -> Finding:
    specs = tuple(RecommendationSpec(n=i + 1, text=f"rekomendasi {i + 1}", due=due)
                  for i in range(recs))
    finding = create_new(Finding, CTX, uuid4(), received, ref="F-2023-0001", pemda="35.73",
                         title="Kelebihan pembayaran", received=received, issued=issued,
                         recommendations=specs)
    finding.collect_events()
    return finding


def bring_to(finding: Finding, n: int, status: Status) -> None:
    if status is not BD:
        finding.review(CTX, n, status, f"menjadi {status.value}", LATER)
        finding.collect_events()


def assert_refused_untouched(finding: Finding, call: object, *args: object) -> str:
    """The call is refused and leaves the aggregate exactly as it was; returns the message."""
    finding.collect_events()  # what earlier steps triggered is not this call's doing
    before = finding.model_dump()
    with pytest.raises(Refusal) as refused:
        call(*args)  # type: ignore[operator]
    assert finding.collect_events() == []
    assert finding.model_dump() == before
    return str(refused.value)


def statuses_named(text: str) -> set[Status]:
    return {Status(s) for s in re.findall(r"\b(BD|BS|S|TDTL)\b", text)}


# --- status transitions ------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "new"), list(product(Status, Status)),
                         ids=lambda s: s.value)
def test_every_pair_of_statuses(current: Status, new: Status) -> None:
    finding = new_finding()
    bring_to(finding, 1, current)
    assert finding.recommendation(1).status is current
    if (current, new) in ALLOWED:
        finding.review(CTX, 1, new, "alasan tertulis", LATER)
        (event,) = finding.collect_events()
        assert isinstance(event, RecommendationReviewed)
        assert (event.previous, event.status, event.reason) == (current, new, "alasan tertulis")
        assert event.effective_on == LATER and event.actor == "auditor"
        assert finding.recommendation(1).status is new
        assert finding.recommendation(2).status is BD  # the other one is untouched
        return
    message = assert_refused_untouched(finding, finding.review, CTX, 1, new, "alasan", LATER)
    assert "F-2023-0001.1" in message and current.value in message
    # the statuses a review may set from here are named, and only those
    allowed_part = re.split(r"[;:]", message.split(" may ", 1)[1])[0]
    assert statuses_named(allowed_part) == {b for a, b in ALLOWED if a is current}
    if current in (S, TDTL):
        assert "auditlog followup reopen F-2023-0001.1 --reason" in message


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_a_review_needs_a_written_reason(reason: str) -> None:
    finding = new_finding()
    message = assert_refused_untouched(finding, finding.review, CTX, 1, S, reason, LATER)
    assert "reason" in message


def test_a_review_cannot_be_dated_before_the_report_was_received() -> None:
    finding = new_finding()
    message = assert_refused_untouched(finding, finding.review, CTX, 1, BS, "alasan",
                                       RECEIVED - timedelta(days=1))
    assert str(RECEIVED) in message
    finding.review(CTX, 1, BS, "alasan", RECEIVED)  # the day of receipt itself is fine
    assert finding.recommendation(1).status is BS


def test_a_finding_is_closed_only_when_every_recommendation_is_s_or_tdtl() -> None:
    finding = new_finding(recs=3)
    bring_to(finding, 1, S)
    bring_to(finding, 2, TDTL)
    assert not finding.is_closed
    bring_to(finding, 3, BS)
    assert not finding.is_closed
    finding.review(CTX, 3, S, "lengkap", LATER)
    assert finding.is_closed


def test_a_review_of_an_unknown_recommendation_names_the_existing_ones() -> None:
    finding = new_finding(recs=2)
    message = assert_refused_untouched(finding, finding.review, CTX, 3, S, "x", LATER)
    assert "F-2023-0001.1" in message and "F-2023-0001.2" in message


# --- reopen ------------------------------------------------------------------------------------


@pytest.mark.parametrize("closed", [S, TDTL])
def test_reopening_brings_a_closed_recommendation_back_to_bs(closed: Status) -> None:
    finding = new_finding()
    bring_to(finding, 1, closed)
    finding.reopen(CTX, 1, "bukti setor ternyata palsu", LATER)
    (event,) = finding.collect_events()
    assert isinstance(event, RecommendationReopened)
    assert (event.previous, event.reason) == (closed, "bukti setor ternyata palsu")
    assert finding.recommendation(1).status is BS
    finding.review(CTX, 1, S, "kini lengkap", LATER)  # and it can be reviewed again
    assert finding.recommendation(1).status is S


@pytest.mark.parametrize("open_status", [BD, BS])
def test_only_a_closed_recommendation_can_be_reopened(open_status: Status) -> None:
    finding = new_finding()
    bring_to(finding, 1, open_status)
    message = assert_refused_untouched(finding, finding.reopen, CTX, 1, "x", LATER)
    assert open_status.value in message and "S or TDTL" in message


def test_reopening_needs_a_reason() -> None:
    finding = new_finding()
    bring_to(finding, 1, S)
    assert "reason" in assert_refused_untouched(finding, finding.reopen, CTX, 1, " ", LATER)


def test_statuses_change_in_date_order() -> None:
    """A review or reopening dated before the latest status change would make the history
    told by --as-of impossible (closed before it was reviewed, reopened before it closed)."""
    finding = new_finding()
    reviewed = date(2023, 6, 5)
    finding.review(CTX, 1, S, "lunas", reviewed)
    assert finding.recommendation(1).status_changed_on == reviewed
    message = assert_refused_untouched(finding, finding.reopen, CTX, 1, "palsu",
                                       date(2023, 4, 1))
    assert "2023-04-01" in message and str(reviewed) in message and "F-2023-0001.1" in message
    message = assert_refused_untouched(finding, finding.review, CTX, 1, TDTL, "meninggal",
                                       reviewed - timedelta(days=1))
    assert str(reviewed) in message
    finding.review(CTX, 2, BS, "sebagian", date(2023, 4, 1))  # another recommendation's own
    finding.reopen(CTX, 1, "palsu", reviewed)  # the same day is in order
    reopened = date(2023, 7, 1)
    finding.review(CTX, 1, TDTL, "meninggal", date(2023, 6, 20))
    finding.reopen(CTX, 1, "ahli waris", reopened)
    assert finding.recommendation(1).status_changed_on == reopened
    message = assert_refused_untouched(finding, finding.review, CTX, 1, S, "lunas",
                                       date(2023, 6, 30))
    assert str(reopened) in message
    # a review that keeps BS is a status decision too
    finding.review(CTX, 1, BS, "belum lengkap", date(2023, 8, 1))
    message = assert_refused_untouched(finding, finding.review, CTX, 1, S, "lunas",
                                       date(2023, 7, 31))
    assert "2023-08-01" in message


# --- due dates and extensions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [(date(2023, 3, 6), date(2023, 5, 5)), (date(2023, 1, 1), date(2023, 3, 2)),
     (date(2024, 1, 1), date(2024, 3, 1)), (date(2023, 12, 15), date(2024, 2, 13)),
     (date(2023, 7, 26), date(2023, 9, 24))],
)
def test_the_due_date_defaults_to_received_plus_60_days(received: date, due: date) -> None:
    finding = new_finding(received=received)
    assert [r.due(finding.received) for r in finding.recommendations] == [due, due]


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)))
def test_the_answer_period_is_sixty_days_from_receipt(received: date) -> None:
    finding = new_finding(received=received, recs=1)
    assert (finding.recommendation(1).due(received) - received).days == 60


def test_a_due_date_set_by_the_report_wins() -> None:
    finding = new_finding(due=date(2023, 4, 1))
    assert finding.recommendation(1).due(finding.received) == date(2023, 4, 1)


def test_an_extension_needs_a_later_date_and_a_reason() -> None:
    finding = new_finding()
    current = date(2023, 5, 5)
    for same_or_earlier in (current, current - timedelta(days=1)):
        message = assert_refused_untouched(finding, finding.extend, CTX, 1, same_or_earlier,
                                           "banjir", LATER)
        assert str(current) in message and "later" in message
    assert "reason" in assert_refused_untouched(finding, finding.extend, CTX, 1,
                                                date(2023, 9, 30), "", LATER)
    finding.extend(CTX, 1, date(2023, 9, 30), "banjir", LATER)
    (event,) = finding.collect_events()
    assert isinstance(event, DueDateExtended)
    assert (event.previous, event.due, event.reason) == (current, date(2023, 9, 30), "banjir")
    assert finding.recommendation(1).due(finding.received) == date(2023, 9, 30)
    assert finding.recommendation(2).due(finding.received) == current
    # a second extension is measured against the first
    message = assert_refused_untouched(finding, finding.extend, CTX, 1, date(2023, 9, 1),
                                       "lagi", LATER)
    assert "2023-09-30" in message
    finding.extend(CTX, 1, date(2023, 10, 31), "lagi", LATER)
    assert finding.recommendation(1).due(finding.received) == date(2023, 10, 31)


# --- corrections -------------------------------------------------------------------------------


def test_correcting_received_moves_a_defaulted_due_date() -> None:
    finding = new_finding(received=date(2023, 3, 6))
    finding.correct(CTX, "received", "1/2/2023", "tanggal terima salah ketik", LATER)
    (event,) = finding.collect_events()
    assert isinstance(event, FindingCorrected)
    assert (event.field, event.previous, event.value) == ("received", "2023-03-06", "2023-02-01")
    assert finding.received == date(2023, 2, 1)
    assert finding.recommendation(1).due(finding.received) == date(2023, 4, 2)


def test_correcting_received_keeps_a_due_date_set_by_the_report() -> None:
    finding = new_finding(due=date(2023, 4, 30))
    finding.correct(CTX, "received", "2023-03-01", "salah ketik", LATER)
    assert finding.recommendation(1).due(finding.received) == date(2023, 4, 30)
    message = assert_refused_untouched(finding, finding.correct, CTX, "received",
                                       "2023-05-01", "salah ketik", LATER)
    assert "2023-04-30" in message


def test_a_corrected_received_date_cannot_be_in_the_future() -> None:
    finding = new_finding()
    on = date(2023, 6, 30)
    message = assert_refused_untouched(finding, finding.correct, CTX, "received", "2023-07-01",
                                       "salah ketik", on)
    assert "2023-07-01" in message and "future" in message and str(on) in message
    finding.correct(CTX, "received", "30/6/2023", "salah ketik", on)  # the same day is fine
    assert finding.received == on


def _review_s(finding: Finding, n: int, on: date) -> None:
    finding.review(CTX, n, S, "lunas", on)


def _followup(finding: Finding, n: int, on: date) -> None:
    finding.record_followup(CTX, n, on, "setor", 0, None, ())


def _extension(finding: Finding, n: int, on: date) -> None:
    finding.extend(CTX, n, date(2023, 12, 31), "banjir", on)


@pytest.mark.parametrize("activity", [_followup, _review_s, _extension],
                         ids=["followup", "review", "extension"])
def test_a_corrected_received_date_cannot_follow_what_was_recorded_on_the_finding(
        activity: object) -> None:
    """As when recording: nothing can happen to a finding before its report was received."""
    finding = new_finding()
    first = date(2023, 4, 10)
    activity(finding, 2, first)  # type: ignore[operator]
    activity(finding, 1, date(2023, 5, 1))  # type: ignore[operator]
    assert finding.first_activity_on == first
    message = assert_refused_untouched(finding, finding.correct, CTX, "received", "2023-04-11",
                                       "salah ketik", LATER)
    assert "2023-04-11" in message and str(first) in message
    finding.correct(CTX, "received", "10/4/2023", "salah ketik", LATER)
    assert finding.received == first


def test_a_reopening_counts_as_activity_on_the_finding() -> None:
    finding = new_finding()
    finding.review(CTX, 1, S, "lunas", date(2023, 4, 10))
    finding.reopen(CTX, 1, "palsu", date(2023, 4, 20))
    assert finding.recommendation(1).first_activity_on == date(2023, 4, 10)
    assert finding.recommendation(2).first_activity_on is None
    message = assert_refused_untouched(finding, finding.correct, CTX, "received", "2023-04-15",
                                       "x", LATER)
    assert "2023-04-10" in message


def test_corrections_keep_the_report_dates_in_order() -> None:
    finding = new_finding(issued=date(2023, 3, 1))
    message = assert_refused_untouched(finding, finding.correct, CTX, "received", "2023-02-27",
                                       "x", LATER)
    assert "2023-03-01" in message
    message = assert_refused_untouched(finding, finding.correct, CTX, "issued", "2023-03-07",
                                       "x", LATER)
    assert "2023-03-06" in message
    finding.correct(CTX, "issued", "2023-03-06", "x", LATER)
    assert finding.issued == date(2023, 3, 6)


@pytest.mark.parametrize(
    ("field", "raw", "stored", "attribute"),
    [("code", "101", "1.01.00", "1.01.00"),
     ("value", "Rp12.150.000", 12_150_000, 12_150_000),
     ("year", "2022", 2022, 2022),
     ("instrument", "sakip", "SAKIP", "SAKIP"),
     ("title", "  Judul yang benar ", "Judul yang benar", "Judul yang benar"),
     ("opd", "Dinas Kesehatan", "Dinas Kesehatan", "Dinas Kesehatan"),
     ("issued", "26/2/2023", "2023-02-26", date(2023, 2, 26))],
)
def test_a_correction_parses_the_new_value_like_the_original(
        field: str, raw: str, stored: object, attribute: object) -> None:
    finding = new_finding()
    finding.correct(CTX, field, raw, "koreksi", LATER)
    (event,) = finding.collect_events()
    assert isinstance(event, FindingCorrected)
    assert event.value == stored and event.reason == "koreksi"
    assert getattr(finding, field) == attribute


@pytest.mark.parametrize(
    ("field", "raw", "hint"),
    [("value", "-5", "12.150.000"), ("value", "1.000,50", "12.150.000"),
     ("received", "31/2/2023", "26/7/2023"), ("code", "1.1", "1.01.03"),
     ("instrument", "XYZ", "SAKIP"), ("year", "22", "2023"), ("colour", "x", "received"),
     ("title", "   ", "empty")],
)
def test_a_bad_correction_is_refused(field: str, raw: str, hint: str) -> None:
    finding = new_finding()
    assert hint in assert_refused_untouched(finding, finding.correct, CTX, field, raw, "x",
                                            LATER)


def test_a_correction_must_change_something_and_needs_a_reason() -> None:
    finding = new_finding()
    message = assert_refused_untouched(finding, finding.correct, CTX, "received", "6/3/2023",
                                       "x", LATER)
    assert "nothing to correct" in message
    message = assert_refused_untouched(finding, finding.correct, CTX, "title", "Baru", "", LATER)
    assert "reason" in message


def test_recommendation_fields_are_corrected_on_the_recommendation() -> None:
    finding = new_finding()
    finding.correct(CTX, "value", "5.000.000", "nilai", LATER, 2)
    finding.correct(CTX, "code", "1", "kode", LATER, 2)
    finding.correct(CTX, "text", "Setor ke kas daerah", "teks", LATER, 2)
    rec = finding.recommendation(2)
    assert (rec.value, rec.code, rec.text) == (5_000_000, "01", "Setor ke kas daerah")
    assert finding.recommendation(1).value is None
    assert finding.value is None
    message = assert_refused_untouched(finding, finding.correct, CTX, "received", "2023-03-01",
                                       "x", LATER, 1)
    assert "code" in message and "text" in message and "value" in message


# --- withdraw ----------------------------------------------------------------------------------


def test_a_withdrawn_finding_accepts_nothing_more() -> None:
    finding = new_finding()
    assert "reason" in assert_refused_untouched(finding, finding.withdraw, CTX, "", LATER)
    finding.withdraw(CTX, "tercatat ganda", LATER)
    (event,) = finding.collect_events()
    assert isinstance(event, FindingWithdrawn) and event.reason == "tercatat ganda"
    assert finding.withdrawn
    for call, args in [
        (finding.withdraw, ("lagi", LATER)),
        (finding.review, (1, S, "x", LATER)),
        (finding.reopen, (1, "x", LATER)),
        (finding.extend, (1, date(2023, 12, 1), "x", LATER)),
        (finding.correct, ("title", "Lain", "x", LATER)),
        (finding.record_followup, (1, LATER, "setor", 0, None, ())),
    ]:
        assert "withdrawn" in assert_refused_untouched(finding, call, CTX, *args)


def test_the_events_of_an_aggregate_fold_back_into_the_same_state() -> None:
    """The same handlers serve commands, projections and replay: they must agree."""
    specs = (RecommendationSpec(n=1, text="a"), RecommendationSpec(n=2, text="b"))
    finding = create_new(Finding, CTX, uuid4(), RECEIVED, ref="F-2023-0001", pemda="35.73",
                         title="t", received=RECEIVED, recommendations=specs)
    finding.record_followup(CTX, 1, LATER, "setor", 7_500_000, "STS-1", ())
    finding.review(CTX, 1, S, "lunas", LATER)
    finding.reopen(CTX, 1, "palsu", LATER)
    finding.extend(CTX, 2, date(2023, 12, 1), "banjir", LATER)
    finding.correct(CTX, "received", "2023-03-01", "salah ketik", LATER)
    finding.correct(CTX, "value", "7.500.000", "nilai", LATER, 1)
    events: list[Event] = finding.collect_events()
    assert [e.originator_version for e in events] == list(range(1, 8))
    replayed = project(None, events)
    assert replayed is not None
    assert replayed.model_dump() == finding.model_dump()
    rec = finding.recommendation(1)
    assert (rec.status, rec.deposited, rec.followups, rec.value) == (BS, 7_500_000, 1, 7_500_000)


# --- grades ------------------------------------------------------------------------------------


@pytest.mark.parametrize("instrument", ["SAKIP", "RB"])
@pytest.mark.parametrize(
    ("score", "grade"),
    [("0", "D"), ("0.00", "D"), ("30", "D"), ("30.00", "D"), ("30.01", "C"), ("50", "C"),
     ("50.01", "CC"), ("60", "CC"), ("60.01", "B"), ("70", "B"), ("70.01", "BB"),
     ("80", "BB"), ("80.00", "BB"), ("80.01", "A"), ("90", "A"), ("90.01", "AA"),
     ("100", "AA"), ("99.99", "AA")],
)
def test_grade_bands_use_strict_lower_bounds(instrument: str, score: str, grade: str) -> None:
    rule = rule_for(instrument, None)
    decided, kept = decide_grade(instrument, rule, None, parse_score(score))
    assert decided == grade
    assert kept == Decimal(score)  # the raw score is kept as given
    # the same grade given alongside its score is accepted, in any case
    assert decide_grade(instrument, rule, grade.lower(), Decimal(score))[0] == grade


# Independent statement of the table in DOMAIN.md: (grade, lowest score excluded, highest).
BANDS = [("AA", 90, 100), ("A", 80, 90), ("BB", 70, 80), ("B", 60, 70), ("CC", 50, 60),
         ("C", 30, 50)]


@given(st.integers(min_value=0, max_value=10_000))
def test_every_score_falls_in_the_band_of_the_table(hundredths: int) -> None:
    score = Decimal(hundredths) / 100
    expected = next((g for g, low, high in BANDS if low < score <= high), "D")
    assert decide_grade("SAKIP", rule_for("SAKIP", None), None, score)[0] == expected


@pytest.mark.parametrize("score", ["-0.01", "-1", "100.01", "101", "1000"])
def test_a_score_outside_0_to_100_is_refused(score: str) -> None:
    with pytest.raises(Refusal) as refused:
        decide_grade("SAKIP", rule_for("SAKIP", None), None, parse_score(score))
    message = str(refused.value)
    assert "outside the scale" in message and "0" in message and "100" in message


@pytest.mark.parametrize(("grade", "score", "derived"),
                         [("A", "80", "BB"), ("AA", "90", "A"), ("D", "30.01", "C"),
                          ("BB", "80.01", "A"), ("Z", "85", "A")])
def test_a_grade_contradicting_its_score_is_refused(grade: str, score: str,
                                                    derived: str) -> None:
    with pytest.raises(Refusal) as refused:
        decide_grade("RB", rule_for("RB", None), grade, Decimal(score))
    message = str(refused.value)
    assert "contradicts" in message and f" is {derived}" in message and score in message


@pytest.mark.parametrize(("instrument", "grade", "normal"),
                         [("SPIP", "3", "3"), ("SPIP", " 5 ", "5"), ("BPK", "wtp", "WTP"),
                          ("BPK", "TMP", "TMP"), ("SAKIP", "bb", "BB"), ("RB", "AA", "AA")])
def test_a_grade_may_be_recorded_without_a_score(instrument: str, grade: str,
                                                 normal: str) -> None:
    assert decide_grade(instrument, rule_for(instrument, None), grade, None) == (normal, None)


@pytest.mark.parametrize("instrument", ["SPIP", "BPK"])
def test_spip_and_bpk_grades_take_no_score(instrument: str) -> None:
    with pytest.raises(Refusal) as refused:
        decide_grade(instrument, rule_for(instrument, None), None, Decimal(80))
    assert "--grade" in str(refused.value)


@pytest.mark.parametrize(("instrument", "grade", "hint"),
                         [("SAKIP", "E", "AA"), ("SAKIP", "A+", "BB"), ("SPIP", "6", "1"),
                          ("SPIP", "0", "5"), ("BPK", "WTP-DPP", "WDP"), ("RB", "", "CC")])
def test_a_grade_outside_the_scale_is_refused(instrument: str, grade: str, hint: str) -> None:
    with pytest.raises(Refusal) as refused:
        decide_grade(instrument, rule_for(instrument, None), grade, None)
    assert "not on the" in str(refused.value) and hint in str(refused.value)


def test_a_grade_needs_a_grade_or_a_score() -> None:
    with pytest.raises(Refusal) as refused:
        decide_grade("SAKIP", rule_for("SAKIP", None), None, None)
    assert "--grade" in str(refused.value) and "--score" in str(refused.value)


@pytest.mark.parametrize("text", ["abc", "NaN", "Infinity", "-inf", "", "80..1", "1e1", "1E1",
                                  "1_0", "-0", "-0.00", "nan", "sNaN", "+5", "80.", ".5",
                                  "80.001", "80,015", "8 0", "80,0,1", "0x50", "٨٠", "８０"])
def test_a_score_must_be_a_plain_decimal(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_score(text)
    assert "80.01" in str(refused.value) and repr(text) in str(refused.value)


@pytest.mark.parametrize(("text", "score"),
                         [("80", "80"), ("80.01", "80.01"), ("80,01", "80.01"), (" 80.1 ", "80.1"),
                          ("0", "0"), ("100.00", "100.00"), ("-0.5", "-0.5")])
def test_scores_are_plain_decimals_with_a_dot_or_a_comma(text: str, score: str) -> None:
    parsed = parse_score(text)
    assert parsed == Decimal(score) and str(parsed) == score  # the raw score, as written


def test_instruments_and_rule_versions_are_known() -> None:
    assert instrument_name(" sakip ") == "SAKIP"
    assert rule_for("SAKIP", None).version == "2021"
    with pytest.raises(Refusal) as refused:
        instrument_name("IKM")
    assert "SAKIP" in str(refused.value) and "RB" in str(refused.value)
    with pytest.raises(Refusal) as refused:
        rule_for("SAKIP", "2011")
    assert "2021" in str(refused.value)


def _series() -> GradeSeries:
    series = create_new(GradeSeries, CTX, uuid4(), date(2022, 12, 1), pemda="35.73",
                        instrument="SAKIP", year=2021, grade="A", score=None, rule="2021")
    series.collect_events()
    return series


def test_one_grade_per_pemda_instrument_and_year_unless_corrected() -> None:
    series = _series()
    with pytest.raises(Refusal) as refused:
        series.record(CTX, 2021, "AA", None, "2021", (), date(2022, 12, 2))
    assert "--correct --reason" in str(refused.value) and "2021" in str(refused.value)
    assert series.collect_events() == []
    series.record(CTX, 2022, "AA", Decimal("90.5"), "2021", (), date(2023, 12, 1))
    series.correct(CTX, 2021, "BB", None, "2021", (), "salah baca", date(2023, 1, 5))
    recorded, corrected = series.collect_events()
    assert isinstance(recorded, GradeRecorded) and isinstance(corrected, GradeCorrected)
    assert corrected.reason == "salah baca"
    assert series.years[2021].grade == "BB" and series.years[2021].corrected
    assert series.years[2021].effective_on == date(2022, 12, 1)  # still the award date
    latest, previous = series.latest()
    assert latest is not None and previous is not None
    assert (latest.year, latest.grade, latest.score) == (2022, "AA", Decimal("90.5"))
    assert (previous.year, previous.grade) == (2021, "BB")


def test_a_grade_correction_that_changes_nothing_is_refused() -> None:
    series = _series()
    series.record(CTX, 2022, "A", Decimal("80.1"), "2021", ("F-2023-0001", "F-2023-0002.1"),
                  date(2023, 12, 1))
    series.collect_events()
    before = series.model_dump()
    for args in [(2021, "A", None, "2021", ()),
                 (2022, "A", Decimal("80.1"), "2021", ("F-2023-0001", "F-2023-0002.1")),
                 (2022, "A", Decimal("80.10"), "2021", ("F-2023-0002.1", "F-2023-0001"))]:
        with pytest.raises(Refusal) as refused:
            series.correct(CTX, *args, "salah baca", date(2024, 1, 5))
        assert "nothing to correct" in str(refused.value)
        assert str(args[0]) in str(refused.value)
    assert series.collect_events() == []
    assert series.model_dump() == before
    # any one of grade, score or causes differing is a correction
    series.correct(CTX, 2021, "A", None, "2021", ("F-2023-0001",), "sebab", date(2024, 1, 5))
    series.correct(CTX, 2022, "A", Decimal("80.2"), "2021", ("F-2023-0001", "F-2023-0002.1"),
                   "skor", date(2024, 1, 5))
    series.correct(CTX, 2022, "AA", None, "2021", ("F-2023-0001", "F-2023-0002.1"),
                   "predikat", date(2024, 1, 5))
    assert len(series.collect_events()) == 3


def test_a_correction_needs_an_existing_grade_and_a_reason() -> None:
    series = _series()
    with pytest.raises(Refusal) as refused:
        series.correct(CTX, 2020, "A", None, "2021", (), "x", date(2023, 1, 5))
    assert "without --correct" in str(refused.value)
    with pytest.raises(Refusal) as refused:
        series.correct(CTX, 2021, "AA", None, "2021", (), "  ", date(2023, 1, 5))
    assert "reason" in str(refused.value)
    assert series.collect_events() == []
    assert series.years[2021].grade == "A"


# --- pemda identity ----------------------------------------------------------------------------


def test_a_known_region_takes_its_official_name_and_level() -> None:
    assert resolve_identity("35.73", None, None) == ("Kota Malang", "kota")
    assert resolve_identity("35.10", None, None) == ("Kabupaten Banyuwangi", "kabupaten")
    assert resolve_identity("35", None, "provinsi") == ("Jawa Timur", "provinsi")


@pytest.mark.parametrize(
    ("code", "name", "level", "hint"),
    [("35.69", None, None, "--name and --level"), ("35.69", "Kab. Baru", None, "--level"),
     ("35.69", None, "kabupaten", "--name"), ("35.73", None, "kabupaten", "--level kota"),
     ("35.73", None, "city", "provinsi, kabupaten or kota"),
     ("35.69", "  ", "kabupaten", "--name"), ("35.69", "Kota Baru", "kota", "--level kabupaten"),
     ("35.95", "Kab. Baru", "kabupaten", "--level kota"),
     ("99", "Provinsi Baru", "kota", "--level provinsi"),
     ("35.70", "X", "kota", "71-99")],
)
def test_an_unknown_or_inconsistent_identity_is_refused(code: str, name: str | None,
                                                        level: str | None, hint: str) -> None:
    with pytest.raises(Refusal) as refused:
        resolve_identity(code, name, level)
    assert hint in str(refused.value)


def test_an_unknown_region_is_recorded_as_the_auditor_gives_it() -> None:
    assert resolve_identity("35.69", " Kabupaten Baru ", "kabupaten") == (
        "Kabupaten Baru", "kabupaten")
    assert resolve_identity("35.95", "Kota Baru", "kota") == ("Kota Baru", "kota")


# --- grades through the store: duplicates and --because ---------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(str(tmp_path / "rules.db"))
    for code in ("35.73", "35.78"):
        commands.register_pemda(opened, CTX, code, None, None, date(2023, 1, 2))
    for pemda, title in (("35.73", "Cascading"), ("35.73", "IKU"), ("35.78", "Kas")):
        commands.record_finding(opened, CTX, commands.NewFinding(
            pemda=pemda, title=title, received=RECEIVED,
            recommendations=[RecommendationSpec(n=1, text="a"), RecommendationSpec(n=2, text="b")],
        ))
    try:
        yield opened
    finally:
        opened.close()


def _grade(store: Store, because: list[str], *, year: int = 2023,
           correction: str | None = None, grade: str = "A") -> GradeSeries:
    return commands.record_grade(store, CTX, "35.73", "SAKIP", year, rule_for("SAKIP", None),
                                 grade, None, because, date(2023, 12, 1), correction)


def test_because_names_existing_findings_and_recommendations(store: Store) -> None:
    series = _grade(store, ["F-2023-0001.1", "f-2023-0002", "F-2023-0001.1"])
    assert series.years[2023].because == ("F-2023-0001.1", "F-2023-0002")
    events = store.events_of(series.id)
    assert isinstance(events[-1], GradeRecorded)
    assert events[-1].because == ("F-2023-0001.1", "F-2023-0002")
    assert events[-1].rule == "2021"


@pytest.mark.parametrize(
    ("ref", "hint"),
    [("F-2023-0099", "no finding F-2023-0099"), ("F-2022-0001", "no finding F-2022-0001"),
     ("F-2023-0001.3", "F-2023-0001.2"), ("F-2023-0003", "35.78"),
     ("Malang-1", "F-2023-0007")],
)
def test_because_refuses_what_does_not_exist_or_belongs_elsewhere(store: Store, ref: str,
                                                                  hint: str) -> None:
    before = store.max_position()
    with pytest.raises(Refusal) as refused:
        _grade(store, ["F-2023-0001", ref])
    assert hint in str(refused.value)
    assert store.max_position() == before


def test_because_refuses_a_withdrawn_finding(store: Store) -> None:
    commands.withdraw(store, CTX, "F-2023-0002", "tercatat ganda", LATER)
    before = store.max_position()
    with pytest.raises(Refusal) as refused:
        _grade(store, ["F-2023-0002.1"])
    assert "withdrawn" in str(refused.value)
    assert store.max_position() == before


def test_a_second_grade_for_the_year_is_refused_unless_a_correction(store: Store) -> None:
    _grade(store, [])
    before = store.max_position()
    with pytest.raises(Refusal) as refused:
        _grade(store, [], grade="AA")
    assert "--correct --reason" in str(refused.value)
    assert store.max_position() == before
    series = _grade(store, ["F-2023-0001"], grade="AA", correction="salah baca")
    assert series.years[2023].grade == "AA" and series.years[2023].corrected
    assert store.max_position() == before + 1
    with pytest.raises(Refusal):
        _grade(store, [], year=2020, correction="tidak ada")
    _grade(store, [], year=2022)  # another year is a new grade
    assert store.max_position() == before + 2


def test_a_grade_correction_that_changes_nothing_writes_nothing(store: Store) -> None:
    _grade(store, ["F-2023-0001"])
    before = store.max_position()
    with pytest.raises(Refusal) as refused:
        _grade(store, ["f-2023-0001"], correction="salah baca")
    assert "nothing to correct" in str(refused.value)
    assert store.max_position() == before


# --- one key, generations ----------------------------------------------------------------------


def _record(store: Store, title: str, pemda: str = "35.73") -> Finding:
    return commands.record_finding(store, CTX, commands.NewFinding(
        pemda=pemda, title=title, received=RECEIVED,
        recommendations=[RecommendationSpec(n=1, text="a")]))


def test_the_first_generation_keeps_the_id_of_every_existing_store() -> None:
    assert finding_id("35.73", " 700/012/ITDA/2023 ", "Kelebihan  pembayaran perjalanan dinas") \
        == UUID("57b374a0-7e96-59bd-bd2a-a56840d7a751")
    assert finding_id("35.73", None, "Cascading", 1) == finding_id("35.73", None, "Cascading")
    assert finding_id("35.73", "R", " Cascading ", 2) == natural_id("finding", "35.73", "r",
                                                                     "cascading", 2)


def test_a_withdrawn_finding_can_be_recorded_again(store: Store) -> None:
    """A withdrawn finding never existed: its pemda/report/title is free again, at the next
    generation of the key; an active finding still holds it."""
    commands.withdraw(store, CTX, "F-2023-0001", "salah pemda", LATER)
    again = _record(store, " CASCADING ")
    assert again.ref == "F-2023-0004"
    assert again.id == finding_id("35.73", None, "Cascading", 2)
    assert store.finding("F-2023-0001")[0].withdrawn  # the withdrawn one stays as it was
    before = store.max_position()
    with pytest.raises(Refusal) as refused:
        _record(store, "cascading")
    assert "already recorded as F-2023-0004" in str(refused.value)
    assert store.max_position() == before
    commands.withdraw(store, CTX, "F-2023-0004", "lagi salah", LATER)
    third = _record(store, "Cascading")
    assert (third.ref, third.id) == ("F-2023-0005", finding_id("35.73", None, "Cascading", 3))


def test_a_key_claimed_by_a_withdrawn_finding_is_free_again(store: Store) -> None:
    commands.correct(store, CTX, "F-2023-0002", "title", "Baru", "judul", LATER)
    with pytest.raises(Refusal) as refused:
        _record(store, "Baru")
    assert "already recorded as F-2023-0002" in str(refused.value)
    commands.withdraw(store, CTX, "F-2023-0002", "salah", LATER)
    assert _record(store, "Baru").id == finding_id("35.73", None, "Baru", 2)


def test_a_correction_may_take_the_key_of_a_withdrawn_finding_and_claims_it(
        store: Store) -> None:
    commands.withdraw(store, CTX, "F-2023-0001", "salah", LATER)
    commands.correct(store, CTX, "F-2023-0002", "title", "Cascading", "judul", LATER)
    before = store.max_position()
    with pytest.raises(Refusal) as refused:
        _record(store, "Cascading")
    assert "already recorded as F-2023-0002" in str(refused.value)
    assert store.max_position() == before
    # and another active finding still cannot be corrected into it
    other = _record(store, "Lain")
    with pytest.raises(Refusal) as refused:
        commands.correct(store, CTX, other.ref, "title", "Cascading", "judul", LATER)
    assert f"{other.ref} would be the same finding as F-2023-0002" in str(refused.value)
    assert store.max_position() == before + 2  # the finding and its reference, nothing more
