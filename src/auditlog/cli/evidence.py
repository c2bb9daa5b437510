"""`auditlog evidence`: the evidence files kept with `followup record --evidence FILE --keep`."""

import contextlib
import os
from pathlib import Path
from typing import Annotated

import typer

from auditlog import files
from auditlog.cli.app import echo, guarded, reader
from auditlog.errors import Refusal
from auditlog.i18n import N_, _

evidence_app = typer.Typer(help=N_("Evidence files kept in the store (--evidence FILE --keep)."),
                           no_args_is_help=True)


@evidence_app.command("get", help=N_(
    "Give back a kept evidence file, written whole or not at all.\n\n"
    "SHA256 is the fingerprint 'finding show' and 'history' print (the first 12 digits are "
    "enough). The file is written next to its final name and renamed, and an existing file "
    "is only replaced with --force.\n\n"
    "Example: auditlog evidence get 3a7bd3e2360a --to sts-kembali.pdf"))
@guarded
def evidence_get(
    sha256: Annotated[str, typer.Argument(metavar="SHA256", help=N_(
        "The file's SHA-256 (64 hexadecimal digits, or the first 12 or more).")
    )],
    to: Annotated[Path, typer.Option("--to", metavar="FILE", help=N_(
        "Where to write the file."))],
    force: Annotated[bool, typer.Option("--force", help=N_(
        "Replace FILE if it exists."))] = False,
) -> None:
    # The same refusals as every file auditlog writes (never onto a store, --force to
    # replace); the bytes are then streamed, so a kept file never sits whole in memory.
    import tempfile  # here, not at start-up

    from auditlog.store.evidence import megabytes, open_vault

    files.check_writable(to, force=force)
    folder = to.parent if str(to.parent) else Path(".")
    with reader() as store:
        vault = open_vault(store)
        try:
            kept = vault.find(sha256)
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{to.name}.",
                                                 suffix=".part")
            try:
                with os.fdopen(handle, "wb") as out:
                    for chunk in vault.chunks(kept.sha256):
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                if force:
                    os.replace(temporary, to)
                else:
                    try:  # a link never replaces: another process may have made the name
                        os.link(temporary, to)
                    except FileExistsError:
                        raise Refusal(_("{path} exists: choose another --to, or add --force "
                                        "to replace it").format(path=to)) from None
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(temporary)
        finally:
            vault.close()
    echo(_("wrote {path} ({size}, sha256 {sha})").format(
        path=to, size=megabytes(kept.size) if kept.size >= 1_000_000 else
        _("{n} bytes").format(n=kept.size), sha=kept.sha256))
