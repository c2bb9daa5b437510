"""A commitment (komitmen / rencana aksi): what an OPD promised for a theme, who carries it
out, its indicator from baseline to target, the realisations reported and the Inspektorat's
review. One commitment is one consistency boundary: its date order and status are checked here.
"""

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, Self
from uuid import UUID

from pydantic import BaseModel, Field

from auditlog.domain.aggregate import Aggregate, Context, handles, natural_id, register_aggregate
from auditlog.domain.events import (
    CommitmentProgressRecorded,
    CommitmentRecorded,
    CommitmentReferenceAllocated,
    CommitmentReopened,
    CommitmentReviewed,
    CommitmentStatus,
    CommitmentThemeAdded,
    Event,
    Evidence,
)
from auditlog.domain.inputs import require_text
from auditlog.errors import Refusal
from auditlog.i18n import N_, _

# --- themes ------------------------------------------------------------------------------------

# The four targets of the seed (RB Tematik as the Kota Malang workshop named them). Codes are
# stable: stored events name them, so a code is never renamed or reused for another theme.
DEFAULT_THEMES: dict[str, str] = {
    "kemiskinan-ekstrem": "penurunan kemiskinan ekstrem",
    "digitalisasi-pelayanan": "digitalisasi pelayanan publik",
    "stunting": "penurunan stunting",
    "investasi": "pertumbuhan investasi",
}
_THEME_CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", re.ASCII)
THEME_CODE_FORMS = N_("lower-case letters and digits joined by hyphens, e.g. reformasi-birokrasi")
MAX_THEME_CODE = 40


def themes_id() -> UUID:
    return natural_id("commitment-themes")


def normalise_theme_code(text: str) -> str:
    code = text.strip().lower()
    if not _THEME_CODE.match(code) or len(code) > MAX_THEME_CODE:
        raise Refusal(_("theme code {text!r} is not valid: use {theme_code_forms} (at "
                        "most {max_theme_code} characters)").format(
            text=text, theme_code_forms=_(THEME_CODE_FORMS), max_theme_code=MAX_THEME_CODE))
    return code


@register_aggregate
class ThemeRegistry(Aggregate):
    """The themes a store added to the defaults: one small aggregate, since themes are few and a
    new one must be checked against all the others at once."""

    creation_event = CommitmentThemeAdded

    added: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_creation(cls, event: Event) -> Self:
        assert isinstance(event, CommitmentThemeAdded)
        registry = cls(id=event.originator_id)
        registry.apply(event)
        return registry

    def add(self, ctx: Context, code: str, name: str, on: date) -> None:
        check_new_theme(self.added, code, name)
        self.trigger(ctx, CommitmentThemeAdded, on, code=code, name=name)


def check_new_theme(added: dict[str, str], code: str, name: str) -> None:
    known = {**DEFAULT_THEMES, **added}
    if code in known:
        raise Refusal(_("theme {code} already exists ({known}): a theme is never "
                        "renamed; add a new one under another code").format(
            code=code, known=known[code]))
    for other, other_name in known.items():
        if " ".join(other_name.casefold().split()) == " ".join(name.casefold().split()):
            raise Refusal(_("theme {other} already has the name {other_name!r}: use "
                            "that theme, or give the new one another name").format(
                other=other, other_name=other_name))


@handles(ThemeRegistry, CommitmentThemeAdded)
def _theme_added(registry: ThemeRegistry, event: CommitmentThemeAdded) -> None:
    registry.added[event.code] = event.name


def all_themes(registry: ThemeRegistry | None) -> dict[str, str]:
    """The defaults, then the store's own in the order they were added."""
    return {**DEFAULT_THEMES, **(registry.added if registry is not None else {})}


def require_theme(themes: dict[str, str], text: str) -> str:
    code = text.strip().lower()
    if code not in themes:
        raise Refusal(_("theme {text!r} is not known: use one of {themes} (or add one "
                        "with 'auditlog commitment theme add CODE --name NAME')").format(
            text=text, themes=', '.join(themes)))
    return code


