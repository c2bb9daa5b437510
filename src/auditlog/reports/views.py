"""What the reading commands print: status, the finding register and card, grades, history.

Everything here depends only on the events read, the two times and the code version (no clock,
no locale), so the same question always prints the same bytes.
"""

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson

from auditlog.domain.aggregate import project
from auditlog.domain.events import (
    CheckpointRecorded,
    CommitmentProgressRecorded,
    CommitmentRecorded,
    CommitmentReferenceAllocated,
    CommitmentReopened,
    CommitmentReviewed,
    CommitmentThemeAdded,
    DueDateExtended,
    Event,
    FindingCorrected,
    FindingKeyClaimed,
    FindingRecorded,
    FindingWithdrawn,
    FollowUpRecorded,
    GradeCorrected,
    GradeRecorded,
    PemdaRegistered,
    RecommendationReopened,
    RecommendationReviewed,
    ReferenceAllocated,
    Status,
)
from auditlog.domain.finding import Finding
from auditlog.domain.inputs import format_rupiah
from auditlog.domain.recommendation import Recommendation
from auditlog.errors import ProjectionsOutdated, Refusal, StoreBusy
from auditlog.i18n import N_, _, format_date, ngettext
from auditlog.projections.lean import LeanUniverse
from auditlog.projections.model import (
    RETROACTIVE,
    FindingFilter,
    Moment,
    ReadModel,
    Universe,
    ref_key,
)
from auditlog.projections.persisted import Projection
from auditlog.projections.search import Hit
from auditlog.projections.summary import STATUSES, status_report
from auditlog.projections.temporal import TemporalModel
from auditlog.reports.render import Format, render, to_json
from auditlog.store.app import Store
from auditlog.store.stream import decode_rows

Row = tuple[int, bytes, int, bytes, bytes]

PEMDA_COLUMNS = [("pemda", N_("pemda")), ("name", N_("name")), ("level", N_("level"))]


def open_projection(store: Store, *, catch_up: bool = True) -> Projection:
    projection = Projection(store)
    store.on_close(projection.close)
    if catch_up:
        projection.catch_up()
    return projection


def current(store: Store) -> Projection:
    """The persisted projection, brought up to the end of the log."""
    return open_projection(store)


def events_in_order(store: Store, stop: int | None = None) -> Iterator[tuple[int, Event]]:
    for batch in store.stream(stop=stop):
        yield from batch


@dataclass
class YearEvents:
    """What one pass over the log gives the annual review."""

    kept: list[tuple[int, Event]]  # effective in the period and admitted by the moment
    refs: dict[UUID, str]  # every finding's reference, to name what events are about
    known: int  # how many events lead the log before the first one recorded after known_at


def events_effective_between(store: Store, start: date, end: date, moment: Moment
                             ) -> YearEvents:
    """Reads each row's JSON once and builds the full event only for the rows it keeps, so a
    year's activity costs little more than reading the log.

    The activity agrees with the register: a finding counts in the period of its received date
    as corrected (as known at the moment), and a withdrawn finding's events are left out
    (in valid time it never existed), all but the withdrawal itself."""
    found = YearEvents([], {}, 0)
    first, last = start.isoformat(), end.isoformat()
    known = moment.known_at
    leading = True
    received: dict[bytes, str] = {}
    withdrawn: set[bytes] = set()
    # Only the rows are kept until the end (their JSON is read again for the few kept): a
    # dict per event held for the whole scan would cost more in garbage collection than that.
    # Rows come checked against the hash chain, so the kept ones are built without validation.
    recorded_topic = FindingRecorded.topic.encode()
    corrected_topic = FindingCorrected.topic.encode()
    withdrawn_topic = FindingWithdrawn.topic.encode()
    recordings: dict[bytes, Row] = {}
    candidates: list[Row] = []
    refs: dict[bytes, str] = {}
    for batch in store.checked_rows():
        for n in batch:
            _, fid, _, topic, raw = n
            state = orjson.loads(raw)
            if topic == recorded_topic:
                refs[fid] = state["ref"]
            later = known is not None and datetime.fromisoformat(state["recorded_at"]) > known
            leading = leading and not later
            found.known += leading
            if later:
                continue
            if topic == recorded_topic:
                received[fid] = state["received"]
                recordings[fid] = n
                continue
            if topic == corrected_topic and state["field"] == "received":
                received[fid] = state["value"]
            elif topic == withdrawn_topic:
                withdrawn.add(fid)
            if first <= state["effective_on"] <= last:
                candidates.append(n)
    found.refs = {UUID(fid.decode()): ref for fid, ref in refs.items()}
    candidates += [n for fid, n in recordings.items() if first <= received[fid] <= last]
    candidates.sort(key=lambda row: row[0])
    kept = [n for n in candidates if n[1] not in withdrawn or n[3] == withdrawn_topic]
    found.kept = decode_rows(kept, {})
    return found


