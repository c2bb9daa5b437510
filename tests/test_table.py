"""reports/table.py lays out plain tables exactly as tabulate does (the layouts auditlog
prints: "simple" for tables, "github" for Markdown), and leaves everything else to it."""

import random
import string

import pytest
from tabulate import tabulate

from auditlog.reports.table import layout

ALPHABET = string.ascii_letters + string.digits + " .,-%()|:'*_#+"


def text(rnd: random.Random, longest: int) -> str:
    size = rnd.choice([0, 1, 2, 3, rnd.randint(0, longest)])
    return "".join(rnd.choice(ALPHABET) for _ in range(size))


def theirs(body: list[list[str]], headers: list[str], right: list[bool], github: bool) -> str:
    return tabulate(body, headers=headers, tablefmt="github" if github else "simple",
                    disable_numparse=True,
                    colalign=["right" if r else "left" for r in right])


@pytest.mark.parametrize("seed", range(8))
def test_random_plain_tables_are_tabulates(seed: int) -> None:
    rnd = random.Random(seed)
    laid = 0
    for _ in range(400):
        width = rnd.randint(1, 7)
        headers = [text(rnd, 12) for _ in range(width)]
        body = [[text(rnd, 16) for _ in range(width)] for _ in range(rnd.randint(1, 6))]
        right = [rnd.random() < 0.5 for _ in range(width)]
        for github in (False, True):
            mine = layout(body, headers, right, github)
            if mine is not None:
                laid += 1
                assert mine == theirs(body, headers, right, github), (body, headers, right)
    assert laid > 400  # most of them were laid out here, not handed over


@pytest.mark.parametrize("cell", ["Dinas Pendidikan dan Kebudayaan — Bidang SD", "日本",
                                  "a\nb", "tab\there", "e\u0301", "\x1b[1mbold\x1b[0m"])
def test_what_is_not_plain_ascii_is_left_to_tabulate(cell: str) -> None:
    assert layout([[cell, "1"]], ["name", "n"], [False, True], False) is None
    assert layout([["x", "1"]], [cell, "n"], [False, True], True) is None


def test_a_heading_with_spaces_around_it_is_left_to_tabulate() -> None:
    assert layout([["x"]], [" n "], [False], False) is None