# --- references --------------------------------------------------------------------------------

_REF = re.compile(r"^K-(\d{4})-(\d+)$", re.IGNORECASE | re.ASCII)
REF_FORMS = N_("a commitment reference such as K-2023-0001")
MAX_NUMBER_DIGITS = 9


def commitment_counter_id(year: int) -> UUID:
    return natural_id("commitment-references", year)


def format_commitment_ref(year: int, n: int) -> str:
    return f"K-{year}-{n:04d}"


def parse_commitment_ref(text: str) -> tuple[int, int]:
    match = _REF.match(text.strip())
    if not match:
        raise Refusal(_("{text!r} is not a commitment reference: use {ref_forms}").format(
            text=text, ref_forms=_(REF_FORMS)))
    year, number = match.groups()
    if len(number) > MAX_NUMBER_DIGITS:
        raise Refusal(_("{text!r} is not a commitment reference: its number has at "
                        "most {max_number_digits} digits; use {ref_forms}").format(
            text=text, max_number_digits=MAX_NUMBER_DIGITS, ref_forms=_(REF_FORMS)))
    return int(year), int(number)


@register_aggregate
class CommitmentCounter(Aggregate):
    """The n-th allocation of a year numbers the n-th commitment of that year; saved with the
    commitment, so two auditors recording at once conflict here and one retries."""

    creation_event = CommitmentReferenceAllocated

    year: int

    @classmethod
    def from_creation(cls, event: Event) -> Self:
        assert isinstance(event, CommitmentReferenceAllocated)
        return cls(id=event.originator_id, version=event.originator_version,
                   year=int(event.ref[2:6]))

    @classmethod
    def at(cls, year: int, version: int) -> Self:
        """The counter of a year whose last allocation is ``version``: its whole state, from
        the head version alone (an index lookup), as for finding references."""
        return cls(id=commitment_counter_id(year), version=version, year=year)

    def next_ref(self) -> str:
        return format_commitment_ref(self.year, self.version + 1)


# --- indicator values and progress -------------------------------------------------------------

# A plain decimal with a dot or a comma, optionally negative (a change can be below zero): not
# 1e3, 1_000 or NaN, which Decimal reads.
_VALUE = re.compile(r"^(-?)([0-9]{1,15})(?:[.,]([0-9]{1,4}))?$", re.ASCII)
VALUE_FORMS = N_("a number such as 12, 12.5 or 12,5 (at most four decimals)")


def parse_value(text: str, *, what: str = "--value") -> Decimal:
    match = _VALUE.match(text.strip())
    if not match:
        raise Refusal(_("{what} {text!r} is not a number: use {value_forms}").format(
            what=what, text=text, value_forms=_(VALUE_FORMS)))
    sign, whole, fraction = match.groups()
    value = Decimal(f"{sign}{whole}" + (f".{fraction}" if fraction else ""))
    return value + 0  # a negative zero becomes zero


Direction = Literal["naik", "turun"]


def direction(baseline: Decimal, target: Decimal) -> Direction:
    """An indicator goes up (investment) or down (stunting prevalence): from where it starts
    toward where it should end."""
    return "naik" if target > baseline else "turun"


def progress_pct(baseline: Decimal, target: Decimal, value: Decimal) -> Decimal:
    """The share of the way from baseline to target, in percent, two decimals rounded half up.
    Capped at neither end: a regress is negative, overshooting is above 100."""
    share = (value - baseline) * 100 / (target - baseline)
    return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) + 0


# --- the commitment ----------------------------------------------------------------------------

CLOSED = (CommitmentStatus.TERCAPAI, CommitmentStatus.TIDAK_TERCAPAI, CommitmentStatus.BATAL)
OPEN = (CommitmentStatus.BERJALAN, CommitmentStatus.SEBAGIAN)
REVIEWABLE = (CommitmentStatus.SEBAGIAN, CommitmentStatus.TERCAPAI,
              CommitmentStatus.TIDAK_TERCAPAI, CommitmentStatus.BATAL)
