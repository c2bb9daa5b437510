"""The witness log: after every write, the log's new (size, root, time), kept outside the store.

A hash chain proves that nothing inside it changed; it cannot show that its end was cut off, or
that someone holding the file appended a forged event with a valid chain entry. A checkpoint
kept elsewhere can. So after every write auditlog appends the new checkpoint to a witness file
per store (``<store id>.witness``) in the user's data folder, or in every folder that
``AUDITLOG_WITNESS`` lists (separated like PATH: a shared folder, a mounted drive), and
``verify`` checks that the log still extends every checkpoint witnessed, and that nothing
was added after the last one.

The cost per write is O(log n): beside the witness file, the Merkle frontier (the roots of
the perfect subtrees of the tree so far, RFC 6962) lets the new root be computed from the new
chain entries alone.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from auditlog import files
from auditlog.clock import now
from auditlog.i18n import _, ngettext
from auditlog.store.chain import EMPTY_ROOT, Kind, MerkleTree, Problem

if TYPE_CHECKING:
    from auditlog.store.engine import Snapshot

WITNESS_ENV = "AUDITLOG_WITNESS"
LINE_CAP = 200  # a witness line is ~100 characters; a longer one is not one


def folders() -> list[Path]:
    listed = os.environ.get(WITNESS_ENV)
    if listed is not None and listed.strip():
        return [Path(part) for part in listed.split(os.pathsep) if part.strip()]
    import platformdirs  # only when no folder is named: it is the default

    return [platformdirs.user_data_path("auditlog") / "witness"]


@dataclass(frozen=True)
class Witnessed:
    line: int
    size: int
    root: str
    time: str


def _paths(folder: Path, store_id: str) -> tuple[Path, Path]:
    return folder / f"{store_id}.witness", folder / f"{store_id}.frontier"


def witness(log: Snapshot) -> list[str]:
    """Append the log's current checkpoint to every witness folder; returns the warnings
    (a folder that could not be written), which never undo the write that was made."""
    warnings: list[str] = []
    if not log.store_id:
        return warnings
    for folder in folders():
        try:
            _witness_into(folder, log)
        except OSError as error:
            warnings.append(_("could not witness the write in {folder}: {strerror}").format(
                folder=folder, strerror=error.strerror or error))
    return warnings


def _witness_into(folder: Path, log: Snapshot) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    witness_path, frontier_path = _paths(folder, log.store_id)
    with open(witness_path, "a", encoding="utf-8") as out:
        # One writer at a time: the frontier and the lines must follow the log in order.
        fcntl.flock(out, fcntl.LOCK_EX)
        tree = _load_frontier(frontier_path)
        head = log.count()
        if tree is not None and tree.size > head:
            return  # the log is shorter than witnessed: leave the evidence for verify
        if tree is None:
            tree = MerkleTree()
        if tree.size == head:
            return
        for digest in log.hashes_after(tree.size):
            tree.append(digest)
        stamp = now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        out.write(f"{tree.size} {tree.root().hex()} {stamp}\n")
        out.flush()
        os.fsync(out.fileno())
        state = {"size": tree.size, "stack": [h.hex() for h in tree.stack]}
        files.write_file(frontier_path, json.dumps(state).encode(), force=True)


def _load_frontier(path: Path) -> MerkleTree | None:
    try:
        state = json.loads(files.read_small_file(path, 1 << 16, _("witness frontier")))
        tree = MerkleTree()
        tree.size = int(state["size"])
        tree.stack = [bytes.fromhex(h) for h in state["stack"]]
    except Exception:  # missing or damaged: it is only a cache of what the chain holds
        return None
    if len(tree.stack) != bin(tree.size).count("1"):
        return None
    return tree


def read_witnessed(folder: Path, store_id: str) -> Iterator[Witnessed]:
    """The checkpoints witnessed for this store in this folder, in order."""
    witness_path, _ = _paths(folder, store_id)
    try:
        handle = open(witness_path, encoding="utf-8", errors="replace")  # noqa: SIM115
    except FileNotFoundError:
        return
    with handle:
        for number, line in enumerate(handle, 1):
            parts = line[:LINE_CAP].split()
            if (len(parts) == 3 and parts[0].isascii() and parts[0].isdigit()
                    and len(parts[0]) <= 18 and len(parts[1]) == 64):
                yield Witnessed(number, int(parts[0]), parts[1].lower(), parts[2])
            else:
                yield Witnessed(number, -1, "", line.strip()[:40])


@dataclass
class WitnessReport:
    checked: int = 0  # witnessed checkpoints compared with the log
    folders: int = 0  # folders holding a witness file for this store
    last: int = 0  # the largest size witnessed


def check_witnessed(log: Snapshot, size: int) -> tuple[WitnessReport, list[Problem]]:
    """Compare every witnessed checkpoint with the log (streamed: one pass over the chain's
    stored hashes, a root computed at each witnessed size). ``size`` is the log's length."""
    report = WitnessReport()
    problems: list[Problem] = []
    for folder in folders():
        entries = list(read_witnessed(folder, log.store_id))
        if not entries:
            continue
        report.folders += 1
        name = f"witness {_paths(folder, log.store_id)[0]}"
        wanted: dict[int, list[Witnessed]] = {}
        for entry in entries:
            if entry.size < 0:
                problems.append(Problem(Kind.root_differs, _(
                    "line {line} is not a witnessed checkpoint ({time!r})").format(
                        line=entry.line, time=entry.time), checkpoint=name))
                continue
            wanted.setdefault(entry.size, []).append(entry)
        roots = _roots_at(log, sorted(wanted), size)
        wrong = [(e, roots.get(s)) for s, es in wanted.items() for e in es
                 if roots.get(s) != e.root]
        report.checked += sum(len(es) for es in wanted.values())
        biggest = max(wanted, default=0)
        report.last = max(report.last, biggest)
        if wrong:
            wrong.sort(key=lambda pair: pair[0].line)
            first, root = wrong[0]
            more = ngettext(" (and {count} later line)", " (and {count} later lines)",
                            len(wrong) - 1).format(count=len(wrong) - 1) if len(wrong) > 1 else ""
            if root is None:
                problems.append(Problem(Kind.shorter, _(
                    "line {line} witnessed {size} events on {time}; the log has "
                    "{log_size}{more}: events were cut off").format(
                        line=first.line, size=first.size, time=first.time, log_size=size,
                        more=more), checkpoint=name))
            else:
                problems.append(Problem(Kind.root_differs, _(
                    "line {line}: the first {size} events hash to {root}, not to the "
                    "{witnessed_root} witnessed on {time}{more}").format(
                        line=first.line, size=first.size, root=root,
                        witnessed_root=first.root, time=first.time, more=more),
                    checkpoint=name))
        if size > biggest and not wrong:
            problems.append(Problem(Kind.unwitnessed, _(
                "events {first}-{size} were added after the last witnessed checkpoint "
                "({biggest} events): written around auditlog (a forged append), or a command "
                "stopped between saving and witnessing").format(
                    first=biggest + 1, size=size, biggest=biggest), checkpoint=name))
    return report, problems


def _roots_at(log: Snapshot, sizes: list[int], size: int) -> dict[int, str]:
    roots: dict[int, str] = {}
    pending = iter(sizes)
    want = next(pending, None)
    while want == 0:
        roots[0] = EMPTY_ROOT.hex()
        want = next(pending, None)
    if want is None:
        return roots
    tree = MerkleTree()
    for digest in log.hashes_after(0):
        tree.append(digest)
        while want is not None and tree.size == want:
            roots[want] = tree.root().hex()
            want = next(pending, None)
        if want is None or tree.size >= size:
            break
    return roots