def fold(store: Store, moment: Moment) -> LeanUniverse:
    """Rebuild the state from the events alone (not from the persisted projection): the lean
    fold of the checked rows (projections/lean.py)."""
    return LeanUniverse(moment, history=store.events_of_many).fold(store.verified_rows())


def domain_fold(store: Store, moment: Moment) -> Universe:
    """Every event folded into the domain's own aggregates: the reference the projections
    are proven against (`verify --projections`), independent of the lean fold."""
    def history(aggregate_id: UUID, version: int) -> Iterable[Event]:
        return store.app.events.get(aggregate_id, lte=version)  # type: ignore[return-value]

    return Universe(moment=moment, history=history).fold(events_in_order(store))


def projection_drift(store: Store) -> list[str]:
    """Where the persisted projection disagrees with folding the events (empty: it agrees).

    The projection tables are derived data outside the hash chain: this is how to show that
    `status` and the annual review rest on the verified events and nothing else."""
    persisted = current(store)
    folded = domain_fold(store, Moment())

    def differ(kind: str, mine: dict[Any, Any], theirs: dict[Any, Any]) -> list[str]:
        return [f"{kind} {key}" for key in sorted(mine.keys() | theirs.keys())
                if mine.get(key) != theirs.get(key)]

    drift = differ("pemda", {p.code: p.model_dump(mode="json") for p in persisted.pemda_list()},
                   {p.code: p.model_dump(mode="json") for p in folded.pemda_list()})
    drift += differ("finding",
                    {f.ref: f.model_dump(mode="json") for f in persisted.active_findings()},
                    {f.ref: f.model_dump(mode="json") for f in folded.active_findings()})
    if sorted(persisted.rec_rows(), key=repr) != sorted(folded.rec_rows(), key=repr):
        drift.append(_("recommendation rows"))
    last_day = date.max  # every open recommendation overdue: the summary's counts in full
    if status_report(persisted, last_day) != status_report(folded, last_day):
        drift.append(_("status summary rows"))
    drift += differ("grades",
                    {f"{g.pemda} {g.instrument}": g.model_dump(mode="json")
                     for g in persisted.grade_series()},
                    {f"{g.pemda} {g.instrument}": g.model_dump(mode="json")
                     for g in folded.grade_series()})
    drift += differ("commitment",
                    {c.ref: c.model_dump(mode="json") for c in persisted.commitments()},
                    {c.ref: c.model_dump(mode="json") for c in folded.commitments()})
    return drift


def read_model(store: Store, moment: Moment, projection: Projection | None = None
               ) -> ReadModel:
    """Now: the persisted projection. The past: the projection, refolding what changed since.

    Pass a projection already caught up to ask several questions of one store."""
    if projection is None and store.readonly and not _projection_current(store):
        # A read-only store (an archived copy, read-only media) whose projections are behind
        # its log cannot have them caught up: the answer is folded from the checked events.
        return fold(store, moment)
    if projection is None:
        try:
            projection = current(store)
        except ProjectionsOutdated:  # a role that may not make them again reads the log
            return fold(store, moment)
    if moment.as_of is None and moment.known_at is None:
        return projection
    return TemporalModel(store, projection, moment)


