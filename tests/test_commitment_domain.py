"""The rules of commitments (komitmen) as the aggregate enforces them: themes, references,
indicators, progress from baseline to target, reviews in date order, reopenings."""

from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import product
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditlog.domain.aggregate import Context, create_new, natural_id, project
from auditlog.domain.commitment import (
    DEFAULT_THEMES,
    Commitment,
    CommitmentCounter,
    ThemeRegistry,
    all_themes,
    check_deadline,
    check_indicator,
    direction,
    format_commitment_ref,
    normalise_theme_code,
    parse_commitment_ref,
    parse_commitment_status,
    parse_status_filter,
    parse_value,
    progress_pct,
    require_theme,
    themes_id,
)
from auditlog.domain.events import (
    CommitmentReferenceAllocated,
    CommitmentReopened,
    CommitmentReviewed,
    CommitmentStatus,
    Evidence,
)
from auditlog.errors import Refusal

CTX = Context(actor="auditor", at=datetime(2024, 1, 15, 9, 0, tzinfo=UTC))
MADE = date(2023, 7, 26)
BERJALAN, SEBAGIAN, TERCAPAI, TIDAK, BATAL = tuple(CommitmentStatus)
D = Decimal


def new_commitment(*, indicator: bool = True, baseline: str = "21.5",
                   target: str = "14") -> Commitment:
    fields: dict[str, object] = {}
    if indicator:
        fields = {"indicator": "prevalensi stunting", "unit": "%", "baseline": D(baseline),
                  "target": D(target)}
    return create_new(Commitment, CTX, uuid4(), MADE, ref="K-2023-0001", pemda="35.73",
                      opd="Dinas Kesehatan", theme="stunting", text="Menurunkan stunting",
                      owner="Sekretaris Dinas Kesehatan", by=date(2024, 12, 31), **fields)


def refold(commitment: Commitment) -> Commitment:
    """The same events folded from scratch: commands and projections share apply()."""
    folded = project(None, commitment.collect_events())
    assert isinstance(folded, Commitment)
    return folded


# --- themes ------------------------------------------------------------------------------------


def test_the_four_default_themes_have_stable_codes_and_indonesian_names() -> None:
    assert DEFAULT_THEMES == {
        "kemiskinan-ekstrem": "penurunan kemiskinan ekstrem",
        "digitalisasi-pelayanan": "digitalisasi pelayanan publik",
        "stunting": "penurunan stunting",
        "investasi": "pertumbuhan investasi",
    }


def test_an_unknown_theme_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(Refusal, match="kemiskinan-ekstrem, digitalisasi-pelayanan, stunting, "
                       "investasi, reformasi-birokrasi"):
        require_theme({**DEFAULT_THEMES, "reformasi-birokrasi": "RB general"}, "pariwisata")
    assert require_theme(DEFAULT_THEMES, " Stunting ") == "stunting"


def test_a_theme_is_added_once_and_never_renamed() -> None:
    registry = create_new(ThemeRegistry, CTX, themes_id(), MADE, code="pariwisata",
                          name="pengembangan pariwisata")
    registry.add(CTX, "ketahanan-pangan", "ketahanan pangan", MADE)
    assert all_themes(registry) == {**DEFAULT_THEMES, "pariwisata": "pengembangan pariwisata",
                                    "ketahanan-pangan": "ketahanan pangan"}
    with pytest.raises(Refusal, match="never renamed"):
        registry.add(CTX, "pariwisata", "pariwisata daerah", MADE)
    with pytest.raises(Refusal, match="never renamed"):
        registry.add(CTX, "stunting", "stunting", MADE)
    with pytest.raises(Refusal, match="already has the name"):
        registry.add(CTX, "stunting-2", "Penurunan  STUNTING", MADE)
    folded = project(None, registry.collect_events())
    assert isinstance(folded, ThemeRegistry) and folded.added == registry.added


@pytest.mark.parametrize("text", ["Pariwisata Daerah", "-x", "x-", "a--b", "ü", "", "a" * 41])
def test_theme_codes_are_hyphenated_lower_case_ascii(text: str) -> None:
    with pytest.raises(Refusal, match="theme code"):
        normalise_theme_code(text)


def test_theme_code_is_lower_cased() -> None:
    assert normalise_theme_code(" Ketahanan-Pangan ") == "ketahanan-pangan"


# --- references --------------------------------------------------------------------------------


def test_references_are_k_year_number_like_findings() -> None:
    assert format_commitment_ref(2023, 7) == "K-2023-0007"
    assert parse_commitment_ref("k-2023-0007") == (2023, 7)
    for bad in ("F-2023-0001", "K-23-1", "K-2023-", "K-2023-0001.1", "K-2023-1234567890"):
        with pytest.raises(Refusal, match="commitment reference"):
            parse_commitment_ref(bad)


