"""The annual review: every section auditors hand in at year end, as typed rows.

The writers (xlsx, csv, json, md, html) only lay these rows out; every number is computed here
once, from the one pass over the log at the review's moment (reports/review_fold.py), so the
formats cannot disagree. The long sections make their rows as they are written, so a national
review is never held whole.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, cast

from auditlog import version
from auditlog.domain.commitment import DEFAULT_THEMES
from auditlog.domain.events import (
    DueDateExtended,
    Event,
    FindingCorrected,
    FindingRecorded,
    FindingWithdrawn,
    FollowUpRecorded,
    GradeCorrected,
    GradeRecorded,
    RecommendationReopened,
    RecommendationReviewed,
    Status,
)
from auditlog.domain.grades import DEFAULT_RULE, INSTRUMENTS
from auditlog.domain.inputs import format_rupiah
from auditlog.domain.recommendation import CLOSED
from auditlog.i18n import N_, _, format_date, ngettext, translations
from auditlog.projections.model import ReadModel
from auditlog.projections.summary import STATUSES, Totals, percent, status_report

if TYPE_CHECKING:
    from auditlog.reports.review_fold import ReviewFinding, ReviewLog, ReviewRec

Kind = Literal["text", "int", "rupiah", "date", "pct"]
Lang = Literal["id", "en"]


def words(lang: Lang, message: str, **fields: Any) -> str:
    """A message of the catalog in the review's language, whatever the user's language."""
    text = translations(lang).gettext(message)
    return text.format(**fields) if fields else text


@dataclass(frozen=True)
class Column:
    """A column: its key (stable: JSON and CSV) and its heading, a message of the catalog
    (with `fields` filled in after translation)."""

    key: str
    text: str
    kind: Kind = "text"
    # Decimal text (a grade score, "80.01"): text wherever exact digits matter, a number in a
    # spreadsheet so that it sorts and sums.
    decimal: bool = False
    fields: tuple[tuple[str, Any], ...] = ()

    def heading(self, lang: Lang) -> str:
        return words(lang, self.text, **dict(self.fields))


Row = dict[str, Any]


@dataclass
class Section:
    """A section's rows are either held (``rows``) or made on demand by ``lazy``, as often as
    a writer reads them: a national review's long sections (register, aging, activity) are
    never held whole, only written as they are made."""

    key: str
    text: str
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    lazy: Callable[[], Iterator[Row]] | None = None

    def title(self, lang: Lang) -> str:
        return words(lang, self.text)

    def each(self) -> Iterator[Row]:
        """The rows in order, made afresh on each call when the section makes them."""
        return self.lazy() if self.lazy is not None else iter(self.rows)


@dataclass
class Review:
    year: int
    as_of: date
    known_at: datetime | None
    meta: dict[str, Any]
    sections: list[Section]


STATUS_COLUMNS = [Column(s.value, s.value, "int") for s in STATUSES]
STATUS_VALUE_COLUMNS = [Column(f"value_{s.value}", N_("Rp {status}"), "rupiah",
                               fields=(("status", s.value),)) for s in STATUSES]
COMPLETION_COLUMNS = [
    Column("total", N_("Recommendations"), "int"),
    Column("completion_pct", N_("% S (count)"), "pct"),
    Column("value_to_recover", N_("To recover"), "rupiah"),
    Column("deposited", N_("Deposited"), "rupiah"),
    Column("completion_value_pct", N_("% deposited (value)"), "pct"),
]
BUCKETS = ("0-30", "31-45", "46-60", "61-365", ">365")


def bucket(days: int) -> str:
    """Days since the report was received: the escalation points at 30, 45 and 60 days."""
    if days <= 30:
        return "0-30"
    if days <= 45:
        return "31-45"
    if days <= 60:
        return "46-60"
    if days <= 365:
        return "61-365"
    return ">365"


OVERDUE = Column("overdue", N_("Overdue"), "int")
MATRIX_COLUMNS = [*STATUS_COLUMNS, *STATUS_VALUE_COLUMNS, *COMPLETION_COLUMNS, OVERDUE]
TOTAL = "TOTAL"


def _matrix(key: str, text: str, lead: list[Column],
            groups: list[tuple[tuple[Any, ...], list[int]]]) -> Section:
    keys = [c.key for c in lead]
    grand = [0] * _TALLY_WIDTH
    for _keys, sums in groups:
        for i, value in enumerate(sums):
            grand[i] += value

    def rows() -> Iterator[Row]:
        for values, sums in groups:
            yield {**dict(zip(keys, values, strict=True)), **_flat(sums)}
        total_keys = [TOTAL] + [""] * (len(lead) - 1)
        yield {**dict(zip(keys, total_keys, strict=True)), **_flat(grand)}

    return Section(key, text, [*lead, *MATRIX_COLUMNS], lazy=rows)


def _grade_rank(instrument: str, grade: str) -> int:
    rule = INSTRUMENTS[instrument][DEFAULT_RULE[instrument]]
    # SAKIP/RB list their best grade first; SPIP levels and BPK opinions too.
    grades = rule.grades if instrument != "SPIP" else tuple(reversed(rule.grades))
    return grades.index(grade) if grade in grades else len(grades)


CHANGE_WORDS = {"up": N_("up"), "down": N_("down"), "same": N_("same"), "new": N_("new")}


def change(instrument: str, previous: str | None, current: str | None,
           lang: Lang = "en") -> str:
    if current is None:
        return ""
    if previous is None:
        return words(lang, CHANGE_WORDS["new"])
    before, now = _grade_rank(instrument, previous), _grade_rank(instrument, current)
    way = "up" if now < before else "down" if now > before else "same"
    return words(lang, CHANGE_WORDS[way])


def build_review(log: "ReviewLog", year: int,
                 describe: Callable[[Event, dict[Any, str]], tuple[str, str, str]],
                 lang: Lang = "id", themes: dict[str, str] | None = None) -> Review:
    """Every section of the annual review for `year`, from one pass over the log (see
    reports/review_fold.py) at the review's moment.

    The long sections (matrices by report, aging, register, financial card by finding,
    activity) make their rows as they are written; what is kept is what the fold kept.
    """
    # Here, not at the top: the commitments' sections are built from this module's Section.
    from auditlog.reports.review_commitments import commitment_sections

    moment = log.moment
    assert moment.as_of is not None
    on = moment.as_of
    pemdas = {p.code: p for p in log.pemda_list()}
    # Active in the year: received in it, open at its start or at the as-of date, or touched by
    # anything effective in it (a recommendation closed before the year and reopened in it).
    start = date(year - 1, 12, 31)
    active = sorted((f for f in log.shown()
                     if f.received.year == year or f.touched or not f.is_closed
                     or f.open_at_start(start)), key=lambda f: f.sort_key)

    sections = [
        _summary(log, on, year, lang),
        *_matrices(active, on),
        _aging(active, on),
        *_financial(active),
        _grades(log, lang),
        *commitment_sections(log.commitments(), on, year,
                             {code: p.name for code, p in pemdas.items()},
                             themes or DEFAULT_THEMES, lang),
        _register(active, on, on == date(year, 12, 31)),
        *_activity(log, lang, describe),
    ]
    meta = {
        "title": words(lang, N_("Annual review {year}"), year=year),
        "year": year,
        "as_of": on.isoformat(),
        "known_at": None if moment.known_at is None else moment.known_at.isoformat(),
        "auditlog_version": version(),
        "checkpoint": {"store_id": log.store_id, "size": log.size, "root": log.root},
        "findings": len(active),
        "pemda": len(pemdas),
    }
    return Review(year, on, moment.known_at, meta, sections)


def _awarded_in(series: Any, year: int) -> Any:
    """The grade a pemda received in a calendar year (by its award date), if any."""
    awarded = [e for e in series.years.values() if e.effective_on.year == year]
    return max(awarded, key=lambda e: (e.effective_on, e.year)) if awarded else None


def _grade_text(entry: Any) -> str:
    return f"{entry.grade} ({entry.year})" if entry else ""


STATUS_VALUE_KEYS = {c.key for c in STATUS_VALUE_COLUMNS}


def _summary(model: "ReviewLog", on: date, year: int, lang: Lang) -> Section:
    """Grades are placed in the year they were awarded (their effective date): the SAKIP of
    assessment year 2022 announced in June 2023 is the grade Malang received in 2023."""
    # status_report reads pemda_list, summary_rows (Summarized), grade_series and
    # commitments, which the review's fold answers as the projection does.
    report = status_report(cast(ReadModel, model), on)
    series = {(s.pemda, s.instrument): s for s in model.grade_series()}
    instruments = [i for i in INSTRUMENTS if any(k[1] == i for k in series)]
    columns = [Column("pemda", N_("Pemda code")), Column("name", N_("Pemda"))]
    for i in instruments:
        columns += [Column(f"{i}_grade", N_("{instrument} received {year}"), "text",
                           fields=(("instrument", i), ("year", year))),
                    Column(f"{i}_previous", N_("{instrument} received {year}"), "text",
                           fields=(("instrument", i), ("year", year - 1))),
                    Column(f"{i}_change", N_("{instrument} change"), "text",
                           fields=(("instrument", i),))]
    columns += [*STATUS_COLUMNS, *COMPLETION_COLUMNS, OVERDUE]
    section = Section("summary", N_("Compliance summary"), columns)
    grand = Totals()
    for row in report:
        out: dict[str, Any] = {"pemda": row["pemda"], "name": row["name"]}
        for i in instruments:
            s = series.get((row["pemda"], i))
            now = _awarded_in(s, year) if s else None
            before = _awarded_in(s, year - 1) if s else None
            out[f"{i}_grade"] = _grade_text(now)
            out[f"{i}_previous"] = _grade_text(before)
            out[f"{i}_change"] = change(i, before.grade if before else None,
                                        now.grade if now else None, lang)
        tally = Totals.from_json(row)
        grand.merge(tally)
        out.update({k: v for k, v in tally.flat().items() if k not in STATUS_VALUE_KEYS})
        section.rows.append(out)
    total: dict[str, Any] = {"pemda": TOTAL, "name": ""}
    total.update({f"{i}_{k}": "" for i in instruments for k in ("grade", "previous", "change")})
    total.update({k: v for k, v in grand.flat().items() if k not in STATUS_VALUE_KEYS})
    section.rows.append(total)
    return section


def _rec_facts(finding: "ReviewFinding", on: date
               ) -> Iterable[tuple["ReviewRec", int, int, bool, int]]:
    """(recommendation, value, deposited, overdue, days overdue) of each recommendation."""
    received = finding.received
    for rec in finding.recommendations:
        due = rec.due(received)
        late = rec.status not in CLOSED and due < on
        yield rec, rec.value or 0, rec.deposited, late, (on - due).days if late else 0


# A matrix row's totals as they are added up: one list of ints per row, counts and rupiah per
# status, then deposited and overdue (a Totals, with its two dicts, is made only when the row
# is written; a national review has tens of thousands of reports).
_STATUS_INDEX = {s: i for i, s in enumerate(STATUSES)}
_TALLY_WIDTH = 2 * len(STATUSES) + 2


_FLAT_KEYS = [*(s.value for s in STATUSES), *(f"value_{s.value}" for s in STATUSES)]
_S = STATUSES.index(Status.S)


def _flat(sums: list[int]) -> Row:
    """What Totals.flat() gives for these sums, straight from the list (a matrix by report
    has a row per report: a Totals and its two dicts each cost more than the row itself)."""
    n = len(STATUSES)
    row: Row = dict(zip(_FLAT_KEYS, sums[:2 * n], strict=True))
    total, to_recover, deposited = sum(sums[:n]), sum(sums[n:2 * n]), sums[-2]
    row["total"] = total
    row["completion_pct"] = percent(sums[_S], total)
    row["value_to_recover"] = to_recover
    row["deposited"] = deposited
    row["completion_value_pct"] = percent(deposited, to_recover)
    row["overdue"] = sums[-1]
    return row


def _matrices(active: list["ReviewFinding"], on: date) -> list[Section]:
    width, index, n = _TALLY_WIDTH, _STATUS_INDEX, len(STATUSES)
    by_pemda: dict[tuple[Any, ...], list[int]] = {}
    by_opd: dict[tuple[Any, ...], list[int]] = {}
    by_report: dict[tuple[Any, ...], list[int]] = {}
    for f in active:
        tallies = [table.get(key) or table.setdefault(key, [0] * width)
                   for table, key in ((by_pemda, (f.pemda,)), (by_opd, (f.pemda, f.opd or "")),
                                      (by_report, (f.pemda, f.report or "", f.received)))]
        for rec, value, deposited, late, _days in _rec_facts(f, on):
            i = index[rec.status]
            for sums in tallies:
                sums[i] += 1
                sums[n + i] += value
                sums[-2] += deposited
                sums[-1] += late
    pemda_col = Column("pemda", N_("Pemda"))
    return [
        _matrix("matrix_pemda", N_("Follow-up matrix by pemda"), [pemda_col],
                sorted(by_pemda.items())),
        _matrix("matrix_opd", N_("Follow-up matrix by OPD"),
                [pemda_col, Column("opd", N_("OPD"))], sorted(by_opd.items())),
        _matrix("matrix_report", N_("Follow-up matrix by report"),
                [pemda_col, Column("report", N_("Report")),
                 Column("received", N_("Received"), "date")],
                sorted(by_report.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1]))),
    ]


AGING_COLUMNS = [
    Column("pemda", N_("Pemda")), Column("opd", N_("OPD")),
    Column("ref", N_("Recommendation")), Column("status", N_("Status")),
    Column("received", N_("Received"), "date"),
    Column("due", N_("Due"), "date"),
    Column("age_days", N_("Days since received"), "int"),
    Column("bucket", N_("Bucket")),
    Column("days_overdue", N_("Days overdue"), "int"),
    Column("value", N_("To recover"), "rupiah"),
    Column("deposited", N_("Deposited"), "rupiah"),
    Column("text", N_("Recommendation text")),
]


def _aging(active: list["ReviewFinding"], on: date) -> Section:
    """Open recommendations, the OPDs with the most days overdue first: the order needs them
    all, so what is kept until written is (sort key, finding, recommendation) each."""
    opd_days: dict[tuple[str, str], int] = defaultdict(int)
    found: list[tuple[ReviewFinding, ReviewRec, int]] = []
    for f in active:
        for rec, _value, _deposited, _late, days_late in _rec_facts(f, on):
            if rec.status in CLOSED:
                continue
            opd_days[(f.pemda, f.opd or "")] += days_late
            found.append((f, rec, days_late))
    found.sort(key=lambda item: (-opd_days[(item[0].pemda, item[0].opd or "")], item[0].pemda,
                                 item[0].opd or "", -item[2], f"{item[0].ref}.{item[1].n}"))

    def rows() -> Iterator[Row]:
        for f, rec, days_late in found:
            age = (on - f.received).days
            yield {
                "pemda": f.pemda, "opd": f.opd or "", "ref": f"{f.ref}.{rec.n}",
                "status": rec.status.value, "received": f.received,
                "due": rec.due(f.received), "age_days": age, "bucket": bucket(age),
                "days_overdue": days_late, "value": rec.value or 0, "deposited": rec.deposited,
                "text": rec.text,
            }

    return Section("aging", N_("Aging of open recommendations"), AGING_COLUMNS, lazy=rows)


FINANCE_COLUMNS = [
    Column("value_to_recover", N_("To recover"), "rupiah"),
    Column("deposited", N_("Deposited"), "rupiah"),
    Column("balance", N_("Balance"), "rupiah"),
]


def _financial(active: list["ReviewFinding"]) -> list[Section]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in active:
        to_recover = sum(r.value or 0 for r in f.recommendations)
        deposited = sum(r.deposited for r in f.recommendations)
        if to_recover == 0 and deposited == 0:
            continue
        totals[f.pemda][0] += to_recover
        totals[f.pemda][1] += deposited

    def per_finding_rows() -> Iterator[Row]:
        for f in active:
            to_recover = sum(r.value or 0 for r in f.recommendations)
            deposited = sum(r.deposited for r in f.recommendations)
            if to_recover == 0 and deposited == 0:
                continue
            yield {"pemda": f.pemda, "ref": f.ref, "title": f.title,
                   "value_to_recover": to_recover, "deposited": deposited,
                   "balance": to_recover - deposited}

    per_finding = Section("financial_finding", N_("Financial card by finding"),
                          [Column("pemda", N_("Pemda")), Column("ref", N_("Finding")),
                           Column("title", N_("Title")), *FINANCE_COLUMNS],
                          lazy=per_finding_rows)
    per_pemda = Section("financial_pemda", N_("Financial card by pemda"),
                        [Column("pemda", N_("Pemda")), *FINANCE_COLUMNS])
    grand = [0, 0]
    for code in sorted(totals):
        to_recover, deposited = totals[code]
        grand[0] += to_recover
        grand[1] += deposited
        per_pemda.rows.append({"pemda": code, "value_to_recover": to_recover,
                               "deposited": deposited, "balance": to_recover - deposited})
    per_pemda.rows.append({"pemda": TOTAL, "value_to_recover": grand[0], "deposited": grand[1],
                           "balance": grand[0] - grand[1]})
    return [per_pemda, per_finding]


def _grades(model: "ReviewLog", lang: Lang) -> Section:
    section = Section("grades", N_("Grade history"), [
        Column("pemda", N_("Pemda")), Column("instrument", N_("Instrument")),
        Column("year", N_("Year"), "int"), Column("grade", N_("Grade")),
        Column("score", N_("Score"), decimal=True), Column("rule", N_("Rule")),
        Column("change", N_("Change")),
        Column("because", N_("Produced by")),
        Column("corrected", N_("Corrected")),
    ])
    for series in model.grade_series():
        previous: str | None = None
        for year in sorted(series.years):
            entry = series.years[year]
            section.rows.append({
                "pemda": series.pemda, "instrument": series.instrument, "year": year,
                "grade": entry.grade, "score": "" if entry.score is None else str(entry.score),
                "rule": entry.rule,
                "change": change(series.instrument, previous, entry.grade, lang),
                "because": " ".join(entry.because),
                "corrected": words(lang, N_("yes")) if entry.corrected else "",
            })
            previous = entry.grade
    return section


def _register(active: list["ReviewFinding"], on: date, year_end: bool) -> Section:
    def rows() -> Iterator[Row]:
        for f in active:
            received = f.received
            common = {"pemda": f.pemda, "opd": f.opd or "", "report": f.report or "",
                      "received": received,
                      "instrument": f"{f.instrument or ''} {f.year or ''}".strip(),
                      "code": f.code or "", "title": f.title}
            for rec in f.recommendations:
                yield {
                    "ref": f"{f.ref}.{rec.n}", **common, "recommendation": rec.text,
                    "status": rec.status.value, "due": rec.due(received),
                    "value": rec.value or 0, "deposited": rec.deposited,
                }

    return Section("register", N_("Findings register"), [
        Column("ref", N_("Recommendation")), Column("pemda", N_("Pemda")),
        Column("opd", N_("OPD")), Column("report", N_("Report")),
        Column("received", N_("Received"), "date"),
        Column("instrument", N_("Instrument")), Column("code", N_("Code")),
        Column("title", N_("Finding")), Column("recommendation", N_("Recommendation text")),
        Column("status", N_("Status at year end"), "text") if year_end else
        Column("status", N_("Status on {on}"), "text", fields=(("on", on),)),
        Column("due", N_("Due"), "date"),
        Column("value", N_("To recover"), "rupiah"),
        Column("deposited", N_("Deposited"), "rupiah"),
    ], lazy=rows)


ACTIVITY_KINDS: list[tuple[type[Event], str]] = [
    (FindingRecorded, N_("findings recorded")),
    (FollowUpRecorded, N_("follow-ups received")),
    (RecommendationReviewed, N_("reviews made")),
    (RecommendationReopened, N_("reopenings")),
    (DueDateExtended, N_("extensions")),
    (FindingCorrected, N_("corrections")),
    (FindingWithdrawn, N_("withdrawals")),
    (GradeRecorded, N_("grades recorded")),
    (GradeCorrected, N_("grade corrections")),
]


def _activity(log: "ReviewLog", lang: Lang,
              describe: Callable[[Event, dict[Any, str]], tuple[str, str, str]]
              ) -> list[Section]:
    # Here, not at the top: views is the CLI's reading side, which most reviews' callers load
    # anyway (they pass its event_detail).
    from auditlog.reports.views import event_detail

    # event_detail's words straight from the stored fields (see _DESCRIBED), when it is the
    # describer: a national year's activity is some 160k events, each an event object first.
    fast = _DESCRIBED if describe is event_detail else {}

    def rows() -> Iterator[Row]:
        ids: dict[bytes, Any] = {}
        for stored, state, ref in log.activity_states():
            position, topic = stored[0], stored[3]
            described = fast.get(topic)
            if described is not None and state is not None:
                row = _row_of_state(position, topic, state, ref, described)
                if row is not None:
                    yield row
                    continue
            event = log.decode(stored, ids)
            name, subject, text = describe(event, {event.originator_id: ref} if ref else {})
            yield {
                "position": position, "effective_on": event.effective_on, "event": name,
                "subject": subject, "detail": text, "actor": event.actor,
                "recorded_at": event.recorded_at.isoformat(timespec="seconds").replace(
                    "+00:00", "Z"),
            }

    listing = Section("activity", N_("Activity of the year"), [
        Column("position", N_("#"), "int"), Column("effective_on", N_("Date"), "date"),
        Column("event", N_("Event")), Column("subject", N_("On")),
        Column("detail", N_("What and why")), Column("actor", N_("By")),
        Column("recorded_at", N_("Recorded (UTC)")),
    ], lazy=rows)
    summary = Section("activity_counts", N_("Activity counts"), [
        Column("activity", N_("Activity")), Column("count", N_("Count"), "int")])
    for cls, text in ACTIVITY_KINDS:
        summary.rows.append({"activity": words(lang, text), "count": log.counts[cls.topic]})
    return [summary, listing]


# --- the activity's words from the stored fields ---------------------------------------------
# What views.event_detail says of an event, read from its stored state (upcast) instead of an
# event object: tests/test_review_rows.py checks on random logs, in both languages, that the
# rows are the same. A state these cannot read as a valid event (a field missing or unknown, a
# status that is none) is left to the event's own decoding, which says how it is damaged.

Describer = Callable[[dict[str, Any], str], str]


def _followup_detail(s: dict[str, Any], subject: str) -> str:
    detail: str = s["action"]
    deposit = s.get("deposit", 0)
    if deposit:
        detail += "; " + _("deposit {amount}").format(amount=format_rupiah(deposit))
        slip = s.get("slip")
        if slip:
            detail += " " + _("(slip {slip})").format(slip=slip)
    evidence = s.get("evidence")
    if evidence:
        detail += "; " + _("evidence {files}").format(files=", ".join(
            f"{e['name']} sha256:{e['sha256'][:12]}" for e in evidence))
    return detail


def _reviewed_detail(s: dict[str, Any], subject: str) -> str:
    previous, status = s["previous"], s["status"]
    if previous not in _STATUS_VALUES or status not in _STATUS_VALUES:
        raise ValueError(f"not a status: {previous!r} or {status!r}")
    return f"{previous} -> {status}: {s['reason']}"


def _reopened_detail(s: dict[str, Any], subject: str) -> str:
    previous = s["previous"]
    if previous not in _STATUS_VALUES:
        raise ValueError(f"not a status: {previous!r}")
    return f"{previous} -> BS: {s['reason']}"


def _extended_detail(s: dict[str, Any], subject: str) -> str:
    return _("due {previous} -> {due}: {reason}").format(
        previous=format_date(date.fromisoformat(s["previous"])),
        due=format_date(date.fromisoformat(s["due"])), reason=s["reason"])


def _recorded_detail(s: dict[str, Any], subject: str) -> str:
    count = len(s["recommendations"])
    return ngettext(
        "{pemda}: {title} ({count} recommendation, received {received})",
        "{pemda}: {title} ({count} recommendations, received {received})", count).format(
        pemda=s["pemda"], title=s["title"], count=count,
        received=format_date(date.fromisoformat(s["received"])))


def _corrected_detail(s: dict[str, Any], subject: str) -> str:
    return f"{s['field']}: {s.get('previous')!r} -> {s.get('value')!r}: {s['reason']}"


def _withdrawn_detail(s: dict[str, Any], subject: str) -> str:
    reason: str = s["reason"]
    return reason


_STATUS_VALUES = frozenset(s.value for s in STATUSES)
_DESCRIBERS: dict[type[Event], Describer] = {
    FindingRecorded: _recorded_detail, FollowUpRecorded: _followup_detail,
    RecommendationReviewed: _reviewed_detail, RecommendationReopened: _reopened_detail,
    DueDateExtended: _extended_detail, FindingCorrected: _corrected_detail,
    FindingWithdrawn: _withdrawn_detail,
}
# Per stored topic: the event's name, the fields its state may hold, its describer.
_DESCRIBED: dict[bytes, tuple[str, frozenset[str], Describer]] = {
    cls.topic.encode(): (cls.topic.removeprefix("auditlog."),
                         frozenset(cls.model_fields) - {"originator_id", "originator_version"},
                         describer)
    for cls, describer in _DESCRIBERS.items()}


def _row_of_state(position: int, topic: bytes, s: dict[str, Any], ref: str,
                  described: tuple[str, frozenset[str], Describer]) -> Row | None:
    """The activity's row of one stored event, as event_detail words it; None: decode it."""
    name, fields, detail_of = described
    if not s.keys() <= fields:
        return None
    try:
        if topic == _RECORDED_TOPIC:
            subject: str = s["ref"]
        else:
            subject = ref
            rec = s.get("recommendation")
            if rec is not None and subject:
                subject = f"{subject}.{rec}"
        detail = detail_of(s, subject)
        source = s.get("source")
        if source is not None:
            detail += f" [{source['file']} row {source['row']}]"
        return {
            "position": position, "effective_on": date.fromisoformat(s["effective_on"]),
            "event": name, "subject": subject, "detail": detail, "actor": s["actor"],
            "recorded_at": datetime.fromisoformat(s["recorded_at"]).isoformat(
                timespec="seconds").replace("+00:00", "Z"),
        }
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None


_RECORDED_TOPIC = FindingRecorded.topic.encode()
