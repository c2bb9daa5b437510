"""Writing the annual review: XLSX, CSV (zip or folder), JSON, Markdown and self-contained HTML.

Every writer is deterministic: no clock, fixed zip timestamps and XLSX metadata, stable order,
so the same review always gives the same bytes. Files appear whole or not at all (written to a
temporary sibling, then renamed), and are written as the rows are made (files.write_stream):
a national review is never held in memory, whatever its format.
"""

import contextlib
import csv
import functools
import html
import io
import itertools
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from auditlog import files
from auditlog.domain.inputs import format_rupiah
from auditlog.errors import Refusal
from auditlog.i18n import N_, _, format_date, format_pct
from auditlog.reports.render import ExportFormat, defuse
from auditlog.reports.review import Column, Lang, Review, Section, words

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say: no clock in the bytes


EXTENSIONS = {".xlsx": ExportFormat.xlsx, ".zip": ExportFormat.csv, ".json": ExportFormat.json,
              ".md": ExportFormat.md, ".html": ExportFormat.html, ".htm": ExportFormat.html}


def choose_format(target: Path, given: ExportFormat | None) -> ExportFormat:
    if given is not None:
        return given
    suffix = target.suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    if suffix == ".csv":
        raise Refusal(_("a review has many sections, one CSV each: use --to review.zip for a "
                        "zip of CSVs, or --format csv with a folder name"))
    raise Refusal(_("cannot tell the format from {name!r}: end it in .xlsx, .zip, .json, .md "
                    "or .html, or give --format xlsx|csv|json|md|html").format(name=target.name))


# --- cell values ---------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """JSON-ready value: dates as ISO text, everything else as it is."""
    if isinstance(value, date):
        return value.isoformat()
    return value


def text_cell(column: Column, value: Any, lang: Lang) -> str:
    """How a value reads on paper (Markdown, HTML): 26 Juli 2023 and 37,50% in Indonesian."""
    if value is None or value == "":
        return ""
    if column.kind == "rupiah":
        return format_rupiah(int(value))
    if column.kind == "pct":
        return _pct_text(value, lang)
    if column.kind == "date":
        return _date_text(value, lang) if isinstance(value, date) else str(value)
    return str(value)


# A number or a date reads as digits, dots, commas, % and month names: nothing to escape.
_WORDED = (int, float, date)


# A review prints the same few thousand dates and percentages over and over (each a call
# into babel in Indonesian): each is worded once.
@functools.lru_cache(maxsize=1 << 14)
def _date_text(day: date, lang: Lang) -> str:
    return format_date(day, lang)


@functools.lru_cache(maxsize=1 << 14)
def _pct_text(value: float, lang: Lang) -> str:
    return format_pct(value, lang)


# What the cover's keys say to people (JSON and CSV keep the keys themselves).
COVER_LABELS = {
    "year": N_("year"), "as_of": N_("as of"), "known_at": N_("as known at"),
    "auditlog_version": N_("auditlog version"), "checkpoint.store_id": N_("store identity"),
    "checkpoint.size": N_("events in the log"), "checkpoint.root": N_("root hash of the log"),
    "findings": N_("findings"), "pemda": N_("pemda"),
}


# Sheet names are short (a spreadsheet allows 31 characters); sections not named here use
# their title.
SHEETS = {
    "summary": N_("Summary"), "matrix_pemda": N_("Matrix by pemda"),
    "matrix_opd": N_("Matrix by OPD"), "matrix_report": N_("Matrix by report"),
    "aging": N_("Aging"), "financial_pemda": N_("Financial card by pemda"),
    "financial_finding": N_("Financial card by finding"), "grades": N_("Grades"),
    "register": N_("Register"), "activity_counts": N_("Activity counts"),
    "activity": N_("Activity"), "commitments": N_("Commitments by theme"),
    "commitment_owners": N_("Commitment owners"), "commitment_list": N_("Commitments register"),
}