def test_the_counter_numbers_without_gaps() -> None:
    counter_id = natural_id("commitment-references", 2023)
    counter = create_new(CommitmentCounter, CTX, counter_id, MADE, ref="K-2023-0001",
                         commitment_id=uuid4())
    assert counter.next_ref() == "K-2023-0002"
    counter.trigger(CTX, CommitmentReferenceAllocated, MADE, ref=counter.next_ref(),
                    commitment_id=uuid4())
    assert counter.next_ref() == "K-2023-0003"


# --- indicators and progress -------------------------------------------------------------------


def test_progress_is_the_share_of_the_way_from_baseline_to_target() -> None:
    # stunting goes down: 21.5 -> 14; at 17.75 half the way is done
    assert direction(D("21.5"), D(14)) == "turun"
    assert progress_pct(D("21.5"), D(14), D("17.75")) == D("50.00")
    # investment goes up: 2.1 -> 3.0 trillion
    assert direction(D("2.1"), D(3)) == "naik"
    assert progress_pct(D("2.1"), D(3), D("3.0")) == D("100.00")
    # capped at neither end: regress is negative, overshoot above 100
    assert progress_pct(D("21.5"), D(14), D("23")) == D("-20.00")
    assert progress_pct(D("2.1"), D(3), D("3.45")) == D("150.00")
    assert progress_pct(D(0), D(3), D(1)) == D("33.33")
    assert progress_pct(D(0), D(3), D(2)) == D("66.67")


@given(st.decimals(-1000, 1000, places=2), st.decimals(-1000, 1000, places=2))
def test_baseline_is_zero_and_target_is_one_hundred_percent(baseline: Decimal,
                                                           target: Decimal) -> None:
    if baseline == target:
        return
    assert progress_pct(baseline, target, baseline) == 0
    assert progress_pct(baseline, target, target) == 100


def test_target_equal_to_baseline_is_refused() -> None:
    with pytest.raises(Refusal, match="equals the baseline"):
        check_indicator("prevalensi", "%", D(14), D("14.0"))


def test_an_indicator_needs_all_four_or_none() -> None:
    check_indicator(None, None, None, None)
    check_indicator("prevalensi", "%", D(20), D(14))
    with pytest.raises(Refusal, match="also give --unit, --target"):
        check_indicator("prevalensi", None, D(20), None)


def test_a_deadline_before_the_commitment_is_refused() -> None:
    check_deadline(MADE, MADE)
    with pytest.raises(Refusal, match="before the commitment was made"):
        check_deadline(MADE, date(2023, 7, 25))


@pytest.mark.parametrize("text,value", [("12", "12"), ("12,5", "12.5"), ("-3.25", "-3.25"),
                                        ("-0", "0"), ("0.0001", "0.0001")])
def test_values_are_plain_decimals(text: str, value: str) -> None:
    assert parse_value(text) == D(value)


@pytest.mark.parametrize("text", ["1e3", "1_000", "NaN", "+5", "1.23456", "", "１２"])
def test_other_values_are_refused(text: str) -> None:
    with pytest.raises(Refusal, match="not a number"):
        parse_value(text)


def test_progress_follows_the_latest_realisation_in_the_world() -> None:
    commitment = new_commitment()
    assert commitment.progress is None and commitment.direction == "turun"
    commitment.record_progress(CTX, date(2024, 6, 30), D(16), None, ())
    # a late report of an earlier measurement does not replace the later one
    commitment.record_progress(CTX, date(2023, 12, 31), D(19), "laporan terlambat", ())
    assert commitment.progress == D("73.33")
    commitment.record_progress(CTX, date(2024, 6, 30), D("15.5"), "angka revisi", ())
    assert commitment.progress == D("80.00")
    assert refold(commitment).progress == D("80.00")


def test_progress_before_the_commitment_is_refused() -> None:
    commitment = new_commitment()
    with pytest.raises(Refusal, match="before K-2023-0001 was made"):
        commitment.record_progress(CTX, date(2023, 7, 25), D(20), None, ())


def test_a_measured_commitment_needs_a_value_and_an_unmeasured_one_a_note() -> None:
    with pytest.raises(Refusal, match="--value X"):
        new_commitment().record_progress(CTX, MADE, None, "catatan", ())
    plain = new_commitment(indicator=False)
    with pytest.raises(Refusal, match="leave out --value"):
        plain.record_progress(CTX, MADE, D(1), "x", ())
    with pytest.raises(Refusal, match="--note TEXT"):
        plain.record_progress(CTX, MADE, None, None, ())
    evidence = (Evidence(name="sk.pdf", sha256="0" * 64, size=3),)
    plain.record_progress(CTX, MADE, None, "SK rencana aksi ditetapkan", evidence)
    assert plain.progress is None
    assert refold(plain).realisations[0].evidence == evidence


