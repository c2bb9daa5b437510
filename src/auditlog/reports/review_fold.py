"""One pass over the log for the annual review: what `auditlog export` reads, and all it keeps.

Why one pass: the review needs the log checked against its chain (for the checkpoint it
prints), the state at the review's date, which findings were open when the year began, and
the events of the year. Read separately (a verify, a scan for the year's events, the
projection plus refolding) that was the log three times and every finding as a pydantic
aggregate. Here each checked row is read once, in log order:

- its chain entry hash is a leaf of the Merkle tree whose root the checkpoint prints (the
  stream has just proven it, so nothing is hashed twice), and its transaction time must not
  go backwards (as verify checks);
- a finding's event goes into a small slots object holding only what a section prints
  (``ReviewFinding``), folded as the domain's handlers do (domain/finding.py) at the review's
  date, with each recommendation's status when the year began beside it;
- pemda, grade series and commitments (few events) are folded by the domain's own code;
- the year's events that the activity lists wait, as the checked rows they are, in a private
  temporary file (a national year is some 160k rows: 80 MB held as rows), and are decoded
  only as the activity is written.

Which events a moment admits mirrors ``Moment.admits`` and the lean fold (projections/lean.py);
tests/test_review_fold.py checks on random logs that the review equals the one built from the
domain's own fold.
"""

import functools
import gc
import struct
import sys
import tempfile
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, BinaryIO
from uuid import UUID

import orjson

from auditlog.domain.commitment import Commitment
from auditlog.domain.events import (
    EVENT_TYPES,
    DueDateExtended,
    Event,
    FindingCorrected,
    FindingRecorded,
    FindingWithdrawn,
    FollowUpRecorded,
    RecommendationReopened,
    RecommendationReviewed,
    Status,
)
from auditlog.domain.grades import GradeSeries
from auditlog.domain.pemda import Pemda
from auditlog.domain.recommendation import ANSWER_DAYS, CLOSED
from auditlog.i18n import _
from auditlog.projections.lean import DOMAIN, FINDING, PLAN
from auditlog.projections.model import Moment, RecRow, Universe
from auditlog.store import stream
from auditlog.store.app import Store
from auditlog.store.chain import (
    AlignedStack,
    Kind,
    Problem,
    backwards,
    earlier,
    partial_stack,
    stack_root,
    subtree,
)
from auditlog.store.integrity import IntegrityFailure, Report, guard_problems
from auditlog.store.mapper import construct, floor_version, upcast

Row = tuple[int, bytes, int, bytes, bytes]

_STATUS = {s.value: s for s in Status}
_ANSWER = timedelta(days=ANSWER_DAYS)
_BLOCK = 1 << 12  # leaves hashed into one perfect subtree at a time (as verify does)
_RECORDED_AT = b'"recorded_at":"'
_SPOOLED = struct.Struct(">qqBHI")  # position, version, kind, len(id), len(state)


class ReviewRec:
    """A recommendation as the review prints it (see Recommendation)."""

    __slots__ = ("deposited", "due_extended", "due_set", "n", "status", "status_start",
                 "text", "value")

    def __init__(self, spec: dict[str, Any]) -> None:
        self.n: int = spec["n"]
        self.text: str = spec["text"]
        self.value: int | None = spec.get("value")
        due = spec.get("due")
        self.due_set = None if due is None else _day(due)
        self.due_extended: date | None = None
        self.status = Status.BD
        self.status_start = Status.BD  # as the year began (the day before it)
        self.deposited = 0

    def due(self, received: date) -> date:
        return self.due_extended or self.due_set or received + _ANSWER

    def is_overdue(self, received: date, on: date) -> bool:
        return self.status not in CLOSED and self.due(received) < on