def sheet_name(title: str) -> str:
    """A section's title as a sheet's name: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", "-", title)[:31].rstrip()


def cover_label(key: str, lang: Lang) -> str:
    return words(lang, COVER_LABELS[key]) if key in COVER_LABELS else key


def csv_cell(column: Column) -> Callable[[Any], str]:
    """How a column's values read in a CSV (numbers as digits, dates ISO, text defused),
    its kind decided once for the column instead of at every cell."""
    if column.kind in ("int", "rupiah"):
        return lambda value: "" if value is None else str(value)
    if column.kind == "pct":
        return lambda value: "" if value is None else f"{value:.2f}"

    def other(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, date):
            return value.isoformat()
        return defuse(str(value))

    return other


# --- atomic output -------------------------------------------------------------------------


CSV_NAME = re.compile(r"^\d{2}-[a-z_]+\.csv$")


def check_target(target: Path, fmt: "ExportFormat", *, force: bool) -> None:
    """Refuse a target that cannot be written before the review is computed."""
    if fmt is ExportFormat.csv and target.suffix.lower() != ".zip":
        _check_folder(target, force=force)
    else:
        files.check_writable(target, force=force)


def _check_folder(target: Path, *, force: bool) -> None:
    if files.holds_store(target) or (target.exists() and not target.is_dir()):
        files.check_writable(target, force=force)  # says why, in the same words
        raise Refusal(_("{target} exists and is not a folder: choose another --to").format(
                          target=target))
    if not target.is_dir():
        parent = target.parent if str(target.parent) else Path(".")
        if not parent.is_dir():
            raise Refusal(_("folder {parent} does not exist: create it or choose another "
                            "--to").format(parent=parent))
        return
    names = sorted(p.name for p in target.iterdir())
    others = [name for name in names if not CSV_NAME.match(name)]
    if others:
        raise Refusal(_("folder {target} holds other files ({value}{value2}): give a new or "
                        "empty folder, or a name ending in .zip").format(
                          target=target, value=', '.join(others[:3]),
                          value2=' ...' if len(others) > 3 else ''))
    if names and not force:
        raise Refusal(_("folder {target} already holds a review's CSV files: add --force to "
                        "replace them, or give a new folder").format(target=target))


Producer = Callable[[BinaryIO], object]


def write_folder(target: Path, files_: dict[str, Producer], *, force: bool = False) -> None:
    """One CSV per section in a folder: a new one appears whole (written under a hidden name,
    then renamed); an existing one, with --force, holding only an earlier review's CSVs, has
    each file replaced whole. Nothing else in a folder is ever touched."""
    _check_folder(target, force=force)
    if not target.is_dir():
        parent = target.parent if str(target.parent) else Path(".")
        try:
            staging = Path(tempfile.mkdtemp(prefix=".auditlog-", suffix=".tmp", dir=parent))
        except OSError as error:
            raise Refusal(_("cannot write {target}: {strerror}").format(
                              target=target, strerror=error.strerror)) from None
        try:
            for name, produce in files_.items():
                files.write_stream(staging / name, produce)
            os.rename(staging, target)
        except OSError as error:
            raise Refusal(_("cannot write {target}: {strerror}").format(
                              target=target, strerror=error.strerror)) from None
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return
    for name, produce in files_.items():
        files.write_stream(target / name, produce, force=True)
    for stale in target.iterdir():
        if CSV_NAME.match(stale.name) and stale.name not in files_:
            stale.unlink()  # a section an earlier version of auditlog wrote


def _zip_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def write_zip(out: BinaryIO, entries: dict[str, Producer]) -> None:
    """A zip with no clock in its bytes, each entry compressed as it is produced."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, produce in entries.items():
            with archive.open(_zip_entry(name), "w") as entry:
                produce(entry)  # type: ignore[arg-type]


# --- JSON ----------------------------------------------------------------------------------


JSON_OPTIONS = orjson.OPT_INDENT_2


def _indented(value: Any, depth: int) -> bytes:
    """``value`` as orjson indents it, shifted to sit ``depth`` levels deep."""
    return orjson.dumps(value, option=JSON_OPTIONS).replace(b"\n", b"\n" + b"  " * depth)


JSON_CHUNK = 500


def _json_rows(rows: list[dict[str, Any]]) -> bytes:
    """Rows as they sit in the document's "rows" list, without its brackets: one orjson call
    per chunk of rows, not per row."""
    return _indented(rows, 3)[1:-8]  # "[" ... "\n      ]"


