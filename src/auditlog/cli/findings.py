"""Commands of the finding group: recording, showing, listing, correcting, withdrawing."""

from typing import Annotated

import typer

from auditlog.cli.app import (
    echo,
    guarded,
    happened_on,
    moment,
    optional,
    print_recorded,
    reader,
    rec_ref,
    recording,
    reference_date,
    writer,
)
from auditlog.cli.completion import finding_refs
from auditlog.clock import today
from auditlog.domain.inputs import (
    normalise_finding_code,
    normalise_recommendation_code,
    normalise_region_code,
    parse_date,
    parse_rupiah,
    parse_year,
    require_text,
)
from auditlog.errors import Refusal
from auditlog.i18n import N_, _, format_date, ngettext
from auditlog.reports.render import Format

from .options import (
    AsOfOpt,
    FormatOpt,
    InstrumentOpt,
    KnownAtOpt,
    OpdOpt,
    PemdaOpt,
    ReasonOpt,
    ReportOpt,
    YearOpt,
    narrowing,
)

finding_app = typer.Typer(help=N_("Findings (temuan, catatan) and their recommendations."),
                          no_args_is_help=True)


@finding_app.command("record")
@guarded
def finding_record(
    pemda: Annotated[str, typer.Option("--pemda", help=N_("Region code of the audited pemda."))],
    title: Annotated[str, typer.Option("--title", help=N_("Short title of the finding."))],
    recommendation: Annotated[list[str], typer.Option(
        "--recommendation", "-r",
        help=N_("A recommendation; repeat for each (numbered 1, 2...)."))],
    report: Annotated[str | None, typer.Option("--report", help=N_("LHP/LHE number, "
                                               "e.g. 700/012/ITDA/2026."))] = None,
    received: Annotated[str | None, typer.Option(
        "--received", help=N_("Date the report was received (deadlines run from it); "
        "default today."))] = None,
    issued: Annotated[str | None, typer.Option("--issued", help=N_("Issue date of the report."))]
    = None,
    instrument: Annotated[str | None, typer.Option(
        "--instrument", help=N_("Instrument evaluated, for a catatan (SAKIP, RB ...)."))] = None,
    year: Annotated[str | None, typer.Option("--year", help=N_("Assessment year of a catatan."))]
    = None,
    opd: Annotated[str | None, typer.Option("--opd", help=N_("The unit (OPD) concerned."))] = None,
    condition: Annotated[str | None, typer.Option("--condition", help=N_("Kondisi."))] = None,
    criteria: Annotated[str | None, typer.Option("--criteria", help=N_("Kriteria."))] = None,
    cause: Annotated[str | None, typer.Option("--cause", help=N_("Sebab."))] = None,
    effect: Annotated[str | None, typer.Option("--effect", help=N_("Akibat."))] = None,
    code: Annotated[str | None, typer.Option("--code", help=N_("BPK finding code, e.g. 1.01.03."))]
    = None,
    value: Annotated[str | None, typer.Option(
        "--value", help=N_("Nilai temuan in rupiah."))] = None,
    rec_code: Annotated[list[str] | None, typer.Option(
        "--rec-code", help=N_("Recommendation code 01-14, one per --recommendation, in order."))]
    = None,
    rec_value: Annotated[list[str] | None, typer.Option(
        "--rec-value", help=N_("Rupiah to recover, one per --recommendation, in order."))] = None,
    due: Annotated[str | None, typer.Option(
        "--due", help=N_("Due date set by the report; default received + 60 days."))] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Record a finding (catatan/temuan) with its recommendations; prints its reference.

    Example: auditlog finding record --pemda 35.73 --title "IKU belum selaras"
    --report 700/012/ITDA/2023 --received 14/3/2023 -r "Selaraskan IKU dengan RPJMD"
    """
    from auditlog import commands
    from auditlog.domain.events import RecommendationSpec
    from auditlog.domain.grades import instrument_name

    region = normalise_region_code(pemda)
    received_on = happened_on(received, what="--received")
    issued_on = happened_on(issued, what="--issued") if issued else None
    due_on = parse_date(due, what="--due") if due else None
    codes = [normalise_recommendation_code(c) for c in rec_code or []]
    values = [parse_rupiah(v, what="--rec-value") for v in rec_value or []]
    for given, what in ((codes, "--rec-code"), (values, "--rec-value")):
        if given and len(given) != len(recommendation):
            raise Refusal(_("{n_given} {what} for {n_recommendation} --recommendation: give "
                            "one {what} per recommendation, in the same order").format(
                              n_given=len(given), what=what, n_recommendation=len(recommendation)))
    specs = [
        RecommendationSpec(
            n=i + 1, text=require_text(text, what=_("recommendation {n}").format(n=i + 1)),
            code=codes[i] if codes else None, value=values[i] if values else None, due=due_on,
        )
        for i, text in enumerate(recommendation)
    ]
    new = commands.NewFinding(
        pemda=region, title=require_text(title, what="--title"), received=received_on,
        recommendations=specs, opd=optional(opd), report=optional(report), issued=issued_on,
        instrument=instrument_name(instrument) if instrument else None,
        year=parse_year(year) if year else None, condition=optional(condition),
        criteria=optional(criteria), cause=optional(cause), effect=optional(effect),
        code=normalise_finding_code(code) if code else None,
        value=parse_rupiah(value, what="--value") if value else None,
    )
    with writer() as store:
        finding = commands.record_finding(store, recording(), new)
    count = len(finding.recommendations)
    print_recorded(finding, fmt, ngettext(
        "recorded {ref}: {title} ({count} recommendation, due {due})",
        "recorded {ref}: {title} ({count} recommendations, due {due})", count).format(
        ref=finding.ref, title=finding.title, count=count,
        due=format_date(finding.recommendations[0].due(finding.received))))

@finding_app.command("show")
@guarded
def finding_show(
    ref: Annotated[str, typer.Argument(
        autocompletion=finding_refs, help=N_("Finding reference, e.g. F-2023-0001."))],
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """One finding with every recommendation and its full trail (who, when, what, why).

    Example: auditlog finding show F-2023-0001
    """
    from auditlog.reports import views

    m = moment(as_of, known_at)
    with reader() as store:
        echo(views.finding_show(store, ref, m, reference_date(m), fmt))


@finding_app.command("list")
@guarded
def finding_list(
    pemda: PemdaOpt = None,
    opd: OpdOpt = None,
    report: ReportOpt = None,
    year: YearOpt = None,
    instrument: InstrumentOpt = None,
    status: Annotated[str | None, typer.Option(
        "--status", metavar="STATUS", help=N_(
            "Only findings with a recommendation in this status: BD (belum ditindaklanjuti: "
            "not yet followed up), BS (belum sesuai: followed up, not yet matching), S "
            "(sesuai: resolved) or TDTL (tidak dapat ditindaklanjuti: cannot be followed up, "
            "for a lawful reason)."))] = None,
    overdue: Annotated[bool, typer.Option(
        "--overdue", help=N_("Only findings with an open recommendation past its due date."))]
    = False,
    search: Annotated[str | None, typer.Option(
        "--search", metavar="TEXT", help=N_("Only findings whose title, kondisi, kriteria, sebab, "
        "akibat, recommendations or follow-ups contain every word of TEXT; best match first, "
        "matching words marked **so**."))] = None,
    due_within: Annotated[int | None, typer.Option(
        "--due-within", metavar="DAYS", min=0, help=N_("List the open recommendations (BD, BS) "
        "falling due in the next DAYS days from --as-of or today, soonest first."))] = None,
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The register of findings, with their recommendations' statuses.

    Example: auditlog finding list --pemda 35.73 --overdue
    Example: auditlog finding list --search "perjalanan dinas" --year 2023
    Example: auditlog finding list --due-within 14
    """
    from auditlog.domain.recommendation import parse_status
    from auditlog.reports import views

    wanted = parse_status(status) if status else None
    only = narrowing(pemda, opd, report, year, instrument)
    m = moment(as_of, known_at)
    if search is not None and (m.as_of is not None or m.known_at is not None):
        raise Refusal(_("--search reads the register as it is now: leave out --as-of and "
                        "--known-at, or filter the past with --opd, --report, --year"))
    if due_within is not None and (search is not None or overdue):
        raise Refusal(_("--due-within lists recommendations not yet due: leave out --search "
                        "and --overdue"))
    with reader() as store:
        model = views.read_model(store, m)
        on = reference_date(m)
        if due_within is not None:
            echo(views.due_list(model, only, wanted, on, due_within, fmt))
            return
        hits = views.current(store).search(search) if search is not None else None
        echo(views.finding_list(model, only, wanted, overdue, on, fmt, hits))


@finding_app.command("correct")
@guarded
def finding_correct(
    ref: Annotated[str, typer.Argument(
        autocompletion=finding_refs, help=N_("F-2023-0001, or F-2023-0001.2 for a "
                                       "recommendation's text, code or value."))],
    field: Annotated[str, typer.Option("--field", help=N_("The field to correct, e.g. received, "
                                       "title, value, opd."))],
    value: Annotated[str, typer.Option("--value", help=N_("The right value."))],
    reason: ReasonOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Correct a field, as a new event; the original stays visible in history.

    Example: auditlog finding correct F-2023-0001 --field received --value 2023-03-10
    --reason "tanggal terima salah ketik"
    """
    from auditlog import commands

    why = require_text(reason, what="--reason")
    with writer() as store:
        finding = commands.correct(store, recording(), ref, field.strip().lower(), value, why,
                                   today())
    print_recorded(finding, fmt, _("corrected {field} of {ref}").format(
                                     field=field, ref=ref.upper()),
                    rec_ref(finding, ref) if "." in ref else None)


@finding_app.command("withdraw")
@guarded
def finding_withdraw(
    ref: Annotated[str, typer.Argument(
        autocompletion=finding_refs, help=N_("The finding recorded in error."))],
    reason: ReasonOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Withdraw a finding recorded in error: it leaves the projections, not the log.

    Example: auditlog finding withdraw F-2023-0003 --reason "tercatat ganda"
    """
    from auditlog import commands

    why = require_text(reason, what="--reason")
    with writer() as store:
        finding = commands.withdraw(store, recording(), ref, why, today())
    print_recorded(finding, fmt, _("withdrew {ref}: it stays in the log and history").format(
                                     ref=finding.ref))