class ReviewFinding:
    """A finding as the review prints it (see Finding): no condition, criteria, cause or
    effect, no follow-up texts, which no section shows."""

    __slots__ = ("code", "id", "index", "instrument", "opd", "pemda", "received",
                 "recommendations", "ref", "report", "sort_key", "title", "touched", "withdrawn",
                 "year")

    def __init__(self, oid: bytes, state: dict[str, Any], index: int) -> None:
        self.id = oid
        self.index = index  # in the order recorded
        self.ref: str = state["ref"]
        _, year, number = self.ref.split("-")
        self.sort_key = int(year) * 1_000_000_000 + int(number)  # as ref_key orders them
        # Kept for every finding of the log: the few pemda, OPD and dates shared, not copied.
        self.pemda: str = sys.intern(state["pemda"])
        self.title: str = state["title"]
        opd = state.get("opd")
        self.opd: str | None = None if opd is None else sys.intern(opd)
        self.report: str | None = state.get("report")
        self.received = _day(state["received"])
        self.instrument: str | None = state.get("instrument")
        self.year: int | None = state.get("year")
        self.code: str | None = state.get("code")
        self.withdrawn = False
        self.touched = False  # anything about it effective in the year under review
        self.recommendations = [ReviewRec(r) for r in state["recommendations"]]

    def rec(self, n: int) -> ReviewRec:
        recs = self.recommendations
        if 0 < n <= len(recs) and recs[n - 1].n == n:  # numbered 1, 2, ... as recorded
            return recs[n - 1]
        for rec in recs:
            if rec.n == n:
                return rec
        raise KeyError(f"recommendation {n}")

    @property
    def is_closed(self) -> bool:
        return all(r.status in CLOSED for r in self.recommendations)

    def open_at_start(self, start: date) -> bool:
        return self.received <= start and any(r.status_start not in CLOSED
                                              for r in self.recommendations)


# The fields of a correction the review shows; the others (condition, issued, ...) change
# nothing printed.
_FINDING_FIELDS = frozenset({"title", "opd", "report", "instrument", "year", "code"})
_REC_FIELDS = frozenset({"text", "value"})


@functools.lru_cache(maxsize=1 << 16)
def _day(text: str) -> date:
    return date.fromisoformat(text)


def _corrected(f: ReviewFinding, s: dict[str, Any]) -> None:
    n, name, value = s.get("recommendation"), s["field"], s.get("value")
    if n is None:
        if name == "received" and value is not None:
            f.received = _day(value)
        elif name in _FINDING_FIELDS:
            setattr(f, name, value)
    elif name in _REC_FIELDS:
        setattr(f.rec(n), name, value)


_HANDLED = frozenset(cls.topic for cls in (
    FindingRecorded, FollowUpRecorded, RecommendationReviewed, RecommendationReopened,
    DueDateExtended, FindingCorrected, FindingWithdrawn))


# The lean fold's plan of the stored topics (what to do, retroactive, event type); the review
# folds the same finding events by its own handlers, so each must be one it knows.
for _topic, _todo, *_rest in PLAN.values():
    if _todo == FINDING and _topic not in _HANDLED:  # a new finding event: fold it here
        raise RuntimeError(f"the review's fold does not know the finding event {_topic}")
# The oldest stored version of each type whose state reads as the current one.
_AS_STORED = {topic.encode(): floor_version(cls) for topic, cls in EVENT_TYPES.items()}
_RECORDED = FindingRecorded.topic
_WITHDRAWN = FindingWithdrawn.topic


class _Leaves:
    """A RowSource that hands on what it reads and keeps each entry's stored hash: the checked
    stream proves every one equal to the hash of its row, so they are the tree's leaves."""

    def __init__(self, source: stream.RowSource) -> None:
        self.source = source
        self.hashes: list[bytes] = []

    def entry_at_or_before(self, position: int) -> tuple[int, int, bytes] | None:
        return self.source.entry_at_or_before(position)

    def chained(self, after_seq: int, stop: int | None, limit: int) -> list[stream.ChainedRow]:
        rows = self.source.chained(after_seq, stop, limit)
        self.hashes = [row[2] for row in rows]
        return rows

    def events_between(self, first: int, last: int) -> int:
        return self.source.events_between(first, last)

    def unchained_tail(self) -> int | None:
        return self.source.unchained_tail()


class _Tree:
    """The RFC 6962 tree head of the chain's entries, a block of leaves at a time."""

    def __init__(self) -> None:
        self.blocks = AlignedStack()
        self.leaves: list[bytes] = []
        self.size = 0

    def extend(self, leaves: Sequence[bytes]) -> None:
        self.leaves.extend(leaves)
        self.size += len(leaves)
        while len(self.leaves) >= _BLOCK:
            self.blocks.push(0, subtree(self.leaves[:_BLOCK]))
            del self.leaves[:_BLOCK]

    def root(self) -> str:
        return stack_root(self.blocks.hashes() + partial_stack(self.leaves)).hex()


