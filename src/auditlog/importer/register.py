"""From numbered rows to findings: one row per recommendation; a finding whose cells are merged
over its rows, repeated on each, or left blank after its first row is one finding.

Every value is parsed here, before the store is opened; each failure is one problem line
(row, column, value, what would be right), and all of them are collected, not just the first.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from auditlog.commands import NewFinding, check_new_finding
from auditlog.domain.events import RecommendationSpec, Status
from auditlog.domain.grades import instrument_name
from auditlog.domain.inputs import (
    LONG_TEXT_LIMIT,
    SHORT_LIMIT,
    TITLE_LIMIT,
    check_text,
    normalise_finding_code,
    normalise_recommendation_code,
    parse_year,
)
from auditlog.errors import Refusal
from auditlog.i18n import N_, _
from auditlog.importer.columns import Columns
from auditlog.importer.read import Row
from auditlog.importer.values import (
    Cell,
    Problem,
    parse_date_cell,
    parse_rupiah_cell,
    parse_status_cell,
    resolve_region_cell,
    shown,
    text_of,
)

# The cells that belong to the finding, not to one recommendation: carried down over the
# rows of a finding where they are blank (merged or left empty after the first row).
FINDING_FIELDS = ("pemda", "opd", "report", "issued", "received", "title", "condition",
                  "criteria", "cause", "effect", "code", "value", "instrument", "year")
REC_FIELDS = ("recommendation", "rec_code", "rec_value", "due", "followup", "followup_on",
              "deposit", "slip", "status", "reviewed_on", "reason")


def _from_refusal(parse: Callable[[str], Any]) -> Callable[[Cell], Any]:
    """A domain parser (raising Refusal) as a cell parser (raising Problem)."""

    def parse_cell(value: Cell) -> Any:
        try:
            return parse(text_of(value))
        except Refusal as refusal:
            raise Problem(str(refusal)) from None

    return parse_cell


PARSERS: dict[str, Callable[[Cell], Any]] = {
    "pemda": resolve_region_cell,
    "issued": parse_date_cell,
    "received": parse_date_cell,
    "code": _from_refusal(normalise_finding_code),
    "value": parse_rupiah_cell,
    "instrument": _from_refusal(instrument_name),
    "year": _from_refusal(parse_year),
    "rec_code": _from_refusal(normalise_recommendation_code),
    "rec_value": parse_rupiah_cell,
    "due": parse_date_cell,
    "followup_on": parse_date_cell,
    "deposit": parse_rupiah_cell,
    "status": parse_status_cell,
    "reviewed_on": parse_date_cell,
}


# The texts of a register are held to the same rules as typed ones (README, 'Limits'): a
# control character or an over-long cell would otherwise enter the log for ever.
LONG_FIELDS = frozenset({"condition", "criteria", "cause", "effect", "recommendation",
                         "followup", "reason"})


def checked_text(f: str, value: Cell) -> str:
    text = text_of(value)
    limit = TITLE_LIMIT if f == "title" else LONG_TEXT_LIMIT if f in LONG_FIELDS else SHORT_LIMIT
    try:
        check_text(text, what=_("the cell"), limit=limit, multiline=f in LONG_FIELDS)
    except Refusal as refusal:
        raise Problem(str(refusal)) from None
    return text


@dataclass
class FollowUpRow:
    action: str
    on: date | None
    deposit: int
    slip: str | None


@dataclass
class RecRow:
    row: int
    spec: RecommendationSpec
    followup: FollowUpRow | None
    status: Status
    reviewed_on: date | None
    reason: str | None


@dataclass
class FindingRows:
    row: int
    new: NewFinding
    key: tuple[str, str, str]  # finding_key of new, as the rows were grouped by it
    recs: list[RecRow] = field(default_factory=list)


# The progress bar is told every so many rows (each telling costs more than a row).
TICK_ROWS = 500


def finding_key(pemda: str, report: str | None, title: str) -> tuple[str, str, str]:
    """As the store identifies a finding: pemda, report number and title, however typed."""
    return pemda, (report or "").strip().casefold(), " ".join(title.casefold().split())


def rec_key(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass
class Register:
    findings: list[FindingRows]
    rows: int  # data rows read (not counting blank ones)
    problems: list[str]


def problem(row: int, column: str | None, message: str) -> str:
    if column:
        return _('row {row}, column "{column}": {message}').format(
            row=row, column=column, message=message)
    return _("row {row}: {message}").format(row=row, message=message)


def parse_register(rows: Iterable[Row], columns: Columns, today: date,
                   tick: Callable[[int], None] | None = None) -> Register:
    problems: list[str] = []
    findings: dict[tuple[str, str, str], FindingRows] = {}
    previous: dict[str, Cell] = {}
    previous_title: str | None = None
    count = 0
    # Registers repeat their values (the pemda, dates, statuses on every row): each distinct
    # value of a column is parsed once.
    seen: dict[tuple[str, type, Cell], Any] = {}
    # A finding's texts repeat on its rows (merged or typed again): the last value of each
    # text column is checked once, whatever it gave.
    last_text: dict[str, tuple[Cell, str | Problem]] = {}
    fields = [(f, i, PARSERS.get(f)) for f, (i, _) in columns.where.items()]
    carried = [f for f in FINDING_FIELDS if f in columns.where]  # the sheet's finding cells
    # What two rows of one finding must agree on (received may come from issued).
    compared = [f for f in FINDING_FIELDS if f in columns.where or f == "received"]
    header_row = columns.header_row
    untold = 0  # rows read since the progress bar was last told
    for number, cells in rows:
        if tick is not None:
            untold += 1
            if untold == TICK_ROWS:
                tick(untold)
                untold = 0
        if number <= header_row:
            continue
        # The row's cells by field, a blank one (is_blank) as None.
        width = len(cells)
        raw: dict[str, Cell] = {}
        filled = False
        for f, i, _header in fields:
            value = cells[i] if i < width else None
            if isinstance(value, str) and not value.strip():
                value = None
            elif value is not None:
                filled = True
            raw[f] = value
        if not filled:
            continue  # blank rows, trailing ones included
        count += 1
        title = text_of(raw.get("title"))
        # A row continues the finding above only within the same report of the same pemda: a
        # blank title under another LHP number is a missing title, not the one above.
        same_report = True
        for f in ("pemda", "report"):
            mine, theirs = raw.get(f), previous.get(f)
            if mine is not None and theirs is not None and not (
                    type(mine) is type(theirs) and mine == theirs) \
                    and text_of(mine) != text_of(theirs):
                same_report = False
        if same_report and (not title or " ".join(title.casefold().split()) == previous_title):
            for f in carried:  # this row continues the finding above
                if raw[f] is None and previous.get(f) is not None:
                    raw[f] = previous[f]
            title = text_of(raw.get("title"))
        previous = {f: raw[f] for f in carried}
        previous_title = " ".join(title.casefold().split()) if title else None
        row_problems: list[str] = []
        parsed: dict[str, Any] = {}
        for f, _index, parse in fields:
            value = raw[f]
            if value is None:
                parsed[f] = None
                continue
            if parse is None:
                memo = last_text.get(f)
                if memo is not None and type(memo[0]) is type(value) and memo[0] == value:
                    result = memo[1]
                else:
                    try:
                        result = checked_text(f, value)
                    except Problem as bad:
                        result = bad
                    last_text[f] = (value, result)
            else:
                result = seen.get((f, type(value), value), seen)
                if result is seen:
                    try:
                        result = parse(value)
                    except Problem as bad:
                        result = bad
                    seen[(f, type(value), value)] = result
            if isinstance(result, Problem):
                row_problems.append(problem(number, columns.header(f), str(result)))
            else:
                parsed[f] = result
        if "status" in raw and parsed.get("status") is None:
            parsed["status"] = Status.BD
        for f in ("pemda", "title", "recommendation"):
            if raw.get(f) is None:
                row_problems.append(problem(number, columns.header(f), _(_EMPTY[f])))
        if row_problems:
            problems.extend(row_problems)
            continue
        _add_row(findings, number, parsed, columns, today, problems, compared)
    if tick is not None and untold:
        tick(untold)
    found = list(findings.values())
    for finding in found:
        finding.new.recommendations = [r.spec for r in finding.recs]
        try:
            check_new_finding(finding.new)
        except Refusal as refusal:
            problems.append(problem(finding.row, None, str(refusal)))
    return Register(findings=found, rows=count, problems=problems)


_EMPTY = {
    "pemda": N_("is empty: give the region code (35.73) or official name (Kota Malang)"),
    "title": N_("is empty and no finding above it: give the finding's title"),
    "recommendation": N_("is empty: every row is one recommendation, give its text"),
}


def _add_row(findings: dict[tuple[str, str, str], FindingRows], number: int,
             parsed: dict[str, Any], columns: Columns, today: date,
             problems: list[str], compared: list[str]) -> None:
    def bad(f: str | None, message: str) -> None:
        problems.append(problem(number, columns.header(f) if f else None, message))

    for f in ("issued", "received", "followup_on", "reviewed_on"):
        day = parsed.get(f)
        if day is not None and day > today:
            bad(f, _("{day} is in the future (today is {today}): import it once it has "
                     "happened").format(day=day, today=today))
            return
    received = parsed.get("received") or parsed.get("issued")
    if received is None:
        bad("received", _('is empty and so is "{issued}": give the date the report was '
                          "received (26/7/2023 or 2023-07-26)").format(
            issued=columns.header("issued")))
        return
    key = finding_key(parsed["pemda"], parsed.get("report"), parsed["title"])
    finding = findings.get(key)
    if finding is None:
        finding = FindingRows(row=number, key=key, new=NewFinding(
            pemda=parsed["pemda"], title=parsed["title"], received=received,
            recommendations=[], opd=parsed.get("opd"), report=parsed.get("report"),
            issued=parsed.get("issued"), instrument=parsed.get("instrument"),
            year=parsed.get("year"), condition=parsed.get("condition"),
            criteria=parsed.get("criteria"), cause=parsed.get("cause"),
            effect=parsed.get("effect"), code=parsed.get("code"), value=parsed.get("value"),
        ))
        findings[key] = finding
    else:
        for f in compared:  # a field without a column is None on every row
            mine = received if f == "received" else parsed.get(f)
            theirs = getattr(finding.new, f)
            if mine is not None and theirs is not None and f not in ("pemda", "title") \
                    and mine != theirs:
                bad(f, _("{mine} differs from row {row} of the same finding ({theirs}): a "
                         "finding has one {column}").format(
                    mine=shown(mine), row=finding.row, theirs=shown(theirs),
                    column=columns.header(f)))
                return
    text = parsed["recommendation"]
    for other in finding.recs:
        if rec_key(other.spec.text) == rec_key(text):
            bad("recommendation", _("repeats row {row} of the same finding: give one row "
                                    "per recommendation").format(row=other.row))
            return
    followup = None
    if any(parsed.get(f) for f in ("followup", "followup_on", "deposit", "slip")):
        if not parsed.get("followup"):
            bad("followup", _("is empty while the row has a follow-up's date, deposit or "
                              "slip: describe the follow-up"))
            return
        followup = FollowUpRow(action=parsed["followup"], on=parsed.get("followup_on"),
                               deposit=parsed.get("deposit") or 0, slip=parsed.get("slip"))
    finding.recs.append(RecRow(
        row=number,
        spec=RecommendationSpec(n=len(finding.recs) + 1, text=text, code=parsed.get("rec_code"),
                                value=parsed.get("rec_value"), due=parsed.get("due")),
        followup=followup, status=parsed.get("status") or Status.BD,
        reviewed_on=parsed.get("reviewed_on"), reason=parsed.get("reason"),
    ))