# --- reviews -----------------------------------------------------------------------------------


REVIEWABLE = (SEBAGIAN, TERCAPAI, TIDAK, BATAL)


@pytest.mark.parametrize("start,new", list(product((BERJALAN, *REVIEWABLE), REVIEWABLE)))
def test_review_transitions(start: CommitmentStatus, new: CommitmentStatus) -> None:
    commitment = new_commitment()
    if start is not BERJALAN:
        commitment.review(CTX, start, "penilaian pertama", date(2024, 1, 5))
    if start in (TERCAPAI, TIDAK, BATAL):
        with pytest.raises(Refusal, match=r"closed.*commitment reopen"):
            commitment.review(CTX, new, "penilaian ulang", date(2024, 1, 6))
        return
    commitment.review(CTX, new, "penilaian", date(2024, 1, 6))
    assert commitment.status is new
    assert refold(commitment).status is new


def test_a_review_needs_a_reason() -> None:
    with pytest.raises(Refusal, match="reason of a review is required"):
        new_commitment().review(CTX, TERCAPAI, "  ", date(2024, 1, 5))


def test_berjalan_is_not_a_review() -> None:
    with pytest.raises(Refusal, match="not a review of a commitment"):
        parse_commitment_status("berjalan")
    with pytest.raises(Refusal, match="tercapai, sebagian, tidak-tercapai or batal"):
        parse_commitment_status("selesai")
    assert parse_commitment_status(" Tidak-Tercapai ") is TIDAK
    assert parse_status_filter("berjalan") is BERJALAN
    with pytest.raises(Refusal, match="berjalan, tercapai"):
        parse_status_filter("x")


def test_reviews_go_in_date_order() -> None:
    commitment = new_commitment()
    with pytest.raises(Refusal, match="before K-2023-0001 was made"):
        commitment.review(CTX, SEBAGIAN, "terlalu awal", date(2023, 7, 1))
    commitment.review(CTX, SEBAGIAN, "separuh jalan", date(2024, 1, 5))
    with pytest.raises(Refusal, match="before the latest status change"):
        commitment.review(CTX, TERCAPAI, "mundur", date(2024, 1, 4))
    commitment.review(CTX, TERCAPAI, "target tercapai", date(2024, 1, 5))


def test_reopen_needs_a_reason_and_a_closed_commitment() -> None:
    commitment = new_commitment()
    with pytest.raises(Refusal, match="not closed"):
        commitment.reopen(CTX, "x", date(2024, 1, 5))
    commitment.review(CTX, TERCAPAI, "target tercapai", date(2024, 1, 5))
    with pytest.raises(Refusal, match="reason of a reopening is required"):
        commitment.reopen(CTX, "", date(2024, 1, 6))
    with pytest.raises(Refusal, match="before the latest status change"):
        commitment.reopen(CTX, "data salah", date(2024, 1, 4))
    commitment.reopen(CTX, "data capaian salah", date(2024, 1, 6))
    assert commitment.status is BERJALAN
    # the wrong judgement is corrected by events of its own, never edited
    commitment.review(CTX, TIDAK, "target tidak tercapai", date(2024, 1, 7))
    events = commitment.collect_events()
    assert [type(e) for e in events[1:]] == [CommitmentReviewed, CommitmentReopened,
                                             CommitmentReviewed]
    folded = project(None, events)
    assert isinstance(folded, Commitment) and folded.status is TIDAK


def test_a_cancelled_commitment_takes_no_progress_until_reopened() -> None:
    commitment = new_commitment()
    commitment.review(CTX, BATAL, "program dihentikan", date(2024, 1, 5))
    with pytest.raises(Refusal, match="cancelled"):
        commitment.record_progress(CTX, date(2024, 1, 6), D(15), None, ())
    commitment.reopen(CTX, "program dilanjutkan", date(2024, 1, 6))
    commitment.record_progress(CTX, date(2024, 1, 6), D(15), None, ())


def test_overdue_is_open_past_the_deadline() -> None:
    commitment = new_commitment()
    assert not commitment.is_overdue(date(2024, 12, 31))
    assert commitment.is_overdue(date(2025, 1, 1))
    commitment.review(CTX, SEBAGIAN, "separuh", date(2024, 12, 1))
    assert commitment.is_overdue(date(2025, 1, 1))
    commitment.review(CTX, TERCAPAI, "tercapai", date(2024, 12, 2))
    assert not commitment.is_overdue(date(2025, 1, 1)) and commitment.achieved
