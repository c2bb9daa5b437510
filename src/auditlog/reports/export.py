"""Writing the annual review: XLSX, CSV (zip or folder), JSON, Markdown and self-contained HTML.

Every writer is deterministic: no clock, fixed zip timestamps and XLSX metadata, stable order,
so the same review always gives the same bytes. Files appear whole or not at all (written to a
temporary sibling, then renamed).
"""

import csv
import html
import io
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

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
        return format_pct(value, lang)
    if column.kind == "date":
        return format_date(value, lang) if isinstance(value, date) else str(value)
    return str(value)


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


def csv_cell(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind in ("int", "rupiah"):
        return str(value)
    if column.kind == "pct":
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return defuse(str(value))


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


def write_folder(target: Path, files_: dict[str, bytes], *, force: bool = False) -> None:
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
            for name, data in files_.items():
                files.write_file(staging / name, data)
            os.rename(staging, target)
        except OSError as error:
            raise Refusal(_("cannot write {target}: {strerror}").format(
                              target=target, strerror=error.strerror)) from None
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return
    for name, data in files_.items():
        files.write_file(target / name, data, force=True)
    for stale in target.iterdir():
        if CSV_NAME.match(stale.name) and stale.name not in files_:
            stale.unlink()  # a section an earlier version of auditlog wrote


def deterministic_zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


# --- JSON ----------------------------------------------------------------------------------


def review_json(review: Review, lang: Lang) -> dict[str, Any]:
    return {
        "meta": review.meta,
        "sections": {
            s.key: {
                "title": s.title(lang),
                "columns": [{"key": c.key, "heading": c.heading(lang), "kind": c.kind}
                            for c in s.columns],
                "rows": [{c.key: plain(row.get(c.key)) for c in s.columns} for row in s.rows],
            }
            for s in review.sections
        },
    }


def to_json_bytes(review: Review, lang: Lang) -> bytes:
    return orjson.dumps(review_json(review, lang), option=orjson.OPT_INDENT_2) + b"\n"


# --- CSV -----------------------------------------------------------------------------------


def csv_files(review: Review, lang: Lang) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    cover = io.StringIO()
    writer = csv.writer(cover, lineterminator="\n")
    writer.writerow(["key", "value"])
    for key, value in flat_meta(review.meta):
        writer.writerow([key, defuse(str(value))])
    files["00-cover.csv"] = cover.getvalue().encode()
    for i, section in enumerate(review.sections, start=1):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        # Machine headers, the JSON keys, in every language: scripts read these files
        writer.writerow([c.key for c in section.columns])
        for row in section.rows:
            writer.writerow([csv_cell(c, row.get(c.key)) for c in section.columns])
        files[f"{i:02d}-{section.key}.csv"] = out.getvalue().encode()
    return files


def flat_meta(meta: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in meta.items():
        if isinstance(value, dict):
            items += flat_meta(value, f"{prefix}{key}.")
        else:
            items.append((f"{prefix}{key}", "" if value is None else value))
    return items


# --- Markdown ------------------------------------------------------------------------------


def to_markdown(review: Review, lang: Lang) -> str:
    lines = [f"# {md_text(str(review.meta['title']))}", ""]
    for key, value in flat_meta(review.meta):
        if key != "title":
            lines.append(f"- {cover_label(key, lang)}: "
                         f"{md_text(str(value)) if value != '' else '-'}")
    for section in review.sections:
        lines += ["", f"## {section.title(lang)}", ""]
        if not section.rows:
            lines.append(words(lang, N_("(none)")))
            continue
        lines.append(pipe_table(section, lang))
    return "\n".join(lines) + "\n"


def md_text(text: str) -> str:
    """A text as Markdown shows it, never as markup: a title holding <script> stays text in
    every viewer that renders the HTML Markdown allows; a | or a newline never splits a row."""
    # < and & are what can open markup or an entity; > alone never does (BD -> S stays).
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|")
    return " ".join(escaped.splitlines()) if "\n" in escaped or "\r" in escaped else escaped


def pipe_table(section: Section, lang: Lang) -> str:
    """A Markdown pipe table, padded to line up in a plain-text editor too."""
    headers = [c.heading(lang) for c in section.columns]
    body = [[md_text(text_cell(c, row.get(c.key), lang)) for c in section.columns]
            for row in section.rows]
    widths = [max(3, len(h), *(len(r[i]) for r in body)) for i, h in enumerate(headers)]
    right = [c.kind in ("int", "rupiah", "pct") for c in section.columns]

    def line(cells: list[str]) -> str:
        padded = (cell.rjust(w) if r else cell.ljust(w)
                  for cell, w, r in zip(cells, widths, right, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if r else (":" + "-" * (w + 1))
                          for w, r in zip(widths, right, strict=True)) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in body)])


# --- XLSX ----------------------------------------------------------------------------------


RUPIAH_FORMAT = '[$Rp-421]#,##0'  # Indonesian locale: Rp12.150.000 where the system allows
DATE_FORMAT = "dd/mm/yyyy"
PCT_FORMAT = "0.00"
SCORE_FORMAT = "0.00"


