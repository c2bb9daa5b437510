"""What auditors type: dates, rupiah, finding and region codes (domain/inputs.py).

Expected values are written out from the conventions of CLI.md and DOMAIN.md, not computed
with the code under test; the property tests state the conventions for every value.
"""

import contextlib
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from auditlog.domain.inputs import (
    DATE_FORMS,
    MAX_RUPIAH,
    format_rupiah,
    normalise_finding_code,
    normalise_recommendation_code,
    normalise_region_code,
    parse_date,
    parse_rupiah,
    parse_year,
    require_text,
)
from auditlog.domain.references import REF_FORMS, parse_ref
from auditlog.errors import Refusal

# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-07-26", date(2023, 7, 26)),
        ("26/7/2023", date(2023, 7, 26)),
        ("26/07/2023", date(2023, 7, 26)),
        ("2023-7-6", date(2023, 7, 6)),
        ("6/7/2023", date(2023, 7, 6)),  # day first: 6 July, not 7 June
        ("1/12/2023", date(2023, 12, 1)),
        (" 2023-07-26 ", date(2023, 7, 26)),
        ("29/2/2024", date(2024, 2, 29)),
        ("2000-02-29", date(2000, 2, 29)),
        ("31/12/1999", date(1999, 12, 31)),
    ],
)
def test_both_date_forms_are_accepted(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2023-02-29", "29/2/2023", "31/4/2023", "2023-04-31", "2023-13-01", "13/13/2023",
     "2023-00-10", "0/1/2023", "32/1/2023", "2023-01-32", "1900-02-29", "0000-01-01"],
)
def test_impossible_dates_are_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_date(text, what="--received")
    message = str(refused.value)
    assert "does not exist in the calendar" in message
    assert "--received" in message and repr(text) in message
    assert "2023-07-26" in message and "26/7/2023" in message


@pytest.mark.parametrize(
    "text",
    ["26-07-2023", "2023/07/26", "July 26, 2023", "Juli 26 2023", "20230726", "26/7/23",
     "2023-07-26T09:00", "", "   ", "2023-07", "٢٠٢٣-٠٧-٢٦", "２０２３-07-26", "7/2023"],
)
def test_other_date_forms_are_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_date(text)
    message = str(refused.value)
    assert "is not a date" in message
    assert DATE_FORMS in message
    assert "2023-07-26" in message and "26/7/2023" in message


@given(st.dates(min_value=date(1945, 1, 1), max_value=date(2200, 12, 31)))
def test_iso_and_day_first_forms_of_any_date_are_the_same_date(day: date) -> None:
    iso = f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
    assert parse_date(iso) == day
    assert parse_date(f"{day.day}/{day.month}/{day.year:04d}") == day
    assert parse_date(f"{day.day:02d}/{day.month:02d}/{day.year:04d}") == day


@pytest.mark.parametrize(
    "text", ["0999-01-01", "1944-12-31", "31/12/1944", "2201-01-01", "1/1/2201", "9999-12-31",
             "0001-01-01", "1/1/0001"])
def test_dates_outside_the_years_1945_to_2200_are_refused_with_the_accepted_forms(
        text: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_date(text, what="--received")
    message = str(refused.value)
    assert "--received" in message and repr(text) in message
    assert "1945" in message and "2200" in message and DATE_FORMS in message


def test_the_first_and_last_accepted_years() -> None:
    assert parse_date("1945-01-01") == date(1945, 1, 1)
    assert parse_date("31/12/2200") == date(2200, 12, 31)


@given(st.dates().filter(lambda d: not 1945 <= d.year <= 2200))
def test_any_date_outside_the_accepted_years_is_refused(day: date) -> None:
    for text in (f"{day.year:04d}-{day.month}-{day.day}", f"{day.day}/{day.month}/{day.year:04d}"):
        with pytest.raises(Refusal):
            parse_date(text)


@given(st.text(max_size=20))
@example("2023-02-30")
@example("99/99/9999")
def test_any_text_is_a_date_or_a_refusal(text: str) -> None:
    """Whatever is typed, the answer is a date or one clear refusal, never a crash."""
    try:
        parsed = parse_date(text)
    except Refusal as refused:
        assert "26/7/2023" in str(refused)
    else:
        assert isinstance(parsed, date)
        raw = text.strip()
        assert raw.isascii() and (raw.count("-") == 2 or raw.count("/") == 2)


# --- rupiah ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["12150000", "12.150.000", "Rp12.150.000", "Rp 12.150.000", "rp12.150.000", "RP 12150000",
     "Rp.12.150.000", "Rp. 12.150.000", " Rp12.150.000 ", "Rp\u00a012.150.000"],
)
def test_every_rupiah_form_is_the_same_integer(text: str) -> None:
    amount = parse_rupiah(text)
    assert amount == 12_150_000
    assert type(amount) is int


