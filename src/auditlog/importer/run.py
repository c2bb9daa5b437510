"""One import, from the file to a plan ready to save; every problem found first, then listed."""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from auditlog.domain.aggregate import Context
from auditlog.errors import Refusal
from auditlog.i18n import _, ngettext
from auditlog.importer.columns import Matcher, load_mapping
from auditlog.importer.plan import FileInfo, Plan, plan_import
from auditlog.importer.read import RegisterFile, load, read_table
from auditlog.importer.register import Register, parse_register
from auditlog.store.app import Pending, Store

Tick = Callable[[int], None]
_ROW = re.compile(r"^\w+ (\d+)")  # "row 12, ..." in English, "baris 12, ..." in Indonesian


@dataclass
class Prepared:
    """A file read and parsed, not yet planned against a store."""

    source: RegisterFile
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
        raise Refusal(_("{name} has a header row (row {header_row}) but no rows below it: "
                        "nothing to import").format(
                          name=source.name, header_row=columns.header_row))
    info = FileInfo(name=source.name, sha256=source.sha256, size=len(source.data),
                    sheet=table.sheet)
    return Prepared(source=source, info=info, register=register)


def plan(store: Store, ctx: Context, prepared: Prepared, today: date,
         tick: Tick | None = None) -> Plan:
    """Every row checked against the store, nothing written (a dry run): the plan with its
    summary, or a Refusal listing every problem of the file, one per line, by row."""
    made = plan_import(store, ctx, prepared.register, prepared.info, today, tick)
    for _chunk in made.chunks:
        pass
    if made.problems:
        raise Refusal(refusal_text(prepared.info.name, made.problems))
    return made


def save(store: Store, ctx: Context, prepared: Prepared, today: date,
         tick: Tick | None = None) -> Plan:
    """Plan and save in ONE transaction, chunk by chunk (Store.save_in_chunks), so memory
    follows a chunk rather than the register. Once a problem is found nothing more is
    written, the rest is still checked for the list, and the Refusal rolls everything back.
    Someone else saving first means planning afresh."""
    made: list[Plan] = []

    def chunks() -> Iterator[list[Pending]]:
        made[:] = [plan_import(store, ctx, prepared.register, prepared.info, today, tick)]
        for chunk in made[0].chunks:
            if not made[0].problems:
                yield chunk
        if made[0].problems:
            raise Refusal(refusal_text(prepared.info.name, made[0].problems))

    store.save_in_chunks(chunks)
    return made[0]


def refusal_text(name: str, problems: list[str]) -> str:
    def row_of(line: str) -> int:
        match = _ROW.match(line)
        return int(match.group(1)) if match else 0

    ordered = sorted(dict.fromkeys(problems), key=row_of)
    return ngettext("{name}: {count} problem, nothing imported:",
                    "{name}: {count} problems, nothing imported:", len(ordered)).format(
        name=name, count=len(ordered)) + "\n" + "\n".join(ordered)
