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
    if not body or any(len(row) != len(headers) for row in body):
        return None
    if not plain("".join(["".join(row) for row in body])):
        return None
    # tabulate strips what it aligns; a column is as wide as its widest cell, or its heading
    # with room beside it.
    columns = [[text.strip() for text in column] for column in zip(*body, strict=True)]
    widths = [max(len(h) + MIN_PADDING, *map(len, column))
              for h, column in zip(headers, columns, strict=True)]
    cells = [f"{{:{'>' if r else '<'}{w}}}" for w, r in zip(widths, right, strict=True)]
    if github:
        line = "| " + " | ".join(cells) + " |"
        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return "\n".join([line.format(*headers), rule,
                          *(line.format(*row) for row in zip(*columns, strict=True))])
    line = "  ".join(cells)
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line.format(*headers).rstrip(), rule,
                      *(line.format(*row).rstrip() for row in zip(*columns, strict=True))])
