"""`auditlog import`: a follow-up register from CSV or XLSX, all rows or none; and its template."""

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auditlog.cli.app import app, echo, guarded, recording, settings, writer
from auditlog.clock import today
from auditlog.errors import Refusal
from auditlog.i18n import N_, _

if TYPE_CHECKING:  # imported where used: the command tree must build fast

    from auditlog.importer import run
    from auditlog.importer.plan import Summary
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
    with _progress() as started:
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
            projection = views.open_projection(store, catch_up=False)
            projection.catch_up(started(store.max_position() - projection.position()))
    echo(_summary(prepared, made.summary, day, dry_run=False))


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
    with tempfile.TemporaryDirectory(prefix="auditlog-dry-run-") as folder:
        store = Store(str(Path(folder) / "empty.db"))
        try:
            yield store
        finally:
            store.close()


@contextmanager
def _progress() -> Iterator[Callable[[int], Tick | None]]:
    """started(total) gives a tick for a bar on a terminal when total is large, else None."""
    from rich.console import Console
    from rich.progress import Progress

    if not sys.stderr.isatty():
        yield lambda total: None
        return
    with Progress(transient=True, console=Console(stderr=True)) as progress:

        def started(total: int) -> Tick | None:
            if total < PROGRESS_ROWS:
                return None
            task = progress.add_task("importing", total=total)
            return lambda n: progress.advance(task, n)

        yield started


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _summary(prepared: "run.Prepared", s: "Summary", day: date, *, dry_run: bool) -> str:
    info = prepared.info
    where = f"sheet {info.sheet!r}, " if info.sheet else ""
    head = (f"dry run, nothing written: {info.name} ({where}{_plural(s.rows, 'row', 'rows')}, "
            f"SHA-256 {info.sha256[:12]})" if dry_run else
            f"imported {info.name} ({where}{_plural(s.rows, 'row', 'rows')}, "
            f"SHA-256 {info.sha256[:12]})")
    lines = [head]
    if s.pemda_registered:
        lines.append(f"  pemda registered from the official list: {', '.join(s.pemda_registered)}")
    lines.append(
        f"  new: {_plural(s.new_findings, 'finding', 'findings')} with "
        f"{_plural(s.new_recommendations, 'recommendation', 'recommendations')}, "
        f"{_plural(s.new_followups, 'follow-up', 'follow-ups')}, "
        f"{_plural(s.new_reviews, 'review', 'reviews')}")
    lines.append(
        f"  already there: {_plural(s.findings_there, 'finding', 'findings')}, "
        f"{_plural(s.unchanged_recommendations, 'recommendation', 'recommendations')} "
        f"unchanged, {_plural(s.followups_there, 'follow-up', 'follow-ups')}")
    lines.append(
        f"  changed: {_plural(s.changed_followups, 'new follow-up', 'new follow-ups')} and "
        f"{_plural(s.changed_reviews, 'status change', 'status changes')} on findings "
        "already there")
    if s.supplied_followup_dates or s.supplied_review_dates:
        lines.append(
            f"  dates supplied (the sheet gave none, so the import's date {day}): "
            f"{_plural(s.supplied_followup_dates, 'follow-up', 'follow-ups')}, "
            f"{_plural(s.supplied_review_dates, 'review', 'reviews')}")
    return "\n".join(lines)
