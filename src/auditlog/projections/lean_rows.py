"""The fold behind `rebuild`: every row of the persisted projection straight from the checked
rows of the whole log, findings without a pydantic event or aggregate.

Why it exists: folding a million events into pydantic events and aggregates, then serialising
each aggregate with ``model_dump_json``, cost more than ten times reading the rows. Findings
and their recommendations' events are nearly the whole log, so for them:

- the recording's stored bytes are kept as they are (checked against the chain, so trusted;
  smaller than any object made of them), with a small slots object per recommendation for what
  later events change;
- each later event's JSON dict moves those slots as the domain's handlers move a ``Finding``
  (domain/finding.py, domain/recommendation.py: ``record_activity``);
- at the end each finding's ``state`` is written with orjson from a dict laid out as
  ``Finding.model_dump_json`` lays it out (fields in declaration order), so a rebuilt row holds
  the very bytes the incremental catch-up writes, and readers validate it as before.

Pemda, grade series and commitments (few events) are folded by the domain's own code.
tests/test_lean_rows.py checks on random logs that every finding's state bytes equal the
domain aggregate's ``model_dump_json``, and tests/test_projection_property.py that a rebuild's
rows equal the incremental catch-up's.
"""

import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson

from auditlog.domain.aggregate import Aggregate, project
from auditlog.domain.events import (
    DueDateExtended,
    FindingCorrected,
    FindingRecorded,
    FindingWithdrawn,
    FollowUpRecorded,
    RecommendationReopened,
    RecommendationReviewed,
    Status,
)
from auditlog.domain.finding import Finding
from auditlog.domain.pemda import Pemda
from auditlog.domain.recommendation import ANSWER_DAYS, Recommendation
from auditlog.projections.lean import DOMAIN, FINDING, PLAN, numbered
from auditlog.store.mapper import construct, upcast
from auditlog.store.stream import undecodable

Row = tuple[int, bytes, int, bytes, bytes]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STATUSES = {s.value: s.value for s in Status}  # one string per status, shared by all
_ANSWER = timedelta(days=ANSWER_DAYS)
# What a correction may set: a finding's own fields, and the recommendation's recorded ones.
_CORRECTABLE = frozenset(Finding.model_fields) - {"id", "version", "recommendations",
                                                  "withdrawn"}
_REC_CORRECTABLE = frozenset(("text", "code", "value", "due_set"))
_DATES = frozenset(("issued", "received"))
_RECORDING_UPCASTS = PLAN[FindingRecorded.topic.encode()][4]


def micros(moment: datetime) -> int:
    """Transaction times as integer microseconds since the epoch: exact and sortable in SQL
    (timedelta arithmetic, without dividing one timedelta by another: a fifth the cost)."""
    since = moment - EPOCH
    return (since.days * 86400 + since.seconds) * 1_000_000 + since.microseconds


_HEX = frozenset("0123456789abcdef")


def _canonical(text: str) -> str:
    """str(UUID(text)) for an id as stored (32 hex digits on SQLite), at a fifth the cost."""
    if len(text) == 32 and _HEX.issuperset(text):
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return str(UUID(text))


def _later(stamp: str, than: str) -> bool:
    """Whether one stored recorded_at is later than another. Stamps of one length in UTC
    ('Z') have their fields at the same places, so they compare as text; others are parsed."""
    if len(stamp) == len(than) and stamp[-1] == "Z" and than[-1] == "Z":
        return stamp > than
    return datetime.fromisoformat(stamp) > datetime.fromisoformat(than)


class RecState:
    """What events change of a recommendation (its recorded fields stay in the bytes)."""

    __slots__ = ("changed", "deposited", "due_extended", "first", "fixes", "followups", "n",
                 "status")

    def __init__(self, n: int) -> None:
        self.n = n
        self.status = "BD"
        self.deposited = 0
        self.followups = 0
        self.due_extended: str | None = None
        self.changed: str | None = None  # status_changed_on, ISO
        self.first: str | None = None  # first_activity_on, ISO
        self.fixes: dict[str, Any] | None = None  # corrected recorded fields


class FindingState:
    """A finding while the log is folded: its recording's bytes and what changed since."""

    __slots__ = ("actions", "effective", "first", "fixes", "id", "last", "raw", "recs",
                 "version", "withdrawn")

    def __init__(self, oid: bytes, version: int, raw: bytes, state: dict[str, Any],
                 at: str) -> None:
        self.id = oid
        self.raw = raw
        self.version = version
        self.recs = [RecState(r["n"]) for r in state["recommendations"]]
        self.withdrawn = False
        self.fixes: dict[str, Any] | None = None
        self.first = self.last = at  # recorded_at of the first and of the latest event
        self.effective = ""  # the latest effective date of a non-retroactive event, ISO
        self.actions: list[str] | None = None  # follow-ups' actions, for the search row

    def rec(self, n: int) -> RecState:
        return numbered(self.recs, n)


