"""One import, from the file to a plan ready to save; every problem found first, then listed."""

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from eventsourcing.persistence import OperationalError, RecordConflictError

from auditlog.domain.aggregate import Context
from auditlog.errors import Refusal, StoreBusy
from auditlog.importer.columns import Matcher, load_mapping
from auditlog.importer.plan import FileInfo, Plan, plan_import
from auditlog.importer.read import Source, load, read_table
from auditlog.importer.register import Register, parse_register
from auditlog.store.app import ATTEMPTS, Store
from auditlog.store.recorder import AuditRecorder

Tick = Callable[[int], None]
_ROW = re.compile(r"^row (\d+)")


@dataclass
class Prepared:
    """A file read and parsed, not yet planned against a store."""

    source: Source
    info: FileInfo
    register: Register


def prepare(path: Path, sheet: str | None, mapping: Path | None, today: date,
            started: Callable[[int], Tick | None] | None = None) -> Prepared:
    """Read and parse the file; `started(rows)` gives a tick for a progress bar, if any."""
    matcher = Matcher(load_mapping(mapping) if mapping is not None else None)
    source = load(path)
    table = read_table(source, sheet, matcher.score)
    columns = matcher.find(table.rows, source.name)
    tick = started(len(table.rows)) if started is not None else None
    register = parse_register(table.rows, columns, today, tick)
    if not register.findings and not register.problems:
        raise Refusal(f"{source.name} has a header row (row {columns.header_row}) but no rows "
                      "below it: nothing to import")
    info = FileInfo(name=source.name, sha256=source.sha256, size=len(source.data),
                    sheet=table.sheet)
    return Prepared(source=source, info=info, register=register)


def plan(store: Store, ctx: Context, prepared: Prepared, today: date,
         tick: Tick | None = None) -> Plan:
    """Every row checked against the store, nothing written (a dry run): the plan with its
    summary, or a Refusal listing every problem of the file, one per line, by row."""
    made = plan_import(store, ctx, prepared.register, prepared.info, today, tick)
    for _ in made.chunks:
        pass
    if made.problems:
        raise Refusal(refusal_text(prepared.info.name, made.problems))
    return made


def save(store: Store, ctx: Context, prepared: Prepared, today: date,
         tick: Tick | None = None) -> Plan:
    """Plan and save in ONE transaction, chunk by chunk, so memory follows a chunk rather than
    the register: each chunk's events go in (with their hash-chain links, as every save) as
    soon as its rows are checked; a problem anywhere rolls everything back, after the rest of
    the rows were checked for the list. Someone else saving first means planning afresh."""
    for attempt in range(ATTEMPTS):
        made = plan_import(store, ctx, prepared.register, prepared.info, today, tick)
        try:
            _write(store, made)
        except (RecordConflictError, OperationalError):
            time.sleep(min(0.5, 0.01 * 2**attempt) * (1 + random.random()))
            continue
        if made.problems:
            raise Refusal(refusal_text(prepared.info.name, made.problems))
        return made
    raise StoreBusy(f"the store at {store.target} kept changing or stayed locked through "
                    f"{ATTEMPTS} attempts; nothing was imported: try again")


class _RollBack(Exception):
    pass


def _write(store: Store, made: Plan) -> None:
    app = store.app
    recorder = app.recorder
    assert isinstance(recorder, AuditRecorder)
    try:
        with recorder.datastore.transaction(commit=True) as cursor:
            for chunk in made.chunks:
                if made.problems:
                    continue  # the rest is still checked, for the list; nothing more written
                events = [event for aggregate in chunk for event in aggregate.collect_events()]
                if events:
                    recorder.insert_in(cursor, [app.mapper.to_stored_event(e) for e in events])
            if made.problems:
                raise _RollBack
    except _RollBack:
        pass


def refusal_text(name: str, problems: list[str]) -> str:
    def row_of(line: str) -> int:
        match = _ROW.match(line)
        return int(match.group(1)) if match else 0

    ordered = sorted(dict.fromkeys(problems), key=row_of)
    count = f"{len(ordered)} problem{'s' if len(ordered) != 1 else ''}"
    return f"{name}: {count}, nothing imported:\n" + "\n".join(ordered)
