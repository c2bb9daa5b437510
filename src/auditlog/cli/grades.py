"""Commands of the grade group: recording grades and listing their history."""

from typing import Annotated

import typer

from auditlog.cli.app import (
    echo,
    guarded,
    happened_on,
    moment,
    pemda_code,
    reader,
    recording,
    writer,
)
from auditlog.domain.inputs import (
    normalise_region_code,
    parse_year,
    require_text,
)
from auditlog.errors import Refusal
from auditlog.i18n import N_, _
from auditlog.reports.render import Format, render

from .options import AsOfOpt, FormatOpt, KnownAtOpt, OnOpt, PemdaOpt

grade_app = typer.Typer(help=N_("Grades of SAKIP, RB and other instruments."), no_args_is_help=True)


@grade_app.command("record")
@guarded
def grade_record(
    pemda: Annotated[str, typer.Option("--pemda", help=N_("Region code."))],
    instrument: Annotated[str, typer.Option("--instrument", help=N_("SAKIP, RB, SPIP or BPK."))],
    year: Annotated[str, typer.Option("--year", help=N_("Assessment year."))],
    grade: Annotated[str | None, typer.Option("--grade", help=N_("The grade (AA, A, BB ...)."))]
    = None,
    score: Annotated[str | None, typer.Option("--score", help=N_("The score 0-100; the grade is "
                                              "derived from it by the rule."))] = None,
    on: OnOpt = None,
    rule: Annotated[str | None, typer.Option("--rule", help=N_("Version of the grading rule "
                                             "(default: the current one)."))] = None,
    because: Annotated[list[str] | None, typer.Option(
        "--because", help=N_("A finding or recommendation whose follow-up produced this grade; "
        "repeat for each."))] = None,
    correct: Annotated[bool, typer.Option("--correct", help=N_("Correct the grade already "
                                          "recorded for this year (needs --reason)."))] = False,
    reason: Annotated[str | None, typer.Option("--reason", help=N_("Why, for a correction."))]
    = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Record a grade for an assessment year; with a score the grade is derived by the rule.

    Example: auditlog grade record --pemda 35.73 --instrument SAKIP --year 2022 --grade A
    --because F-2023-0001
    """
    from auditlog import commands
    from auditlog.domain.grades import instrument_name, parse_score, rule_for

    region = normalise_region_code(pemda)
    name = instrument_name(instrument)
    the_rule = rule_for(name, rule)
    the_year = parse_year(year)
    the_score = parse_score(score) if score is not None else None
    day = happened_on(on)
    correction = require_text(reason, what="--reason") if correct else None
    if reason is not None and not correct:
        raise Refusal(_("--reason goes with --correct: leave it out for a first recording"))
    with writer() as store:
        series = commands.record_grade(store, recording(), region, name, the_year, the_rule,
                                       grade, the_score, because or [], day, correction)
    entry = series.years[the_year]
    data = {"ref": f"{region}/{name}/{the_year}", "pemda": region, "instrument": name,
            "year": the_year, "grade": entry.grade,
            "score": None if entry.score is None else str(entry.score), "rule": entry.rule,
            "because": list(entry.because)}
    if fmt is Format.table:
        scored = (" " + _("(score {score})").format(score=entry.score)
                  if entry.score is not None else "")
        label = the_rule.label(entry.grade)
        line = (_("corrected {instrument} {year} for {pemda}: {grade}{scored}{label}")
                if correct else
                _("recorded {instrument} {year} for {pemda}: {grade}{scored}{label}"))
        echo(line.format(instrument=name, year=the_year, pemda=region, grade=entry.grade,
                         scored=scored, label=" " + label if label else ""))
    else:
        echo(render([data], [(k, k) for k in data if k != "because"], fmt, data=data))


@grade_app.command("list")
@guarded
def grade_list(
    pemda: PemdaOpt = None,
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Every grade per pemda and instrument by year, with what produced it.

    Example: auditlog grade list --pemda 35.73
    """
    from auditlog.reports import views

    m = moment(as_of, known_at)
    with reader() as store:
        echo(views.grade_list(views.read_model(store, m), pemda_code(pemda), fmt))
