"""What auditors record: each function reads fresh state, checks the rules, and saves events.

The CLI parses text into the arguments here; everything here works on parsed values, so scripts
and importers can call it directly.
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import TypeVar
from uuid import UUID

from auditlog.domain.aggregate import Aggregate, Context, create_new
from auditlog.domain.events import Evidence, RecommendationSpec, ReferenceAllocated, Status
from auditlog.domain.finding import Finding, finding_id
from auditlog.domain.finding_key import FindingKey
from auditlog.domain.grades import GradeSeries, Rule, decide_grade, series_id
from auditlog.domain.pemda import Pemda, pemda_id, resolve_identity
from auditlog.domain.references import ReferenceCounter, counter_id, format_ref
from auditlog.errors import Refusal
from auditlog.i18n import _
from auditlog.store.app import Store
from auditlog.store.evidence import check_size, open_vault

T = TypeVar("T")


def bulk(store: Store, work: Callable[[Store], T]) -> T:
    """Many commands saved as one transaction (see ``Store.bulk``), then the persisted
    projections caught up in the same run, so the next reading command finds them current.

    ``work`` gets a Store to pass to the functions of this module; reads inside it see what
    earlier commands of the same work decided. A Refusal anywhere writes nothing. This is the
    path for importers and for copying a log::

        commands.bulk(store, lambda batch: [record_finding(batch, ctx, new) for new in rows])
    """
    from auditlog.projections.persisted import Projection  # only bulk callers pay for it

    result = store.bulk(work)
    projection = Projection(store)
    try:
        projection.catch_up()
    finally:
        projection.close()
    return result


def register_pemda(store: Store, ctx: Context, code: str, name: str | None,
                   level: str | None, on: date) -> Pemda:
    resolved_name, resolved_level = resolve_identity(code, name, level)

    def decide() -> Sequence[Aggregate]:
        if store.get(pemda_id(code)) is not None:
            raise Refusal(_("pemda {code} is already registered: 'auditlog pemda list' shows "
                            "it").format(code=code))
        return [create_new(Pemda, ctx, pemda_id(code), on, code=code, name=resolved_name,
                           level=resolved_level)]

    return store.command(decide)[0]  # type: ignore[no-any-return]


def require_pemda(store: Store, code: str) -> Pemda:
    pemda = store.get(pemda_id(code))
    if not isinstance(pemda, Pemda):
        raise Refusal(_("pemda {code} is not registered: register it first with 'auditlog "
                        "pemda register {code}'").format(code=code))
    return pemda


def key_holder(store: Store, pemda: str, report: str | None, title: str,
               me: UUID | None = None) -> tuple[UUID, Finding | FindingKey | None]:
    """Where a pemda/report/title key lives: (the id, what holds it there, None if free).

    A withdrawn finding never existed, so a key it holds (as its own id or as a claimed
    FindingKey) is free: the next generation of the key is tried, until a free id or one
    held by an active finding (`me`, when given, counts as the holder it is) is found.
    """
    for generation in count(1):
        the_id = finding_id(pemda, report, title, generation)
        if not store.head_version(the_id):  # the usual case, a free key: an index lookup
            return the_id, None
        there = store.get(the_id)
        if there is None:
            return the_id, None
        assert isinstance(there, Finding | FindingKey), there
        if isinstance(there, FindingKey):
            if there.finding_id == me:
                return the_id, there
            holder = store.get(there.finding_id)
        else:
            holder = there
        if there.id == me or not (isinstance(holder, Finding) and holder.withdrawn):
            return the_id, there
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class NewFinding:
    pemda: str
    title: str
    received: date
    recommendations: list[RecommendationSpec]
    opd: str | None = None
    report: str | None = None
    issued: date | None = None
    instrument: str | None = None
    year: int | None = None
    condition: str | None = None
    criteria: str | None = None
    cause: str | None = None
    effect: str | None = None
    code: str | None = None
    value: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


def check_new_finding(new: NewFinding) -> None:
    """The rules a new finding must meet on its own, before the store is asked anything."""
    if not new.recommendations:
        raise Refusal(_("a finding needs at least one --recommendation TEXT"))
    if new.issued is not None and new.received < new.issued:
        raise Refusal(_("received date {received} is before the issue date {issued}: a "
                        "report is received on or after it is issued").format(
                          received=new.received, issued=new.issued))
    for spec in new.recommendations:
        if spec.due is not None and spec.due < new.received:
            raise Refusal(_("due date {due} is before the received date {received}: give a "
                            "due date on or after it").format(
                              due=spec.due, received=new.received))


def record_finding(store: Store, ctx: Context, new: NewFinding) -> Finding:
    require_pemda(store, new.pemda)
    check_new_finding(new)
    year = new.received.year

    def decide() -> Sequence[Aggregate]:
        the_id, existing = key_holder(store, new.pemda, new.report, new.title)
        if existing is not None:
            raise Refusal(_("this finding is already recorded as {ref} (same pemda, report "
                            "number and title): use 'auditlog finding correct' to change "
                            "it").format(ref=existing.ref))
        allocated = store.head_version(counter_id(year))
        if allocated:
            counter = ReferenceCounter.at(year, allocated)
            ref = counter.next_ref()
            counter.trigger(ctx, ReferenceAllocated, new.received, ref=ref, finding_id=the_id)
        else:
            ref = format_ref(year, 1)
            counter = create_new(ReferenceCounter, ctx, counter_id(year), new.received,
                                 ref=ref, finding_id=the_id)
        finding = create_new(
            Finding, ctx, the_id, new.received, ref=ref, pemda=new.pemda, title=new.title,
            opd=new.opd, report=new.report, issued=new.issued, received=new.received,
            instrument=new.instrument, year=new.year, condition=new.condition,
            criteria=new.criteria, cause=new.cause, effect=new.effect, code=new.code,
            value=new.value, recommendations=tuple(new.recommendations),
        )
        return [counter, finding]

    return store.command(decide)[1]  # type: ignore[no-any-return]


def fingerprint(path: str) -> Evidence:
    """Evidence is fingerprinted, never copied: SHA-256 of the bytes, the name and size."""
    file = Path(path)
    if not file.is_file():
        raise Refusal(_("evidence file {path} does not exist or is not a file: give the path "
                        "of an existing file").format(path=path))
    digest = hashlib.sha256()
    size = 0
    try:
        with file.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    except OSError as error:  # /proc/self/mem, a file gone meanwhile, no permission
        raise Refusal(_("cannot read evidence file {path!r}: {strerror}").format(
            path=path, strerror=error.strerror or error)) from None
    return Evidence(name=file.name, sha256=digest.hexdigest(), size=size)


def _on_recommendation(store: Store, ref: str) -> tuple[Finding, int]:
    finding, n = store.finding(ref)
    if n is None:
        raise Refusal(_("{ref} names a finding, not a recommendation: use {ref2}.1, {ref2}.2 "
                        "...").format(ref=ref, ref2=finding.ref))
    finding.recommendation(n)
    return finding, n


def record_followup(store: Store, ctx: Context, ref: str, on: date, action: str, deposit: int,
                    slip: str | None, evidence_paths: Sequence[str], keep: bool = False
                    ) -> Finding:
    """With keep, the evidence bytes are kept too: after the domain accepted the follow-up and
    before it is saved, so a refused follow-up keeps nothing. (Should a concurrent writer make
    the save itself fail, a kept file stays uncited: content-addressed, it is reused by the
    next follow-up that cites it.)"""
    evidence = tuple(fingerprint(p) for p in evidence_paths)
    if keep:
        for path, item in zip(evidence_paths, evidence, strict=True):
            check_size(Path(path), item.size)

    def decide() -> Sequence[Aggregate]:
        finding, n = _on_recommendation(store, ref)
        finding.record_followup(ctx, n, on, action, deposit, slip, evidence)
        return [finding]

    if keep:
        # Refuses now, before any byte is kept, what the save would refuse; on a copy, since
        # a bulk batch hands out the very aggregate the real decision will change.
        finding, n = _on_recommendation(store, ref)
        finding.model_copy(deep=True).record_followup(ctx, n, on, action, deposit, slip,
                                                      evidence)
        vault = open_vault(store)
        try:
            for path, item in zip(evidence_paths, evidence, strict=True):
                vault.keep(Path(path), item.sha256, item.size)
        finally:
            vault.close()
    return store.command(decide)[0]  # type: ignore[no-any-return]


def review(store: Store, ctx: Context, ref: str, status: Status, reason: str,
           on: date) -> Finding:
    def decide() -> Sequence[Aggregate]:
        finding, n = _on_recommendation(store, ref)
        finding.review(ctx, n, status, reason, on)
        return [finding]

    return store.command(decide)[0]  # type: ignore[no-any-return]


def reopen(store: Store, ctx: Context, ref: str, reason: str, on: date) -> Finding:
    def decide() -> Sequence[Aggregate]:
        finding, n = _on_recommendation(store, ref)
        finding.reopen(ctx, n, reason, on)
        return [finding]

    return store.command(decide)[0]  # type: ignore[no-any-return]


def extend(store: Store, ctx: Context, ref: str, due: date, reason: str, on: date) -> Finding:
    def decide() -> Sequence[Aggregate]:
        finding, n = _on_recommendation(store, ref)
        finding.extend(ctx, n, due, reason, on)
        return [finding]

    return store.command(decide)[0]  # type: ignore[no-any-return]


def correct(store: Store, ctx: Context, ref: str, field_name: str, value: str, reason: str,
            on: date) -> Finding:
    def decide() -> Sequence[Aggregate]:
        finding, n = store.finding(ref)
        finding.correct(ctx, field_name, value, reason, on, n)
        if n is None and field_name in ("title", "report"):
            # pemda, report number and title identify a finding: a correction must not make
            # this one the same as another, and claims the new key so it cannot be recorded
            # again under it
            key, other = key_holder(store, finding.pemda, finding.report, finding.title,
                                    finding.id)
            holder = other.id if isinstance(other, Finding) else (
                other.finding_id if isinstance(other, FindingKey) else None)
            if holder is not None and holder != finding.id:
                assert isinstance(other, Finding | FindingKey)
                raise Refusal(_("with this {field_name}, {ref} would be the same finding as "
                                "{ref2} (same pemda, report number and title): give a "
                                "{field_name} that tells them apart").format(
                                  field_name=field_name, ref=finding.ref, ref2=other.ref))
            if other is None:
                return [finding, create_new(FindingKey, ctx, key, on, finding_id=finding.id,
                                            ref=finding.ref)]
        return [finding]

    return store.command(decide)[0]  # type: ignore[no-any-return]


def withdraw(store: Store, ctx: Context, ref: str, reason: str, on: date) -> Finding:
    def decide() -> Sequence[Aggregate]:
        finding, n = store.finding(ref)
        if n is not None:
            raise Refusal(_("withdraw takes a finding, not a recommendation: use {ref}").format(
                              ref=finding.ref))
        finding.withdraw(ctx, reason, on)
        return [finding]

    return store.command(decide)[0]  # type: ignore[no-any-return]


def named_findings(store: Store, pemda: str, refs: Sequence[str],
                   withdrawn: Callable[[str], str],
                   elsewhere: Callable[[str, str], str]) -> tuple[str, ...]:
    """Findings or recommendations named by another record (a grade's causes, a commitment's
    answers): each must exist, be about ``pemda`` and not be withdrawn. Given back in their
    normal form, each once; the refusals are the caller's (``withdrawn(ref)``,
    ``elsewhere(ref, its pemda)``)."""
    normal: list[str] = []
    for ref in refs:
        finding, n = store.finding(ref)
        if finding.withdrawn:
            raise Refusal(withdrawn(finding.ref))
        if finding.pemda != pemda:
            raise Refusal(elsewhere(finding.ref, finding.pemda))
        if n is not None:
            finding.recommendation(n)
        normal.append(finding.ref if n is None else f"{finding.ref}.{n}")
    return tuple(dict.fromkeys(normal))


def check_because(store: Store, pemda: str, refs: Sequence[str]) -> tuple[str, ...]:
    """Each cause named by a grade must exist, belong to the pemda and not be withdrawn."""
    return named_findings(
        store, pemda, refs,
        lambda ref: _("{ref} was withdrawn: it cannot be named as a cause").format(ref=ref),
        lambda ref, its: _("{ref} is a finding about {pemda}, not {pemda2}: name findings "
                           "of the graded pemda").format(ref=ref, pemda=its, pemda2=pemda))


def record_grade(store: Store, ctx: Context, pemda: str, instrument: str, year: int,
                 rule: Rule, grade: str | None, score: Decimal | None,
                 because: Sequence[str], on: date, correction: str | None) -> GradeSeries:
    require_pemda(store, pemda)
    decided, kept_score = decide_grade(instrument, rule, grade, score)
    causes = check_because(store, pemda, because)
    the_id = series_id(pemda, instrument)

    def decide() -> Sequence[Aggregate]:
        series = store.get(the_id)
        if correction is not None:
            if not isinstance(series, GradeSeries):
                raise Refusal(_("{pemda} has no {instrument} grade for {year} to correct: "
                                "record it without --correct").format(
                                  pemda=pemda, instrument=instrument, year=year))
            held = series.years.get(year)
            # A correction of the grade keeps what produced it unless --because says again.
            kept = causes or (held.because if held is not None else ())
            series.correct(ctx, year, decided, kept_score, rule.version, kept, correction, on)
            return [series]
        if isinstance(series, GradeSeries):
            series.record(ctx, year, decided, kept_score, rule.version, causes, on)
            return [series]
        return [create_new(GradeSeries, ctx, the_id, on, pemda=pemda,
                           instrument=instrument, year=year, grade=decided, score=kept_score,
                           rule=rule.version, because=causes)]

    return store.command(decide)[0]  # type: ignore[no-any-return]