def write_json(out: BinaryIO, review: Review, lang: Lang) -> None:
    """The review as one JSON document, the same bytes orjson gives the whole document with
    two-space indents, written a row at a time."""
    out.write(b'{\n  "meta": ' + _indented(review.meta, 1) + b',\n  "sections": {')
    for n, s in enumerate(review.sections):
        columns = [{"key": c.key, "heading": c.heading(lang), "kind": c.kind}
                   for c in s.columns]
        out.write((b",\n    " if n else b"\n    ") + orjson.dumps(s.key) + b': {\n      "title": '
                  + orjson.dumps(s.title(lang)) + b',\n      "columns": '
                  + _indented(columns, 3) + b',\n      "rows": [')
        keys = tuple(c.key for c in s.columns)
        count = 0
        chunk: list[dict[str, Any]] = []
        for row in s.each():
            # orjson writes a date as plain() does (ISO), so a row whose keys are the
            # columns, in order, goes as it is
            chunk.append(row if tuple(row) == keys else {k: row.get(k) for k in keys})
            if len(chunk) == JSON_CHUNK:
                out.write(b"," if count else b"")
                out.write(_json_rows(chunk))
                count += len(chunk)
                chunk = []
        if chunk:
            out.write(b"," if count else b"")
            out.write(_json_rows(chunk))
            count += len(chunk)
        out.write(b"\n      ]\n    }" if count else b"]\n    }")
    out.write(b"\n  }\n}\n" if review.sections else b"}\n}\n")


# --- CSV -----------------------------------------------------------------------------------


def csv_files(review: Review) -> dict[str, Producer]:
    """The cover and one CSV per section, each written as it is produced."""
    def cover(out: BinaryIO) -> None:
        with _text(out) as text:
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(["key", "value"])
            for key, value in flat_meta(review.meta):
                writer.writerow([key, defuse(str(value))])

    def section_csv(section: Section) -> Producer:
        def write(out: BinaryIO) -> None:
            with _text(out) as text:
                writer = csv.writer(text, lineterminator="\n")
                # Machine headers, the JSON keys, in every language: scripts read these files
                writer.writerow([c.key for c in section.columns])
                plan = [(c.key, csv_cell(c)) for c in section.columns]
                writer.writerows([convert(row.get(key)) for key, convert in plan]
                                 for row in section.each())
        return write

    produced: dict[str, Producer] = {"00-cover.csv": cover}
    for i, section in enumerate(review.sections, start=1):
        produced[f"{i:02d}-{section.key}.csv"] = section_csv(section)
    return produced


