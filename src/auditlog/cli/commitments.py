"""Commands of the commitment group: commitments (komitmen) of OPD toward the pemda's targets,
their realisations and the Inspektorat's reviews, and the themes they are made for."""

from typing import TYPE_CHECKING, Annotated

import typer

from auditlog.cli.app import (
    echo,
    guarded,
    happened_on,
    moment,
    optional,
    pemda_code,
    reader,
    recording,
    reference_date,
    writer,
)
from auditlog.clock import today
from auditlog.domain.inputs import normalise_region_code, parse_date, require_text
from auditlog.i18n import N_, _, format_date, format_pct, language

if TYPE_CHECKING:  # imported where used: the command tree must build fast
    from auditlog.domain.commitment import (
        Commitment,
    )
from auditlog.reports.render import Format, render

from .options import AsOfOpt, FormatOpt, KnownAtOpt, OnOpt, PemdaOpt, ReasonOpt

commitment_app = typer.Typer(
    help=N_("Commitments (komitmen) of OPD toward the pemda's targets: owners, indicators, "
    "realisations and reviews."), no_args_is_help=True)
theme_app = typer.Typer(help=N_("The themes commitments are made for."), no_args_is_help=True)
commitment_app.add_typer(theme_app, name="theme")


def _print(commitment: "Commitment", themes: dict[str, str], fmt: Format, line: str) -> None:
    """The confirmation line, or the commitment with its reference under "ref"."""
    from auditlog.reports.commitments import LIST_COLUMNS, commitment_json, commitment_row

    if fmt is Format.table:
        echo(line)
        return
    on = today()
    echo(render([commitment_row(commitment, on)], LIST_COLUMNS, fmt,
                data=commitment_json(commitment, on, themes)))


