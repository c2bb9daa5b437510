"""`auditlog import`: a follow-up register from CSV or XLSX, all rows or none; and its template."""

import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auditlog.cli.app import app, echo, guarded, recording, settings, writer
from auditlog.clock import today
from auditlog.errors import Refusal
from auditlog.i18n import N_, _, ngettext

if TYPE_CHECKING:  # imported where used: the command tree must build fast

    from auditlog.importer import run
    from auditlog.importer.plan import Summary
    from auditlog.projections.persisted import Projection
    from auditlog.store.app import Store

# From this many rows on, a terminal shows a progress bar while the register is read.
PROGRESS_ROWS = 2000
Tick = Callable[[int], None]


@app.command("import")
@guarded
def import_register(
    file: Annotated[Path | None, typer.Argument(
        help=N_("The register: .xlsx (or .xls/.ods) or .csv (comma or semicolon; UTF-8 or "
        "Windows-1252)."), show_default=False)] = None,
    sheet: Annotated[str | None, typer.Option(
        "--sheet", help=N_("The sheet to read (default: the first visible one)."))] = None,
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", help=N_("A TOML or YAML file naming more headers: a table 'columns' of "
        'header = field, e.g. "Uraian Masalah" = "title".'))] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help=N_("Check every row and print what would be imported; write nothing."))]
    = False,
    template: Annotated[Path | None, typer.Option(
        "--template", help=N_("Instead, write an empty register FILE.xlsx with the headers, a "
        "sheet explaining each column, and a status list."))] = None,
    force: Annotated[bool, typer.Option(
        "--force", help=N_("With --template: replace an existing file."))] = False,
) -> None:
    """Import a follow-up register: findings, recommendations, follow-ups and statuses.

    Every row is checked first; one bad row refuses the whole file, listing every problem.
    Re-importing records only what is new. Example: auditlog import matriks-2023.xlsx
    """
    from auditlog.importer import run
    from auditlog.importer.template import write_template
    from auditlog.reports import views

    if template is not None:
        if file is not None:
            raise Refusal(_("give either a FILE to import or --template FILE.xlsx, not both"))
        write_template(template, force=force)
        echo(_("wrote an empty register to {template}: fill in the sheet Register (the sheet "
               "Petunjuk explains each column), then run 'auditlog import' on it").format(
                 template=template))
        return
    if file is None:
        raise Refusal(_("give the register to import: auditlog import FILE.xlsx (or "
                        "FILE.csv); 'auditlog import --template FILE.xlsx' writes an empty "
                        "one"))
    day = today()
    with _progress() as started, _few_collections():
        prepared = run.prepare(file, sheet, mapping, day, started)
        if dry_run:
            with _planning_store() as store:
                made = run.plan(store, recording(), prepared, day)
            echo(_summary(prepared, made.summary, day, dry_run=True))
            return
        with writer() as store:
            made = run.save(store, recording(), prepared, day)
            prepared.register.findings.clear()  # saved: memory goes to the catch-up below
            # The read models follow in the same command, so the next status is instant.
            follow(views.open_projection(store, catch_up=False), store.max_position(), started)
    echo(_summary(prepared, made.summary, day, dry_run=False))