def _projection_current(store: Store) -> bool:
    """Whether the persisted projection already answers for the whole log, as it stands."""
    try:
        projection = Projection(store)
    except (StoreBusy, sqlite3.OperationalError):  # of another shape, and cannot be remade
        return False
    try:
        if not projection.db.has_table("projection_position"):
            return False
        projection.check_head()  # rows resting on a log that was cut short: exit 3
        return projection.position() == store.max_position()
    finally:
        projection.close()


# --- status ------------------------------------------------------------------------------------


def status_text(model: ReadModel, on: date, pemda: str | None, fmt: Format,
                only: FindingFilter | None = None) -> str:
    """The status report, printed as the fast path prints it (reports/quick_status.py, which
    answers from the summary rows when it can): one printer for both."""
    from auditlog.reports.quick_status import status_text as printed

    report = status_report(model, on, pemda, only)
    if pemda is not None and not report:
        raise Refusal(_("pemda {pemda} is not registered: 'auditlog pemda list' shows the "
                        "registered ones").format(pemda=pemda))
    return printed(report, on, fmt)


# --- findings ----------------------------------------------------------------------------------


FINDING_COLUMNS = [
    ("ref", N_("ref")), ("pemda", N_("pemda")), ("opd", "OPD"), ("title", N_("title")),
    ("received", N_("received")), ("statuses", N_("recommendations")), ("value", N_("value")),
    ("overdue", N_("overdue")),
]


def _statuses(finding: Finding) -> str:
    counts = {s: 0 for s in STATUSES}
    for rec in finding.recommendations:
        counts[rec.status] += 1
    return " ".join(f"{s.value}:{n}" for s, n in counts.items() if n)


def _overdue(finding: Finding, on: date) -> int:
    return sum(1 for r in finding.recommendations if r.is_overdue(finding.received, on))


def finding_row(finding: Finding, on: date) -> dict[str, Any]:
    return {
        "ref": finding.ref, "pemda": finding.pemda, "opd": finding.opd or "",
        "title": finding.title, "received": finding.received.isoformat(),
        "statuses": _statuses(finding),
        "value": "" if finding.value is None else finding.value,
        "overdue": _overdue(finding, on),
    }


def finding_json(finding: Finding, on: date) -> dict[str, Any]:
    data = finding.model_dump(mode="json", exclude={"id", "version", "recommendations"})
    data["closed"] = finding.is_closed
    data["recommendations"] = [
        {
            "ref": f"{finding.ref}.{r.n}", "n": r.n, "text": r.text, "code": r.code,
            "value": r.value, "status": r.status.value,
            "due": r.due(finding.received).isoformat(), "deposited": r.deposited,
            "followups": r.followups, "overdue": r.is_overdue(finding.received, on),
        }
        for r in finding.recommendations
    ]
    return data


def _require_registered(model: ReadModel, pemda: str | None) -> None:
    if pemda is not None and pemda not in {p.code for p in model.pemda_list()}:
        raise Refusal(_("pemda {pemda} is not registered: 'auditlog pemda list' shows the "
                        "registered ones").format(pemda=pemda))