def to_xlsx(review: Review, lang: Lang) -> bytes:
    """The review as a workbook, through XlsxWriter: rows streamed to the file as written
    (constant_memory), every cell written with its type (text never becomes a formula or a
    number, rupiah, scores and percentages are numbers), and the clock kept out of the bytes
    (created date fixed to the review's date, zip entries restamped)."""
    import xlsxwriter

    raw = io.BytesIO()
    book = xlsxwriter.Workbook(raw, {
        "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False, "tmpdir": tempfile.gettempdir()})
    fixed = datetime(review.as_of.year, review.as_of.month, review.as_of.day)
    book.set_properties({"author": "auditlog", "created": fixed})
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
        widths = [len(c.heading(lang)) for c in section.columns]
        for row in section.rows:
            for i, column in enumerate(section.columns):
                value = row.get(column.key)
                if value is not None and value != "":
                    widths[i] = max(widths[i], len(text_cell(column, value, lang)))
        for i, width in enumerate(widths):
            sheet.set_column(i, i, min(60, max(8, width + 2)))
        sheet.freeze_panes(1, 0)
        if section.rows:
            sheet.autofilter(0, 0, len(section.rows), len(section.columns) - 1)
        for i, column in enumerate(section.columns):
            sheet.write_string(0, i, column.heading(lang), bold)
        for r, row in enumerate(section.rows, start=1):
            for i, column in enumerate(section.columns):
                value = row.get(column.key)
                if value is None or value == "":
                    continue
                kind = column.kind
                if kind == "date" and isinstance(value, date):
                    sheet.write_datetime(r, i, value, formats["date"])
                elif column.decimal:
                    sheet.write_number(r, i, float(value), formats["score"])
                elif isinstance(value, bool) or not isinstance(value, int | float):
                    sheet.write_string(r, i, str(value))
                else:
                    sheet.write_number(r, i, value, formats.get(kind))
    book.close()
    return rezip(raw.getvalue(), {})


def rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """Restamp the zip entries with no clock (ZIP_TIME), whatever the writer put there, so
    the bytes repeat."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {info.filename: replace.get(info.filename) or archive.read(info)
                 for info in archive.infolist()}
    return deterministic_zip(files)


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


def html_table(section: Section, lang: Lang) -> str:
    if not section.rows:
        return f"<p>{html.escape(words(lang, N_('(none)')))}</p>"
    head = "".join(f"<th>{html.escape(c.heading(lang))}</th>" for c in section.columns)
    body = []
    for row in section.rows:
        cells = []
        for c in section.columns:
            numeric = ' class="n"' if c.kind in ("int", "rupiah", "pct") else ""
            cells.append(f"<td{numeric}>{html.escape(text_cell(c, row.get(c.key), lang))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def to_html(review: Review, lang: Lang) -> str:
    title = html.escape(str(review.meta["title"]))
    meta = "".join(f"<dt>{html.escape(cover_label(k, lang))}</dt>"
                   f"<dd>{html.escape(str(v) or '-')}</dd>"
                   for k, v in flat_meta(review.meta) if k != "title")
    grades = next(s for s in review.sections if s.key == "grades")
    summary = next(s for s in review.sections if s.key == "summary")
    charts = []
    for row in summary.rows:
        if row["pemda"] == "TOTAL":
            continue
        svg = grade_chart(row["pemda"], row["name"], grades.rows)
        if svg:
            charts.append(f"<figure>{svg}<figcaption>{html.escape(row['name'])} "
                          f"({html.escape(row['pemda'])})</figcaption></figure>")
    chart_title = words(lang, N_("Grades across years"))
    sections = "".join(f'<section id="{s.key}"><h2>{html.escape(s.title(lang))}</h2>'
                       f"{html_table(s, lang)}</section>" for s in review.sections)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{CSS}</style></head><body>"
        f"<h1>{title}</h1><dl>{meta}</dl>"
        f'<section id="charts"><h2>{chart_title}</h2><div class="charts">{"".join(charts)}'
        f"</div></section>{sections}</body></html>\n"
    )


# --- entry point ---------------------------------------------------------------------------


def write_review(review: Review, target: Path, fmt: ExportFormat, lang: Lang, *,
                 force: bool = False) -> str:
    """Write the review, whole or not at all; returns a short description of what was
    written. An existing file is replaced only with ``force``; a store never."""
    if fmt is ExportFormat.csv:
        csvs = csv_files(review, lang)
        if target.suffix.lower() == ".zip":
            files.write_file(target, deterministic_zip(csvs), force=force)
            # the cover and one per section
            return _("a zip of {n} CSV files").format(n=len(csvs))
        write_folder(target, csvs, force=force)
        return _("a folder of {n} CSV files").format(n=len(csvs))
    producers: dict[ExportFormat, Callable[[], bytes]] = {
        ExportFormat.xlsx: lambda: to_xlsx(review, lang),
        ExportFormat.json: lambda: to_json_bytes(review, lang),
        ExportFormat.md: lambda: to_markdown(review, lang).encode(),
        ExportFormat.html: lambda: to_html(review, lang).encode(),
    }
    files.write_file(target, producers[fmt](), force=force)
    return fmt.value.upper()
