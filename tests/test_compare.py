"""auditlog compare: the pemda of a province side by side, who reached a grade first, rank
within the year, completion beside the grade."""

import json
from pathlib import Path
from typing import Any

import pytest

from store_state import assert_one_line_refusal, observe, settle

from conftest import Run


def compare(ok: Run, *args: str) -> list[dict[str, Any]]:
    return json.loads(ok("compare", *args, "--format", "json").stdout)  # type: ignore[no-any-return]


@pytest.fixture
def scored(ok: Run, isolated: Path) -> Path:
    """Four pemda of Jawa Timur and one of Jawa Tengah with SAKIP scores."""
    for code in ("35.10", "35.73", "35.78", "35.07", "33.74"):
        ok("pemda", "register", code)
    grades = {"35.10": {2021: "82", 2022: "84.5"}, "35.73": {2021: "78", 2022: "84.5"},
              "35.78": {2021: "81", 2022: "86"}, "35.07": {2022: "70"},
              "33.74": {2021: "95"}}
    for code, years in grades.items():
        for year, score in years.items():
            ok("grade", "record", "--pemda", code, "--instrument", "SAKIP", "--year",
               str(year), "--score", score, "--on", f"{year + 1}-02-15")
    ok("status")  # projections caught up: a refusal below must leave the store as it is
    return isolated


def test_ranked_by_score_within_the_year_ties_share_a_rank(scored: Path, ok: Run) -> None:
    rows = compare(ok, "--instrument", "sakip", "--province", "35")
    # who reached A first (2021: Banyuwangi 82 and Surabaya 81), then by code
    assert [r["pemda"] for r in rows] == ["35.10", "35.78", "35.73", "35.07"]
    assert {r["pemda"]: r["rank"] for r in rows} == {"35.78": 1, "35.10": 2, "35.73": 2,
                                                    "35.07": 4}
    assert rows[0]["first_reached"] == {"A": 2021, "BB": 2021, "B": 2021}
    assert rows[0]["first_in_province"] == ["A", "BB", "B"]
    assert rows[2]["first_reached"] == {"A": 2022, "BB": 2021, "B": 2021}
    assert rows[3]["first_reached"] == {"B": 2022} and rows[3]["first_in_province"] == []
    assert rows[1]["grades"] == {"2021": {"grade": "A", "score": "81"},
                                 "2022": {"grade": "A", "score": "86"}}


def test_year_ranks_that_year_and_ignores_later_ones(scored: Path, ok: Run) -> None:
    rows = compare(ok, "--instrument", "SAKIP", "--province", "35", "--year", "2021")
    assert {r["pemda"]: r["rank"] for r in rows} == {"35.10": 1, "35.78": 2, "35.73": 3,
                                                    "35.07": None}
    # its A came in 2022; B is nobody's grade by 2021, so it has no column
    assert rows[2]["first_reached"] == {"BB": 2021}
    assert all(set(r["grades"]) <= {"2021"} for r in rows)


def test_as_of_sees_only_grades_awarded_by_then(scored: Path, ok: Run) -> None:
    rows = compare(ok, "--instrument", "SAKIP", "--province", "35", "--as-of", "2022-12-31")
    assert all(set(r["grades"]) == ({"2021"} if r["pemda"] != "35.07" else set())
               for r in rows)


def test_completion_by_count_and_rupiah_beside_the_grade(scored: Path, ok: Run) -> None:
    ok("finding", "record", "--pemda", "35.73", "--title", "Kas", "--received", "2023-03-01",
       "-r", "Setor", "-r", "Tertib", "--rec-value", "1.000.000", "--rec-value", "0")
    ok("followup", "record", "F-2023-0001.1", "--on", "2023-04-01", "--action", "Setor",
       "--deposit", "250.000")
    ok("followup", "review", "F-2023-0001.2", "--status", "S", "--reason", "tertib", "--on",
       "2023-04-01")
    malang = next(r for r in compare(ok, "--instrument", "SAKIP", "--province", "35")
                  if r["pemda"] == "35.73")
    assert (malang["completion_pct"], malang["completion_value_pct"]) == (50.0, 25.0)


def test_table_marks_who_was_first(scored: Path, ok: Run) -> None:
    out = ok("compare", "--instrument", "SAKIP", "--province", "35").stdout
    assert out.startswith("SAKIP in Jawa Timur (35), as of 2024-01-15")
    banyuwangi = next(line for line in out.splitlines() if "Banyuwangi" in line)
    assert "A 82" in banyuwangi and "2021 first" in banyuwangi


@pytest.mark.parametrize("args,fragments", [
    (("--instrument", "SPIP"), ("'SPIP'", "SAKIP or RB")),
    (("--instrument", "SAKIP"), ("33, 35", "--province")),
    (("--instrument", "SAKIP", "--province", "35.73"), ("regency or city", "35")),
    (("--instrument", "SAKIP", "--province", "36"), ("province 36",)),
    (("--instrument", "SAKIP", "--province", "3x"), ("'3x'",)),
    (("--instrument", "SAKIP", "--province", "35", "--year", "23"), ("'23'", "2023")),
])
def test_refusals(scored: Path, run: Run, args: tuple[str, ...],
                  fragments: tuple[str, ...]) -> None:
    before = settle(scored)
    assert_one_line_refusal(run("compare", *args), *fragments)
    assert observe(scored) == before


def test_the_seed_order_comes_out_of_the_demo(ok: Run) -> None:
    ok("demo")
    for instrument in ("SAKIP", "RB"):
        rows = compare(ok, "--instrument", instrument, "--province", "35")
        assert [r["name"] for r in rows] == ["Kabupaten Banyuwangi", "Kota Malang",
                                             "Kota Surabaya"], instrument