def finding_list(model: ReadModel, only: FindingFilter, status: Status | None, overdue: bool,
                 on: date, fmt: Format, hits: list[Hit] | None = None) -> str:
    """The register narrowed by `only`, a status and overdue; with search hits, only the hits,
    best first, their matching words marked (JSON adds "match", CSV a match column)."""
    _require_registered(model, only.pemda)
    found = []
    candidates = only.findings(model)
    if hits is not None:
        by_id = {f.id: f for f in candidates}
        candidates = [by_id[h.finding_id] for h in hits if h.finding_id in by_id]
    for finding in candidates:
        if status is not None and all(r.status != status for r in finding.recommendations):
            continue
        if overdue and not _overdue(finding, on):
            continue
        found.append(finding)
    hit_of = {h.finding_id: h for h in hits or []}
    if fmt is Format.json:
        return to_json([{**finding_json(f, on), "match": hit_of[f.id].snippet}
                        if hits is not None else finding_json(f, on) for f in found])
    rows = [finding_row(f, on) for f in found]
    if fmt is not Format.csv:
        for f, row in zip(found, rows, strict=True):
            row["received"] = format_date(f.received)
    columns = FINDING_COLUMNS
    if hits is not None:
        columns = [*FINDING_COLUMNS, ("match", N_("match"))]
        for f, row in zip(found, rows, strict=True):
            row["match"] = hit_of[f.id].snippet
            if fmt is not Format.csv:
                row["title"] = hit_of[f.id].title
    if fmt is not Format.csv:
        for row in rows:
            if row["value"] != "":
                row["value"] = format_rupiah(row["value"])
    return render(rows, columns, fmt)


DUE_COLUMNS = [("ref", N_("recommendation")), ("pemda", N_("pemda")), ("opd", "OPD"),
               ("title", N_("finding")), ("status", N_("status")), ("due", N_("due")),
               ("days_left", N_("days left")), ("value", N_("to recover"))]


def due_list(model: ReadModel, only: FindingFilter, status: Status | None, on: date,
             days: int, fmt: Format) -> str:
    """Open recommendations (BD, BS) falling due from `on` to `days` days later, soonest first:
    the list for reminder letters before the 60 days run out."""
    _require_registered(model, only.pemda)
    last = on + timedelta(days=days)
    due: list[tuple[date, Finding, Recommendation]] = []
    for finding in only.findings(model):
        for rec in finding.recommendations:
            when = rec.due(finding.received)
            if (rec.status in (Status.BD, Status.BS) and on <= when <= last
                    and (status is None or rec.status == status)):
                due.append((when, finding, rec))
    due.sort(key=lambda item: (item[0], ref_key(item[1]), item[2].n))
    rows: list[dict[str, Any]] = [
        {"ref": f"{f.ref}.{r.n}", "pemda": f.pemda, "opd": f.opd or "", "title": f.title,
         "status": r.status.value, "due": when.isoformat(), "days_left": (when - on).days,
         "value": r.value}
        for when, f, r in due
    ]
    if fmt is Format.json:
        return to_json(rows)
    if fmt is not Format.csv:
        for (when, _f, _r), row in zip(due, rows, strict=True):
            row["value"] = "" if row["value"] is None else format_rupiah(row["value"])
            row["due"] = format_date(when)
    return render(rows, DUE_COLUMNS, fmt)


def event_detail(event: Event, subject_of: dict[UUID, str]) -> tuple[str, str, str]:
    """(event name, subject, detail) of one event, for history and trails; an imported event
    says which file and row it came from."""
    name, subject, detail = _event_detail(event, subject_of)
    source = getattr(event, "source", None)
    if source is not None:
        detail += f" [{source.file} row {source.row}]"
    return name, subject, detail


