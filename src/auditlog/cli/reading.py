"""Reading commands over the whole store: status, history, replay."""

from typing import Annotated

import typer

from auditlog.cli.app import (
    app,
    echo,
    guarded,
    moment,
    pemda_code,
    reader,
    reference_date,
    settings,
)
from auditlog.clock import today
from auditlog.errors import Refusal
from auditlog.i18n import N_, _, format_date
from auditlog.reports.render import Format

from .options import (
    AsOfOpt,
    FormatOpt,
    InstrumentOpt,
    KnownAtOpt,
    OpdOpt,
    PemdaOpt,
    ReportOpt,
    YearOpt,
    narrowing,
)


@app.command()
@guarded
def status(
    pemda: PemdaOpt = None,
    opd: OpdOpt = None,
    report: ReportOpt = None,
    year: YearOpt = None,
    instrument: InstrumentOpt = None,
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Compliance per pemda: grades, recommendations by status (count and rupiah), overdue.

    --opd, --report, --year and --instrument count only the recommendations of those findings.
    Example: auditlog status --pemda 35.73 --as-of 2023-06-30
    Example: auditlog status --opd "Dinas Kesehatan" --year 2023
    """
    if (opd, report, year, instrument, as_of, known_at) == (None,) * 6:
        # Now, per pemda: a current projection's summary rows answer without the domain.
        from auditlog.reports.quick_status import quick_status

        text = quick_status(settings().db, pemda_code(pemda), fmt, today())
        if text is not None:
            echo(text)
            return
    from auditlog.reports import views

    only = narrowing(pemda, opd, report, year, instrument)
    m = moment(as_of, known_at)
    with reader() as store:
        echo(views.status_text(views.read_model(store, m), reference_date(m),
                               only.pemda, fmt, only))


@app.command()
@guarded
def history(
    pemda: PemdaOpt = None,
    finding: Annotated[str | None, typer.Option("--finding", help=N_("Only this finding "
                                                "(F-2023-0001)."))] = None,
    to: Annotated[str | None, typer.Option("--to", help=N_("Only events effective on or before "
                                           "this date."))] = None,
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The events in log order, with who recorded each, when, and the date it concerns.

    Example: auditlog history --finding F-2023-0001
    """
    from auditlog.reports import views

    if pemda and finding:
        raise Refusal(_("give --pemda or --finding, not both"))
    if to and as_of:
        raise Refusal(_("--to and --as-of mean the same here: give one of them"))
    m = moment(to or as_of, known_at, as_of_name="--to" if to else "--as-of")
    with reader() as store:
        echo(views.history(store, m, pemda_code(pemda), finding, fmt))


@app.command()
@guarded
def replay(
    to: Annotated[str, typer.Option("--to", help=N_("The date to rebuild the state at."))],
    pemda: PemdaOpt = None,
    known_at: KnownAtOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Rebuild the state as it stood on a date from the events alone, and print it.

    Example: auditlog replay --to 2023-07-26 --pemda 35.73
    """
    from auditlog.reports import views

    m = moment(to, known_at, as_of_name="--to")
    with reader() as store:
        universe = views.fold(store, m)
        body = views.status_text(universe, reference_date(m), pemda_code(pemda), fmt)
        if fmt is Format.table:
            # Only what the moment admits, so a reproduced report prints the same line.
            known = (_(", as known at {known_at}").format(known_at=m.known_at.isoformat())
                     if m.known_at else "")
            echo(_("replayed {events_applied} events (up to log position {last_applied}) to "
                   "{as_of}").format(events_applied=universe.events_applied,
                                     last_applied=universe.last_applied,
                                     as_of=format_date(reference_date(m)))
                 + known + "\n")
        echo(body)