@commitment_app.command("record")
@guarded
def commitment_record(
    pemda: Annotated[str, typer.Option("--pemda", help=N_("Region code of the pemda."))],
    opd: Annotated[str, typer.Option("--opd", help=N_("The OPD that commits."))],
    theme: Annotated[str, typer.Option("--theme", help=N_("Theme code: kemiskinan-ekstrem, "
                                       "digitalisasi-pelayanan, stunting, investasi or one "
                                       "the store added."))],
    text: Annotated[str, typer.Option("--text", help=N_("What is promised."))],
    owner: Annotated[str, typer.Option("--owner", help=N_("Who carries it out (the OPD's "
                                       "secretary, as a rule)."))],
    by: Annotated[str, typer.Option("--by", help=N_("Deadline (2024-12-31 or 31/12/2024)."))],
    indicator: Annotated[str | None, typer.Option("--indicator", help=N_("Indicator measured "
                                                  "(with --unit, --baseline, --target)."))]
    = None,
    unit: Annotated[str | None, typer.Option("--unit", help=N_("Unit of the indicator, e.g. %."))]
    = None,
    baseline: Annotated[str | None, typer.Option("--baseline", help=N_("Where the indicator "
                                                 "starts."))] = None,
    target: Annotated[str | None, typer.Option("--target", help=N_("Where it should end (above "
                                               "the baseline or below it)."))] = None,
    on: OnOpt = None,
    answers: Annotated[list[str] | None, typer.Option(
        "--answers", help=N_("A finding or recommendation it answers (F-2023-0005.1); repeat for "
        "each."))] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Record a commitment; prints its reference (K-YYYY-nnnn).

    Example: auditlog commitment record --pemda 35.73 --opd "Dinas Kesehatan" --theme stunting
    --text "Menurunkan prevalensi stunting" --owner "Sekretaris Dinas Kesehatan"
    --indicator "prevalensi stunting" --unit % --baseline 21.5 --target 14 --by 31/12/2024
    """
    from auditlog import commitment_commands
    from auditlog.domain.commitment import parse_value

    new = commitment_commands.NewCommitment(
        pemda=normalise_region_code(pemda), opd=require_text(opd, what="--opd"),
        theme=theme, text=require_text(text, what="--text"),
        owner=require_text(owner, what="--owner"), by=parse_date(by, what="--by"),
        on=happened_on(on), indicator=optional(indicator), unit=optional(unit),
        baseline=parse_value(baseline, what="--baseline") if baseline is not None else None,
        target=parse_value(target, what="--target") if target is not None else None,
        answers=tuple(answers or ()))
    with writer() as store:
        commitment = commitment_commands.record_commitment(store, recording(), new)
        themes = commitment_commands.themes(store)
    _print(commitment, themes, fmt, _("recorded {ref}: {opd}, {theme}, owner {owner}, "
           "by {by}").format(ref=commitment.ref, opd=commitment.opd,
                             theme=commitment.theme, owner=commitment.owner,
                             by=commitment.by))


@commitment_app.command("progress")
@guarded
def commitment_progress(
    ref: Annotated[str, typer.Argument(help=N_("Commitment reference, e.g. K-2023-0001."))],
    on: Annotated[str, typer.Option("--on", help=N_("Date of the realisation."))],
    value: Annotated[str | None, typer.Option(
        "--value", metavar="NUMBER", help=N_("The indicator's realised value."))] = None,
    note: Annotated[str | None, typer.Option("--note", help=N_("What was done."))] = None,
    evidence: Annotated[list[str] | None, typer.Option(
        "--evidence", help=N_("An evidence file, fingerprinted with SHA-256 (not copied); "
        "repeat for each."))] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Record a realisation of a commitment: the indicator's value, a note, evidence.

    Example: auditlog commitment progress K-2023-0003 --on 31/12/2023 --value 18.2
    --evidence laporan-stunting.pdf
    """
    from auditlog import commitment_commands
    from auditlog.domain.commitment import parse_value

    day = happened_on(on)
    realised = parse_value(value) if value is not None else None
    with writer() as store:
        commitment = commitment_commands.record_progress(
            store, recording(), ref, day, realised, optional(note), evidence or [])
        themes = commitment_commands.themes(store)
    progress = commitment.progress
    # English keeps the exact figure (70.00%); Indonesian its display form (70,00%)
    share = (f"{progress}%" if language() == "en" or progress is None
             else format_pct(float(progress)))
    shown = "" if progress is None else _(": {share} of the way to the target").format(
        share=share)
    _print(commitment, themes, fmt, _("recorded progress on {ref} ({day}){shown}").format(
        ref=commitment.ref, day=format_date(day), shown=shown))


@commitment_app.command("review")
@guarded
def commitment_review(
    ref: Annotated[str, typer.Argument(help=N_("Commitment reference."))],
    status: Annotated[str, typer.Option("--status", help=N_("tercapai, sebagian, "
                                        "tidak-tercapai or batal."))],
    reason: ReasonOpt = None,
    on: OnOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The Inspektorat's judgement of a commitment, with a written rationale.

    tercapai, tidak-tercapai and batal close it; only 'commitment reopen' opens it again.
    Example: auditlog commitment review K-2023-0001 --status tercapai --reason "target 2024
    terlampaui"
    """
    from auditlog import commitment_commands
    from auditlog.domain.commitment import parse_commitment_status

    new = parse_commitment_status(status)
    why = require_text(reason, what="--reason")
    day = happened_on(on)
    with writer() as store:
        commitment = commitment_commands.review(store, recording(), ref, new, why, day)
        themes = commitment_commands.themes(store)
    _print(commitment, themes, fmt, _("{ref} is now {status}").format(
        ref=commitment.ref, status=new.value))


@commitment_app.command("reopen")
@guarded
def commitment_reopen(
    ref: Annotated[str, typer.Argument(help=N_("A commitment that is tercapai, tidak-tercapai "
                                       "or batal."))],
    reason: ReasonOpt = None,
    on: OnOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Reopen a closed commitment (back to berjalan): a deliberate act with a reason.

    Example: auditlog commitment reopen K-2023-0001 --reason "data capaian dikoreksi BPS"
    """
    from auditlog import commitment_commands

    why = require_text(reason, what="--reason")
    day = happened_on(on)
    with writer() as store:
        commitment = commitment_commands.reopen(store, recording(), ref, why, day)
        themes = commitment_commands.themes(store)
    _print(commitment, themes, fmt, _("reopened {ref}: it is berjalan again").format(
        ref=commitment.ref))


@commitment_app.command("list")
@guarded
def commitment_list_command(
    pemda: PemdaOpt = None,
    opd: Annotated[str | None, typer.Option("--opd", help=N_("Only this OPD."))] = None,
    theme: Annotated[str | None, typer.Option("--theme", help=N_("Only this theme."))] = None,
    owner: Annotated[str | None, typer.Option("--owner", help=N_("Only this owner."))] = None,
    status: Annotated[str | None, typer.Option(
        "--status", help=N_("Only this status: berjalan, sebagian, tercapai, tidak-tercapai, "
        "batal."))] = None,
    overdue: Annotated[bool, typer.Option(
        "--overdue", help=N_("Only open commitments past their deadline."))] = False,
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The register of commitments with their owners, status and progress.

    Example: auditlog commitment list --pemda 35.73 --theme stunting
    """
    from auditlog import commitment_commands
    from auditlog.domain.commitment import parse_status_filter, require_theme
    from auditlog.reports import views
    from auditlog.reports.commitments import commitment_list

    wanted = parse_status_filter(status) if status else None
    m = moment(as_of, known_at)
    with reader() as store:
        themes = commitment_commands.themes(store)
        chosen = require_theme(themes, theme) if theme is not None else None
        model = views.read_model(store, m)
        echo(commitment_list(model, themes, reference_date(m), fmt, pemda=pemda_code(pemda),
                             opd=optional(opd), theme=chosen, owner=optional(owner),
                             status=wanted, overdue=overdue))


@commitment_app.command("show")
@guarded
def commitment_show_command(
    ref: Annotated[str, typer.Argument(help=N_("Commitment reference, e.g. K-2023-0001."))],
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """One commitment with its realisations and its whole trail (who, when, what, why).

    Example: auditlog commitment show K-2023-0001
    """
    from auditlog import commitment_commands
    from auditlog.reports.commitments import commitment_show

    m = moment(as_of, known_at)
    with reader() as store:
        the_id, stored_ref = commitment_commands.commitment_id_of(store, ref)
        echo(commitment_show(store, the_id, stored_ref, m, reference_date(m),
                             commitment_commands.themes(store), fmt))


@theme_app.command("add")
@guarded
def theme_add(
    code: Annotated[str, typer.Argument(help=N_("A stable code: lower-case words joined by "
                                        "hyphens, e.g. ketahanan-pangan."))],
    name: Annotated[str | None, typer.Option("--name", help=N_("The Indonesian name."))] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Add a theme beside the four default ones, once: a theme is never renamed.

    Example: auditlog commitment theme add ketahanan-pangan --name "ketahanan pangan"
    """
    from auditlog import commitment_commands
    from auditlog.domain.commitment import normalise_theme_code

    the_code = normalise_theme_code(code)
    the_name = require_text(name, what="--name")
    with writer() as store:
        commitment_commands.add_theme(store, recording(), the_code, the_name, today())
    data = {"ref": the_code, "code": the_code, "name": the_name}
    if fmt is Format.table:
        echo(_("added theme {code}: {name}").format(code=the_code, name=the_name))
    else:
        echo(render([data], [("code", "code"), ("name", "name")], fmt, data=data))


@theme_app.command("list")
@guarded
def theme_list(fmt: FormatOpt = Format.table) -> None:
    """The themes commitments may be made for: the four defaults, then the store's own.

    Example: auditlog commitment theme list
    """
    from auditlog import commitment_commands

    with reader() as store:
        themes = commitment_commands.themes(store)
    rows = [{"code": code, "name": name} for code, name in themes.items()]
    echo(render(rows, [("code", "code"), ("name", "name")], fmt))
