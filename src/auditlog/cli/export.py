"""`auditlog export`: the annual review package, reproducible from the log."""

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import typer

from auditlog import files, i18n
from auditlog.cli.app import app, echo, fail, guarded, moment, reader, settings
from auditlog.cli.options import AsOfOpt, KnownAtOpt
from auditlog.clock import today
from auditlog.domain.inputs import parse_year
from auditlog.errors import ExitCode, Refusal
from auditlog.i18n import N_, _, format_date
from auditlog.reports.render import ExportFormat


@app.command("export")
@guarded
def export(
    year: Annotated[str, typer.Option("--year", help=N_("The year under review."))],
    to: Annotated[Path, typer.Option(
        "--to", help=N_("The file to write: review.xlsx, review.json, review.md, review.html, "
        "or review.zip (one CSV per section in a zip). With --format csv and a name without "
        ".zip, a folder of CSV files."))],
    fmt: Annotated[ExportFormat | None, typer.Option(
        "--format", "-f", help=N_("xlsx, csv, json, md or html; default from the file's "
        "extension."))] = None,
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    lang: Annotated[Literal["id", "en"] | None, typer.Option(
        "--lang", help=N_("Language of the review: id (Bahasa Indonesia) or en; default the "
                          "language of the command line (auditlog --lang, AUDITLOG_LANG, "
                          "the locale)."))] = None,
    force: Annotated[bool, typer.Option(
        "--force", help=N_("Replace the --to file (or a folder's earlier CSVs) if it exists; "
        "a store is never replaced."))] = False,
) -> None:
    """Export the annual review: compliance, follow-up matrices, aging, financial card, grades,
    findings register, activity of the year and the log's integrity checkpoint.

    The same events, --as-of, --known-at and version always give the same bytes.
    Example: auditlog export --year 2023 --to review-2023.xlsx
    """
    from auditlog.commitment_commands import themes
    from auditlog.projections.model import Moment
    from auditlog.reports.export import check_target, choose_format, write_review
    from auditlog.reports.review import build_review
    from auditlog.reports.review_fold import read_for_review
    from auditlog.reports.views import event_detail
    from auditlog.store.integrity import IntegrityFailure

    # One language for the whole review, the activity's descriptions included.
    lang = i18n.set_language(lang or i18n.language())
    the_year = parse_year(year, what="--year")
    chosen = choose_format(to, fmt)
    files.protect(settings().db)
    check_target(to, chosen, force=force)
    asked = moment(as_of, known_at)
    # Not a day later than today: a review of the current year is as of today, so nothing is
    # judged overdue on a date that has not come.
    # With --known-at alone, the day it names plays "today", so the review never depends on
    # the clock (as status does).
    until = asked.known_at.astimezone().date() if asked.known_at is not None else today()
    on = asked.as_of or min(date(the_year, 12, 31), until)
    if date(the_year, 1, 1) > until:
        raise Refusal(_("{the_year} had not begun by {until}: give a year already begun").format(
                          the_year=the_year, until=format_date(until)))
    if on < date(the_year, 1, 1):
        raise Refusal(_("--as-of {on} is before {the_year} began: give a date in or after "
                        "{the_year}, or leave it out for 31 December").format(
                          on=on, the_year=the_year))
    at = Moment(as_of=on, known_at=asked.known_at)
    with reader() as store:
        try:
            # One pass over the log, every row checked against the chain: the checkpoint it
            # prints (with --known-at, of the log as it then stood: its first events, so a
            # review reproduced later is the same to the byte), the state at the review's
            # date and the year's events.
            log = read_for_review(store, the_year, at)
        except IntegrityFailure as failure:
            fail(_("{failure}: run 'auditlog verify' before exporting").format(failure=failure),
                 ExitCode.INTEGRITY)
            raise
        review = build_review(log, the_year, event_detail, lang, themes(store))
        # Written while the store is open: the activity's events are decoded as written.
        what = write_review(review, to, chosen, lang, force=force)
    echo(_("wrote {to} ({what}): {n_sections} sections for {the_year} as of {on}, log of "
           "{size} events with root {value}…").format(
             to=to, what=what, n_sections=len(review.sections), the_year=the_year,
             on=format_date(on),
             size=log.size, value=log.root[:16]))
