"""What auditors record about commitments (komitmen): each function reads fresh state, checks
the rules, and saves events, as commands.py does for findings."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from auditlog.commands import fingerprint, named_findings, require_pemda
from auditlog.domain.aggregate import Aggregate, Context, create_new, natural_id
from auditlog.domain.commitment import (
    Commitment,
    CommitmentCounter,
    ThemeRegistry,
    all_themes,
    check_deadline,
    check_indicator,
    check_new_theme,
    commitment_counter_id,
    format_commitment_ref,
    parse_commitment_ref,
    require_theme,
    themes_id,
)
from auditlog.domain.events import CommitmentReferenceAllocated, CommitmentStatus
from auditlog.domain.inputs import require_text
from auditlog.errors import Refusal
from auditlog.i18n import _
from auditlog.store.app import Store


def theme_registry(store: Store) -> ThemeRegistry | None:
    registry = store.get(themes_id())
    assert registry is None or isinstance(registry, ThemeRegistry)
    return registry


def themes(store: Store) -> dict[str, str]:
    """Code -> Indonesian name: the four defaults, then the store's own."""
    return all_themes(theme_registry(store))


def add_theme(store: Store, ctx: Context, code: str, name: str, on: date) -> dict[str, str]:
    name = require_text(name, what="--name")

    def decide() -> Sequence[Aggregate]:
        registry = theme_registry(store)
        if registry is None:
            check_new_theme({}, code, name)
            return [create_new(ThemeRegistry, ctx, themes_id(), on, code=code, name=name)]
        registry.add(ctx, code, name, on)
        return [registry]

    store.command(decide)
    return themes(store)


def commitment_id(pemda: str, opd: str, theme: str, text: str) -> UUID:
    """The same promise of the same OPD on the same theme is the same commitment, however the
    text is spaced or cased: recording it again is refused."""
    return natural_id("commitment", pemda, " ".join(opd.casefold().split()), theme,
                      " ".join(text.casefold().split()))


@dataclass
class NewCommitment:
    pemda: str
    opd: str
    theme: str
    text: str
    owner: str
    by: date
    on: date
    indicator: str | None = None
    unit: str | None = None
    baseline: Decimal | None = None
    target: Decimal | None = None
    answers: tuple[str, ...] = ()


def check_answers(store: Store, pemda: str, refs: Sequence[str]) -> tuple[str, ...]:
    """Each finding or recommendation a commitment answers must exist in the store, be about
    the same pemda and not be withdrawn."""
    return named_findings(
        store, pemda, refs,
        lambda ref: _("{ref} was withdrawn: a commitment cannot answer it").format(ref=ref),
        lambda ref, its: _("{ref} is a finding about {pemda}, not {given}: a commitment "
                           "answers findings of its own pemda").format(
            ref=ref, pemda=its, given=pemda))


def record_commitment(store: Store, ctx: Context, new: NewCommitment) -> Commitment:
    require_pemda(store, new.pemda)
    theme = require_theme(themes(store), new.theme)
    check_indicator(new.indicator, new.unit, new.baseline, new.target)
    check_deadline(new.on, new.by)
    answers = check_answers(store, new.pemda, new.answers)
    the_id = commitment_id(new.pemda, new.opd, theme, new.text)
    year = new.on.year

    def decide() -> Sequence[Aggregate]:
        if store.head_version(the_id):  # the usual case, a new commitment: an index lookup
            existing = store.get(the_id)
            assert isinstance(existing, Commitment)
            raise Refusal(_("this commitment is already recorded as {ref} (same pemda, "
                            "OPD, theme and text): record its progress or review it "
                            "instead").format(
                ref=existing.ref))
        allocated = store.head_version(commitment_counter_id(year))
        if allocated:
            counter = CommitmentCounter.at(year, allocated)
            ref = counter.next_ref()
            counter.trigger(ctx, CommitmentReferenceAllocated, new.on, ref=ref,
                            commitment_id=the_id)
        else:
            ref = format_commitment_ref(year, 1)
            counter = create_new(CommitmentCounter, ctx, commitment_counter_id(year), new.on,
                                 ref=ref, commitment_id=the_id)
        commitment = create_new(
            Commitment, ctx, the_id, new.on, ref=ref, pemda=new.pemda, opd=new.opd,
            theme=theme, text=new.text, owner=new.owner, indicator=new.indicator,
            unit=new.unit, baseline=new.baseline, target=new.target, by=new.by,
            answers=answers)
        return [counter, commitment]

    return store.command(decide)[1]  # type: ignore[no-any-return]


def commitment_id_of(store: Store, ref: str) -> tuple[UUID, str]:
    """Resolve K-2023-0007 to (the commitment's id, its reference as stored)."""
    year, number = parse_commitment_ref(ref)
    allocated = list(store.app.events.get(commitment_counter_id(year), gt=number - 1,
                                          lte=number))
    if not allocated:
        raise Refusal(_("no commitment {ref} in this store: 'auditlog commitment list' "
                        "shows the references").format(
            ref=ref.strip().upper()))
    event = allocated[0]
    assert isinstance(event, CommitmentReferenceAllocated)
    return event.commitment_id, event.ref


def get_commitment(store: Store, ref: str) -> Commitment:
    the_id, stored_ref = commitment_id_of(store, ref)
    commitment = store.get(the_id)
    if not isinstance(commitment, Commitment):
        raise Refusal(_("no commitment {ref} in this store").format(ref=stored_ref))
    return commitment


def record_progress(store: Store, ctx: Context, ref: str, on: date, value: Decimal | None,
                    note: str | None, evidence_paths: Sequence[str]) -> Commitment:
    evidence = tuple(fingerprint(p) for p in evidence_paths)

    def decide() -> Sequence[Aggregate]:
        commitment = get_commitment(store, ref)
        commitment.record_progress(ctx, on, value, note, evidence)
        return [commitment]

    return store.command(decide)[0]  # type: ignore[no-any-return]


def review(store: Store, ctx: Context, ref: str, status: CommitmentStatus, reason: str,
           on: date) -> Commitment:
    def decide() -> Sequence[Aggregate]:
        commitment = get_commitment(store, ref)
        commitment.review(ctx, status, reason, on)
        return [commitment]

    return store.command(decide)[0]  # type: ignore[no-any-return]


def reopen(store: Store, ctx: Context, ref: str, reason: str, on: date) -> Commitment:
    def decide() -> Sequence[Aggregate]:
        commitment = get_commitment(store, ref)
        commitment.reopen(ctx, reason, on)
        return [commitment]

    return store.command(decide)[0]  # type: ignore[no-any-return]