@contextmanager
def _few_collections() -> Iterator[None]:
    """An import makes millions of small objects (cells, rows, events) and next to no
    reference cycles, while the collector's default thresholds sweep the young objects every
    700 allocations and the older ones with them every few sweeps: a fifth of the import's
    time (50,000 rows). Sweeps every 100,000 allocations: the same peak memory."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*before)


# Folding the whole log again (rebuild) beats catching up event by event once the new events
# are at least this share of the log: a first import into an empty or small store.
REFOLD_SHARE = 0.5


def follow(projection: "Projection", end: int, started: Callable[[int], Tick | None]) -> None:
    """Bring the read models up to ``end``. An import into an empty or small store is most of
    the log: one fold of it, each table written once (``rebuild``), costs less than catching
    up batch by batch, which reads back and rewrites what each batch touches. Both give the
    same rows (tests/test_import_fast.py). A rebuild also forgets when verify --projections
    last proved the rows: a store with such a proof catches up and keeps it."""
    behind = end - projection.position()
    tick = started(behind)
    if behind > 0 and behind >= REFOLD_SHARE * end and projection.proven() is None:
        # Rebuild is the remedy for a projection not resting on the log and does not look;
        # catching up would refuse such a projection (exit 3), and so does this.
        projection.check_head()
        projection.rebuild(tick)
    else:
        projection.catch_up(tick)


@contextmanager
def _planning_store() -> "Iterator[Store]":
    """The store a dry run plans against: the real one read-only, or an empty stand-in when
    there is none yet (a dry run never creates a store)."""
    from auditlog.store.app import Store

    target = settings().db
    if Store.exists(target):
        Store.check_target(target, existing=True)
        store = Store(target)
        try:
            yield store
        finally:
            store.close()
        return
    import tempfile  # only for a dry run: not at start-up

    with tempfile.TemporaryDirectory(prefix="auditlog-dry-run-") as folder:
        store = Store(str(Path(folder) / "empty.db"))
        try:
            yield store
        finally:
            store.close()


@contextmanager
def _progress() -> Iterator[Callable[[int], Tick | None]]:
    """started(total) gives a tick for a bar on a terminal when total is large, else None."""
    if not sys.stderr.isatty():
        yield lambda total: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(transient=True, console=Console(stderr=True)) as progress:

        def started(total: int) -> Tick | None:
            if total < PROGRESS_ROWS:
                return None
            task = progress.add_task(_("importing"), total=total)
            return lambda n: progress.advance(task, n)

        yield started


def _n(text: str, n: int) -> str:
    """A count already translated with ngettext, its number filled in."""
    return text.format(n=n)


def _summary(prepared: "run.Prepared", s: "Summary", day: date, *, dry_run: bool) -> str:
    info = prepared.info
    where = _("sheet {sheet!r}, ").format(sheet=info.sheet) if info.sheet else ""
    rows = _n(ngettext("{n} row", "{n} rows", s.rows), s.rows)
    head = (_("dry run, nothing written: {name} ({where}{rows}, SHA-256 {sha256})") if dry_run
            else _("imported {name} ({where}{rows}, SHA-256 {sha256})")).format(
        name=info.name, where=where, rows=rows, sha256=info.sha256[:12])
    lines = [head]
    if s.pemda_registered:
        lines.append(_("  pemda registered from the official list: {codes}").format(
            codes=", ".join(s.pemda_registered)))
    lines.append(_("  new: {findings} with {recommendations}, {followups}, {reviews}").format(
        findings=_n(ngettext("{n} finding", "{n} findings", s.new_findings), s.new_findings),
        recommendations=_n(ngettext("{n} recommendation", "{n} recommendations",
                                    s.new_recommendations), s.new_recommendations),
        followups=_n(ngettext("{n} follow-up", "{n} follow-ups", s.new_followups),
                     s.new_followups),
        reviews=_n(ngettext("{n} review", "{n} reviews", s.new_reviews), s.new_reviews)))
    lines.append(_("  already there: {findings}, {recommendations} unchanged, "
                   "{followups}").format(
        findings=_n(ngettext("{n} finding", "{n} findings", s.findings_there),
                    s.findings_there),
        recommendations=_n(ngettext("{n} recommendation", "{n} recommendations",
                                    s.unchanged_recommendations), s.unchanged_recommendations),
        followups=_n(ngettext("{n} follow-up", "{n} follow-ups", s.followups_there),
                     s.followups_there)))
    lines.append(_("  changed: {followups} and {reviews} on findings already there").format(
        followups=_n(ngettext("{n} new follow-up", "{n} new follow-ups", s.changed_followups),
                     s.changed_followups),
        reviews=_n(ngettext("{n} status change", "{n} status changes", s.changed_reviews),
                   s.changed_reviews)))
    if s.supplied_followup_dates or s.supplied_review_dates:
        lines.append(_("  dates supplied (the sheet gave none, so the import's date {day}): "
                       "{followups}, {reviews}").format(
            day=day,
            followups=_n(ngettext("{n} follow-up", "{n} follow-ups",
                                  s.supplied_followup_dates), s.supplied_followup_dates),
            reviews=_n(ngettext("{n} review", "{n} reviews", s.supplied_review_dates),
                       s.supplied_review_dates)))
    return "\n".join(lines)
