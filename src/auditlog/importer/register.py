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


def checked_text(f: str, value: Cell, what: str | None = None) -> str:
    """The cell's text, held to the rules of typed texts (``what``: how a message names the
    cell; "the cell" in the reader's language unless given)."""
    text = text_of(value)
    limit = TITLE_LIMIT if f == "title" else LONG_TEXT_LIMIT if f in LONG_FIELDS else SHORT_LIMIT
    try:
        check_text(text, what=what or _("the cell"), limit=limit, multiline=f in LONG_FIELDS)
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
    # The row of each recommendation, by its rec_key: a text given twice is a problem.
    rec_rows: dict[str, int] = field(default_factory=dict, repr=False)


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
    """Column by column, then row by row: a register of 50,000 rows is 700,000 cells, and
    most of a column is a few values repeated (a pemda, a status, a date) or a finding's
    texts repeated over its rows, so each distinct value of a column is parsed or checked
    once and the column is mapped through the answers; only what relates the rows (which
    row continues the finding above, what each row adds to it) goes row by row."""
    table = rows if isinstance(rows, list) else list(rows)
    problems: list[str] = []
    header_row = columns.header_row
    names = list(columns.where)  # the sheet's fields, in the order of their columns
    body = [cells for number, cells in table if number > header_row]
    numbers = [number for number, _cells in table if number > header_row]
    # The cells of each field, a blank one (is_blank) as None.
    cols: dict[str, list[Cell]] = {}
    widest = max(i for i, _header in columns.where.values()) + 1
    whole = all(len(cells) >= widest for cells in body)
    for f, (i, _header) in columns.where.items():
        taken = ([cells[i] for cells in body] if whole
                 else [cells[i] if i < len(cells) else None for cells in body])
        cols[f] = [None if isinstance(v, str) and not v.strip() else v for v in taken]
    # Blank rows (trailing ones included) are no rows.
    kept = [k for k, values in enumerate(zip(*cols.values(), strict=True))
            if values.count(None) != len(values)]
    if len(kept) != len(body):
        numbers = [numbers[k] for k in kept]
        cols = {f: [col[k] for k in kept] for f, col in cols.items()}
    count = len(numbers)
    _carry_down(cols, count)
    # Every value parsed (or its Problem), and each row's problems, by field.
    parsed_cols: list[list[Any]] = []
    row_problems: dict[int, list[str]] = {}
    for f, col in cols.items():
        answers, bad = _parse_column(f, col)
        parsed_cols.append(answers)
        if bad:
            header = columns.header(f)
            for k, answer in enumerate(answers):
                if isinstance(answer, Problem):
                    row_problems.setdefault(k, []).append(
                        problem(numbers[k], header, str(answer)))
    for f in ("pemda", "title", "recommendation"):
        required = cols.get(f)
        message = _(_EMPTY[f])
        for k in range(count):
            if required is None or required[k] is None:
                row_problems.setdefault(k, []).append(
                    problem(numbers[k], columns.header(f), message))
    # What two rows of one finding must agree on (received may come from issued); the pemda
    # and title are what made them one finding.
    compared = [f for f in FINDING_FIELDS if (f in columns.where or f == "received")
                and f not in ("pemda", "title")]
    findings: dict[tuple[str, str, str], FindingRows] = {}
    has_status = "status" in cols
    # The progress bar is told of every row read, as it is told while the file is read.
    told = 0
    positions = [k for k, (number, _cells) in enumerate(table) if number > header_row]
    for k, values in enumerate(zip(*parsed_cols, strict=True)):
        if tick is not None:
            done = positions[kept[k]] + 1
            while done - told >= TICK_ROWS:
                tick(TICK_ROWS)
                told += TICK_ROWS
        found = row_problems.get(k)
        if found is not None:
            problems.extend(found)
            continue
        parsed = dict(zip(names, values, strict=True))
        if has_status and parsed["status"] is None:
            parsed["status"] = Status.BD
        _add_row(findings, numbers[k], parsed, columns, today, problems, compared)
    if tick is not None:
        while len(table) - told >= TICK_ROWS:
            tick(TICK_ROWS)
            told += TICK_ROWS
        if len(table) > told:
            tick(len(table) - told)
    found_rows = list(findings.values())
    for finding in found_rows:
        finding.new.recommendations = [r.spec for r in finding.recs]
        try:
            check_new_finding(finding.new)
        except Refusal as refusal:
            problems.append(problem(finding.row, None, str(refusal)))
    return Register(findings=found_rows, rows=count, problems=problems)


def _title_key(title: str) -> str | None:
    return " ".join(title.casefold().split()) if title else None