@dataclass
class ReviewLog:
    """What the one pass over the log gives the annual review."""

    moment: Moment  # as_of: the review's date
    first: date  # the period the activity covers
    last: date
    others: Universe  # pemda, grade series, commitments at the moment
    findings: dict[bytes, ReviewFinding] = field(default_factory=dict)
    # The activity, one entry each: log position, what it is (_LISTED_* below, or the
    # index of the topic in activity_kinds() for others), the finding (index) it is about.
    activity: "array[int]" = field(default_factory=lambda: array("q"))
    kinds: "array[int]" = field(default_factory=lambda: array("b"))
    about: "array[int]" = field(default_factory=lambda: array("l"))
    # The candidates' rows, checked, in log order: (_SPOOLED head, id, state) each.
    # Closed with the store (store.on_close): it lives as long as the review is written.
    spool: BinaryIO = field(default_factory=lambda: tempfile.TemporaryFile(  # noqa: SIM115
        prefix="auditlog-activity-"))
    counts: dict[str, int] = field(default_factory=dict)  # activity by topic
    store_id: str = ""
    size: int = 0  # the events the checkpoint covers (the leading ones known at known_at)
    root: str = ""

    # --- ReadModel (what status_report and the commitments' sections ask) -------------------

    def shown(self, pemda: str | None = None) -> Iterator[ReviewFinding]:
        as_of = self.moment.as_of
        assert as_of is not None
        for f in self.findings.values():
            if not f.withdrawn and f.received <= as_of and (pemda is None or f.pemda == pemda):
                yield f

    def pemda_list(self) -> list[Pemda]:
        return self.others.pemda_list()

    def rec_rows(self, pemda: str | None = None) -> list[RecRow]:
        return [RecRow(f.pemda, r.status, r.value or 0, r.deposited, r.due(f.received))
                for f in self.shown(pemda) for r in f.recommendations]

    def summary_rows(self, on: date, pemda: str | None = None
                     ) -> tuple[list[tuple[str, Status, int, int, int]], dict[str, int]]:
        """Per pemda and status: count, rupiah to recover and deposited; and overdue per
        pemda (the Summarized protocol): the summary's totals without a row per
        recommendation of the whole log."""
        tally: dict[tuple[str, Status], list[int]] = {}
        late: dict[str, int] = {}
        for f in self.shown(pemda):
            received = f.received
            for r in f.recommendations:
                key = (f.pemda, r.status)
                sums = tally.get(key)
                if sums is None:
                    sums = tally[key] = [0, 0, 0]
                sums[0] += 1
                sums[1] += r.value or 0
                sums[2] += r.deposited
                if r.status not in CLOSED and r.due(received) < on:
                    late[f.pemda] = late.get(f.pemda, 0) + 1
        return [(code, status, n, value, deposited)
                for (code, status), (n, value, deposited) in tally.items()], late

    def grade_series(self, pemda: str | None = None) -> list[GradeSeries]:
        return self.others.grade_series(pemda)

    def commitments(self, pemda: str | None = None) -> list[Commitment]:
        return self.others.commitments(pemda)

    # --- the activity of the year -----------------------------------------------------------

    def activity_events(self, chunk: int = 2000
                        ) -> Iterator[tuple[int, Event, dict[UUID, str]]]:
        """(position, event, references of the findings it names) of the year's activity, in
        log order, decoded a chunk at a time from the rows the pass set aside."""
        wanted = set(self.activity)
        topics = [cls.topic.encode() for cls in activity_kinds()]
        ids: dict[bytes, UUID] = {}
        spool = self.spool
        spool.flush()
        spool.seek(0)
        read, unpack, size = spool.read, _SPOOLED.unpack, _SPOOLED.size
        rows: list[Row] = []
        while head := read(size):
            position, version, kind, id_size, state_size = unpack(head)
            oid, state = read(id_size), read(state_size)
            if position in wanted:
                rows.append((position, oid, version, topics[kind], state))
            if len(rows) >= chunk:
                yield from self._decoded(rows, ids)
                rows = []
        yield from self._decoded(rows, ids)

    def activity_states(self) -> Iterator[tuple[Row, dict[str, Any] | None, str]]:
        """(row, its state upcast, reference of the finding it is about or "") of the year's
        activity, in log order: what a describer that reads the stored fields needs, without
        an event made of each. The state is None where it cannot be read as stored (decode
        the row, which says how it is damaged)."""
        wanted = set(self.activity)
        topics = [cls.topic.encode() for cls in activity_kinds()]
        names = [cls.topic for cls in activity_kinds()]
        findings = self.findings
        spool = self.spool
        spool.flush()
        spool.seek(0)
        read, unpack, size, loads = spool.read, _SPOOLED.unpack, _SPOOLED.size, orjson.loads
        while head := read(size):
            position, version, kind, id_size, state_size = unpack(head)
            oid, raw = read(id_size), read(state_size)
            if position not in wanted:
                continue
            finding = findings.get(oid)
            state: dict[str, Any] | None
            try:
                state = loads(raw)
                upcast(names[kind], state)
            except Exception:  # any failure: decode() says what is wrong with it
                state = None
            yield ((position, oid, version, topics[kind], raw), state,
                   "" if finding is None else finding.ref)

    @staticmethod
    def decode(row: Row, ids: dict[bytes, UUID]) -> Event:
        """The event of a row of the activity, or DamagedStore saying why it has none."""
        return stream.decode_rows([row], ids)[0][1]

    def _decoded(self, rows: list[Row], ids: dict[bytes, UUID]
                 ) -> Iterator[tuple[int, Event, dict[UUID, str]]]:
        refs: dict[UUID, str] = {}
        for row in rows:
            finding = self.findings.get(row[1])
            if finding is not None:
                the_id = ids.get(row[1]) or ids.setdefault(row[1], UUID(row[1].decode()))
                refs[the_id] = finding.ref
        for position, event in stream.decode_rows(rows, ids):
            yield position, event, refs