@pytest.mark.parametrize(
    ("amount", "written"),
    [(0, "Rp0"), (5, "Rp5"), (999, "Rp999"), (1000, "Rp1.000"), (12_150_000, "Rp12.150.000"),
     (1_000_000_000_000, "Rp1.000.000.000.000")],
)
def test_format_rupiah_writes_the_indonesian_form(amount: int, written: str) -> None:
    assert format_rupiah(amount) == written


@pytest.mark.parametrize(
    "text",
    ["-12150000", "-12.150.000", "Rp-12.150.000", "-Rp12.150.000", "−5", "12.5", "12,5",
     "12150000.00", "12150000,00", "12.150.000,00", "Rp12.150.000,50", "1.2345", "12.15",
     "1.000.00", "12 150 000", "12,150,000", "", "Rp", "1e6", "lima juta", "١٢", "+5",
     "Rp  12.150.000", "USD 5"],
)
def test_decimal_negative_or_malformed_rupiah_are_refused(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_rupiah(text, what="--deposit")
    message = str(refused.value)
    assert "--deposit" in message and "is not a rupiah amount" in message
    assert "12.150.000" in message and "Rp12.150.000" in message


@given(st.integers(min_value=0, max_value=10**14))
@example(10**14)
def test_rupiah_round_trips_through_every_written_form(amount: int) -> None:
    written = format_rupiah(amount)
    assert written.startswith("Rp")
    dotted = written.removeprefix("Rp")
    assert dotted.replace(".", "") == str(amount)
    for text in (written, dotted, str(amount), f"Rp {dotted}", f"rp{amount}", f"Rp. {dotted}"):
        assert parse_rupiah(text) == amount


@pytest.mark.parametrize(
    "text", ["100000000000001", "Rp100.000.000.000.001", "1.000.000.000.000.000", "9" * 20,
             "9" * 5000, "1" + "0" * 30, "Rp 18.446.744.073.709.551.616"])
def test_rupiah_above_the_limit_are_refused_naming_it(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_rupiah(text, what="--value")
    message = str(refused.value)
    assert "--value" in message and "Rp100.000.000.000.000" in message


def test_the_limit_itself_and_leading_zeros_are_accepted() -> None:
    assert MAX_RUPIAH == 100_000_000_000_000
    assert parse_rupiah("Rp100.000.000.000.000") == MAX_RUPIAH
    assert parse_rupiah("0" * 5000 + "12") == 12
    assert parse_rupiah("000") == 0


@given(st.integers(min_value=MAX_RUPIAH + 1, max_value=10**40))
def test_any_amount_above_the_limit_is_refused(amount: int) -> None:
    for text in (str(amount), format_rupiah(amount)):
        with pytest.raises(Refusal) as refused:
            parse_rupiah(text)
        assert "Rp100.000.000.000.000" in str(refused.value)


@given(st.integers(min_value=1, max_value=10**12), st.integers(min_value=0, max_value=99))
def test_negatives_and_decimals_of_any_amount_are_refused(amount: int, cents: int) -> None:
    for text in (f"-{amount}", f"-{format_rupiah(amount)}", f"{amount},{cents:02d}",
                 f"{amount}.{cents:02d}", f"{format_rupiah(amount)},{cents:02d}"):
        with pytest.raises(Refusal):
            parse_rupiah(text)


@given(st.text(max_size=16))
def test_any_text_is_a_whole_rupiah_amount_or_a_refusal(text: str) -> None:
    try:
        amount = parse_rupiah(text)
    except Refusal:
        return
    assert amount >= 0
    assert all(c in "0123456789." for c in text.strip().lower().removeprefix("rp")
               .lstrip(".").strip("\u00a0 \t\n\r\f\v"))


# --- finding codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("101", "1.01.00"), ("1.01.", "1.01.00"), ("1.01.00", "1.01.00"), ("1.01", "1.01.00"),
     ("10100", "1.01.00"), ("1.01.03", "1.01.03"), ("10103", "1.01.03"), ("1.01.03.", "1.01.03"),
     (" 3.02.01 ", "3.02.01"), ("302", "3.02.00")],
)
def test_finding_codes_have_one_normal_form(text: str, expected: str) -> None:
    assert normalise_finding_code(text) == expected