def _event_detail(event: Event, subject_of: dict[UUID, str]) -> tuple[str, str, str]:
    name = event.topic.removeprefix("auditlog.")
    subject = subject_of.get(event.originator_id, "")
    rec = getattr(event, "recommendation", None)
    if rec is not None and subject:
        subject = f"{subject}.{rec}"
    if isinstance(event, PemdaRegistered):
        return name, event.code, f"{event.name} ({event.level})"
    if isinstance(event, FindingRecorded):
        count = len(event.recommendations)
        return name, event.ref, ngettext(
            "{pemda}: {title} ({count} recommendation, received {received})",
            "{pemda}: {title} ({count} recommendations, received {received})", count).format(
            pemda=event.pemda, title=event.title, count=count,
            received=format_date(event.received))
    if isinstance(event, FollowUpRecorded):
        detail = event.action
        if event.deposit:
            detail += "; " + _("deposit {amount}").format(amount=format_rupiah(event.deposit))
            if event.slip:
                detail += " " + _("(slip {slip})").format(slip=event.slip)
        if event.evidence:
            detail += "; " + _("evidence {files}").format(files=", ".join(
                f"{e.name} sha256:{e.sha256[:12]}" for e in event.evidence))
        return name, subject, detail
    if isinstance(event, RecommendationReviewed):
        return name, subject, f"{event.previous.value} -> {event.status.value}: {event.reason}"
    if isinstance(event, RecommendationReopened):
        return name, subject, f"{event.previous.value} -> BS: {event.reason}"
    if isinstance(event, DueDateExtended):
        return name, subject, _("due {previous} -> {due}: {reason}").format(
            previous=format_date(event.previous), due=format_date(event.due),
            reason=event.reason)
    if isinstance(event, FindingCorrected):
        change = f"{event.field}: {event.previous!r} -> {event.value!r}"
        return name, subject, f"{change}: {event.reason}"
    if isinstance(event, FindingWithdrawn):
        return name, subject, event.reason
    if isinstance(event, CommitmentRecorded):
        detail = _("{pemda} {opd}, {theme}: {text}; owner {owner}").format(
            pemda=event.pemda, opd=event.opd, theme=event.theme, text=event.text,
            owner=event.owner)
        if event.indicator is not None:
            detail += (f"; {event.indicator} {event.baseline} -> {event.target} {event.unit}")
        detail += _("; deadline {by}").format(by=format_date(event.by))
        if event.answers:
            detail += _("; answers {refs}").format(refs=", ".join(event.answers))
        return name, event.ref, detail
    if isinstance(event, CommitmentProgressRecorded):
        parts = [] if event.value is None else [_("realised {value}").format(value=event.value)]
        parts += [event.note] if event.note else []
        parts += [_("evidence {files}").format(files=", ".join(
            f"{e.name} sha256:{e.sha256[:12]}" for e in event.evidence))] if event.evidence else []
        return name, subject, "; ".join(parts)
    if isinstance(event, CommitmentReviewed):
        return name, subject, f"{event.previous.value} -> {event.status.value}: {event.reason}"
    if isinstance(event, CommitmentReopened):
        return name, subject, f"{event.previous.value} -> berjalan: {event.reason}"
    if isinstance(event, CommitmentThemeAdded):
        return name, event.code, event.name
    if isinstance(event, CheckpointRecorded):
        signed = " " + _("(signed)") if event.signed else ""
        return name, "log", _("{size} events, root {root}…{signed}").format(
            size=event.size, root=event.root[:16], signed=signed)
    if isinstance(event, GradeRecorded | GradeCorrected):
        score = " " + _("(score {score})").format(score=event.score) \
            if event.score is not None else ""
        detail = _("{instrument} {year}: {grade}{score}, rule {rule}").format(
            instrument=event.instrument, year=event.year, grade=event.grade, score=score,
            rule=event.rule)
        if event.because:
            detail += "; " + _("because {causes}").format(causes=", ".join(event.because))
        if isinstance(event, GradeCorrected):
            detail += "; " + _("correction: {reason}").format(reason=event.reason)
        return name, f"{event.pemda}/{event.instrument}", detail
    return name, subject, ""


def _event_row(position: int | None, event: Event, subject_of: dict[UUID, str]
               ) -> dict[str, Any]:
    name, subject, detail = event_detail(event, subject_of)
    row = {
        "recorded_at": event.recorded_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "actor": event.actor, "effective_on": event.effective_on.isoformat(), "event": name,
        "subject": subject, "detail": detail,
    }
    return row if position is None else {"position": position, **row}


