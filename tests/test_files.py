"""Files written and read beside the store: whole or not at all, never onto a store, and only
small regular files read."""

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from auditlog import files
from auditlog.errors import Refusal
from auditlog.store import integrity

CHECKPOINT_HEAD = ("auditlog checkpoint v1\nstore: 3f2c8a1e-5b7d-4e9a-8c6f-1d2e3a4b5c6d\n")
ROOT = "0" * 64


@pytest.fixture(autouse=True)
def no_store_in_use() -> Iterator[None]:
    yield
    files.forget_protected()


def a_store(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE stored_events (x)")
    return path


def test_a_new_file_appears_whole_and_nothing_else_is_left(tmp_path: Path) -> None:
    target = tmp_path / "review.json"
    files.write_file(target, b"{}\n")
    assert target.read_bytes() == b"{}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["review.json"]


def test_an_existing_file_is_replaced_only_with_force(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    with pytest.raises(Refusal, match="already exists: add --force"):
        files.write_file(target, b"review")
    assert target.read_text() == "mine"
    files.write_file(target, b"review", force=True)
    assert target.read_text() == "review"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_store_is_never_overwritten_force_or_not(tmp_path: Path) -> None:
    store = a_store(tmp_path / "real.db")
    before = store.read_bytes()
    for force in (False, True):
        with pytest.raises(Refusal, match="holds an auditlog store"):
            files.write_file(store, b"{}", force=force)
    assert store.read_bytes() == before


def test_the_store_in_use_and_its_side_files_are_never_written(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    files.protect(str(store))
    for name in ("s.db", "s.db-wal", "s.db-shm"):
        with pytest.raises(Refusal, match="store in use"):
            files.write_file(tmp_path / name, b"x", force=True)
    os.symlink(store, tmp_path / "alias.db")
    store.write_bytes(b"")
    with pytest.raises(Refusal, match="store in use"):
        files.write_file(tmp_path / "alias.db", b"x", force=True)


def test_a_name_taken_while_writing_is_not_overwritten(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "cp.txt"
    original = files._fill

    def meanwhile(fd: int, produce: Callable[[BinaryIO], object], private: bool) -> None:
        target.write_text("someone else's")
        original(fd, produce, private)

    monkeypatch.setattr(files, "_fill", meanwhile)
    with pytest.raises(Refusal, match="created meanwhile"):
        files.write_file(target, b"checkpoint")
    assert target.read_text() == "someone else's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cp.txt"]


def test_a_failure_while_writing_leaves_no_file(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(fd: int, produce: Callable[[BinaryIO], object], private: bool) -> None:
        os.write(fd, b"012")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "_fill", broken)
    with pytest.raises(Refusal, match=r"cannot write .*No space left"):
        files.write_file(tmp_path / "review.xlsx", b"0123456789")
    assert list(tmp_path.iterdir()) == []


def test_a_stream_broken_halfway_leaves_the_old_file_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "review.json"
    target.write_bytes(b"the previous review")

    def halfway(out: BinaryIO) -> None:
        out.write(b"x" * (3 << 20))  # past the write buffer: bytes are on the disk already
        raise OSError(28, "No space left on device")

    with pytest.raises(Refusal, match=r"cannot write .*No space left"):
        files.write_stream(target, halfway, force=True)
    assert target.read_bytes() == b"the previous review"
    assert [p.name for p in tmp_path.iterdir()] == ["review.json"]
    files.write_stream(target, lambda out: out.write(b"new"), force=True)
    assert target.read_bytes() == b"new"


@pytest.mark.parametrize(("name", "message"), [
    ("x" * 300, "too long"),
    ("missing/review.json", "does not exist"),
    (".", "names no file"),
])
def test_os_errors_and_bad_names_are_one_line(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(Refusal, match=message) as refusal:
        files.write_file(tmp_path / name if name != "." else Path("."), b"x")
    assert "\n" not in str(refusal.value)


def test_a_newline_in_a_name_never_makes_a_second_line(tmp_path: Path) -> None:
    target = tmp_path / "a\nb.json"
    target.write_text("taken")
    with pytest.raises(Refusal) as refusal:
        files.write_file(target, b"x")
    assert "\n" not in str(refusal.value) and "a\\nb.json" in str(refusal.value)


def test_special_files_are_never_written(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(Refusal, match="not a regular file"):
        files.write_file(fifo, b"x", force=True)
    with pytest.raises(Refusal, match="not a regular file"):
        files.write_file(Path("/dev/null"), b"x", force=True)


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/null", "/proc/self/mem"])
def test_only_small_regular_files_are_read(special: str) -> None:
    with pytest.raises(Refusal) as refusal:
        integrity.read_checkpoint(Path(special))
    assert "\n" not in str(refusal.value)


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "cp.txt"
    os.mkfifo(fifo)
    outcome: list[str] = []

    def read() -> None:
        try:
            integrity.read_checkpoint(fifo)
        except Refusal as refusal:
            outcome.append(str(refusal))

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(5)
    assert outcome and "not a regular file" in outcome[0]


def test_a_large_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "cp.txt"
    big.write_bytes(b"a" * 100_000)
    with pytest.raises(Refusal, match="more than the 4096"):
        integrity.read_checkpoint(big)
    with pytest.raises(Refusal, match="more than the 4096"):
        integrity.load_public_key(big)


@pytest.mark.parametrize(("fields", "message"), [
    ("events: ²\nroot: " + ROOT + "\ntime: 2024-01-15T00:00Z", "not a number"),
    ("events: " + "9" * 5000 + "\nroot: " + ROOT + "\ntime: 2024-01-15T00:00Z", "not a number"),
    ("events: 1\nroot: " + ROOT + "\ntime: 0001-01-01T00:00:00+01:00", "outside the years"),
    ("events: 1\nroot: " + ROOT + "\ntime: 9999-12-31T23:59:59-01:00", "outside the years"),
    ("events: １\nroot: " + ROOT + "\ntime: 2024-01-15T00:00Z", "not a number"),
])
def test_every_checkpoint_field_is_parsed_with_a_clear_refusal(fields: str, message: str) -> None:
    with pytest.raises(Refusal, match=message) as refusal:
        integrity.parse_checkpoint(CHECKPOINT_HEAD + fields, source="cp.txt")
    assert "\n" not in str(refusal.value)


def test_keys_are_replaced_only_with_force_and_appear_whole(tmp_path: Path) -> None:
    private, _ = integrity.generate_keys(tmp_path / "k")
    first = private.read_bytes()
    with pytest.raises(Refusal, match="already exists"):
        integrity.generate_keys(tmp_path / "k")
    assert private.read_bytes() == first
    integrity.generate_keys(tmp_path / "k", force=True)
    assert private.read_bytes() != first
    assert os.stat(private).st_mode & 0o077 == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.key", "k.pub"]


def test_keys_are_never_written_onto_a_store(tmp_path: Path) -> None:
    a_store(tmp_path / "k.pub")
    with pytest.raises(Refusal, match="holds an auditlog store"):
        integrity.generate_keys(tmp_path / "k", force=True)
    assert not (tmp_path / "k.key").exists()


def test_a_review_is_produced_once_even_where_a_nameless_file_cannot_be_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where O_TMPFILE opens but cannot be linked (EXDEV through /proc on some systems), the
    bytes already written are copied to a named temporary file, not produced a second time."""
    if not getattr(os, "O_TMPFILE", 0):
        pytest.skip("no O_TMPFILE here")
    link = os.link

    def no_proc_link(source: str, target: object, **kwargs: object) -> None:
        if str(source).startswith("/proc/"):
            raise OSError(18, "Invalid cross-device link")
        link(source, target, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "_NAMELESS", [True])
    monkeypatch.setattr(os, "link", no_proc_link)
    calls = []

    def produce(out: BinaryIO) -> None:
        calls.append(1)
        out.write(b"review" * 100_000)

    files.write_stream(tmp_path / "review.json", produce)
    assert calls == [1]
    assert (tmp_path / "review.json").read_bytes() == b"review" * 100_000
    assert [p.name for p in tmp_path.iterdir()] == ["review.json"]