@pytest.mark.parametrize(
    "text",
    ["1.1.3", "1.01.3", "11", "1", "abc", "", "1.01..", "1..01", "1.001.03", "1-01-03",
     "1.01.03.04", "١٠١"],
)
def test_malformed_finding_codes_are_refused_with_the_accepted_form(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        normalise_finding_code(text)
    assert "1.01.03" in str(refused.value)


@given(st.integers(0, 9), st.integers(0, 99), st.integers(0, 99))
def test_every_spelling_of_a_finding_code_normalises_alike(a: int, b: int, c: int) -> None:
    normal = f"{a}.{b:02d}.{c:02d}"
    spellings = [f"{a}{b:02d}{c:02d}", f"{a}.{b:02d}.{c:02d}", f"{a}.{b:02d}.{c:02d}.",
                 f"{a}.{b:02d}{c:02d}"]
    assert {normalise_finding_code(s) for s in spellings} == {normal}
    assert normalise_finding_code(normal) == normal
    if c == 0:
        for short in (f"{a}{b:02d}", f"{a}.{b:02d}", f"{a}.{b:02d}."):
            assert normalise_finding_code(short) == normal


# --- region codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("35", "35"), ("35.73", "35.73"), (" 35.78 ", "35.78"), ("91.10", "91.10"),
     ("35.10", "35.10")],
)
def test_region_codes_stay_text(text: str, expected: str) -> None:
    code = normalise_region_code(text)
    assert code == expected
    assert isinstance(code, str)


@pytest.mark.parametrize(
    "text", ["35.7", "91.1", "3573", "35,73", "35.73.01", "3", "", "Kota Malang", "٣٥.٧٣",
             "35.73."],
)
def test_malformed_region_codes_are_refused_with_the_accepted_form(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        normalise_region_code(text)
    assert "35.73" in str(refused.value)


@given(st.integers(0, 99), st.integers(0, 99))
def test_any_two_level_code_round_trips_as_text(province: int, regency: int) -> None:
    code = f"{province:02d}.{regency:02d}"
    assert normalise_region_code(code) == code
    assert normalise_region_code(f"{province:02d}") == f"{province:02d}"


# --- the smaller parsers -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [("2023", 2023), (" 2021 ", 2021), (1945, 1945)])
def test_years(text: str | int, expected: int) -> None:
    assert parse_year(text) == expected


@pytest.mark.parametrize("text", ["23", "20233", "1900", "abcd", "²⁰²³", "２０２３", "", "-2023"])
def test_bad_years_are_refused(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_year(text)
    assert "2023" in str(refused.value)


@pytest.mark.parametrize(("text", "expected"), [("1", "01"), ("01", "01"), ("6", "06"),
                                                ("14", "14"), (" 9 ", "09")])
def test_recommendation_codes(text: str, expected: str) -> None:
    assert normalise_recommendation_code(text) == expected


def test_a_recommendation_code_of_thousands_of_digits_is_read_or_refused() -> None:
    assert normalise_recommendation_code("0" * 5000 + "6") == "06"
    for text in ("0" * 5000 + "15", "1" * 5000):
        with pytest.raises(Refusal) as refused:
            normalise_recommendation_code(text)
        assert "01 to 14" in str(refused.value)


@pytest.mark.parametrize("text", ["0", "00", "15", "99", "a", "", "²", "1.0", "-1"])
def test_bad_recommendation_codes_are_refused(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        normalise_recommendation_code(text)
    assert "01" in str(refused.value) and "14" in str(refused.value)


@given(st.text(max_size=8))
def test_small_parsers_never_crash(text: str) -> None:
    for parse in (parse_year, normalise_recommendation_code, normalise_region_code,
                  normalise_finding_code):
        with contextlib.suppress(Refusal):
            parse(text)


def test_required_text_is_stripped_and_never_empty() -> None:
    assert require_text("  bukti setor lengkap ", what="--reason") == "bukti setor lengkap"
    for empty in (None, "", "   ", "\n\t"):
        with pytest.raises(Refusal) as refused:
            require_text(empty, what="--reason")
        assert "--reason" in str(refused.value)


# --- references --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"),
                         [("F-2023-0007", (2023, 7, None)), ("f-2023-0007.1", (2023, 7, 1)),
                          (" F-2023-12345.2 ", (2023, 12345, 2)),
                          ("F-2023-999999999.9999", (2023, 999_999_999, 9999))])
def test_references(text: str, expected: tuple[int, int, int | None]) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize("text", ["F-2023-99999999999999999999.1", "F-2023-1000000000",
                                  "F-2023-0000000001", "F-2023-0001.99999",
                                  "F-2023-0001." + "9" * 5000, "F-2023-" + "9" * 5000])
def test_reference_numbers_past_their_digits_are_refused(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_ref(text)
    message = str(refused.value)
    assert "9 digits" in message and "4" in message and REF_FORMS in message


@pytest.mark.parametrize("text", ["F-２０２３-0001", "F-2023-٠٠٠١", "F-2023-0001.１", "F-23-0001",
                                  "2023-0001", ""])
def test_other_reference_forms_are_refused(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_ref(text)
    assert REF_FORMS in str(refused.value)


@given(st.text(max_size=30))
@example("F-2023-" + "9" * 40)
def test_any_text_is_a_reference_or_a_refusal(text: str) -> None:
    with contextlib.suppress(Refusal):
        year, number, rec = parse_ref(text)
        assert 0 <= year <= 9999
        assert 0 <= number < 10**9 and (rec is None or 0 <= rec < 10**4)