def _for_people(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Event rows with the dates people read (26 Juli 2023 in Indonesian); scripts keep ISO."""
    return [{**row, "effective_on": format_date(date.fromisoformat(row["effective_on"]))}
            for row in rows]


event_row = _event_row


TRAIL_COLUMNS = [("effective_on", N_("date")), ("event", N_("event")), ("subject", N_("on")),
                 ("detail", N_("what and why")), ("actor", N_("by")),
                 ("recorded_at", N_("recorded"))]


def finding_show(store: Store, ref: str, moment: Moment, on: date, fmt: Format) -> str:
    finding_id, finding_ref, rec = store.finding_id_of(ref)
    if rec is not None:
        raise Refusal(_("finding show takes a finding: use {finding_ref}").format(
                          finding_ref=finding_ref))
    events = [e for e in store.events_of(finding_id) if moment.admits(e)]
    finding = project(None, events)
    if not isinstance(finding, Finding):
        raise Refusal(_("{finding_ref} was not yet recorded at {known_at}").format(
                          finding_ref=finding_ref, known_at=moment.known_at))
    if not moment.shows(finding):
        if finding.withdrawn:
            raise Refusal(_("{finding_ref} was withdrawn (recorded in error): 'auditlog "
                            "history --finding {finding_ref}' shows its events").format(
                              finding_ref=finding_ref))
        raise Refusal(_("{finding_ref} was received on {received}, after {as_of}").format(
                          finding_ref=finding_ref, received=finding.received, as_of=moment.as_of))
    subject_of = {finding_id: finding.ref}
    trail = [_event_row(None, e, subject_of) for e in events]
    data = finding_json(finding, on)
    if fmt is Format.json:
        data["trail"] = trail
        return to_json(data)
    if fmt is Format.csv:
        return render(trail, TRAIL_COLUMNS, fmt)
    lines = [f"{finding.ref}  {finding.title}", ""]
    facts = [
        (N_("pemda"), finding.pemda), (N_("OPD"), finding.opd), (N_("report"), finding.report),
        (N_("issued"), finding.issued and format_date(finding.issued)),
        (N_("received"), format_date(finding.received)),
        (N_("instrument"), f"{finding.instrument} {finding.year or ''}".strip()
         if finding.instrument else None),
        (N_("condition"), finding.condition), (N_("criteria"), finding.criteria),
        (N_("cause"), finding.cause), (N_("effect"), finding.effect), (N_("code"), finding.code),
        (N_("value"), format_rupiah(finding.value) if finding.value is not None else None),
        (N_("closed"), _("yes") if finding.is_closed else _("no")),
    ]
    lines += [f"{_(k) + ':':<12}{v}" for k, v in facts if v not in (None, "")]
    lines.append("")
    recs = [
        {"ref": r["ref"], "status": r["status"],
         "due": format_date(date.fromisoformat(r["due"]))
         + (" " + _("overdue") if r["overdue"] else ""),
         "value": format_rupiah(r["value"]) if r["value"] is not None else "",
         "deposited": format_rupiah(r["deposited"]), "text": r["text"]}
        for r in data["recommendations"]
    ]
    lines.append(render(recs, [("ref", N_("recommendation")), ("status", N_("status")),
                               ("due", N_("due")), ("value", N_("to recover")),
                               ("deposited", N_("deposited")),
                               ("text", N_("text"))], fmt))
    lines += ["", _("trail:"), render(_for_people(trail), TRAIL_COLUMNS, fmt)]
    return "\n".join(lines)


# --- grades ------------------------------------------------------------------------------------


GRADE_COLUMNS = [("pemda", N_("pemda")), ("instrument", N_("instrument")), ("year", N_("year")),
                 ("grade", N_("grade")), ("score", N_("score")), ("rule", N_("rule")),
                 ("corrected", N_("corrected")), ("because", N_("because"))]


def grade_list(model: ReadModel, pemda: str | None, fmt: Format) -> str:
    rows: list[dict[str, Any]] = []
    for series in model.grade_series(pemda):
        for year in sorted(series.years):
            entry = series.years[year]
            rows.append({
                "pemda": series.pemda, "instrument": series.instrument, "year": year,
                "grade": entry.grade, "score": "" if entry.score is None else str(entry.score),
                "rule": entry.rule, "corrected": _("yes") if entry.corrected else "",
                "because": " ".join(entry.because),
            })
    if fmt is Format.json:
        return to_json([{**r, "because": r["because"].split() if r["because"] else [],
                         "corrected": bool(r["corrected"]),
                         "score": r["score"] or None} for r in rows])
    return render(rows, GRADE_COLUMNS, fmt)


# --- history -----------------------------------------------------------------------------------


HISTORY_COLUMNS = [("position", "#"), ("recorded_at", N_("recorded")), ("actor", N_("by")),
                   ("effective_on", N_("date")), ("event", N_("event")), ("subject", N_("on")),
                   ("detail", N_("what and why"))]


def history(store: Store, moment: Moment, pemda: str | None, finding: str | None,
            fmt: Format) -> str:
    """The events in log order. With an as-of date, exactly the events behind the state on
    that date: a finding shows when its received date (as corrected, as known) is on or before
    it, and corrections show with what they correct."""
    only: UUID | None = None
    if finding is not None:
        only, _ref, rec = store.finding_id_of(finding)
        if rec is not None:
            raise Refusal(_("--finding takes a finding reference such as {value}").format(
                              value=finding.split('.')[0]))
    subject_of: dict[UUID, str] = {}
    pemda_of: dict[UUID, str] = {}
    received_of: dict[UUID, date] = {}
    graded_on: dict[tuple[UUID, int], date] = {}
    admitted: list[tuple[int, Event]] = []
    for position, event in events_in_order(store):
        if isinstance(event, ReferenceAllocated | FindingKeyClaimed
                      | CommitmentReferenceAllocated):
            continue  # bookkeeping for references and keys; the finding's own events show it
        if isinstance(event, FindingRecorded | CommitmentRecorded):
            subject_of[event.originator_id] = event.ref
            pemda_of[event.originator_id] = event.pemda
        elif isinstance(event, GradeRecorded | GradeCorrected):
            pemda_of[event.originator_id] = event.pemda
        elif isinstance(event, PemdaRegistered):
            pemda_of[event.originator_id] = event.code
        if moment.known_at is not None and event.recorded_at > moment.known_at:
            continue
        if isinstance(event, FindingRecorded):
            received_of[event.originator_id] = event.received
        elif isinstance(event, FindingCorrected) and event.field == "received":
            received_of[event.originator_id] = date.fromisoformat(event.value)
        elif isinstance(event, GradeRecorded):
            graded_on.setdefault((event.originator_id, event.year), event.effective_on)
        if only is not None and event.originator_id != only:
            continue
        if pemda is not None and pemda_of.get(event.originator_id) != pemda:
            continue
        admitted.append((position, event))
    if pemda is not None and pemda not in pemda_of.values():  # as status and finding list do
        raise Refusal(_("pemda {pemda} is not registered: 'auditlog pemda list' shows the "
                        "registered ones").format(pemda=pemda))
    rows = []
    for position, event in admitted:
        if moment.as_of is not None:
            received = received_of.get(event.originator_id)
            if received is not None and received > moment.as_of:
                continue  # the finding was not yet received on that date
            if isinstance(event, GradeCorrected):
                original = graded_on.get((event.originator_id, event.year))
                if original is None or original > moment.as_of:
                    continue
            elif not isinstance(event, RETROACTIVE) and event.effective_on > moment.as_of:
                continue
        rows.append(_event_row(position, event, subject_of))
    return render(rows if fmt in (Format.json, Format.csv) else _for_people(rows),
                  HISTORY_COLUMNS, fmt)
