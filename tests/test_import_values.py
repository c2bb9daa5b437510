"""The value parsers of `auditlog import`: dates, rupiah, statuses and region names as people
type them into registers, and refusals that say what would be right."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditlog.domain.events import Status
from auditlog.domain.inputs import MAX_RUPIAH
from auditlog.importer.values import (
    Cell,
    Problem,
    official_names,
    parse_date_cell,
    parse_rupiah_cell,
    parse_status_cell,
    resolve_region_cell,
)

MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember"]
days = st.dates(min_value=date(1945, 1, 1), max_value=date(2200, 12, 31))


@given(days)
def test_every_written_form_of_a_date_is_that_date(day: date) -> None:
    forms: list[Cell] = [
        day, datetime.combine(day, datetime.min.time()), (day - date(1899, 12, 30)).days,
        float((day - date(1899, 12, 30)).days), f"{day.day}/{day.month}/{day.year}",
        f"{day.day:02d}-{day.month:02d}-{day.year}", day.isoformat(),
        f"{day.day} {MONTHS_ID[day.month - 1]} {day.year}",
        f"{day.day} {MONTHS_ID[day.month - 1].upper()} {day.year}",
        f"{day.isoformat()} 00:00:00",
    ]
    for form in forms:
        assert parse_date_cell(form) == day, form


@pytest.mark.parametrize("text", ["31/02/2023", "29/2/2023", "2023-13-01", "26 Jully 2023",
                                  "yesterday", "26/7/23", "1/1/1900", "12.5", ""])
def test_what_is_not_a_date_is_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(Problem, match=r"use 26/7/2023 or 2023-07-26"):
        parse_date_cell(text)


def test_the_issue_s_example_message() -> None:
    with pytest.raises(Problem) as refused:
        parse_date_cell("31/02/2023")
    assert str(refused.value) == '"31/02/2023" is not a date (use 26/7/2023 or 2023-07-26)'


def indonesian(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


@given(st.integers(min_value=0, max_value=MAX_RUPIAH))
def test_every_written_form_of_an_amount_is_that_amount(amount: int) -> None:
    grouped = indonesian(amount)
    forms = [amount, float(amount) if amount < 2**53 else amount, str(amount), grouped,
             f"Rp {grouped}", f"Rp{grouped}", f"Rp{grouped},-", f"{grouped},00",
             f"Rp. {grouped}", f"IDR {amount:,}.00", f"Rp\u00a0{grouped}"]
    for form in forms:
        assert parse_rupiah_cell(form) == amount, form


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=99))
def test_fractions_of_a_rupiah_are_refused(whole: int, cents: int) -> None:
    with pytest.raises(Problem, match="fraction of a rupiah"):
        parse_rupiah_cell(f"{indonesian(whole)},{cents:02d}")
    with pytest.raises(Problem, match="fraction of a rupiah"):
        parse_rupiah_cell(whole + cents / 100)


@pytest.mark.parametrize("value", ["-5", -5, "Rp -5", "12.15.000", "1.2345", "abc",
                                   MAX_RUPIAH + 1, "9" * 40, True])
def test_what_is_not_an_amount_is_refused(value: object) -> None:
    with pytest.raises(Problem):
        parse_rupiah_cell(value)  # type: ignore[arg-type]


WORDS = {
    Status.S: ["Sesuai", "Selesai", "Tuntas", "S", "sesuai dengan rekomendasi"],
    Status.BS: ["Belum Sesuai", "Dalam Proses", "Proses", "BS", "Belum Sesuai (Dalam Proses)"],
    Status.BD: ["Belum Ditindaklanjuti", "Belum TL", "BT", "BD", "", "belum ditindak lanjuti"],
    Status.TDTL: ["Tidak Dapat Ditindaklanjuti", "TDTL", "TD"],
}


@given(st.sampled_from([(s, w) for s, words in WORDS.items() for w in words]),
       st.sampled_from([str.upper, str.lower, str.title, lambda t: f"  {t} "]))
def test_statuses_as_words_in_any_case_and_spacing(pair: tuple[Status, str], case: object
                                                   ) -> None:
    status, word = pair
    assert parse_status_cell(case(word)) is status  # type: ignore[operator]


@given(st.text(alphabet="xyzqwk ", min_size=1))
def test_unknown_statuses_are_refused_with_the_accepted_words(text: str) -> None:
    if not text.strip():
        assert parse_status_cell(text) is Status.BD
        return
    with pytest.raises(Problem, match="Belum Sesuai/Dalam Proses"):
        parse_status_cell(text)


PEMDA = official_names()


@given(st.sampled_from(PEMDA))
def test_every_official_name_and_code_resolves_to_its_code(pair: tuple[str, str]) -> None:
    code, name = pair
    assert resolve_region_cell(code) == code
    assert resolve_region_cell(name) == code
    assert resolve_region_cell(name.upper()) == code
    if not name.startswith("Kota Administrasi"):
        short = name.replace("Kabupaten ", "Kab. ").replace("Kota ", "Pemkot ")
        assert resolve_region_cell(short) == code


def test_ambiguous_and_unknown_names() -> None:
    assert resolve_region_cell("Kota Malang") == "35.73"
    assert resolve_region_cell("Kab. Banyuwangi") == "35.10"
    assert resolve_region_cell("Banyuwangi") == "35.10"  # only one pemda has the name
    assert resolve_region_cell(35.1) == "35.10"  # a code typed into a number cell
    assert resolve_region_cell("Gorontalo") == "75"  # the official name of the province
    assert resolve_region_cell("Kab. Gorontalo") == "75.01"
    with pytest.raises(Problem, match=r"Kabupaten Malang \(35\.07\) or Kota Malang \(35\.73\)"):
        resolve_region_cell("Malang")
    with pytest.raises(Problem, match="not a pemda in the official region list"):
        resolve_region_cell("Atlantis")


def test_a_time_or_duration_is_neither_a_date_nor_an_amount() -> None:
    with pytest.raises(Problem):
        parse_date_cell(timedelta(days=3))
    with pytest.raises(Problem):
        parse_rupiah_cell(timedelta(days=3))
