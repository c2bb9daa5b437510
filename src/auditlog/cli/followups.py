"""Commands of the followup group: follow-ups and the auditor's reviews, reopenings, extensions."""

from typing import Annotated

import typer

from auditlog.cli.app import (
    guarded,
    happened_on,
    optional,
    print_recorded,
    rec_ref,
    recording,
    writer,
)
from auditlog.cli.completion import recommendation_refs
from auditlog.domain.inputs import (
    format_rupiah,
    parse_date,
    parse_rupiah,
    require_text,
)
from auditlog.errors import Refusal
from auditlog.i18n import N_, _, format_date
from auditlog.reports.render import Format

from .options import STATUSES_SPELLED, FormatOpt, OnOpt, ReasonOpt

followup_app = typer.Typer(help=N_("Follow-ups (tindak lanjut) and the auditor's reviews."),
                           no_args_is_help=True)


@followup_app.command("record")
@guarded
def followup_record(
    rec: Annotated[str, typer.Argument(
        autocompletion=recommendation_refs,
        help=N_("Recommendation reference, e.g. F-2023-0001.1."))],
    on: Annotated[str, typer.Option("--on", help=N_("Date the follow-up was received."))],
    action: Annotated[str, typer.Option("--action", help=N_("What the audited unit did."))],
    deposit: Annotated[str | None, typer.Option("--deposit", help=N_("Rupiah deposited "
                                                "(nilai setor)."))] = None,
    slip: Annotated[str | None, typer.Option("--slip", help=N_("Deposit slip number."))] = None,
    evidence: Annotated[list[str] | None, typer.Option(
        "--evidence", metavar="FILE", help=N_("An evidence file, fingerprinted with SHA-256 "
        "(not copied unless --keep); repeat for each."))] = None,
    keep: Annotated[bool, typer.Option(
        "--keep", help=N_("Keep the evidence files' bytes in the store too (content-addressed, "
        "once however often cited; at most AUDITLOG_EVIDENCE_MAX bytes each, default 50 MB); "
        "'auditlog evidence get' gives them back."))] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Record a follow-up received for a recommendation. Money alone never closes it.

    Example: auditlog followup record F-2023-0001.1 --on 10/5/2023
    --action "IKU direvisi" --evidence sk-iku.pdf --keep
    """
    from auditlog import commands

    if keep and not evidence:
        raise Refusal(_("--keep keeps evidence files: give them with --evidence FILE"))
    day = happened_on(on)
    what = require_text(action, what="--action")
    amount = parse_rupiah(deposit, what="--deposit") if deposit else 0
    with writer() as store:
        finding = commands.record_followup(store, recording(), rec, day, what, amount,
                                           optional(slip), evidence or [], keep)
    line = (_("recorded a follow-up on {rec} ({day}, deposit {amount})") if amount
            else _("recorded a follow-up on {rec} ({day})"))
    print_recorded(finding, fmt, line.format(rec=rec.upper(), day=format_date(day),
                                             amount=format_rupiah(amount)),
                   rec_ref(finding, rec))


@followup_app.command("review")
@guarded
def followup_review(
    rec: Annotated[str, typer.Argument(
        autocompletion=recommendation_refs,
        help=N_("Recommendation reference, e.g. F-2023-0001.1."))],
    status: Annotated[str, typer.Option("--status", help=STATUSES_SPELLED)],
    reason: ReasonOpt = None,
    on: OnOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The auditor's decision on a recommendation's status, with a written rationale.

    Allowed: BD->BS, BD->S, BS->BS, BS->S, and any status -> TDTL (the reason names the
    lawful ground). S and TDTL go back to BS only through 'followup reopen'.
    Example: auditlog followup review F-2023-0001.1 --status S --reason "bukti setor lengkap"
    """
    from auditlog import commands
    from auditlog.domain.recommendation import parse_status

    new = parse_status(status)
    why = require_text(reason, what="--reason")
    day = happened_on(on)
    with writer() as store:
        finding = commands.review(store, recording(), rec, new, why, day)
    print_recorded(finding, fmt, _("{rec} is now {value}").format(
                                     rec=rec.upper(), value=new.value), rec_ref(finding, rec))


@followup_app.command("reopen")
@guarded
def followup_reopen(
    rec: Annotated[str, typer.Argument(
        autocompletion=recommendation_refs, help=N_("A recommendation that is S or TDTL."))],
    reason: ReasonOpt = None,
    on: OnOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Reopen a resolved recommendation (S or TDTL back to BS): a deliberate act with a reason.

    Example: auditlog followup reopen F-2023-0001.1 --reason "bukti setor ternyata palsu"
    """
    from auditlog import commands

    why = require_text(reason, what="--reason")
    day = happened_on(on)
    with writer() as store:
        finding = commands.reopen(store, recording(), rec, why, day)
    print_recorded(finding, fmt, _("reopened {rec}: it is BS again").format(rec=rec.upper()),
                    rec_ref(finding, rec))


@followup_app.command("extend")
@guarded
def followup_extend(
    rec: Annotated[str, typer.Argument(
        autocompletion=recommendation_refs, help=N_("Recommendation reference."))],
    due: Annotated[str, typer.Option("--due", help=N_("The new, later due date."))],
    reason: ReasonOpt = None,
    on: OnOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Extend a recommendation's due date; the extension is itself a recorded fact.

    Example: auditlog followup extend F-2023-0001.1 --due 30/9/2023 --reason "banjir"
    """
    from auditlog import commands

    new_due = parse_date(due, what="--due")
    why = require_text(reason, what="--reason")
    day = happened_on(on)
    with writer() as store:
        finding = commands.extend(store, recording(), rec, new_due, why, day)
    print_recorded(finding, fmt, _("{rec} is now due {new_due}").format(
                                     rec=rec.upper(), new_due=format_date(new_due)),
                   rec_ref(finding, rec))
