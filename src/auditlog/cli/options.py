"""Options declared once and reused by every command (httpie style)."""

from typing import Annotated

import typer

from auditlog.reports.render import Format

FormatOpt = Annotated[
    Format,
    typer.Option("--format", "-f", help="Output: table (default), json, csv or md."),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Valid time: the world as it stood on DATE (2023-12-31 or "
                 "31/12/2023), with every correction recorded since."),
]
KnownAtOpt = Annotated[
    str | None,
    typer.Option("--known-at", help="Transaction time: only what the log held at this ISO "
                 "timestamp (2024-01-15T09:00; no zone means local time; a date alone, "
                 "2024-01-15, means the end of that day)."),
]
PemdaOpt = Annotated[
    str | None, typer.Option("--pemda", help="Only this pemda (region code, e.g. 35.73).")
]
# Optional to Typer so that leaving it out is a one-line refusal (exit 1), not a usage box.
ReasonOpt = Annotated[
    str | None, typer.Option("--reason", help="Why: a written rationale (required).")
]
OnOpt = Annotated[
    str | None,
    typer.Option("--on", help="When it happened in the world (2023-07-26 or 26/7/2023); "
                 "default today."),
]