@contextlib.contextmanager
def _text(out: BinaryIO) -> Iterator[io.TextIOWrapper]:
    """UTF-8 text onto a binary file, flushed and detached (the file stays open)."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    try:
        yield text
        text.flush()
    finally:
        text.detach()


def flat_meta(meta: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in meta.items():
        if isinstance(value, dict):
            items += flat_meta(value, f"{prefix}{key}.")
        else:
            items.append((f"{prefix}{key}", "" if value is None else value))
    return items


# --- Markdown ------------------------------------------------------------------------------


def write_markdown(out: BinaryIO, review: Review, lang: Lang) -> None:
    lines = [f"# {md_text(str(review.meta['title']))}", ""]
    for key, value in flat_meta(review.meta):
        if key != "title":
            lines.append(f"- {cover_label(key, lang)}: "
                         f"{md_text(str(value)) if value != '' else '-'}")
    out.write("\n".join(lines).encode())
    for section in review.sections:
        out.write(f"\n\n## {section.title(lang)}\n\n".encode())
        if not pipe_table(out, section, lang):
            out.write(words(lang, N_("(none)")).encode())
    out.write(b"\n")


def md_text(text: str) -> str:
    """A text as Markdown shows it, never as markup: a title holding <script> stays text in
    every viewer that renders the HTML Markdown allows; a | or a newline never splits a row."""
    # < and & are what can open markup or an entity; > alone never does (BD -> S stays).
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|")
    return " ".join(escaped.splitlines()) if "\n" in escaped or "\r" in escaped else escaped


def _md_cell(column: Column, value: Any, lang: Lang) -> str:
    text = text_cell(column, value, lang)
    return text if isinstance(value, _WORDED) else md_text(text)


def _worded(column: Column, lang: Lang, escape: Callable[[str], str],
            general: Callable[[Column, Any, Lang], str]) -> Callable[[Any], str]:
    """``general`` for this column's cells (_md_cell, _html_cell), the column's kind decided
    once: a text column's text is only escaped, an int column's int is its digits (what
    text_cell makes of them), anything else goes the general way."""
    if column.kind == "text":
        def text(value: Any) -> str:
            return escape(value) if type(value) is str else general(column, value, lang)
        return text
    if column.kind == "int":
        def digits(value: Any) -> str:
            return str(value) if type(value) is int else general(column, value, lang)
        return digits
    return lambda value: general(column, value, lang)


def pipe_table(out: BinaryIO, section: Section, lang: Lang) -> bool:
    """A Markdown pipe table, padded to line up in a plain-text editor too; False (nothing
    written) when the section has no rows.

    The widths need every row before the first is written: the cells, worded once, wait in
    a temporary file (a JSON list per row), not in memory, and the rows are not made twice
    (the activity's would be read from the log again)."""
    headers = [c.heading(lang) for c in section.columns]
    columns = section.columns
    widths = [max(3, len(h)) for h in headers]
    count = 0
    with tempfile.TemporaryFile(prefix="auditlog-md-") as spool:
        plan = [(c.key, _worded(c, lang, md_text, _md_cell)) for c in columns]
        for row in section.each():
            count += 1
            cells = [cell(row.get(key)) for key, cell in plan]
            for i, cell in enumerate(cells):
                if len(cell) > widths[i]:
                    widths[i] = len(cell)
            spool.write(orjson.dumps(cells) + b"\n")
        if not count:
            return False
        right = [c.kind in ("int", "rupiah", "pct") for c in columns]

        def line(cells: list[str]) -> str:
            padded = (cell.rjust(w) if r else cell.ljust(w)
                      for cell, w, r in zip(cells, widths, right, strict=True))
            return "| " + " | ".join(padded) + " |"

        rule = "|" + "|".join(("-" * (w + 1) + ":") if r else (":" + "-" * (w + 1))
                              for w, r in zip(widths, right, strict=True)) + "|"
        out.write((line(headers) + "\n" + rule).encode())
        spool.seek(0)
        for cells_json in spool:
            out.write(("\n" + line(orjson.loads(cells_json))).encode())
    return True


# --- XLSX ----------------------------------------------------------------------------------


RUPIAH_FORMAT = '[$Rp-421]#,##0'  # Indonesian locale: Rp12.150.000 where the system allows
DATE_FORMAT = "dd/mm/yyyy"
PCT_FORMAT = "0.00"
SCORE_FORMAT = "0.00"


def write_xlsx(out: BinaryIO, review: Review, lang: Lang) -> None:
    """The review as a workbook, through XlsxWriter: rows streamed to disk as written
    (constant_memory, so each sheet's rows in order), every cell written with its type (text
    never becomes a formula or a number, rupiah, scores and percentages are numbers), and the
    clock kept out of the bytes (created date fixed to the review's date, zip entries
    restamped as they are copied into ``out``)."""
    import xlsxwriter

    with tempfile.TemporaryDirectory(prefix="auditlog-xlsx-") as scratch:
        book_path = os.path.join(scratch, "review.xlsx")
        book = xlsxwriter.Workbook(book_path, {
            "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
            "strings_to_urls": False, "tmpdir": scratch})
        fixed = datetime(review.as_of.year, review.as_of.month, review.as_of.day)
        book.set_properties({"author": "auditlog", "created": fixed})
        _fill_book(book, review, lang)
        book.close()
        with zipfile.ZipFile(book_path) as book_zip, \
                zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for info in book_zip.infolist():
                with book_zip.open(info) as part, archive.open(
                        _zip_entry(info.filename), "w") as entry:
                    shutil.copyfileobj(part, entry, 1 << 20)


def _fill_book(book: Any, review: Review, lang: Lang) -> None:
    bold = book.add_format({"bold": True})
    formats = {"rupiah": book.add_format({"num_format": RUPIAH_FORMAT}),
               "date": book.add_format({"num_format": DATE_FORMAT}),
               "pct": book.add_format({"num_format": PCT_FORMAT}),
               "score": book.add_format({"num_format": SCORE_FORMAT})}
    cover = book.add_worksheet(words(lang, N_("Cover")))
    cover.set_column(0, 0, 28)
    cover.set_column(1, 1, 70)
    cover.write_string(0, 0, review.meta["title"], book.add_format({"bold": True,
                                                                    "font_size": 14}))
    line = 1
    for key, value in flat_meta(review.meta):
        if key != "title":
            cover.write_string(line, 0, cover_label(key, lang))
            cover.write_string(line, 1, str(value))
            line += 1
    for section in review.sections:
        sheet = book.add_worksheet(sheet_name(words(lang, SHEETS[section.key])
                                              if section.key in SHEETS else section.title(lang)))
        columns = section.columns
        widths = [len(c.heading(lang)) for c in columns]
        sheet.freeze_panes(1, 0)
        for i, column in enumerate(columns):
            sheet.write_string(0, i, column.heading(lang), bold)
        # A plain text cell (most of a long sheet) reads as itself: its width is its length
        # and it is written without asking what else it might be.
        plain_text = [c.kind == "text" and not c.decimal for c in columns]
        plain_int = [c.kind == "int" and not c.decimal for c in columns]
        rupiah = [c.kind == "rupiah" and not c.decimal for c in columns]
        rupiah_format = formats["rupiah"]
        write_string, write_number = sheet.write_string, sheet.write_number
        r = 0
        for r, row in enumerate(section.each(), start=1):
            get = row.get
            for i, column in enumerate(columns):
                value = get(column.key)
                if value is None or value == "":
                    continue
                if plain_text[i] and type(value) is str:
                    if len(value) > widths[i]:
                        widths[i] = len(value)
                    if value.startswith("<r>"):
                        _write_text(sheet, r, i, value)
                    else:
                        write_string(r, i, value)
                    continue
                if plain_int[i] and type(value) is int:
                    if len(str(value)) > widths[i]:
                        widths[i] = len(str(value))
                    write_number(r, i, value)
                    continue
                if rupiah[i] and type(value) is int:
                    width = rupiah_width(value)
                    if width > widths[i]:
                        widths[i] = width
                    write_number(r, i, value, rupiah_format)
                    continue
                width = len(text_cell(column, value, lang))
                if width > widths[i]:
                    widths[i] = width
                kind = column.kind
                if kind == "date" and isinstance(value, date):
                    sheet.write_datetime(r, i, value, formats["date"])
                elif column.decimal:
                    sheet.write_number(r, i, float(value), formats["score"])
                elif isinstance(value, bool) or not isinstance(value, int | float):
                    _write_text(sheet, r, i, str(value))
                else:
                    sheet.write_number(r, i, value, formats.get(kind))
        # Widths and the filter's range are laid out when the book closes, so they may follow
        # the rows (which constant_memory has already written out).
        for i, width in enumerate(widths):
            sheet.set_column(i, i, min(60, max(8, width + 2)))
        if r:
            sheet.autofilter(0, 0, r, len(columns) - 1)


def rupiah_width(value: int) -> int:
    """len(format_rupiah(value)) without the text: Rp, a sign, the digits and a dot between
    each group of three."""
    digits = len(str(abs(value)))
    return 2 + (value < 0) + digits + (digits - 1) // 3


def _write_text(sheet: Any, row: int, col: int, text: str) -> None:
    """A text cell that stays text. In constant_memory mode XlsxWriter writes a string shaped
    like its own rich-text markup (``<r>...</r>``) into the sheet as XML, unescaped: a
    finding's text would become the workbook's markup. Such a text goes in as a rich string
    of plain fragments instead (it takes three at least), which XlsxWriter escapes and which
    reads as the same text."""
    if text.startswith("<r>") and text.endswith("</r>"):
        sheet.write_rich_string(row, col, text[:1], text[1:-1], text[-1:])
    else:
        sheet.write_string(row, col, text)


# --- HTML ----------------------------------------------------------------------------------


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem;color:#1b1b1b}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.8rem;margin:.5rem 0}
th,td{border:1px solid #bbb;padding:.2rem .4rem;vertical-align:top}
th{background:#eef2f5;text-align:left}td.n{text-align:right;white-space:nowrap}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0}
figcaption{font-size:.85rem;font-weight:600}
svg text{font-size:10px;font-family:inherit}
@media print{body{margin:0}h2{break-before:auto}table{page-break-inside:auto}
tr{page-break-inside:avoid}}
"""
SCALE = ("D", "C", "CC", "B", "BB", "A", "AA")
COLOURS = {"SAKIP": "#1f6fb2", "RB": "#c2571a"}


def grade_chart(pemda: str, name: str, rows: list[dict[str, Any]]) -> str:
    """An inline SVG of one pemda's SAKIP and RB grades across years: no script, no network."""
    series: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        if row["pemda"] == pemda and row["instrument"] in COLOURS and row["grade"] in SCALE:
            series.setdefault(row["instrument"], []).append((int(row["year"]), row["grade"]))
    if not series:
        return ""
    years = sorted({y for points in series.values() for y, _ in points})
    width, height, left, top, step_y = 360, 200, 40, 15, 25
    step_x = (width - left - 20) / max(1, len(years) - 1)

    def x(year: int) -> float:
        return left + (years.index(year) * step_x if len(years) > 1 else (width - left) / 2)

    def y(grade: str) -> float:
        return top + (len(SCALE) - 1 - SCALE.index(grade)) * step_y

    parts = [f'<svg class="grade-chart" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{html.escape(name)}: SAKIP, RB</title>"]
    for grade in SCALE:
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y(grade)}" y2="{y(grade)}" '
                     'stroke="#e3e3e3"/>')
        parts.append(f'<text x="5" y="{y(grade) + 3}">{grade}</text>')
    for year in years:
        parts.append(f'<text x="{x(year) - 12:.1f}" y="{height - 5}">{year}</text>')
    for n, (instrument, points) in enumerate(sorted(series.items())):
        colour = COLOURS[instrument]
        coords = " ".join(f"{x(yr):.1f},{y(g):.1f}" for yr, g in sorted(points))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                     f'points="{coords}"/>')
        for yr, g in points:
            parts.append(f'<circle cx="{x(yr):.1f}" cy="{y(g):.1f}" r="3" fill="{colour}">'
                         f"<title>{instrument} {yr}: {g}</title></circle>")
        parts.append(f'<text x="{width - 60}" y="{12 + 12 * n}" fill="{colour}">'
                     f"{instrument}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _html_cell(column: Column, value: Any, lang: Lang) -> str:
    text = text_cell(column, value, lang)
    return text if isinstance(value, _WORDED) else html.escape(text)


def write_html_table(out: BinaryIO, section: Section, lang: Lang) -> None:
    rows = section.each()
    first = next(rows, None)
    if first is None:
        out.write(f"<p>{html.escape(words(lang, N_('(none)')))}</p>".encode())
        return
    head = "".join(f"<th>{html.escape(c.heading(lang))}</th>" for c in section.columns)
    out.write(f"<table><thead><tr>{head}</tr></thead><tbody>".encode())
    cells = [(c.key, "<td class=\"n\">" if c.kind in ("int", "rupiah", "pct") else "<td>",
              _worded(c, lang, html.escape, _html_cell)) for c in section.columns]
    for row in itertools.chain((first,), rows):
        out.write(("<tr>" + "".join(
            f"{td}{cell(row.get(key))}</td>" for key, td, cell in cells) + "</tr>").encode())
    out.write(b"</tbody></table>")


def write_html(out: BinaryIO, review: Review, lang: Lang) -> None:
    title = html.escape(str(review.meta["title"]))
    meta = "".join(f"<dt>{html.escape(cover_label(k, lang))}</dt>"
                   f"<dd>{html.escape(str(v) or '-')}</dd>"
                   for k, v in flat_meta(review.meta) if k != "title")
    grades = list(next(s for s in review.sections if s.key == "grades").each())
    summary = next(s for s in review.sections if s.key == "summary")
    charts = []
    for row in summary.each():
        if row["pemda"] == "TOTAL":
            continue
        svg = grade_chart(row["pemda"], row["name"], grades)
        if svg:
            charts.append(f"<figure>{svg}<figcaption>{html.escape(row['name'])} "
                          f"({html.escape(row['pemda'])})</figcaption></figure>")
    chart_title = words(lang, N_("Grades across years"))
    out.write((
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{CSS}</style></head><body>"
        f"<h1>{title}</h1><dl>{meta}</dl>"
        f'<section id="charts"><h2>{chart_title}</h2><div class="charts">{"".join(charts)}'
        f"</div></section>").encode())
    for s in review.sections:
        out.write(f'<section id="{s.key}"><h2>{html.escape(s.title(lang))}</h2>'.encode())
        write_html_table(out, s, lang)
        out.write(b"</section>")
    out.write(b"</body></html>\n")


# --- entry point ---------------------------------------------------------------------------


def write_review(review: Review, target: Path, fmt: ExportFormat, lang: Lang, *,
                 force: bool = False) -> str:
    """Write the review, whole or not at all, as it is produced; returns a short description
    of what was written. An existing file is replaced only with ``force``; a store never."""
    if fmt is ExportFormat.csv:
        csvs = csv_files(review)
        if target.suffix.lower() == ".zip":
            files.write_stream(target, lambda out: write_zip(out, csvs), force=force)
            # the cover and one per section
            return _("a zip of {n} CSV files").format(n=len(csvs))
        write_folder(target, csvs, force=force)
        return _("a folder of {n} CSV files").format(n=len(csvs))
    writers: dict[ExportFormat, Callable[[BinaryIO, Review, Lang], None]] = {
        ExportFormat.xlsx: write_xlsx, ExportFormat.json: write_json,
        ExportFormat.md: write_markdown, ExportFormat.html: write_html,
    }
    write = writers[fmt]
    files.write_stream(target, lambda out: write(out, review, lang), force=force)
    return fmt.value.upper()