def read_for_review(store: Store, year: int, moment: Moment) -> ReviewLog:
    """Read the whole log once, checked against its chain; see the module's docstring.

    Raises DamagedStore (a row that fails its check) or IntegrityFailure (what verify would
    also report: a guard gone, no store identity, time going backwards)."""
    on = moment.as_of
    assert on is not None
    known = moment.known_at
    start = date(year - 1, 12, 31)
    log = ReviewLog(moment, date(year, 1, 1), min(on, date(year, 12, 31)),
                    Universe(moment=moment))
    store.on_close(log.spool.close)
    first, last = log.first.isoformat(), log.last.isoformat()
    day, start_day = on.isoformat(), start.isoformat()
    # What each listed topic is in the activity's kinds array.
    listed = {cls.topic: n for n, cls in enumerate(activity_kinds())}
    problems: list[Problem] = []
    with store.log_reader() as reader:
        log.store_id = reader.store_id
        problems.extend(guard_problems(reader))
    if not log.store_id:
        problems.append(Problem(Kind.chain_broken, _("the store's identity is missing")))

    findings = log.findings
    positions, kinds, about = log.activity, log.kinds, log.about
    spool, pack = log.spool.write, _SPOOLED.pack

    def aside(row: Row, kind: int, index: int) -> None:
        """A candidate of the activity: what it is now, its row for when it is written."""
        position, oid, version, _topic, raw = row
        positions.append(position)
        kinds.append(kind)
        about.append(index)
        spool(pack(position, version, kind, len(oid), len(raw)) + oid + raw)

    others = log.others
    plan = PLAN
    loads = orjson.loads
    tree = _Tree()
    leading = True  # every row so far was recorded by known_at
    measured = False  # the checkpoint's size and root are taken
    last_stamp = b""
    source = _Leaves(store._row_source())
    frozen = gc.get_freeze_count()
    try:
        for rows in stream.checked_rows(source):
            hashes = source.hashes
            lead = 0  # of this batch's rows, those before the first recorded after known_at
            for row in rows:
                position, oid, version, topic_bytes, raw = row
                at = raw.find(_RECORDED_AT)
                if at >= 0:
                    at += len(_RECORDED_AT)
                    stamp = raw[at:raw.find(b'"', at)]
                    if last_stamp and (stamp < last_stamp or len(stamp) != len(last_stamp)) \
                            and earlier(stamp, last_stamp):
                        problems.append(backwards(position, stamp, last_stamp))
                    last_stamp = stamp
                try:
                    topic, todo, retroactive, cls, _upcasts = plan[topic_bytes]
                    state = loads(raw)
                    # A finding's event stored at or after the last version that changed
                    # more than optional fields reads as it is (see mapper.stored_version: a
                    # later version that only adds optional fields stores an event that uses
                    # none of them as the older version, and upcasts it unchanged), and a
                    # stray class_version key is read by nobody here: most of the log.
                    if cls.class_version > 1 and (todo != FINDING or state.get(
                            "class_version", 1) < _AS_STORED[topic_bytes]):
                        upcast(topic, state)
                    if known is not None and \
                            datetime.fromisoformat(state["recorded_at"]) > known:
                        leading = False
                        continue
                    lead += leading
                    effective = state["effective_on"]
                    in_year = first <= effective <= last
                    if todo == FINDING:
                        if topic == _RECORDED:
                            created = findings[oid] = ReviewFinding(oid, state, len(findings))
                            # kept if received in the period (as corrected): see the end
                            aside(row, listed[topic], created.index)
                            continue
                        finding = findings.get(oid)
                        if finding is None:  # its creation lies outside this moment
                            continue
                        if in_year:
                            finding.touched = True
                            if topic in listed:
                                aside(row, listed[topic], finding.index)
                        if not retroactive and effective > day:
                            continue
                        _apply(finding, topic, state, effective <= start_day)
                    elif todo == DOMAIN:
                        if in_year and topic in listed:
                            aside(row, listed[topic], -1)
                        if not retroactive and effective > day:
                            continue
                        others.apply(construct(cls, UUID(oid.decode()), version, state))
                except (KeyError, ValueError, TypeError, AttributeError) as error:
                    raise stream.undecodable(position, error, topic_bytes, plan) from None
            if not leading and not measured:  # the prefix known at known_at ends here
                tree.extend(hashes[:lead])
                log.size, log.root = tree.size, tree.root()
                measured = True
                tree.extend(hashes[lead:])
            else:
                tree.extend(hashes)
            gc.freeze()
    finally:
        if frozen == 0:
            gc.unfreeze()
    if not measured:
        log.size, log.root = tree.size, tree.root()
    if problems:
        raise IntegrityFailure(Report(store_id=log.store_id, size=tree.size,
                                      root=tree.root(), problems=problems))
    _finish_activity(log)
    return log


