"""Printing rows for people and scripts: table, Markdown, CSV or JSON, byte-stable."""

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from auditlog.i18n import _
from auditlog.reports.table import layout


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    md = "md"


class ExportFormat(StrEnum):
    """The annual review's formats (here, not in reports/export, so the CLI builds its
    options without importing what writes them)."""

    xlsx = "xlsx"
    csv = "csv"
    json = "json"
    md = "md"
    html = "html"


def to_json(data: Any) -> str:
    import orjson  # with json behind it: loaded by the commands that print JSON

    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(text: str) -> str:
    """A text cell must never become a live formula in a spreadsheet (OWASP CSV injection)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


NUMERIC = frozenset({
    "BD", "BS", "S", "TDTL", "total", "completion_pct", "value_to_recover", "deposited",
    "overdue", "value", "position", "year", "score", "balance", "count", "days_overdue",
    "days_left", "achieved", "mean_progress_pct", "progress_pct", "baseline", "target",
    "realised",
})


def render(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]], fmt: Format,
           data: Any = None) -> str:
    """rows hold display values by key; columns are (key, heading). json prints `data`.

    Columns whose key is in NUMERIC are right-aligned, as amounts are on paper.
    """
    if fmt is Format.json:
        return to_json(rows if data is None else data)
    if fmt is Format.csv:
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([key for key, _ in columns])
        for row in rows:
            writer.writerow([
                defuse(value) if isinstance(value, str) else cell(value)
                for value in (row.get(key) for key, _ in columns)
            ])
        return out.getvalue().rstrip("\n")
    body = [[cell(row.get(key)) for key, _ in columns] for row in rows]
    headers = [_(heading) for _key, heading in columns]  # headings are marked N_()
    style = "github" if fmt is Format.md else "simple"
    if not body:
        return _("(none)")
    right = [key in NUMERIC for key, _ in columns]
    laid = layout(body, headers, right, github=fmt is Format.md)  # tabulate's, for ASCII
    if laid is not None:
        return laid
    from tabulate import tabulate  # imported by the tables that need it: start-up stays light

    align = ["right" if r else "left" for r in right]
    return tabulate(body, headers=headers, tablefmt=style, disable_numparse=True,
                    colalign=align)