STATUS_FORMS = N_("tercapai, sebagian, tidak-tercapai or batal")


def parse_commitment_status(text: str) -> CommitmentStatus:
    try:
        status = CommitmentStatus(text.strip().lower())
    except ValueError:
        status = None
    if status not in REVIEWABLE:
        raise Refusal(_("status {text!r} is not a review of a commitment: use "
                        "{status_forms}").format(
            text=text, status_forms=_(STATUS_FORMS)))
    assert status is not None
    return status


def parse_status_filter(text: str) -> CommitmentStatus:
    try:
        return CommitmentStatus(text.strip().lower())
    except ValueError:
        raise Refusal(_("status {text!r} is not valid: use berjalan, {status_forms}").format(
            text=text, status_forms=_(STATUS_FORMS))) from None


class Realisation(BaseModel):
    on: date
    value: Decimal | None = None
    note: str | None = None
    evidence: tuple[Evidence, ...] = ()


@register_aggregate
class Commitment(Aggregate):
    creation_event = CommitmentRecorded

    ref: str
    pemda: str
    opd: str
    theme: str
    text: str
    owner: str
    indicator: str | None = None
    unit: str | None = None
    baseline: Decimal | None = None
    target: Decimal | None = None
    by: date
    answers: tuple[str, ...] = ()
    made_on: date
    status: CommitmentStatus = CommitmentStatus.BERJALAN
    realisations: list[Realisation] = Field(default_factory=list)
    # The date of the latest review or reopening: a later one may not be dated before it, or
    # --as-of would tell an impossible history.
    status_changed_on: date | None = None

    @classmethod
    def from_creation(cls, event: Event) -> Self:
        assert isinstance(event, CommitmentRecorded)
        fields = event.model_dump(
            exclude={"originator_id", "originator_version", "actor", "recorded_at",
                     "effective_on"})
        return cls(id=event.originator_id, version=event.originator_version,
                   made_on=event.effective_on, **fields)

    # --- queries ---------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def achieved(self) -> bool:
        return self.status is CommitmentStatus.TERCAPAI

    def is_overdue(self, on: date) -> bool:
        """Open and past its deadline on the reference date."""
        return self.is_open and self.by < on

    @property
    def latest(self) -> Realisation | None:
        """The realisation with a value that is latest in the world (a late report of an early
        measurement does not replace a later one); the last recorded wins a tie."""
        measured = [r for r in self.realisations if r.value is not None]
        return max(reversed(measured), key=lambda r: r.on) if measured else None

    @property
    def direction(self) -> Direction | None:
        if self.baseline is None or self.target is None:
            return None
        return direction(self.baseline, self.target)

    @property
    def progress(self) -> Decimal | None:
        """Percent of the way from baseline to target by the latest realisation; None without
        an indicator or before any realisation."""
        latest = self.latest
        if self.baseline is None or self.target is None or latest is None:
            return None
        assert latest.value is not None
        return progress_pct(self.baseline, self.target, latest.value)

    # --- commands --------------------------------------------------------------------------

    def _require_made_by(self, on: date, what: str) -> None:
        if on < self.made_on:
            raise Refusal(_("{what} date {on} is before {ref} was made ({made_on}): "
                            "use a date on or after {made_on}").format(
                what=what, on=on, ref=self.ref, made_on=self.made_on))

    def _require_after_status_change(self, on: date, what: str) -> None:
        if self.status_changed_on is not None and on < self.status_changed_on:
            raise Refusal(
                _("{what} date {on} is before the latest status change of {ref} "
                  "({status_changed_on}): use a date on or after {status_changed_on}").format(
                    what=what, on=on, ref=self.ref, status_changed_on=self.status_changed_on))

    def record_progress(self, ctx: Context, on: date, value: Decimal | None, note: str | None,
                        evidence: tuple[Evidence, ...]) -> None:
        if self.status is CommitmentStatus.BATAL:
            raise Refusal(_("{ref} was cancelled (batal): nothing more can be "
                            "realised; reopen it first with 'auditlog commitment "
                            "reopen {ref} --reason TEXT'").format(
                ref=self.ref))
        self._require_made_by(on, _("progress"))
        if self.indicator is None:
            if value is not None:
                raise Refusal(_("{ref} has no indicator: leave out --value and "
                                "describe the realisation with --note").format(
                    ref=self.ref))
            if note is None:
                raise Refusal(_("{ref} has no indicator: describe the realisation with "
                                "--note TEXT").format(
                    ref=self.ref))
        elif value is None:
            raise Refusal(_("{ref} is measured by {indicator} ({unit}): give the "
                            "realised value with --value X").format(
                ref=self.ref, indicator=self.indicator, unit=self.unit))
        self.trigger(ctx, CommitmentProgressRecorded, on, value=value, note=note,
                     evidence=evidence)

    def review(self, ctx: Context, status: CommitmentStatus, reason: str, on: date) -> None:
        reason = require_text(reason, what=_("the reason of a review"))
        if status not in REVIEWABLE:
            raise Refusal(_("a review sets {status_forms}, not {value}").format(
                status_forms=_(STATUS_FORMS), value=status.value))
        self._require_made_by(on, _("review"))
        self._require_after_status_change(on, _("review"))
        if self.status in CLOSED:
            raise Refusal(
                _("{ref} is {value} (closed): to judge it again, reopen it with "
                  "'auditlog commitment reopen {ref} --reason TEXT'").format(
                    ref=self.ref, value=self.status.value))
        self.trigger(ctx, CommitmentReviewed, on, previous=self.status, status=status,
                     reason=reason)

    def reopen(self, ctx: Context, reason: str, on: date) -> None:
        reason = require_text(reason, what=_("the reason of a reopening"))
        if self.status not in CLOSED:
            raise Refusal(_("{ref} is {value}, not closed: only tercapai, "
                            "tidak-tercapai or batal can be reopened").format(
                ref=self.ref, value=self.status.value))
        self._require_made_by(on, _("reopening"))
        self._require_after_status_change(on, _("reopening"))
        self.trigger(ctx, CommitmentReopened, on, previous=self.status, reason=reason)


