"""`auditlog compare`: the pemda of a province side by side in one instrument."""

from typing import Annotated

import typer

from auditlog.cli.app import app, echo, guarded, moment, reader, reference_date
from auditlog.domain.inputs import normalise_region_code, parse_year
from auditlog.i18n import N_
from auditlog.reports.render import Format

from .options import AsOfOpt, FormatOpt, KnownAtOpt


@app.command()
@guarded
def compare(
    instrument: Annotated[str, typer.Option("--instrument", help=N_("SAKIP or RB."))],
    province: Annotated[str | None, typer.Option(
        "--province", help=N_("Province code (35 is Jawa Timur); default: the province of the "
        "registered regencies and cities, when there is one."))] = None,
    year: Annotated[str | None, typer.Option(
        "--year", help=N_("Only this assessment year (and the years before it for who reached "
        "a grade first)."))] = None,
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The pemda of a province side by side: grades by year, who first reached each grade,
    rank within the year, follow-up completion by count and by rupiah.

    Example: auditlog compare --instrument SAKIP --province 35
    """
    from auditlog.reports import views
    from auditlog.reports.compare import comparable_instrument, compare_report, compare_text

    name = comparable_instrument(instrument)
    code = normalise_region_code(province) if province is not None else None
    the_year = parse_year(year) if year is not None else None
    m = moment(as_of, known_at)
    with reader() as store:
        report = compare_report(views.read_model(store, m), name, code, the_year,
                                reference_date(m))
    echo(compare_text(report, fmt))
