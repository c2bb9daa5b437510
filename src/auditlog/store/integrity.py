"""Tamper evidence, whatever the backend: checkpoints, their signatures, and verify.

The hash chain itself (store/chain.py) links every stored event to the one before, in the
transaction that stores it: an edit, deletion, insertion or reordering of the rows breaks it.
A checkpoint (store identity, number of events, RFC 6962 Merkle root over the chain's entry
hashes, time), kept outside the store, catches what the chain alone cannot: truncation, and a
full rewrite with recomputed hashes.

Verify streams (memory holds the Merkle stack and the problems found, never the log) and, on
long logs, checks stretches of the chain in parallel worker processes: two SHA-256 per event
are the whole cost, and CPython runs them on one core per process.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from auditlog import files
from auditlog.clock import now
from auditlog.domain import checkpoint as checkpoint_log
from auditlog.domain.aggregate import Aggregate, Context
from auditlog.domain.events import CheckpointRecorded
from auditlog.errors import Refusal
from auditlog.i18n import _, ngettext
from auditlog.store import witness
from auditlog.store.chain import (
    BLOCK_LEVEL,
    EMPTY_ROOT,
    Gap,
    Kind,
    LogReader,
    MerkleTree,
    Problem,
    Segment,
    Start,
    backwards,
    check_segment,
    coalesce,
    earlier,
    edited,
    entry_altered,
    entry_hash,
    fold,
    stack_root,
)

if TYPE_CHECKING:
    from auditlog.store.app import Store

__all__ = [
    "Checkpoint",
    "CheckpointResult",
    "IntegrityFailure",
    "Kind",
    "Problem",
    "Report",
    "Tuning",
    "current_checkpoint",
    "generate_keys",
    "load_private_key",
    "load_public_key",
    "parse_checkpoint",
    "read_checkpoint",
    "record_checkpoint",
    "verify_log",
    "verify_store",
]


# --- checkpoints -------------------------------------------------------------------------------

HEADER = "auditlog checkpoint v1"
_FIELDS = ("store", "events", "root", "time")
_LINE = re.compile(r"^([a-z]+):\s*(\S+)\s*$", re.IGNORECASE | re.ASCII)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_EVENTS = re.compile(r"^[0-9]{1,18}$")


@dataclass(frozen=True)
class Checkpoint:
    """The log's identity, size and root at a moment: what an annual review prints.

    Anyone holding it can later prove that the store still extends it: same store, at least
    ``size`` events, and the first ``size`` of them still hash to ``root``.
    """

    store_id: str
    size: int
    root: str  # hex of the RFC 6962 Merkle root over the first `size` entry hashes
    time: datetime
    key: str | None = None  # base64 of the Ed25519 public key that signed it
    signature: str | None = None  # base64 of the signature over `body()`

    def body(self) -> str:
        """The signed text: every line but the signature, in canonical form."""
        lines = [
            HEADER,
            f"store: {self.store_id}",
            f"events: {self.size}",
            f"root: {self.root}",
            f"time: {self.time.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        ]
        if self.key is not None:
            lines.append(f"key: ed25519:{self.key}")
        return "\n".join(lines) + "\n"

    def text(self) -> str:
        if self.signature is None:
            return self.body()
        return self.body() + f"signature: {self.signature}\n"

    @property
    def fingerprint(self) -> str | None:
        return None if self.key is None else key_fingerprint(base64.b64decode(self.key))

    def signed(self, key: Ed25519PrivateKey) -> Checkpoint:
        public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                               serialization.PublicFormat.Raw)
        unsigned = replace(self, key=base64.b64encode(public).decode(), signature=None)
        signature = key.sign(unsigned.body().encode())
        return replace(unsigned, signature=base64.b64encode(signature).decode())

    def signature_holds(self) -> bool:
        """True when signed and the signature matches the text; False when it does not."""
        if self.key is None or self.signature is None:
            return False
        try:
            public = Ed25519PublicKey.from_public_bytes(base64.b64decode(self.key))
            public.verify(base64.b64decode(self.signature), self.body().encode())
        except (InvalidSignature, ValueError):
            return False
        return True

    def as_dict(self) -> dict[str, object]:
        return {"store": self.store_id, "events": self.size, "root": self.root,
                "time": self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "key": self.fingerprint, "signature": self.signature}


def parse_checkpoint(text: str, *, source: str = "checkpoint") -> Checkpoint:
    """Read a checkpoint back, forgiving what retyping or a PDF does to whitespace."""
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip()]
    if not lines or " ".join(lines[0].split()).lower() != HEADER:
        raise Refusal(_("{source} is not an auditlog checkpoint: its first line should be "
                        "'{HEADER}'").format(source=source, HEADER=HEADER))
    values: dict[str, str] = {}
    for line in lines[1:]:
        match = _LINE.match(line)
        if not match or match.group(1).lower() in values:
            raise Refusal(_("{source}: cannot read the line {line!r}: expected 'name: value' "
                            "for each of {value} (and key, signature when signed)").format(
                              source=source, line=line, value=', '.join(_FIELDS)))
        values[match.group(1).lower()] = match.group(2)
    missing = [name for name in _FIELDS if name not in values]
    if missing:
        raise Refusal(_("{source} lacks {value}: a checkpoint has {value2}").format(
                          source=source, value=', '.join(missing), value2=', '.join(_FIELDS)))
    unknown = sorted(set(values) - {*_FIELDS, "key", "signature"})
    if unknown:
        raise Refusal(_("{source} has lines this version does not know: {value}").format(
                          source=source, value=', '.join(unknown)))
    try:
        store_id = str(UUID(values["store"]))
    except ValueError:
        raise Refusal(_("{source}: store {value!r} is not a store identity").format(
                          source=source, value=values['store'])) from None
    if not _EVENTS.match(values["events"]):
        raise Refusal(_("{source}: events {value!r} is not a number of events (at most 18 "
                        "digits 0-9)").format(source=source, value=values['events']))
    root = values["root"].lower()
    if not _HEX64.match(root):
        raise Refusal(_("{source}: root should be 64 hexadecimal digits").format(source=source))
    try:
        time = datetime.fromisoformat(values["time"].replace("Z", "+00:00"))
    except ValueError:
        raise Refusal(_("{source}: time {value!r} is not an ISO 8601 time").format(
                          source=source, value=values['time'])) from None
    if time.tzinfo is None:
        raise Refusal(_("{source}: time {value!r} lacks its zone (e.g. Z)").format(
                          source=source, value=values['time']))
    try:
        in_range = 1945 <= time.astimezone(UTC).year <= 2200
    except (OverflowError, ValueError):
        in_range = False
    if not in_range:
        raise Refusal(_("{source}: time {value!r} is outside the years 1945 to 2200").format(
                          source=source, value=values['time']))
    key = values.get("key")
    signature = values.get("signature")
    if (key is None) != (signature is None):
        raise Refusal(_("{source}: a signed checkpoint has both a key and a signature line").format(
                          source=source))
    if key is not None:
        if not key.startswith("ed25519:"):
            raise Refusal(_("{source}: only ed25519 keys are known, not {value!r}").format(
                              source=source, value=key.split(':')[0]))
        key = _canonical_base64(source, "key", key.removeprefix("ed25519:"), 32)
        signature = _canonical_base64(source, "signature", signature or "", 64)
    return Checkpoint(store_id=store_id, size=int(values["events"]), root=root, time=time,
                      key=key, signature=signature)


def _canonical_base64(source: str, name: str, value: str, size: int) -> str:
    """The same bytes always print alike, so the signed text is the same however retyped."""
    try:
        decoded = base64.b64decode(value, validate=True)
    except ValueError:
        decoded = b""
    if len(decoded) != size:
        raise Refusal(_("{source}: the {name} is not a base64 Ed25519 {name}").format(
                          source=source, name=name))
    return base64.b64encode(decoded).decode()


CHECKPOINT_FILE_CAP = 4096
"""A checkpoint is six short lines; a larger file is something else."""


def read_checkpoint(path: Path) -> Checkpoint:
    data = files.read_small_file(path, CHECKPOINT_FILE_CAP, _("checkpoint file"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(_("checkpoint file {path} is not UTF-8 text: give a checkpoint that "
                        "'auditlog checkpoint --to' saved").format(path=path)) from None
    return parse_checkpoint(text, source=str(path))


# --- signing keys ------------------------------------------------------------------------------


def key_fingerprint(public: bytes) -> str:
    """Short enough to read aloud, long enough that no one can make a key that matches it."""
    digest = hashlib.sha256(public).hexdigest()
    return "ed25519:" + ":".join(digest[i:i + 4] for i in range(0, 24, 4))


def public_fingerprint(key: Ed25519PublicKey) -> str:
    return key_fingerprint(key.public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw))


def generate_keys(base: Path, *, force: bool = False) -> tuple[Path, Path]:
    """Write BASE.key (private, readable by its owner only) and BASE.pub, each whole or not at
    all; an existing pair is replaced only with ``force``."""
    private_path = base.with_name(base.name + ".key")
    public_path = base.with_name(base.name + ".pub")
    for path in (private_path, public_path):
        if path.exists() and not force:
            raise Refusal(_("{path} already exists: choose another name with --to, or move "
                            "it away (a lost private key cannot sign again); --force "
                            "replaces it").format(path=path))
        files.check_writable(path, force=force)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    # The public key last: a pair whose .pub exists is complete.
    files.write_file(private_path, private_pem, force=force, private=True)
    files.write_file(public_path, public_pem, force=force)
    return private_path, public_path


KEY_FILE_CAP = 4096
"""A PEM Ed25519 key is about 120 bytes; anything much larger is not one."""


def _read_key_file(path: Path, what: str) -> bytes:
    try:
        return files.read_small_file(path, KEY_FILE_CAP, what)
    except Refusal as refusal:
        if not path.exists() and not path.is_symlink():
            raise Refusal(_("{what} {path} does not exist: make a pair with 'auditlog keys "
                            "generate'").format(what=what, path=path)) from None
        raise refusal from None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    data = _read_key_file(path, _("key file"))
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise Refusal(_("{path} is protected by a passphrase, which this version cannot ask "
                        "for: use a key made by 'auditlog keys generate'").format(
                            path=path)) from None
    except ValueError:
        raise Refusal(_("{path} is not a private key (PEM): give the .key file that "
                        "'auditlog keys generate' wrote").format(path=path)) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise Refusal(_("{path} is not an Ed25519 key: make one with 'auditlog keys "
                        "generate'").format(path=path))
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    data = _read_key_file(path, _("public key file"))
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise Refusal(_("{path} is not a public key (PEM): give the .pub file that 'auditlog "
                        "keys generate' wrote").format(path=path)) from None
    if not isinstance(key, Ed25519PublicKey):
        raise Refusal(_("{path} is not an Ed25519 public key").format(path=path))
    return key


# --- verification ------------------------------------------------------------------------------

Progress = Callable[[int], None]

PARALLEL_FROM = 1 << 16
"""Below this many entries, starting worker processes costs about what it saves."""


@dataclass(frozen=True)
class Tuning:
    """How verify splits its work. The defaults suit real logs; tests shrink them so that a
    log of a few dozen events already takes every path."""

    block_level: int = BLOCK_LEVEL  # segments start at multiples of 2**block_level entries
    part_min: int = PARALLEL_FROM // 2  # no segment shorter than this, but the only one
    processes: bool = True  # segments after the first run in worker processes


@dataclass
class CheckpointResult:
    name: str
    checkpoint: Checkpoint
    extends: bool = False
    signed_by: str | None = None  # fingerprint, when the signature holds


@dataclass
class Report:
    store_id: str
    size: int = 0
    root: str = EMPTY_ROOT.hex()
    problems: list[Problem] = field(default_factory=list)
    checkpoints: list[CheckpointResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    witness: witness.WitnessReport | None = None  # when the witness log was checked

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        return {
            "verified": self.ok, "store": self.store_id, "events": self.size,
            "root": self.root, "problems": [p.as_dict() for p in self.problems],
            "checkpoints": [
                {"file": c.name, "extends": c.extends, "signed_by": c.signed_by,
                 **c.checkpoint.as_dict()}
                for c in self.checkpoints
            ],
            "notes": self.notes,
            **({} if self.witness is None else {"witness": {
                "checked": self.witness.checked, "folders": self.witness.folders,
                "last": self.witness.last}}),
        }


class IntegrityFailure(Exception):
    """The log does not verify, so what a checkpoint of it would certify is not true."""

    def __init__(self, report: Report) -> None:
        count = len(report.problems)
        super().__init__(ngettext("the log does not verify: {count} problem",
                                  "the log does not verify: {count} problems", count).format(
            count=count))
        self.report = report


def plan(total: int, workers: int, tuning: Tuning = Tuning()) -> list[tuple[int, int]]:
    """Seq ranges, each starting just after a multiple of the block size; the first, checked
    here while the workers start, is longer by about what a worker takes to start."""
    parts = max(1, min(workers, total // tuning.part_min))
    if parts == 1:
        return [(1, total)] if total else []
    block = 1 << tuning.block_level
    head_start = 4 * block
    rest = -(-max(total - head_start, parts) // parts)
    rest = -(-rest // block) * block
    bounds = [1, min(head_start + rest, total) + 1]
    while bounds[-1] <= total:
        bounds.append(bounds[-1] + rest)
    return [(a, min(b - 1, total)) for a, b in itertools.pairwise(bounds)]


def default_workers() -> int:
    """The CPUs this process may run on (a container may allow fewer than the machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def verify_log(reader: LogReader, checkpoints: Sequence[tuple[str, Checkpoint]] = (),
               *, trusted: Ed25519PublicKey | None = None,
               progress: Progress | None = None, workers: int | None = None,
               tuning: Tuning = Tuning()) -> Report:
    """Recompute every chain entry and the Merkle root; check the log against the checkpoints.

    ``workers`` is how many processes share the work (default: one per CPU on long logs).
    """
    total = reader.count()
    wanted = sorted({cp.size for _, cp in checkpoints if cp.size > 0})
    if workers is None:
        workers = default_workers() if total >= PARALLEL_FROM else 1
    ranges = plan(total, workers, tuning)
    segments = _check(reader, ranges, wanted, progress, tuning)

    problems: list[Problem] = [p for s in segments for p in s.problems]
    for before, after in itertools.pairwise(segments):
        if before.pending is not None:
            problems.append(_decide(reader, before, after))
    if segments and segments[-1].pending is not None:
        problems.append(edited(segments[-1].pending))
    problems.extend(_unlinked(reader, segments))
    if not reader.store_id:
        problems.append(Problem(Kind.chain_broken, _("the store's identity is missing")))
    problems.extend(_time_between(segments))
    problems.extend(guard_problems(reader))

    size = sum(s.entries for s in segments)
    whole = fold(s.blocks for s in segments)
    partial = segments[-1].partial if segments else []
    report = Report(store_id=reader.store_id, size=size,
                    root=stack_root([h for _, h in whole] + partial).hex(),
                    notes=list(reader.notes))
    report.problems = coalesce(sorted(problems,
                                      key=lambda p: (p.position is None, p.position or 0)))
    for name, cp in checkpoints:
        root = _root_at(segments, cp.size)
        report.checkpoints.append(_against(report, name, cp, root, trusted))
    return report


def guard_problems(reader: LogReader) -> list[Problem]:
    """What is gone of the store's own guards: its integrity tables and append-only triggers.

    A backend's reader tells through ``missing_guards()``; one that cannot tell reports none.
    """
    missing_guards = getattr(reader, "missing_guards", None)
    names: list[str] = list(missing_guards()) if callable(missing_guards) else []
    found = [Problem(Kind.unguarded, _("{name} is gone: the store's events cannot be "
                                       "checked against their chain (it is never "
                                       "rebuilt over events that may have changed)").format(
        name=name)) for name in names if name.endswith(("_chain", "_meta"))]
    triggers = [name for name in names if not name.endswith(("_chain", "_meta"))
                and "." not in name]
    if triggers:
        found.append(Problem(Kind.unguarded, ngettext(
            "the append-only trigger {triggers} was removed, so the store stopped refusing "
            "changes to its rows; writing is refused until 'auditlog init' puts it back",
            "the append-only triggers {triggers} were removed, so the store stopped refusing "
            "changes to its rows; writing is refused until 'auditlog init' puts them back",
            len(triggers)).format(triggers=", ".join(triggers))))
    return found


def _time_between(segments: list[Segment]) -> list[Problem]:
    """Steps backwards in transaction time where one segment ends and the next begins."""
    found = []
    last: bytes | None = None
    for segment in segments:
        if (last is not None and segment.first_stamp is not None
                and earlier(segment.first_stamp, last)):
            found.append(backwards(segment.first_position, segment.first_stamp, last))
        if segment.last_stamp is not None:
            last = segment.last_stamp
    return found


def _check(reader: LogReader, ranges: list[tuple[int, int]], wanted: list[int],
           progress: Progress | None, tuning: Tuning) -> list[Segment]:
    """This process checks the first range while worker processes check the others."""
    starts = [_start(reader, first) for first, _ in ranges]
    running = [
        _spawn(reader, first, last, start, wanted, tuning) if tuning.processes else None
        for (first, last), start in zip(ranges[1:], starts[1:], strict=True)
    ]
    segments: list[Segment] = []
    if ranges:
        first, last = ranges[0]
        segments.append(check_segment(reader, first, last, starts[0], wanted, progress,
                                      tuning.block_level))
    for (first, last), start, worker in zip(ranges[1:], starts[1:], running, strict=True):
        segment = _collect(worker)
        if segment is None:  # no worker, or it failed: do its share here, just as surely
            segment = check_segment(reader, first, last, start, wanted,
                                    block_level=tuning.block_level)
        if progress is not None:
            progress(segment.entries)
        segments.append(segment)
    return segments


def _start(reader: LogReader, first: int) -> Start:
    before = reader.entry_before(first) if first > 1 else None
    if before is None:
        return Start()
    seq, position, stored = before
    return Start(expected=seq + 1, prev=stored, last_position=position)


def _spawn(reader: LogReader, first: int, last: int, start: Start, wanted: list[int],
           tuning: Tuning) -> subprocess.Popen[bytes] | None:
    source = reader.source()
    if source is None or not sys.executable:
        return None
    request = {"source": source, "first": first, "last": last, "wanted": wanted,
               "start": [start.expected, start.prev.hex(), start.last_position],
               "block_level": tuning.block_level}
    try:
        # -P: never import from the current folder, whatever it holds.
        worker = subprocess.Popen(
            [sys.executable, "-P", "-m", "auditlog.store.verify_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        assert worker.stdin is not None
        worker.stdin.write(json.dumps(request).encode())
        worker.stdin.close()
    except OSError:
        return None
    return worker


def _collect(worker: subprocess.Popen[bytes] | None) -> Segment | None:
    if worker is None:
        return None
    assert worker.stdout is not None
    output = worker.stdout.read()
    worker.stdout.close()
    if worker.wait() != 0:
        return None
    try:
        return Segment.from_json(json.loads(output))
    except (ValueError, KeyError, TypeError):
        return None


def _decide(reader: LogReader, before: Segment, after: Segment) -> Problem:
    """A mismatch at the end of one segment: the next entry tells an edited event from an
    altered chain entry, when it holds with the mismatched entry recomputed."""
    assert before.pending is not None
    row = next(iter(reader.chain(after.first, after.first)), None)
    if row is not None:
        seq, _, stored, oid, version, topic, state = row
        if oid is not None and entry_hash(seq, before.prev, oid, version, topic,
                                          state) == stored:
            return entry_altered(before.pending)
    return edited(before.pending)


def _unlinked(reader: LogReader, segments: list[Segment]) -> list[Problem]:
    """Events no chain entry points at: explained by a gap in the chain, moved, or inserted.

    Only looked for when the counts say there are some: a second pass over the positions.
    """
    matched = sum(s.matched for s in segments)
    gaps = [g for s in segments for g in s.gaps]
    found: list[Problem] = []
    if reader.event_count() != matched:
        moved = {p for s in segments for p in s.moved_to}
        linked = reader.chain_positions()
        following = next(linked, None)
        unexplained: dict[int, list[int]] = {}
        for position in reader.event_positions():
            while following is not None and following < position:
                following = next(linked, None)
            if following == position or position in moved:
                continue
            within = next((i for i, g in enumerate(gaps) if g.after < position < g.before), None)
            if within is not None:
                unexplained.setdefault(within, []).append(position)
            else:
                found.append(Problem(Kind.inserted, _("no chain entry points at this event"),
                                     position))
    else:
        unexplained = {}
    for i, gap in enumerate(gaps):
        found.append(_gap_problem(gap, unexplained.get(i, [])))
    return found


def _gap_problem(gap: Gap, events: list[int]) -> Problem:
    entries = (_("chain entries {first}-{last} are").format(first=gap.first, last=gap.last)
               if gap.last > gap.first else _("chain entry {first} is").format(first=gap.first))
    if events:
        which = ngettext("the event at position {position}",
                         "the {count} events from position {position}", len(events)).format(
            count=len(events), position=events[0])
        return Problem(Kind.chain_broken, _("{entries} gone: {which} cannot be checked").format(
            entries=entries, which=which), events[0])
    if gap.last > gap.first:
        return Problem(Kind.missing, _("the events of chain entries {first}-{last} are "
                                       "gone, with their entries").format(
            first=gap.first, last=gap.last), gap.after + 1)
    return Problem(Kind.missing, _("the event of chain entry {first} is gone, with its "
                                   "entry").format(
        first=gap.first), gap.after + 1)


def _root_at(segments: list[Segment], size: int) -> bytes | None:
    if size == 0:
        return EMPTY_ROOT
    for i, segment in enumerate(segments):
        if size in segment.at:
            blocks, partial = segment.at[size]
            whole = fold([*(s.blocks for s in segments[:i]), blocks])
            return stack_root([h for _, h in whole] + partial)
    return None


def _against(report: Report, name: str, cp: Checkpoint, root: bytes | None,
             trusted: Ed25519PublicKey | None) -> CheckpointResult:
    result = CheckpointResult(name=name, checkpoint=cp)
    found: list[Problem] = []
    if cp.store_id != report.store_id:
        found.append(Problem(Kind.other_store, _(
            "it was made for store {store_id}; this is store {this_store}: another store, or "
            "this one rebuilt").format(store_id=cp.store_id,
                                       this_store=report.store_id or _("(no identity)")),
            checkpoint=name))
    if root is None:
        found.append(Problem(Kind.shorter, _("the log has {size} events; the checkpoint "
                                             "covers {covered}").format(
            size=report.size, covered=cp.size), checkpoint=name))
    elif root.hex() != cp.root:
        found.append(Problem(Kind.root_differs, _(
            "the first {size} events hash to {root}, not to the checkpoint's "
            "{checkpoint_root}").format(size=cp.size, root=root.hex(), checkpoint_root=cp.root),
            checkpoint=name))
    if cp.signature is not None:
        if cp.signature_holds():
            result.signed_by = cp.fingerprint
        else:
            found.append(Problem(Kind.bad_signature, _(
                "the signature does not match the checkpoint's text: it was altered after "
                "signing"), checkpoint=name))
    # A checkpoint that names the trusted key but whose signature broke is reported once, as
    # a broken signature: "signed by K, not by K" would name the same key twice.
    if (trusted is not None and result.signed_by != public_fingerprint(trusted)
            and not (cp.signature is not None and cp.fingerprint == public_fingerprint(trusted))):
        by = (_("signed by {fingerprint}").format(fingerprint=cp.fingerprint) if cp.key
              else _("unsigned"))
        found.append(Problem(Kind.untrusted, _("it is {by}, not by {trusted}").format(
            by=by, trusted=public_fingerprint(trusted)), checkpoint=name))
    result.extends = not found
    report.problems.extend(found)
    return result


def prefix_checkpoint(store: Store, size: int, *, at: datetime | None = None) -> Checkpoint:
    """The checkpoint of the log's first `size` events: what it was when it held just those.

    The whole log is verified first (as by current_checkpoint), so the prefix is certified as
    part of an intact log; its root is the Merkle root over its first `size` chain hashes.
    """
    whole = current_checkpoint(store, at=at)
    if size >= whole.size:
        return whole
    tree = MerkleTree()
    with store.log_reader() as reader:
        for row in reader.chain(1, size):
            tree.append(row[2])
    return Checkpoint(store_id=whole.store_id, size=size, root=tree.root().hex(),
                      time=whole.time)


def verify_store(store: Store, checkpoints: Sequence[tuple[str, Checkpoint]] = (), *,
                 trusted: Ed25519PublicKey | None = None,
                 progress: Progress | None = None, workers: int | None = None,
                 tuning: Tuning = Tuning(), witnessed: bool = False) -> Report:
    """verify_log over the store; with ``witnessed``, also every checkpoint its witness log
    holds (see store/witness.py)."""
    with store.log_reader() as reader:
        report = verify_log(reader, checkpoints, trusted=trusted, progress=progress,
                            workers=workers, tuning=tuning)
        if witnessed and reader.store_id:
            report.witness, found = witness.check_witnessed(reader, report.size)
            report.problems.extend(found)
        return report


def current_checkpoint(store: Store, *, at: datetime | None = None,
                       progress: Progress | None = None) -> Checkpoint:
    """The checkpoint of the log as it is now, recording nothing.

    The whole log is verified first: a checkpoint certifies that its events are intact, so
    for a log that does not verify this raises IntegrityFailure (with the report) instead.
    """
    report = verify_store(store, progress=progress)
    if not report.ok:
        raise IntegrityFailure(report)
    return Checkpoint(store_id=report.store_id, size=report.size, root=report.root,
                      time=(at or now()).astimezone(UTC).replace(microsecond=0))


def record_checkpoint(store: Store, ctx: Context, checkpoint: Checkpoint) -> None:
    """Record in the log that this checkpoint was issued; nothing of the key goes in."""

    def decide() -> Sequence[Aggregate]:
        last = store.last_event(checkpoint_log.CHECKPOINTS_ID)
        current = (checkpoint_log.CheckpointLog.after(last)
                   if isinstance(last, CheckpointRecorded) else None)
        return [checkpoint_log.record_checkpoint(
            current, ctx, store_id=UUID(checkpoint.store_id),
            size=checkpoint.size, root=checkpoint.root, signed=checkpoint.signature is not None,
        )]

    store.command(decide)