def check_indicator(indicator: str | None, unit: str | None, baseline: Decimal | None,
                    target: Decimal | None) -> None:
    """An indicator is measured in a unit from a baseline to a target: all four, or none."""
    given = {"--indicator": indicator, "--unit": unit, "--baseline": baseline,
             "--target": target}
    missing = [k for k, v in given.items() if v is None]
    if missing and len(missing) < len(given):
        raise Refusal(_("an indicator needs --indicator, --unit, --baseline and "
                        "--target together: also give {missing}").format(
            missing=', '.join(missing)))
    if baseline is not None and baseline == target:
        raise Refusal(_("target {target} equals the baseline {baseline}: a commitment "
                        "must move the indicator; give a target above or below the "
                        "baseline").format(
            target=target, baseline=baseline))


def check_deadline(made_on: date, by: date) -> None:
    if by < made_on:
        raise Refusal(_("deadline --by {by} is before the commitment was made "
                        "({made_on}): give a deadline on or after it").format(
            by=by, made_on=made_on))


@handles(Commitment, CommitmentProgressRecorded)
def _progressed(commitment: Commitment, event: CommitmentProgressRecorded) -> None:
    commitment.realisations.append(Realisation(on=event.effective_on, value=event.value,
                                               note=event.note, evidence=event.evidence))


@handles(Commitment, CommitmentReviewed)
def _reviewed(commitment: Commitment, event: CommitmentReviewed) -> None:
    commitment.status = event.status
    commitment.status_changed_on = event.effective_on


@handles(Commitment, CommitmentReopened)
def _reopened(commitment: Commitment, event: CommitmentReopened) -> None:
    commitment.status = CommitmentStatus.BERJALAN
    commitment.status_changed_on = event.effective_on