def _carry_down(cols: dict[str, list[Cell]], count: int) -> None:
    """A row continues the finding above when it is of the same report of the same pemda and
    its title is blank or the same: its blank finding cells take the values above (merged
    cells, or left blank after a finding's first row). A blank title under another LHP
    number is a missing title, not the one above."""
    none: list[Cell] = [None] * count
    pemdas, reports, titles = (cols.get(f, none) for f in ("pemda", "report", "title"))
    continues = [False] * count
    # The row above's pemda, report and title once its own blanks were filled.
    above_pemda: Cell = None
    above_report: Cell = None
    above_title: Cell = None
    above_key: str | None = None
    for k in range(count):
        pemda, report, title = pemdas[k], reports[k], titles[k]
        same_report = True
        for mine, theirs in ((pemda, above_pemda), (report, above_report)):
            if mine is not None and theirs is not None and not (
                    type(mine) is type(theirs) and mine == theirs) \
                    and text_of(mine) != text_of(theirs):
                same_report = False
        text = text_of(title)
        if same_report and (not text or _title_key(text) == above_key):
            continues[k] = True
            if pemda is None:
                pemda = above_pemda
            if report is None:
                report = above_report
            if title is None:
                title = above_title
                text = text_of(title)
        above_pemda, above_report, above_title = pemda, report, title
        above_key = _title_key(text)
    for f in FINDING_FIELDS:
        col = cols.get(f)
        if col is None:
            continue
        above: Cell = None
        for k in range(count):
            value = col[k]
            if value is None and continues[k]:
                col[k] = value = above
            above = value


def _parse_column(f: str, col: list[Cell]) -> tuple[list[Any], bool]:
    """Each value of the column parsed (None for a blank), or its Problem; and whether there
    was any Problem. Each distinct value is parsed once: by the value alone when the column
    holds values of one type, else by type and value (1, 1.0 and True are equal)."""
    parse = PARSERS.get(f)

    def answer(value: Cell) -> Any:
        try:
            return checked_text(f, value, what) if parse is None else parse(value)
        except Problem as bad:
            return bad

    what = _("the cell")
    kinds = set(map(type, col))
    kinds.discard(type(None))
    if len(kinds) <= 1:
        distinct = set(col)
        distinct.discard(None)
        memo: dict[Any, Any] = {value: answer(value) for value in distinct}
        memo[None] = None
        answers = list(map(memo.__getitem__, col))
    else:
        typed: dict[tuple[type, Cell], Any] = {}
        answers = []
        for value in col:
            if value is None:
                answers.append(None)
                continue
            key = (type(value), value)
            found = typed.get(key, typed)
            if found is typed:
                found = typed[key] = answer(value)
            answers.append(found)
        memo = dict(enumerate(typed.values()))
    bad = any(isinstance(a, Problem) for a in memo.values())
    return answers, bad


_EMPTY = {
    "pemda": N_("is empty: give the region code (35.73) or official name (Kota Malang)"),
    "title": N_("is empty and no finding above it: give the finding's title"),
    "recommendation": N_("is empty: every row is one recommendation, give its text"),
}


def _add_row(findings: dict[tuple[str, str, str], FindingRows], number: int,
             parsed: dict[str, Any], columns: Columns, today: date,
             problems: list[str], compared: list[str]) -> None:
    def bad(f: str, message: str) -> None:
        problems.append(problem(number, columns.header(f), message))

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
            if mine is not None and theirs is not None and mine != theirs:
                bad(f, _("{mine} differs from row {row} of the same finding ({theirs}): a "
                         "finding has one {column}").format(
                    mine=shown(mine), row=finding.row, theirs=shown(theirs),
                    column=columns.header(f)))
                return
    text = parsed["recommendation"]
    text_key = rec_key(text)
    other = finding.rec_rows.get(text_key)
    if other is not None:
        bad("recommendation", _("repeats row {row} of the same finding: give one row "
                                "per recommendation").format(row=other))
        return
    followup = None
    if (parsed.get("followup") or parsed.get("followup_on") or parsed.get("deposit")
            or parsed.get("slip")):
        if not parsed.get("followup"):
            bad("followup", _("is empty while the row has a follow-up's date, deposit or "
                              "slip: describe the follow-up"))
            return
        followup = FollowUpRow(action=parsed["followup"], on=parsed.get("followup_on"),
                               deposit=parsed.get("deposit") or 0, slip=parsed.get("slip"))
    finding.rec_rows[text_key] = number
    finding.recs.append(RecRow(
        row=number,
        spec=RecommendationSpec(n=len(finding.recs) + 1, text=text, code=parsed.get("rec_code"),
                                value=parsed.get("rec_value"), due=parsed.get("due")),
        followup=followup, status=parsed.get("status") or Status.BD,
        reviewed_on=parsed.get("reviewed_on"), reason=parsed.get("reason"),
    ))
