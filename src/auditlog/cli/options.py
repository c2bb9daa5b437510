"""Options declared once and reused by every command (httpie style)."""

from typing import TYPE_CHECKING, Annotated

import typer

from auditlog.cli.completion import pemda_codes
from auditlog.domain.inputs import normalise_region_code, parse_year, require_text
from auditlog.i18n import N_
from auditlog.reports.render import Format

if TYPE_CHECKING:
    from auditlog.projections.model import FindingFilter

FormatOpt = Annotated[
    Format,
    typer.Option("--format", "-f", help=N_("Output: table (default), json, csv or md.")),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help=N_("Valid time: the world as it stood on DATE (2023-12-31 or "
                 "31/12/2023), with every correction recorded since.")),
]
KnownAtOpt = Annotated[
    str | None,
    typer.Option("--known-at", help=N_("Transaction time: only what the log held at this ISO "
                 "timestamp (2024-01-15T09:00; no zone means local time; a date alone, "
                 "2024-01-15, means the end of that day).")),
]
PemdaOpt = Annotated[
    str | None, typer.Option("--pemda", help=N_("Only this pemda (region code, e.g. 35.73)."),
                             autocompletion=pemda_codes)
]
# Optional to Typer so that leaving it out is a one-line refusal (exit 1), not a usage box.
ReasonOpt = Annotated[
    str | None, typer.Option("--reason", help=N_("Why: a written rationale (required)."))
]
OnOpt = Annotated[
    str | None,
    typer.Option("--on", help=N_("When it happened in the world (2023-07-26 or 26/7/2023); "
                 "default today.")),
]
STATUSES_SPELLED = N_("BD (belum ditindaklanjuti: not yet followed up), BS (belum sesuai: "
                      "followed up, not yet matching), S (sesuai: resolved) or TDTL (tidak "
                      "dapat ditindaklanjuti: cannot be followed up, for a lawful reason)")

# The register's daily questions, shared by `finding list` and `status`.
OpdOpt = Annotated[
    str | None, typer.Option("--opd", metavar="NAME", help=N_("Only findings of this OPD "
                             "(the unit's name as recorded; case does not matter)."))
]
ReportOpt = Annotated[
    str | None, typer.Option("--report", metavar="NUMBER", help=N_("Only findings of this "
                             "report (LHP/LHE number, e.g. 700/012/ITDA/2023)."))
]
YearOpt = Annotated[
    str | None, typer.Option("--year", metavar="YYYY", help=N_("Only findings received in "
                             "this year."))
]
InstrumentOpt = Annotated[
    str | None, typer.Option("--instrument", metavar="NAME", help=N_("Only catatan of this "
                             "instrument (SAKIP, RB, SPIP, BPK)."))
]


def narrowing(pemda: str | None, opd: str | None, report: str | None, year: str | None,
              instrument: str | None) -> "FindingFilter":
    """The filter the options ask for, each value checked as it would be when recording."""
    from auditlog.domain.grades import instrument_name
    from auditlog.projections.model import FindingFilter

    return FindingFilter(
        pemda=None if pemda is None else normalise_region_code(pemda),
        opd=require_text(opd, what="--opd") if opd is not None else None,
        report=require_text(report, what="--report") if report is not None else None,
        year=parse_year(year, what="--year") if year is not None else None,
        instrument=instrument_name(instrument) if instrument is not None else None,
    )
