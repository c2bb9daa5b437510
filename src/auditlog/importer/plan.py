"""Planning an import against the store: what is new, what is already there, what changed.

The plan is made with the same aggregates and rules as the commands (a status change is a
review checked by the finding, a follow-up is recorded by it), so an imported register is
indistinguishable from a typed one except that its events name the file and row. Nothing is
saved here: the caller saves every aggregate of the plan in one transaction, or none.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from auditlog.commands import key_holder
from auditlog.domain.aggregate import Aggregate, Context, create_new, project
from auditlog.domain.events import (
    Event,
    FollowUpRecorded,
    ReferenceAllocated,
    Source,
    Status,
)
from auditlog.domain.finding import Finding, finding_id
from auditlog.domain.pemda import Pemda, official_region, pemda_id
from auditlog.domain.references import ReferenceCounter, counter_id, format_ref
from auditlog.domain.source_file import SourceFile, source_file_id
from auditlog.errors import Refusal
from auditlog.importer.register import FindingRows, RecRow, Register, problem, rec_key
from auditlog.store.app import Store


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
CHUNK = 2000


@dataclass
class Plan:
    """What an import will record: the aggregates to save, chunk by chunk (each yielded once
    its rows are checked), and the summary and problems, complete once every chunk is."""

    chunks: Iterator[list[Aggregate]]
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
        self.counters: dict[int, ReferenceCounter] = {}
        self.findings: list[Finding] = []
        # Keys whose first id is held by a withdrawn finding: the id a new one gets instead.
        self.free_ids: dict[tuple[str, str, str], UUID] = {}
        self.file_noted = False
        # The first-generation id of each finding key of the chunk being planned.
        self.ids: dict[tuple[str, str, str], UUID] = {}

    def source(self, row: int) -> Source:
        return Source(file=self.info.name, sha256=self.info.sha256, row=row)

    def chunks(self, register: Register, size: int) -> Iterator[list[Aggregate]]:
        self.summary.rows = register.rows
        self.problems.extend(register.problems)
        self._pemdas(register.findings)
        first: list[Aggregate] = [*self.pemdas]
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
            # The counters carry on from chunk to chunk; each save takes its pending events.
            chunk = [*first, *self.counters.values(), *self.findings]
            first, self.findings = [], []
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
                    row, None, f"pemda {code} is not registered and not in the official region "
                    f"list: register it first with 'auditlog pemda register {code} --name NAME "
                    "--level LEVEL'"))
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
        new = rows.new
        the_id = self.free_ids.get(rows.key) or self.ids[rows.key]
        year = new.received.year
        counter = self.counters.get(year)
        if counter is None:
            stored = self.store.get(counter_id(year))
            counter = stored if isinstance(stored, ReferenceCounter) else None
        if counter is None:
            ref = format_ref(year, 1)
            counter = create_new(ReferenceCounter, self.ctx, counter_id(year), new.received,
                                 ref=ref, finding_id=the_id)
        else:
            ref = counter.next_ref()
            counter.trigger(self.ctx, ReferenceAllocated, new.received, ref=ref,
                            finding_id=the_id)
        self.counters[year] = counter
        finding = create_new(
            Finding, self.ctx, the_id, new.received, ref=ref, pemda=new.pemda, title=new.title,
            opd=new.opd, report=new.report, issued=new.issued, received=new.received,
            instrument=new.instrument, year=new.year, condition=new.condition,
            criteria=new.criteria, cause=new.cause, effect=new.effect, code=new.code,
            value=new.value, recommendations=tuple(new.recommendations),
            source=self.source(rows.row),
        )
        self.summary.new_findings += 1
        self.summary.new_recommendations += len(rows.recs)
        for rec in rows.recs:
            self._activity(finding, rec.spec.n, rec, set(), new_finding=True)
        self.findings.append(finding)

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
                    rec.row, None, f"{finding.ref} is already recorded without this "
                    "recommendation, and a recorded finding gets no new ones: correct the text "
                    f"to one of {finding.ref}'s recommendations, or record it as a new finding"))
                continue
            changed |= self._activity(finding, n, rec, done.get(n, set()), new_finding=False)
        if changed:
            self.findings.append(finding)

    def _activity(self, finding: Finding, n: int, rec: RecRow, done: set[tuple[str, int]],
                  *, new_finding: bool) -> bool:
        """The row's follow-up and status onto recommendation n; True if anything is new."""
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
                    if new_finding:
                        self.summary.new_followups += 1
                    else:
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
                if new_finding:
                    self.summary.new_reviews += 1
                else:
                    self.summary.changed_reviews += 1
            elif not new_finding and not changed:
                self.summary.unchanged_recommendations += 1
        except Refusal as refusal:
            self.problems.append(problem(rec.row, None, str(refusal)))
        return changed
