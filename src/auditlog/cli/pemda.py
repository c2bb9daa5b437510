"""Commands of the pemda group: registering regional governments and listing them."""

from typing import Annotated

import typer

from auditlog.cli.app import (
    echo,
    guarded,
    reader,
    recording,
    writer,
)
from auditlog.clock import today
from auditlog.domain.inputs import (
    normalise_region_code,
)
from auditlog.i18n import N_, _
from auditlog.reports.render import Format, render

from .options import FormatOpt

pemda_app = typer.Typer(help=N_("Regional governments (pemda)."), no_args_is_help=True)


@pemda_app.command("register")
@guarded
def pemda_register(
    code: Annotated[str, typer.Argument(help=N_("Kemendagri region code, e.g. 35.73."))],
    name: Annotated[str | None, typer.Option("--name", help=N_("Name; default from the "
                                             "official list."))] = None,
    level: Annotated[str | None, typer.Option("--level", help=N_("provinsi, kabupaten or kota; "
                                              "default from the official list."))] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Register a regional government; name and level come from the official region list.

    Example: auditlog pemda register 35.73
    """
    from auditlog import commands
    from auditlog.reports import views

    region = normalise_region_code(code)
    with writer() as store:
        pemda = commands.register_pemda(store, recording(), region, name, level, today())
    row = {"pemda": pemda.code, "name": pemda.name, "level": pemda.level}
    if fmt is Format.table:
        echo(_("registered {code} {name} ({level})").format(
                 code=pemda.code, name=pemda.name, level=pemda.level))
    else:
        echo(render([row], views.PEMDA_COLUMNS, fmt, data={"ref": pemda.code, **row}))


@pemda_app.command("list")
@guarded
def pemda_list(fmt: FormatOpt = Format.table) -> None:
    """List the registered pemda.

    Example: auditlog pemda list --format csv
    """
    from auditlog.reports import views

    with reader() as store:
        rows = [{"pemda": p.code, "name": p.name, "level": p.level}
                for p in views.current(store).pemda_list()]
    echo(render(rows, views.PEMDA_COLUMNS, fmt))
