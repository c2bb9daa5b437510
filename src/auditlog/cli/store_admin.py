"""Store administration: creating a store, the demo, rebuilding the projections."""

from typing import TYPE_CHECKING

from auditlog.cli.app import (
    app,
    echo,
    guarded,
    reader,
    settings,
    writer,
)
from auditlog.clock import today
from auditlog.errors import DamagedStore, Refusal
from auditlog.i18n import _, ngettext
from auditlog.reports.render import Format

if TYPE_CHECKING:  # imported where used: the command tree must build fast

    from auditlog.store.app import Store

from .options import FormatOpt


@app.command()
@guarded
def init() -> None:
    """Create an empty store (idempotent) and say where it is.

    Example: auditlog --db inspektorat.db init
    """
    from auditlog.reports import views
    from auditlog.store.app import Store

    target = settings().db
    existed = Store.exists(target)
    with writer(restoring=True) as store:
        restored = _restore_guards(store)
        views.open_projection(store).close()
        held = store.max_position()
    echo((_("store already exists at {target}") if existed
          else _("created an empty store at {target}")).format(target=store.target))
    if restored:
        echo(_("put back the append-only triggers {value}: the log of {held} events "
               "verifies").format(value=", ".join(restored), held=held))


def _restore_guards(store: "Store") -> list[str]:
    """Removed triggers are put back only here, and only over a log that verifies; lost
    integrity tables never are (a chain laid over events that may have changed proves
    nothing)."""
    from auditlog.store.chain import Kind
    from auditlog.store.integrity import verify_store

    if not store.missing_guards:
        return []
    store.require_intact_tables()
    if store.readonly:
        raise Refusal(_("the store at {target} is read-only: its triggers cannot be put "
                        "back").format(target=store.target))
    report = verify_store(store)
    problems = [p for p in report.problems if p.kind is not Kind.unguarded]  # those it fixes
    if problems:
        raise DamagedStore(ngettext(
            "the store at {target} lacks append-only triggers and its log does not verify "
            "({count} problem): run 'auditlog verify'; nothing was put back",
            "the store at {target} lacks append-only triggers and its log does not verify "
            "({count} problems): run 'auditlog verify'; nothing was put back",
            len(problems)).format(target=store.target, count=len(problems)))
    return store.restore_triggers()


@app.command()
@guarded
def demo(fmt: FormatOpt = Format.table) -> None:
    """Record the Kota Malang 2023 story (and its neighbours), then print the status table.

    A newcomer's first command. Running it again records nothing new.

    Example: auditlog demo
    """
    from auditlog.demo import record_demo
    from auditlog.reports import views

    with writer() as store:
        recorded = record_demo(store, settings().actor)
        if fmt is Format.table:
            message = (
                _("recorded the demo story: {recorded} events in {target}").format(
                    recorded=recorded, target=store.target)
                if recorded else _("the demo story is already in this store: nothing recorded")
            )
            echo(message + "\n")
        echo(views.status_text(views.current(store), today(), None, fmt))


@app.command()
@guarded
def rebuild() -> None:
    """Rebuild every projection from the events, with a progress bar.

    Example: auditlog rebuild
    """
    from rich.console import Console
    from rich.progress import Progress

    from auditlog.reports import views

    with reader() as store:
        total = store.max_position()
        projection = views.open_projection(store, catch_up=False)
        console = Console(stderr=True)
        if not console.is_terminal:  # a bar only for a person watching: scripts get one line
            applied = projection.rebuild()
        else:
            with Progress(transient=True, console=console) as progress:
                task = progress.add_task(_("rebuilding"), total=total)
                applied = projection.rebuild(lambda n: progress.advance(task, n))
    echo(_("rebuilt the projections from {applied} events").format(applied=applied))