def _apply(f: ReviewFinding, topic: str, s: dict[str, Any], by_start: bool) -> None:
    """One admitted event of a finding, as the domain's handlers apply it; ``by_start``: it is
    effective by the day before the year began, so it counts in the status the year began
    with."""
    if topic == FollowUpRecorded.topic:
        f.rec(s["recommendation"]).deposited += s["deposit"]
    elif topic == RecommendationReviewed.topic:
        rec = f.rec(s["recommendation"])
        rec.status = _STATUS[s["status"]]
        if by_start:
            rec.status_start = rec.status
    elif topic == RecommendationReopened.topic:
        rec = f.rec(s["recommendation"])
        rec.status = Status.BS
        if by_start:
            rec.status_start = Status.BS
    elif topic == DueDateExtended.topic:
        f.rec(s["recommendation"]).due_extended = date.fromisoformat(s["due"])
    elif topic == FindingCorrected.topic:
        _corrected(f, s)
    elif topic == FindingWithdrawn.topic:
        f.withdrawn = True
    else:
        raise RuntimeError(f"the review does not know the finding event {topic}")


def _finish_activity(log: ReviewLog) -> None:
    """The activity agrees with the register: a finding counts in the period of its received
    date as corrected (as known at the moment), and a withdrawn finding's events are left out
    (in valid time it never existed), all but the withdrawal itself."""
    first, last = log.first, log.last
    topics = [cls.topic for cls in activity_kinds()]
    recorded, withdrawal = topics.index(_RECORDED), topics.index(_WITHDRAWN)
    by_index = {f.index: f for f in log.findings.values()}
    counts = [0] * len(topics)
    kept = array("q")
    for position, kind, index in zip(log.activity, log.kinds, log.about, strict=True):
        finding = by_index.get(index)
        if finding is not None:
            if kind == recorded and not first <= finding.received <= last:
                continue
            if finding.withdrawn and kind != withdrawal:
                continue
        counts[kind] += 1
        kept.append(position)
    log.activity = kept
    log.kinds, log.about = array("b"), array("l")
    log.counts = dict(zip(topics, counts, strict=True))


def activity_kinds() -> list[type[Event]]:
    """The events the activity lists and counts (named in reports/review.py)."""
    # Here, not at the top: reports/review.py builds the review from this module's fold.
    from auditlog.reports.review import ACTIVITY_KINDS

    return [cls for cls, _text in ACTIVITY_KINDS]
