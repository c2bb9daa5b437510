"""The `auditlog` command line: thin commands that parse, call and print.

The app and its shared helpers are in cli/app.py; each command group has its own module,
registered here (and only here), so no group imports another.
Every refusal is one line on stderr and exit code 1, raised before anything is written.
"""

import sys

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # Typer's copy of Click
from typer.models import CommandInfo

import auditlog.cli._collector as collector

collector.pause()  # while the command modules load (cli/_collector.py): resumed below

import auditlog.cli.importing  # noqa: E402, F401  (registers `auditlog import`)
from auditlog.cli import (  # noqa: E402
    commitments,
    compare,
    evidence,
    export,
    findings,
    followups,
    grades,
    integrity,
    pemda,
    reading,
    server,
    store_admin,
)
from auditlog.cli.app import app  # noqa: E402
from auditlog.cli.language import usage_message  # noqa: E402
from auditlog.i18n import _  # noqa: E402

app.add_typer(pemda.pemda_app, name="pemda")
app.add_typer(findings.finding_app, name="finding")
app.add_typer(followups.followup_app, name="followup")
app.add_typer(grades.grade_app, name="grade")
app.add_typer(integrity.keys_app, name="keys")
app.add_typer(commitments.commitment_app, name="commitment")
app.add_typer(server.roles_app, name="roles")
app.add_typer(evidence.evidence_app, name="evidence")

# The order users read in `auditlog --help`: first steps, then reading, then proving.
_ORDER = ("init", "demo", "status", "history", "replay", "rebuild", "export", "checkpoint",
          "verify", "copy")


def _place(command: CommandInfo) -> int:
    name = command.name or getattr(command.callback, "__name__", "")
    return _ORDER.index(name) if name in _ORDER else len(_ORDER)


app.registered_commands.sort(key=_place)
collector.resume()  # the modules are loaded: importing this module leaves it as it was


def main() -> None:
    """The console script: usage errors exit 2, refusals 1, integrity 3, busy 4.

    A usage error is one line, like every refusal, naming the help to read (Typer would draw
    a box of several lines)."""
    collector.pause()  # building the tree and parsing: resumed as a command starts
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError:  # the help was shown already: nothing was asked
        sys.exit(2)
    except UsageError as error:
        where = error.ctx.command_path if error.ctx is not None else "auditlog"
        message = usage_message(error.format_message())
        typer.echo("auditlog: " + _("{message}: see '{where} -h'").format(
            message=message, where=where), err=True)
        sys.exit(2)
    except typer.Abort:
        typer.echo("auditlog: " + _("stopped; nothing more was done"), err=True)
        sys.exit(1)
    finally:
        collector.resume()  # if no command ran (--version, --help, a usage error)
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["app", "commitments", "compare", "evidence", "export", "findings", "followups",
           "grades", "integrity", "main", "pemda", "reading", "server", "store_admin"]
