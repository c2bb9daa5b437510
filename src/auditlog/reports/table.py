"""The two table layouts auditlog prints (tabulate's "simple" and "github"), for plain cells.

tabulate costs more to import (it loads importlib.metadata to learn its own version) than a
fast command takes to run. For cells and headings of printable ASCII, where a character's width
is one column, its output is simple enough to write here, byte for byte: tests/test_table.py
compares the two on many random tables. Anything else (other scripts, wide or combining
characters, line breaks, control characters) is still laid out by tabulate.
"""

from collections.abc import Sequence

MIN_PADDING = 2  # tabulate's room beside every heading


def plain(text: str) -> bool:
    """Printable ASCII only: one column per character, nothing invisible, one line."""
    return text.isascii() and text.isprintable()


def layout(body: Sequence[Sequence[str]], headers: Sequence[str], right: Sequence[bool],
           github: bool) -> str | None:
    """tabulate(body, headers, tablefmt="github" if github else "simple",
    disable_numparse=True, colalign=...), or None where the cells are not all plain."""
    if not all(plain(h) and h == h.strip() for h in headers):
        return None
    columns: list[list[str]] = [[] for _ in headers]
    for row in body:
        if len(row) != len(headers):
            return None
        for column, text in zip(columns, row, strict=True):
            if not plain(text):
                return None
            column.append(text.strip())  # tabulate strips what it aligns
    widths = [max(len(h) + MIN_PADDING, *(len(t) for t in column))
              for h, column in zip(headers, columns, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = [cell.rjust(w) if r else cell.ljust(w)
                  for cell, w, r in zip(cells, widths, right, strict=True)]
        if github:
            return "| " + " | ".join(padded) + " |"
        return "  ".join(padded).rstrip()

    rule = ("|" + "|".join("-" * (w + 2) for w in widths) + "|" if github
            else "  ".join("-" * w for w in widths))
    rows = [list(r) for r in zip(*columns, strict=True)] if body else []
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])