def _activity(rec: RecState, on: str, *, status_change: bool = False) -> None:
    """Recommendation.record_activity on ISO dates (which sort as the dates do)."""
    if rec.first is None or on < rec.first:
        rec.first = on
    if status_change and (rec.changed is None or on > rec.changed):
        rec.changed = on


def _followed_up(f: FindingState, s: dict[str, Any]) -> None:
    rec = f.rec(s["recommendation"])
    rec.deposited += s["deposit"]
    rec.followups += 1
    _activity(rec, s["effective_on"])
    if f.actions is None:
        f.actions = []
    f.actions.append(s["action"])


def _reviewed(f: FindingState, s: dict[str, Any]) -> None:
    rec = f.rec(s["recommendation"])
    rec.status = _STATUSES[s["status"]]
    _activity(rec, s["effective_on"], status_change=True)


def _reopened(f: FindingState, s: dict[str, Any]) -> None:
    rec = f.rec(s["recommendation"])
    rec.status = "BS"
    _activity(rec, s["effective_on"], status_change=True)


def _extended(f: FindingState, s: dict[str, Any]) -> None:
    rec = f.rec(s["recommendation"])
    rec.due_extended = date.fromisoformat(s["due"]).isoformat()
    _activity(rec, s["effective_on"])


def _corrected(f: FindingState, s: dict[str, Any]) -> None:
    n, name, value = s.get("recommendation"), s["field"], s.get("value")
    if n is None:
        if name not in _CORRECTABLE:
            raise ValueError(f"a correction of {name!r}, not a field of a finding")
        if name in _DATES and value is not None:  # as the domain's handler makes it a date
            value = date.fromisoformat(value).isoformat()
        if f.fixes is None:
            f.fixes = {}
        f.fixes[name] = value
        return
    if name not in _REC_CORRECTABLE:
        raise ValueError(f"a correction of {name!r}, not a field of a recommendation")
    rec = f.rec(n)
    if rec.fixes is None:
        rec.fixes = {}
    rec.fixes[name] = value


def _withdrawn(f: FindingState, s: dict[str, Any]) -> None:
    f.withdrawn = True


HANDLERS: dict[str, Callable[[FindingState, dict[str, Any]], None]] = {
    FollowUpRecorded.topic: _followed_up,
    RecommendationReviewed.topic: _reviewed,
    RecommendationReopened.topic: _reopened,
    DueDateExtended.topic: _extended,
    FindingCorrected.topic: _corrected,
    FindingWithdrawn.topic: _withdrawn,
}


@dataclass
class FindingRows:
    """One finding's rows: its own, its recommendations' (none once withdrawn), its search
    row's texts (None once withdrawn)."""

    id: str
    ref: str
    pemda: str
    withdrawn: bool
    received: str
    first: int  # micros
    last: int
    effective: str
    state: str
    recs: list[tuple[str, int, str, str, int, int, str]]
    search: tuple[str, str, str, str] | None  # title, body, recommendations, follow-ups


def finding_rows(f: FindingState) -> FindingRows:
    """The finding's rows, its state laid out as ``Finding.model_dump_json`` writes it (dict
    literals in the fields' order, checked against the models when this module loads)."""
    s = orjson.loads(f.raw)
    if _RECORDING_UPCASTS:
        upcast(FindingRecorded.topic, s)
    fid = _canonical(f.id.decode())
    get = s.get
    d: dict[str, Any] = {
        "id": fid, "version": f.version, "ref": s["ref"], "pemda": s["pemda"],
        "title": s["title"], "opd": get("opd"), "report": get("report"),
        "issued": get("issued"), "received": s["received"], "instrument": get("instrument"),
        "year": get("year"), "condition": get("condition"), "criteria": get("criteria"),
        "cause": get("cause"), "effect": get("effect"), "code": get("code"),
        "value": get("value"), "recommendations": None, "withdrawn": f.withdrawn}
    if f.fixes:
        d.update(f.fixes)
    recs: list[dict[str, Any]] = []
    for spec, rec in zip(s["recommendations"], f.recs, strict=True):
        r = {"n": rec.n, "text": spec["text"], "code": spec.get("code"),
             "value": spec.get("value"), "due_set": spec.get("due"),
             "due_extended": rec.due_extended, "status": rec.status,
             "deposited": rec.deposited, "followups": rec.followups,
             "status_changed_on": rec.changed, "first_activity_on": rec.first}
        if rec.fixes:
            r.update(rec.fixes)
        recs.append(r)
    d["recommendations"] = recs
    try:
        state = orjson.dumps(d).decode()
    except orjson.JSONEncodeError:  # an integer past 64 bits: pydantic writes those
        state = Finding.model_validate(d).model_dump_json()
    received: str = d["received"]
    pemda: str = d["pemda"]
    first = micros(datetime.fromisoformat(f.first))
    last = first if f.last == f.first else micros(datetime.fromisoformat(f.last))
    if f.withdrawn:  # it leaves the register, its rows and the search
        return FindingRows(fid, d["ref"], pemda, True, received, first, last, f.effective,
                           state, [], None)
    rows: list[tuple[str, int, str, str, int, int, str]] = []
    default_due = ""
    for r in recs:
        due = r["due_extended"] or r["due_set"]
        if due is None:
            if not default_due:
                default_due = (date.fromisoformat(received) + _ANSWER).isoformat()
            due = default_due
        rows.append((fid, r["n"], pemda, r["status"], r["value"] or 0, r["deposited"], due))
    body = "\n".join(t for t in (d["condition"], d["criteria"], d["cause"], d["effect"]) if t)
    search = (d["title"], body, "\n".join(r["text"] for r in recs),
              "\n".join(f.actions or ()))
    return FindingRows(fid, d["ref"], pemda, False, received, first, last, f.effective,
                       state, rows, search)


