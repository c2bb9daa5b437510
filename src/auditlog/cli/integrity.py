"""Commands of the integrity part of the CLI, registered on the main app when imported.

`checkpoint` and `verify` exit 3 (ExitCode.INTEGRITY) when the log does not verify, after one
line per problem; a bad file, key or store is a refusal (exit 1) like anywhere else.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from auditlog import files
from auditlog.cli.app import app, echo, fail, guarded, reader, recording
from auditlog.cli.options import FormatOpt
from auditlog.clock import now
from auditlog.errors import ExitCode
from auditlog.i18n import N_, _, ngettext
from auditlog.reports.render import Format, render, to_json

if TYPE_CHECKING:  # imported where used: the command tree must build fast

    from auditlog.store.app import Store
    from auditlog.store.integrity import (
        Checkpoint,
        Report,
    )

keys_app = typer.Typer(help=N_("Ed25519 key pairs that sign checkpoints (never stored in the "
                               "log)."),
                       no_args_is_help=True)

LONG_LOG = 50_000
"""From this many events on, a terminal shows a progress bar while the log is checked."""

PROBLEM_COLUMNS = [("where", "where"), ("kind", "problem"), ("detail", "detail")]
CHECKPOINT_COLUMNS = [("store", "store"), ("events", "events"), ("root", "root"),
                      ("time", "time"), ("key", "signed by")]


@contextmanager
def progress_bar(store: "Store", label: str) -> Iterator[Callable[[int], None] | None]:
    """A bar on stderr when it is a terminal and the log is long; otherwise nothing at all."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    total = store.max_position()
    if not console.is_terminal or total < LONG_LOG:
        yield None
        return
    with Progress(transient=True, console=console) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def _problem_rows(report: "Report") -> list[dict[str, Any]]:
    return [{"where": p.where, "kind": p.kind_name, "detail": p.detail}
            for p in report.problems]


def _failed(report: "Report", fmt: Format, what: str) -> NoReturn:
    """Print every problem, then one line on stderr, and exit 3."""
    if fmt is Format.json:
        echo(to_json(report.as_dict()))
    elif fmt is Format.table:
        for problem in report.problems:
            echo(problem.line())
        for note in report.notes:  # e.g. that the append-only triggers had been removed
            echo(_("note: {note}").format(note=note))
    else:
        echo(render(_problem_rows(report), PROBLEM_COLUMNS, fmt))
    count = len(report.problems)
    fail(ngettext("{what}: {count} problem in {size} events of {store}",
                  "{what}: {count} problems in {size} events of {store}", count).format(
        what=what, count=count, size=report.size, store=report.store_id or _("this store")),
        ExitCode.INTEGRITY)
    raise AssertionError("unreachable: fail exits")


