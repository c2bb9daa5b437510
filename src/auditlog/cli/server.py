"""Commands for a store shared by a team: moving a log between engines (`copy`), and who may
do what on PostgreSQL (`roles`)."""

from typing import TYPE_CHECKING, Annotated

import typer

from auditlog.cli.app import app, echo, fail, guarded, reader, settings
from auditlog.errors import ExitCode, Refusal
from auditlog.i18n import N_, _

if TYPE_CHECKING:
    from auditlog.store.postgres import PostgresEngine


@app.command()
@guarded
def copy(
    to: Annotated[str, typer.Option(
        "--to", help=N_("The empty target: a new SQLite file, or "
                        "postgresql://user@host/dbname of an empty database."))],
) -> None:
    """Copy the store named by --db into an empty TARGET, event by event, bytes unchanged.

    Either engine, either direction; afterwards both give the same checkpoint, so a
    checkpoint taken on the source verifies on the target. The source is verified first.
    Example: auditlog --db inspektorat.db copy --to postgresql://admin@db.example/auditlog
    """
    from rich.console import Console
    from rich.progress import Progress

    from auditlog.reports import views
    from auditlog.store.app import Store
    from auditlog.store.copy import copy_store
    from auditlog.store.integrity import IntegrityFailure

    console = Console(stderr=True)
    with reader() as store, Progress(transient=True, console=console,
                                     disable=not console.is_terminal) as progress:
        task = progress.add_task(_("copying"), total=store.max_position())
        try:
            _before, after = copy_store(store, to, lambda n: progress.advance(task, n))
        except IntegrityFailure as failure:
            fail(_("{failure}: run 'auditlog verify'; a damaged log is not copied").format(
                failure=failure), ExitCode.INTEGRITY)
            raise
    copied = Store(to)
    try:  # the target's read models, so that its first reader finds them current
        views.open_projection(copied).close()
        where = copied.target
    finally:
        copied.close()
    echo(_("copied {size} events to {where}; checkpoint root {root} on both").format(
        size=after.size, where=where, root=after.root))


roles_app = typer.Typer(help=N_("Who may do what on a PostgreSQL store (the database "
                           "enforces it)."), no_args_is_help=True)


def _server_engine(what: str) -> "PostgresEngine":
    from auditlog.store.app import is_postgres, lock_timeout

    target = settings().db
    if not is_postgres(target):
        raise Refusal(_("{what} concerns a PostgreSQL store: a SQLite file has no "
                        "logins; give --db postgresql://owner@host/dbname").format(
            what=what))
    from auditlog.store.postgres import PostgresEngine

    return PostgresEngine(target, lock_timeout())


@roles_app.command("setup")
@guarded
def roles_setup() -> None:
    """Create the groups auditlog_reader, auditlog_auditor and auditlog_inspektur and grant
    them their rights on this store (run as the store's owner; idempotent).

    Example: auditlog --db postgresql://owner@db.example/inspektorat roles setup
    """
    from auditlog.reports import views
    from auditlog.store import roles
    from auditlog.store.app import Store

    engine = _server_engine("roles setup")
    if engine.exists():  # the read models' tables, which the groups bring up to the log
        store = Store(settings().db)
        try:
            views.open_projection(store).close()
        finally:
            store.close()
    for line in roles.setup(engine):
        echo(line)


@roles_app.command("grant")
@guarded
def roles_grant(
    login: Annotated[str, typer.Argument(help=N_("A PostgreSQL LOGIN role (a person)."))],
    group: Annotated[str, typer.Argument(help=N_("reader, auditor or inspektur."))],
) -> None:
    """Make a login a member of reader, auditor or inspektur (run as the store's owner).

    Example: auditlog --db postgresql://owner@db.example/inspektorat roles grant budi auditor
    """
    from auditlog.store import roles

    role = roles.grant(_server_engine("roles grant"), login, group)
    echo(_("{login} is now a member of {role}").format(login=login, role=role))
