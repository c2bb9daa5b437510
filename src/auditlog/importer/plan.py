"""Planning an import against the store: what is new, what is already there, what changed.

The plan is made with the same rules as the commands (a status change is a review checked as
the finding checks it, a follow-up is recorded as it records it), so an imported register is
indistinguishable from a typed one except that its events name the file and row. Nothing is
saved here: the caller saves every aggregate of the plan in one transaction, or none.

A finding already in the store is planned through its aggregate, as a command would. A new
one, most of a first import, is planned without building its aggregate and pydantic events
(which cost more than everything else an import does): its events are written straight in
their stored form (store.mapper.Rows) after the same checks, by the domain's own functions.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from auditlog.commands import key_holder
from auditlog.domain.aggregate import Aggregate, Context, create_new, project
from auditlog.domain.events import (
    Event,
    FindingRecorded,
    FollowUpRecorded,
    RecommendationReviewed,
    ReferenceAllocated,
    Source,
    Status,
)
from auditlog.domain.finding import Finding, finding_id, require_received_by
from auditlog.domain.inputs import require_text
from auditlog.domain.pemda import Pemda, pemda_id
from auditlog.domain.recommendation import check_review
from auditlog.domain.references import counter_id, format_ref
from auditlog.domain.source_file import SourceFile, source_file_id
from auditlog.errors import Refusal
from auditlog.i18n import _
from auditlog.importer.regions import official_region
from auditlog.importer.register import FindingRows, RecRow, Register, problem, rec_key
from auditlog.store.app import Pending, Store
from auditlog.store.mapper import Rows


@dataclass(frozen=True)
class FileInfo:
    name: str
    sha256: str
    size: int
    sheet: str | None


@dataclass
class Summary:
    rows: int = 0
    pemda_registered: list[str] = field(default_factory=list)
    new_findings: int = 0
    new_recommendations: int = 0
    new_followups: int = 0
    new_reviews: int = 0
    findings_there: int = 0
    followups_there: int = 0
    unchanged_recommendations: int = 0
    changed_followups: int = 0
    changed_reviews: int = 0
    supplied_followup_dates: int = 0
    supplied_review_dates: int = 0

    @property
    def events_new(self) -> bool:
        return bool(self.pemda_registered or self.new_findings or self.changed_followups
                    or self.changed_reviews)


# Findings planned (and saved) together: memory follows a chunk, not the whole register.
CHUNK = 500


@dataclass
class Plan:
    """What an import will record: the aggregates to save, chunk by chunk (each yielded once
    its rows are checked), and the summary and problems, complete once every chunk is."""

    chunks: Iterator[list[Pending]]
    summary: Summary
    problems: list[str]


def plan_import(store: Store, ctx: Context, register: Register, info: FileInfo, today: date,
                tick: Callable[[int], None] | None = None, chunk: int | None = None) -> Plan:
    planner = _Planner(store, ctx, info, today, tick)
    return Plan(chunks=planner.chunks(register, chunk or CHUNK), summary=planner.summary,
                problems=planner.problems)


class _Planner:
    def __init__(self, store: Store, ctx: Context, info: FileInfo, today: date,
                 tick: Callable[[int], None] | None) -> None:
        self.store, self.ctx, self.info, self.today, self.tick = store, ctx, info, today, tick
        self.summary = Summary()
        self.problems: list[str] = []
        self.pemdas: list[Aggregate] = []
        # Each year's reference counter: its version once this plan's allocations are saved
        # (in the order the years came, which is the order their allocations are saved in),
        # and the allocations of the chunk being planned.
        self.counters: dict[int, int] = {}
        self.allocations: dict[int, Rows] = {}
        self.counter_ids: dict[int, UUID] = {}
        self.findings: list[Pending] = []
        self.source_json = {"file": info.name, "sha256": info.sha256}
        # Keys whose first id is held by a withdrawn finding: the id a new one gets instead.
        self.free_ids: dict[tuple[str, str, str], UUID] = {}
        self.file_noted = False
        # The first-generation id of each finding key of the chunk being planned.
        self.ids: dict[tuple[str, str, str], UUID] = {}
        # What the checks of every new row call what they check (translated once, not per row).
        self.words = {"followup": _("follow-up"), "review": _("review"),
                      "reason": _("the reason of a review")}

    def source(self, row: int) -> Source:
        return Source(file=self.info.name, sha256=self.info.sha256, row=row)

    def chunks(self, register: Register, size: int) -> Iterator[list[Pending]]:
        self.summary.rows = register.rows
        self.problems.extend(register.problems)
        self._pemdas(register.findings)
        first: list[Pending] = [*self.pemdas]
        for start in range(0, len(register.findings), size):
            part = register.findings[start:start + size]
            existing = self._existing(part)
            for rows in part:
                found = existing.get(rows.key)
                if found is None:
                    self._new_finding(rows)
                else:
                    self._known_finding(rows, *found)
                if self.tick is not None:
                    self.tick(len(rows.recs))
            # The counters carry on from chunk to chunk; each save takes its allocations.
            allocations = [self.allocations[y] for y in self.counters if y in self.allocations]
            chunk = [*first, *allocations, *self.findings]
            first, self.findings, self.allocations = [], [], {}
            if self.summary.events_new and not self.file_noted:
                # Recorded with the first chunk that records anything, once per file.
                self.file_noted = True
                if self.store.get(source_file_id(self.info.sha256)) is None:
                    chunk.insert(0, create_new(
                        SourceFile, self.ctx, source_file_id(self.info.sha256), self.today,
                        name=self.info.name, sha256=self.info.sha256, size=self.info.size,
                        sheet=self.info.sheet, rows=register.rows))
            yield chunk

    # --- pemda -----------------------------------------------------------------------------

    def _pemdas(self, findings: Sequence[FindingRows]) -> None:
        first_row: dict[str, int] = {}
        for rows in findings:
            first_row.setdefault(rows.new.pemda, rows.row)
        for code, row in first_row.items():
            if self.store.get(pemda_id(code)) is not None:
                continue
            official = official_region(code)
            if official is None:
                self.problems.append(problem(
                    row, None, _("pemda {code} is not registered and not in the "
                                 "official region list: register it first with "
                                 "'auditlog pemda register {code} --name NAME --level "
                                 "LEVEL'").format(
                        code=code)))
                continue
            name, level = official
            self.pemdas.append(create_new(Pemda, self.ctx, pemda_id(code), self.today, code=code,
                                          name=name, level=level, source=self.source(row)))
            self.summary.pemda_registered.append(f"{code} {name}")

    # --- findings --------------------------------------------------------------------------

    def _existing(self, findings: Sequence[FindingRows]
                  ) -> dict[tuple[str, str, str], tuple[Finding, list[Event]]]:
        """The findings of the register already in the store, with their events, read in a few
        queries (not one per finding) since most of a first import is new."""
        ids = {finding_id(r.new.pemda, r.new.report, r.new.title): r for r in findings}
        self.ids = {r.key: the_id for the_id, r in ids.items()}
        there = self.store.events_of_many(list(ids))
        found: dict[tuple[str, str, str], tuple[Finding, list[Event]]] = {}
        for the_id, events in there.items():
            if not events:
                continue
            rows = ids[the_id]
            aggregate = project(None, events)
            if not isinstance(aggregate, Finding) or aggregate.withdrawn:
                # A key claimed by a correction, or freed by a withdrawal: ask as the command
                # does, generation by generation.
                free, holder = key_holder(self.store, rows.new.pemda, rows.new.report,
                                          rows.new.title)
                if holder is None:
                    self.free_ids[rows.key] = free
                    continue
                holder_id = holder.id if isinstance(holder, Finding) else holder.finding_id
                events = self.store.events_of(holder_id)
                aggregate = project(None, events)
                assert isinstance(aggregate, Finding)
            found[rows.key] = (aggregate, events)
        return found

    def _new_finding(self, rows: FindingRows) -> None:
        """What record_finding records (a reference allocated, the finding), then the rows'
        follow-ups and reviews, checked as Finding.record_followup and Finding.review check
        them on a finding that has nothing else yet."""
        new = rows.new
        the_id = self.free_ids.get(rows.key) or self.ids[rows.key]
        year = new.received.year
        counter = self.counter_ids.get(year)
        if counter is None:
            counter = self.counter_ids[year] = counter_id(year)
        version = self.counters.get(year)
        if version is None:
            version = self.store.head_version(counter)
        version += 1
        self.counters[year] = version
        ref = format_ref(year, version)
        allocations = self.allocations.get(year)
        if allocations is None:
            allocations = self.allocations[year] = Rows(self.ctx.at)
        actor = self.ctx.actor
        allocations.add(ReferenceAllocated, counter, version, actor, new.received,
                        {"ref": ref, "finding_id": str(the_id)})
        last = self.findings[-1] if self.findings else None
        out = last if isinstance(last, Rows) else Rows(self.ctx.at)
        if out is not last:
            self.findings.append(out)
        out.add(FindingRecorded, the_id, 1, actor, new.received, {
            "ref": ref, "pemda": new.pemda, "title": new.title, "opd": new.opd,
            "report": new.report, "issued": _iso(new.issued),
            "received": new.received.isoformat(), "instrument": new.instrument,
            "year": new.year, "condition": new.condition, "criteria": new.criteria,
            "cause": new.cause, "effect": new.effect, "code": new.code, "value": new.value,
            "recommendations": [{"n": r.n, "text": r.text, "code": r.code, "value": r.value,
                                 "due": _iso(r.due)} for r in new.recommendations],
            "source": self._source(rows.row)})
        self.summary.new_findings += 1
        self.summary.new_recommendations += len(rows.recs)
        version = 1
        for rec in rows.recs:
            version = self._new_activity(out, the_id, version, ref, new.received, rec)

    def _new_activity(self, out: Rows, the_id: UUID, version: int, ref: str, received: date,
                      rec: RecRow) -> int:
        """A row's follow-up and status onto recommendation rec.spec.n of a finding recorded
        in this plan (status BD, no status change yet, nothing followed up): the finding's
        version after them."""
        n = rec.spec.n
        try:
            if rec.followup is not None:
                on = rec.followup.on
                if on is None:
                    on = self.today
                    self.summary.supplied_followup_dates += 1
                require_received_by(ref, received, on, self.words["followup"])
                version += 1
                out.add(FollowUpRecorded, the_id, version, self.ctx.actor, on, {
                    "recommendation": n, "action": rec.followup.action,
                    "deposit": rec.followup.deposit, "slip": rec.followup.slip,
                    "evidence": [], "source": self._source(rec.row)})
                self.summary.new_followups += 1
            if rec.status is not Status.BD:
                on = rec.reviewed_on
                if on is None:
                    on = self.today
                    self.summary.supplied_review_dates += 1
                reason = require_text(rec.reason or f"imported from {self.info.name}, row "
                                      f"{rec.row}", what=self.words["reason"])
                require_received_by(ref, received, on, self.words["review"])
                check_review(f"{ref}.{n}", Status.BD, rec.status)
                version += 1
                out.add(RecommendationReviewed, the_id, version, self.ctx.actor, on, {
                    "recommendation": n, "previous": Status.BD.value,
                    "status": rec.status.value, "reason": reason,
                    "source": self._source(rec.row)})
                self.summary.new_reviews += 1
        except Refusal as refusal:
            self.problems.append(problem(rec.row, None, str(refusal)))
        return version

    def _source(self, row: int) -> dict[str, object]:
        return {**self.source_json, "row": row}

    def _known_finding(self, rows: FindingRows, finding: Finding, events: list[Event]) -> None:
        self.summary.findings_there += 1
        numbers = {rec_key(r.text): r.n for r in finding.recommendations}
        done: dict[int, set[tuple[str, int]]] = {}
        for event in events:
            if isinstance(event, FollowUpRecorded):
                done.setdefault(event.recommendation, set()).add(
                    (rec_key(event.action), event.deposit))
        changed = False
        for rec in rows.recs:
            n = numbers.get(rec_key(rec.spec.text))
            if n is None:
                self.problems.append(problem(
                    rec.row, None, _("{ref} is already recorded without this "
                                     "recommendation, and a recorded finding gets no "
                                     "new ones: correct the text to one of {ref}'s "
                                     "recommendations, or record it as a new finding").format(
                        ref=finding.ref)))
                continue
            changed |= self._activity(finding, n, rec, done.get(n, set()))
        if changed:
            self.findings.append(finding)

    def _activity(self, finding: Finding, n: int, rec: RecRow, done: set[tuple[str, int]]
                  ) -> bool:
        """The row's follow-up and status onto recommendation n of a finding already in the
        store; True if anything is new."""
        changed = False
        try:
            if rec.followup is not None:
                key = (rec_key(rec.followup.action), rec.followup.deposit)
                if key in done:
                    self.summary.followups_there += 1
                else:
                    on = rec.followup.on
                    if on is None:
                        on = self.today
                        self.summary.supplied_followup_dates += 1
                    finding.record_followup(self.ctx, n, on, rec.followup.action,
                                            rec.followup.deposit, rec.followup.slip, (),
                                            source=self.source(rec.row))
                    changed = True
                    self.summary.changed_followups += 1
            current = finding.recommendation(n).status
            # BD is where every recommendation starts; a register still saying BD of one the
            # store has moved on is behind the store, not a change.
            if rec.status is not Status.BD and rec.status is not current:
                on = rec.reviewed_on
                if on is None:
                    on = self.today
                    self.summary.supplied_review_dates += 1
                reason = rec.reason or f"imported from {self.info.name}, row {rec.row}"
                finding.review(self.ctx, n, rec.status, reason, on, source=self.source(rec.row))
                changed = True
                self.summary.changed_reviews += 1
            elif not changed:
                self.summary.unchanged_recommendations += 1
        except Refusal as refusal:
            self.problems.append(problem(rec.row, None, str(refusal)))
        return changed


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