def _check_layout() -> None:
    """finding_rows writes the models' fields in their order with their defaults: a field
    added to Finding or Recommendation must be added there too (or this module refuses to
    load, rather than write states the catch-up would write otherwise)."""
    raw = orjson.dumps({"ref": "F-2023-0001", "pemda": "35", "title": "t",
                        "received": "2023-01-02", "recommendations": [{"n": 1, "text": "r"}]})
    held = FindingState(b"0" * 32, 1, raw, orjson.loads(raw), "2023-01-02T00:00:00Z")
    written = orjson.loads(finding_rows(held).state)
    expected = Finding(id=UUID(int=0), version=1, ref="F-2023-0001", pemda="35", title="t",
                       received=date(2023, 1, 2),
                       recommendations=[Recommendation(n=1, text="r")])
    if (list(written) != list(Finding.model_fields)
            or list(written["recommendations"][0]) != list(Recommendation.model_fields)
            or written != expected.model_dump(mode="json")):
        raise RuntimeError("projections/lean_rows.py: finding_rows no longer writes the "
                           "fields of Finding and Recommendation as they are")


@dataclass
class LogFold:
    """The whole log folded for a rebuild: findings as FindingState, the other projected
    aggregates as [aggregate, first recorded, last recorded, latest effective date]."""

    findings: dict[bytes, FindingState] = field(default_factory=dict)
    others: dict[UUID, list[Any]] = field(default_factory=dict)
    applied: int = 0
    end: int = 0

    def fold(self, batches: Iterable[list[Row]],
             progress: Callable[[int], None] | None = None) -> "LogFold":
        """Fold batches of checked rows. The collector stays off meanwhile: the fold makes
        many objects and keeps most of them, so each collection would find nothing to free
        (the issue measured it at a quarter to a third of a fold)."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            for rows in batches:
                self._fold_rows(rows)
                self.applied += len(rows)
                self.end = rows[-1][0]
                if progress is not None:
                    progress(len(rows))
        finally:
            if enabled:
                gc.enable()
        return self

    def _fold_rows(self, rows: list[Row]) -> None:
        plan = PLAN
        loads = orjson.loads
        findings = self.findings
        handlers = HANDLERS
        recorded = FindingRecorded.topic
        for position, oid, version, topic_bytes, raw in rows:
            try:
                topic, todo, retroactive, cls, upcasts = plan[topic_bytes]
                if todo == FINDING:
                    state = loads(raw)
                    if upcasts:
                        upcast(topic, state)
                    at = state["recorded_at"]
                    if topic == recorded:
                        findings[oid] = FindingState(oid, version, raw, state, at)
                        continue
                    finding = findings.get(oid)
                    if finding is None:  # its recording is not in the log: nothing to move
                        continue
                    handlers[topic](finding, state)
                    finding.version = version
                    last = finding.last
                    if at != last and (at > last if len(at) == len(last) and at[-1] == "Z"
                                       and last[-1] == "Z" else _later(at, last)):
                        finding.last = at
                    if not retroactive and state["effective_on"] > finding.effective:
                        finding.effective = state["effective_on"]
                elif todo == DOMAIN:
                    # Upcast as every decode does: rows written straight (import) carry
                    # their class_version, which the event's fields do not know.
                    state = loads(raw)
                    upcast(topic, state)
                    event = construct(cls, UUID(oid.decode()), version, state)
                    self._apply(event, retroactive)
            except (KeyError, ValueError, TypeError, AttributeError) as error:
                raise undecodable(position, error, topic_bytes, plan) from None

    def _apply(self, event: Any, retroactive: bool) -> None:
        """A pemda's, grade series' or commitment's event, through the domain's fold."""
        oid = event.originator_id
        effective = None if retroactive else event.effective_on
        entry = self.others.get(oid)
        if entry is None:
            aggregate: Aggregate | None = project(None, (event,))
            self.others[oid] = [aggregate, event.recorded_at, event.recorded_at, effective]
            return
        entry[0].apply(event)
        if event.recorded_at > entry[2]:
            entry[2] = event.recorded_at
        if effective is not None and (entry[3] is None or effective > entry[3]):
            entry[3] = effective
        if isinstance(entry[0], Pemda):  # two pemda of one code: the last touched wins, as
            self.others[oid] = self.others.pop(oid)  # when caught up batch by batch


_check_layout()
