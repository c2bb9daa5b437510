"""Grades of instruments (SAKIP, RB, SPIP, BPK opinion) and their versioned rules.

The rule is versioned because scales change (2011 had no BB): a grade event names its rule, the
raw score is kept, and where a score is given the grade is derived from score + rule.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Self
from uuid import UUID

from pydantic import BaseModel, Field

from auditlog.domain.aggregate import Aggregate, Context, handles, natural_id, register_aggregate
from auditlog.domain.events import Event, GradeCorrected, GradeRecorded
from auditlog.domain.inputs import require_text
from auditlog.errors import Refusal
from auditlog.i18n import _


@dataclass(frozen=True)
class Band:
    grade: str
    above: Decimal  # strict lower bound: a score must be greater than this
    label: str


@dataclass(frozen=True)
class Rule:
    """A grading rule version. Without bands, grades are recorded as given (no score)."""

    version: str
    grades: tuple[str, ...]
    bands: tuple[Band, ...] = ()
    minimum: Decimal = Decimal(0)
    maximum: Decimal = Decimal(100)

    def grade_for(self, score: Decimal) -> str:
        for band in self.bands:
            if score > band.above:
                return band.grade
        return self.bands[-1].grade

    def label(self, grade: str) -> str:
        for band in self.bands:
            if band.grade == grade:
                return band.label
        return ""


# PermenPAN-RB 88/2021: the same bands for SAKIP and the RB index, strict lower bounds
# (exactly 80.00 is BB, 80.01 is A). The lowest band D includes 0.
BANDS_2021 = (
    Band("AA", Decimal(90), "Sangat Memuaskan"),
    Band("A", Decimal(80), "Memuaskan"),
    Band("BB", Decimal(70), "Sangat Baik"),
    Band("B", Decimal(60), "Baik"),
    Band("CC", Decimal(50), "Cukup"),
    Band("C", Decimal(30), "Kurang"),
    Band("D", Decimal(-1), "Sangat Kurang"),
)
SCORED_2021 = Rule("2021", tuple(b.grade for b in BANDS_2021), BANDS_2021)

INSTRUMENTS: dict[str, dict[str, Rule]] = {
    "SAKIP": {"2021": SCORED_2021},
    "RB": {"2021": SCORED_2021},
    "SPIP": {"2008": Rule("2008", ("1", "2", "3", "4", "5"))},  # maturity level, PP 60/2008
    "BPK": {"2004": Rule("2004", ("WTP", "WDP", "TW", "TMP"))},  # BPK audit opinion
}
DEFAULT_RULE = {"SAKIP": "2021", "RB": "2021", "SPIP": "2008", "BPK": "2004"}


def instrument_name(text: str) -> str:
    name = text.strip().upper()
    if name not in INSTRUMENTS:
        raise Refusal(
            _("instrument {text!r} is not known: use one of {value}").format(
                text=text, value=', '.join(INSTRUMENTS))
        )
    return name


def rule_for(instrument: str, version: str | None) -> Rule:
    rules = INSTRUMENTS[instrument]
    chosen = version or DEFAULT_RULE[instrument]
    if chosen not in rules:
        raise Refusal(
            _("rule version {chosen!r} is not known for {instrument}: use {value}").format(
                chosen=chosen, instrument=instrument, value=', '.join(rules))
        )
    return rules[chosen]


# A plain decimal, with a dot or a comma: not 1e1, 1_0, NaN or +5 (which Decimal reads). The
# sign is read only so that a negative score is refused as outside the scale, naming it.
_SCORE = re.compile(r"^(-?)([0-9]+)(?:[.,]([0-9]+))?$")
SCORE_DECIMALS = 2


def parse_score(text: str) -> Decimal:
    match = _SCORE.match(text.strip())
    if not match:
        raise Refusal(_("score {text!r} is not a number: use a score such as 80, 80.01 or "
                        "80,01").format(text=text))
    sign, whole, fraction = match.groups()
    if fraction is not None and len(fraction) > SCORE_DECIMALS:
        raise Refusal(_("score {text!r} has more than {SCORE_DECIMALS} decimal places: use a "
                        "score such as 80, 80.01 or 80,01").format(
                          text=text, SCORE_DECIMALS=SCORE_DECIMALS))
    score = Decimal(f"{sign}{whole}" + (f".{fraction}" if fraction is not None else ""))
    if sign and not score:
        raise Refusal(_("score {text!r} is a negative zero: use a score such as 0, 80.01 or "
                        "80,01").format(text=text))
    return score


def decide_grade(instrument: str, rule: Rule, grade: str | None,
                 score: Decimal | None) -> tuple[str, Decimal | None]:
    """The grade to record: derived from the score by the rule, or given, never contradicting."""
    if score is not None:
        if not rule.bands:
            raise Refusal(
                _("{instrument} grades are recorded without a score: use --grade ").format(
                    instrument=instrument)
                + "|".join(rule.grades)
            )
        if not rule.minimum <= score <= rule.maximum:
            raise Refusal(
                _("score {score} is outside the scale: use a score from {minimum} to "
                  "{maximum}").format(score=score, minimum=rule.minimum, maximum=rule.maximum)
            )
        derived = rule.grade_for(score)
        if grade is not None and grade.strip().upper() != derived:
            raise Refusal(
                _("grade {grade} contradicts score {score}: under {instrument} rule "
                  "{version} a score of {score} is {derived}; leave out --grade or correct "
                  "the score").format(
                    grade=grade, score=score, instrument=instrument, version=rule.version,
                    derived=derived)
            )
        return derived, score
    if grade is None:
        raise Refusal(_("a grade needs --grade or --score: give one (or both, when they "
                        "agree)"))
    normal = grade.strip().upper()
    if normal not in rule.grades:
        raise Refusal(
            _("grade {grade!r} is not on the {instrument} scale (rule {version}): use ").format(
                grade=grade, instrument=instrument, version=rule.version)
            + ", ".join(rule.grades)
        )
    return normal, None


class GradeEntry(BaseModel):
    year: int
    grade: str
    score: Decimal | None = None
    rule: str
    because: tuple[str, ...] = ()
    effective_on: date
    corrected: bool = False


def series_id(pemda: str, instrument: str) -> UUID:
    return natural_id("grades", pemda, instrument)


@register_aggregate
class GradeSeries(Aggregate):
    """The grades of one pemda in one instrument, one per assessment year."""

    creation_event = GradeRecorded

    pemda: str
    instrument: str
    years: dict[int, GradeEntry] = Field(default_factory=dict)

    @classmethod
    def from_creation(cls, event: Event) -> Self:
        assert isinstance(event, GradeRecorded)
        series = cls(id=event.originator_id, pemda=event.pemda, instrument=event.instrument)
        series.apply(event)
        return series

    def record(self, ctx: Context, year: int, grade: str, score: Decimal | None, rule: str,
               because: tuple[str, ...], on: date) -> None:
        if year in self.years:
            held = self.years[year]
            raise Refusal(
                _("{pemda} already has a {instrument} grade for {year} ({grade}): to change "
                  "it, record a correction with --correct --reason TEXT").format(
                    pemda=self.pemda, instrument=self.instrument, year=year, grade=held.grade)
            )
        self.trigger(ctx, GradeRecorded, on, pemda=self.pemda, instrument=self.instrument,
                     year=year, grade=grade, score=score, rule=rule, because=because)

    def correct(self, ctx: Context, year: int, grade: str, score: Decimal | None, rule: str,
                because: tuple[str, ...], reason: str, on: date) -> None:
        reason = require_text(reason, what=_("the reason of a grade correction"))
        if year not in self.years:
            raise Refusal(
                _("{pemda} has no {instrument} grade for {year} to correct: record it "
                  "without --correct").format(
                    pemda=self.pemda, instrument=self.instrument, year=year)
            )
        held = self.years[year]
        # The same score written alike or not (80.1, 80.10), the same causes in any order.
        if (held.grade, held.score, held.rule, set(held.because)) == (
                grade, score, rule, set(because)):
            scored = "" if score is None else f" (score {held.score})"
            raise Refusal(
                _("the {instrument} grade of {pemda} for {year} is already {grade}{scored} "
                  "under rule {rule} with the same causes: nothing to correct").format(
                    instrument=self.instrument, pemda=self.pemda, year=year, grade=held.grade,
                    scored=scored, rule=rule)
            )
        self.trigger(ctx, GradeCorrected, on, pemda=self.pemda, instrument=self.instrument,
                     year=year, grade=grade, score=score, rule=rule, because=because,
                     reason=reason)

    def latest(self) -> tuple[GradeEntry | None, GradeEntry | None]:
        """The latest grade by year and the one before it."""
        ordered = sorted(self.years)
        latest = self.years[ordered[-1]] if ordered else None
        previous = self.years[ordered[-2]] if len(ordered) > 1 else None
        return latest, previous


@handles(GradeSeries, GradeRecorded)
def _graded(series: GradeSeries, event: GradeRecorded) -> None:
    series.years[event.year] = GradeEntry(
        year=event.year, grade=event.grade, score=event.score, rule=event.rule,
        because=event.because, effective_on=event.effective_on,
    )


@handles(GradeSeries, GradeCorrected)
def _regraded(series: GradeSeries, event: GradeCorrected) -> None:
    held = series.years.get(event.year)
    if held is None:  # the original is not in view (temporal replay): nothing to correct
        return
    series.years[event.year] = GradeEntry(
        year=event.year, grade=event.grade, score=event.score, rule=event.rule,
        because=event.because, effective_on=held.effective_on, corrected=True,
    )
