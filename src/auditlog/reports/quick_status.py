"""`auditlog status` answered from a current projection's summary rows (projections/quick.py),
printed exactly as reports/views.status_text prints the full path's report.

``quick_status`` returns None whenever the rows cannot answer (a PostgreSQL URL, a store that
is not a plain writable file, a projection behind its log or of another version, anything
unexpected in the rows, a pemda not registered): the command then takes the full path, which
catches the projection up, folds or refuses as it always did.
"""

import os
import sqlite3
from datetime import date
from typing import Any

from auditlog.domain.inputs import format_rupiah
from auditlog.i18n import N_, _, format_date, format_pct
from auditlog.projections import quick
from auditlog.reports.render import NUMERIC, Format, cell, render, to_json
from auditlog.reports.table import layout


def quick_status(target: str, pemda: str | None, fmt: Format, on: date) -> str | None:
    """The status text of the SQLite store at ``target``, or None: take the full path."""
    if target.startswith(("postgresql://", "postgres://")):
        return None
    if not _plain_writable_file(target):
        return None  # missing, empty, a folder, read-only: the full path says what to do
    try:
        db = sqlite3.connect(target, isolation_level=None, timeout=0)
    except sqlite3.Error:
        return None
    try:
        db.execute("BEGIN")  # one snapshot: the head checked is the head the rows rest on
        names = {row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not names >= quick.NEEDED:
            return None
        quick.check_current(db, quick.SCHEMA_VERSION)
        report = quick.status_report(db, on.isoformat(), pemda)
    except (sqlite3.Error, quick.NotCurrent, KeyError, TypeError, ValueError):
        return None  # locked, damaged, of another shape: the full path says what and exits
    finally:
        db.close()
    if pemda is not None and not report:
        return None  # not registered: the full path refuses it
    return status_text(report, on, fmt)


def _plain_writable_file(target: str) -> bool:
    """A regular, non-empty file this process may write, in a folder it may write: the store
    the full path opens read-write (a read-only one is read another way)."""
    try:
        if not os.path.isfile(target) or os.path.getsize(target) == 0:
            return False
    except OSError:
        return False
    folder = os.path.dirname(target) or "."
    return os.access(target, os.W_OK) and os.access(folder, os.W_OK)


# --- printing: reports/views.status_text and commitments_by_theme_text, for the same report ---


def _grade_cell(entry: dict[str, Any] | None, prev: str) -> str:
    """views._grade_cell, with "(prev {grade} {year})" translated once per table."""
    if not entry:
        return ""
    text = f"{entry['grade']} {entry['year']}"
    previous = entry.get("previous")
    if previous:
        text += " " + prev.format(grade=previous["grade"], year=previous["year"])
    return text


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def status_text(report: list[dict[str, Any]], on: date, fmt: Format) -> str:
    if fmt is Format.json:
        return to_json(report)
    present = {i for row in report for i in row["grades"]}
    instruments = [i for i in quick.INSTRUMENT_ORDER if i in present]
    columns = [("pemda", N_("pemda")), ("name", N_("name"))]
    columns += [(f"grade_{i}", i) for i in instruments]
    columns += [(s, s) for s in quick.STATUS_CODES]
    columns += [("total", N_("total")), ("completion_pct", "% S"),
                ("value_to_recover", N_("to recover")), ("deposited", N_("deposited")),
                ("overdue", N_("overdue"))]
    prev = _("(prev {grade} {year})")
    text = (_laid_out(report, instruments, columns, fmt, prev)
            if fmt is not Format.csv and report else None)
    if text is None:  # CSV, no rows, or cells tabulate lays out: through render
        text = render(_display(report, instruments, fmt, prev), columns, fmt)
    if fmt in (Format.table, Format.md):
        text += "\n\n" + _("as of {on}: overdue = open (BD/BS) past its due date; % S by "
                           "count").format(on=format_date(on))
        text += _commitments_by_theme(report, fmt)
    return text


def _laid_out(report: list[dict[str, Any]], instruments: list[str],
              columns: list[tuple[str, str]], fmt: Format, prev: str) -> str | None:
    """What render makes of _display's rows, built straight as the cells it prints (render's
    cell(): text as it is, a number as str): no dict per row, no cell() per value. None
    where the table is not plain ASCII (tabulate lays it out, through render)."""
    body = [[cell(row["pemda"]), cell(row["name"]),
             *[_grade_cell(row["grades"].get(i), prev) for i in instruments],
             *[str(row["recommendations"][s]) for s in quick.STATUS_CODES],
             str(row["total"]), format_pct(row["completion_pct"]),
             format_rupiah(row["value_to_recover"]), format_rupiah(row["deposited"]),
             str(row["overdue"])] for row in report]
    return layout(body, [_(heading) for _key, heading in columns],
                  [key in NUMERIC for key, _heading in columns], github=fmt is Format.md)


def _display(report: list[dict[str, Any]], instruments: list[str], fmt: Format, prev: str
             ) -> list[dict[str, Any]]:
    """views.status_text's rows for render."""
    rows = []
    for row in report:
        display: dict[str, Any] = {
            "pemda": row["pemda"], "name": row["name"], "total": row["total"],
            "completion_pct": _pct(row["completion_pct"]), "overdue": row["overdue"],
            "value_to_recover": row["value_to_recover"], "deposited": row["deposited"],
        }
        if fmt is not Format.csv:  # for people: Rp12.150.000, and 37,50% in Indonesian
            display["value_to_recover"] = format_rupiah(row["value_to_recover"])
            display["deposited"] = format_rupiah(row["deposited"])
            display["completion_pct"] = format_pct(row["completion_pct"])
        for i in instruments:
            entry = row["grades"].get(i)
            display[f"grade_{i}"] = (
                (entry["grade"] if entry else "") if fmt is Format.csv else _grade_cell(entry, prev)
            )
        for s in quick.STATUS_CODES:
            display[s] = row["recommendations"][s]
        rows.append(display)
    return rows


COMMITMENT_THEME_COLUMNS = [
    ("pemda", N_("pemda")), ("theme", N_("theme")), ("count", N_("commitments")),
    ("achieved", N_("achieved")), ("overdue", N_("overdue")),
    ("mean_progress_pct", N_("mean progress %")),
]


def _commitments_by_theme(report: list[dict[str, Any]], fmt: Format) -> str:
    rows = [{"pemda": row["pemda"], "theme": theme, **tally,
             "mean_progress_pct": format_pct(tally["mean_progress_pct"])}
            for row in report for theme, tally in row["commitments"].items()]
    if not rows:
        return ""
    return ("\n\n" + _("commitments by theme:") + "\n"
            + render(rows, COMMITMENT_THEME_COLUMNS, fmt) + "\n\n"
            + _("commitment overdue = open (berjalan/sebagian) past its deadline; mean "
                "progress over the commitments with a measured realisation"))