@app.command()
@guarded
def checkpoint(
    to: Annotated[Path | None, typer.Option(
        "--to", help=N_("Save it to this new file instead of printing it, e.g. "
        "--to checkpoint-2023.txt (an existing file is kept unless --force)."))] = None,
    sign: Annotated[Path | None, typer.Option(
        "--sign", help=N_("Sign it with this private key, made by 'auditlog keys generate', "
        "e.g. --sign inspektorat.key."))] = None,
    force: Annotated[bool, typer.Option(
        "--force", help=N_("Replace the --to file if it exists (never a store)."))] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Print (or save) a checkpoint: the log's identity, size, root hash and time.

    It is recorded in the log too. Print it in the annual review: years later,
    'auditlog verify --checkpoint FILE' proves that the log still extends it, untouched.
    The whole log is verified first: a log that does not verify gets no checkpoint (exit 3).
    The file appears whole or not at all.

    Example: auditlog checkpoint --to checkpoint-2023.txt --sign inspektorat.key
    """
    from auditlog.store.integrity import (
        IntegrityFailure,
        current_checkpoint,
        load_private_key,
        record_checkpoint,
    )

    key = load_private_key(sign) if sign is not None else None
    ctx = recording()
    with reader() as store:
        if to is not None:  # a name that cannot be written is refused before anything is
            files.check_writable(to, force=force)  # recorded
        try:
            with progress_bar(store, _("verifying")) as progress:
                made = current_checkpoint(store, at=ctx.at, progress=progress)
        except IntegrityFailure as failure:
            _failed(failure.report, fmt, _("the log does not verify, so no checkpoint was "
                                           "made"))
        if key is not None:
            made = made.signed(key)
        record_checkpoint(store, ctx, made)
    if to is not None:
        files.write_file(to, made.text().encode(), force=force)
        saved = (_("saved a signed checkpoint of {size} events to {to}") if made.signature
                 else _("saved the checkpoint of {size} events to {to}"))
        echo(saved.format(size=made.size, to=to))
        return
    _print_checkpoint(made, fmt)


def _print_checkpoint(made: "Checkpoint", fmt: Format) -> None:
    if fmt is Format.table:
        echo(made.text().rstrip("\n"))
        return
    data = {**made.as_dict(), "text": made.text()}
    echo(render([made.as_dict()], CHECKPOINT_COLUMNS, fmt, data=data))


@app.command()
@guarded
def verify(
    checkpoint: Annotated[list[Path] | None, typer.Option(
        "--checkpoint", help=N_("A checkpoint saved earlier that the log must still extend; "
        "repeat for several, e.g. --checkpoint checkpoint-2023.txt."))] = None,
    key: Annotated[Path | None, typer.Option(
        "--key", help=N_("The public key every checkpoint must be signed with, e.g. "
        "--key inspektorat.pub."))] = None,
    projections: Annotated[bool, typer.Option(
        "--projections", help=N_("Also check that the read models behind status and the "
        "annual review equal a fold of the verified events (costs one replay)."))] = False,
    no_witness: Annotated[bool, typer.Option(
        "--no-witness", help=N_("Skip the checkpoints witnessed after every write (kept outside "
        "the store, in AUDITLOG_WITNESS or the user's data folder)."))] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Check the integrity of the whole log, and that it still extends saved checkpoints.

    Recomputes the hash chain over every stored event, and its Merkle root.
    Each problem is one line (edited, missing, inserted, out of order, chain broken,
    shorter than checkpoint, root differs from checkpoint), then exit code 3.
    Otherwise it prints how many events were verified, and the root.
    A checkpoint's signature is checked whenever it has one. Every checkpoint witnessed
    after a write is checked too, and events added after the last one are reported
    (a forged append), unless --no-witness.

    Example: auditlog verify --checkpoint checkpoint-2023.txt
    """
    from auditlog.projections.persisted import last_proven
    from auditlog.reports.views import open_projection, projection_drift
    from auditlog.store.chain import Kind
    from auditlog.store.evidence import open_vault
    from auditlog.store.integrity import load_public_key, read_checkpoint, verify_store

    saved = [(str(path), read_checkpoint(path)) for path in checkpoint or []]
    trusted = load_public_key(key) if key is not None else None
    drift: list[str] = []
    with reader(verifying=True) as store:
        with progress_bar(store, _("verifying")) as progress:
            report = verify_store(store, saved, trusted=trusted, progress=progress,
                                  witnessed=not no_witness)
        if report.ok and projections:
            drift = projection_drift(store)
            if not drift and not store.readonly:
                open_projection(store, catch_up=False).mark_proven(now())
        proven = last_proven(store)
        kept, damaged = 0, list[str]()
        vault = open_vault(store)
        try:
            kept, damaged = vault.damaged()
        finally:
            vault.close()
    shown = ", ".join(d[:12] for d in damaged[:5]) + (
        _(" and {n} more").format(n=len(damaged) - 5) if len(damaged) > 5 else "")
    if not report.ok:
        if damaged:  # said too, so that one run of verify tells every kind of damage
            report.notes.append(_("{n} kept evidence file(s) no longer match their SHA-256 "
                                  "({shown})").format(n=len(damaged), shown=shown))
        only_signatures = all(p.kind in (Kind.bad_signature, Kind.untrusted)
                              for p in report.problems)
        _failed(report, fmt, _("the log verifies, but a checkpoint's signature does not hold")
                if only_signatures else _("the log does not verify"))
    if damaged:
        fail(_("the log verifies, but {n} kept evidence file(s) no longer match their SHA-256 "
               "({shown}): restore them from a copy of the store").format(
            n=len(damaged), shown=shown), ExitCode.INTEGRITY)
    if drift:
        shown = ", ".join(drift[:5]) + (
            _(" and {n} more").format(n=len(drift) - 5) if len(drift) > 5 else "")
        fail(_("the log verifies, but the projections differ from its events ({shown}): run "
               "'auditlog rebuild'").format(shown=shown), ExitCode.INTEGRITY)
    if fmt is Format.json:
        echo(to_json(report.as_dict()))
        return
    if fmt is not Format.table:
        echo(render(_problem_rows(report), PROBLEM_COLUMNS, fmt))
        return
    echo(_("verified {size} events: every entry of the hash chain holds").format(
             size=report.size))
    echo(_("root {root}").format(root=report.root))
    for result in report.checkpoints:
        made = result.checkpoint
        signed = ""
        if result.signed_by is not None:
            signed = (_(", signed by the key in {key}").format(key=key) if key is not None
                      else _(", signed by key {key}").format(key=result.signed_by))
        echo(_("{name}: the log extends it ({size} events on {value}{signed})").format(
                 name=result.name, size=made.size, value=made.as_dict()['time'], signed=signed))
    if report.witness is not None:
        seen = report.witness
        if seen.checked:
            echo(ngettext("witness: the log extends all {checked} checkpoints witnessed (up "
                          "to {last} events, in {folders} folder)",
                          "witness: the log extends all {checked} checkpoints witnessed (up "
                          "to {last} events, in {folders} folders)", seen.folders).format(
                checked=seen.checked, last=seen.last, folders=seen.folders))
        else:
            echo(_("witness: no checkpoint witnessed yet for this store (a copy, or made "
                   "before witnessing)"))
    if projections:
        echo(_("projections: equal to a fold of the verified events"))
    elif proven is not None:
        echo(_("projections: last proven equal to a fold of the events on {on}, up to "
               "position {position} (verify --projections proves them again)").format(
            on=proven[1], position=proven[0]))
    else:
        echo(_("projections: never proven equal to a fold of the events (verify "
               "--projections does)"))
    if kept:
        echo(ngettext("evidence: {n} kept file matches its SHA-256",
                      "evidence: {n} kept files match their SHA-256", kept).format(n=kept))
    for note in report.notes:
        echo(_("note: {note}").format(note=note))


@keys_app.command("generate")
@guarded
def keys_generate(
    to: Annotated[Path, typer.Option(
        "--to", help=N_("Name of the pair: writes NAME.key (private) and NAME.pub (public), "
        "e.g. --to inspektorat."))] = Path("auditlog"),
    force: Annotated[bool, typer.Option(
        "--force", help=N_("Replace an existing pair of that name (its signatures can then no "
        "longer be made again)."))] = False,
) -> None:
    """Make an Ed25519 key pair for signing checkpoints; overwrites nothing.

    The private key signs ('auditlog checkpoint --sign NAME.key'): keep it with the person
    who signs, never beside the store. The public key checks ('auditlog verify --key
    NAME.pub'): publish it, e.g. in the annual review. Neither is ever stored in the log.

    Example: auditlog keys generate --to inspektorat
    """
    from auditlog.store.integrity import generate_keys

    private, public = generate_keys(to, force=force)
    echo(_("wrote {private} (private: whoever holds it can sign checkpoints; keep it safe)").format(
             private=private))
    echo(_("wrote {public} (public: publish it so anyone can check the signatures)").format(
             public=public))
