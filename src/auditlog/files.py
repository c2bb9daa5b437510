"""Files auditlog writes or reads beside the store: whole or not at all, and never onto a store.

Every file a command writes (a review, a checkpoint, a key pair, a template) goes through
``write_file``: its bytes go to a nameless (O_TMPFILE) or hidden temporary file in the target's
own folder, are flushed to the disk, and only then get the target's name, in one step. So a
reader, or a crash at any moment, finds the whole file or none; an existing file is replaced
only when the user said ``--force``; and a store (the one in use, or any file holding one) is
never replaced, ``--force`` or not.

Every small file a command reads (a key, a checkpoint) goes through ``read_small_file``: only a
regular file, only up to a size cap, so /dev/zero or a FIFO is a refusal, not a hang.
"""

import contextlib
import errno
import io
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from auditlog.errors import Refusal
from auditlog.i18n import _

SQLITE_HEADER = b"SQLite format 3\x00"
STORE_TABLES = frozenset({"stored_events", "integrity_chain", "integrity_meta"})
SIDE_FILES = ("-wal", "-shm", "-journal")

_stores_in_use: list[str] = []


def protect(path: str) -> None:
    """Name the store this command uses: no file is ever written onto it or its side files."""
    _stores_in_use.append(path)


def forget_protected() -> None:
    """For tests that run many commands in one process."""
    _stores_in_use.clear()


def _oneline(text: object) -> str:
    """A name as it can be shown on one line (a newline in a path must not split a message)."""
    return repr(str(text))[1:-1] if any(c in str(text) for c in "\n\r\t\x1b") else str(text)


def holds_store(path: str | os.PathLike[str]) -> bool:
    """Whether this file is an auditlog store, or a side file (-wal, -shm) of one.

    A SQLite file whose tables cannot be read counts as one: refusing to overwrite someone's
    database by mistake costs a file name, overwriting it may cost the log.
    """
    name = os.fspath(path)
    candidates = [name] + [name[: -len(s)] for s in SIDE_FILES if name.endswith(s)]
    for candidate in candidates:
        try:
            if not stat.S_ISREG(os.stat(candidate).st_mode):
                continue
            with open(candidate, "rb") as handle:
                if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                    continue
        except OSError:
            continue
        import sqlite3  # here: the command line imports this module to build its tree

        try:
            db = sqlite3.connect(f"file:{Path(candidate).absolute().as_posix()}?mode=ro",
                                 uri=True)
            try:
                tables = {r[0] for r in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                db.close()
        except sqlite3.Error:
            return True
        if tables & STORE_TABLES:
            return True
    return False


def _is_store_in_use(target: Path) -> bool:
    for store in _stores_in_use:
        for suffix in ("", *SIDE_FILES):
            with contextlib.suppress(OSError):
                if os.path.samefile(target, store + suffix):
                    return True
        if os.path.abspath(target) in {os.path.abspath(store + s) for s in ("", *SIDE_FILES)}:
            return True
    return False


def check_writable(target: Path, *, force: bool, option: str = "--to") -> None:
    """Refuse, before anything is recorded or computed, a target that write_file would refuse."""
    shown = _oneline(target)
    if not target.name or target.name in (".", ".."):
        raise Refusal(_("{option} {shown} names no file: give a file name").format(
                          option=option, shown=shown))
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise Refusal(_("folder {parent} does not exist: create it or choose another "
                        "{option}").format(parent=_oneline(parent), option=option))
    try:
        name_max = os.pathconf(parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    if len(os.fsencode(target.name)) > name_max:
        raise Refusal(_("cannot write {shown}: the name is too long for this file system (at "
                        "most {name_max} bytes)").format(shown=shown, name_max=name_max))
    if _is_store_in_use(target):
        raise Refusal(_("{shown} is the store in use: give another file name for {option}").format(
                          shown=shown, option=option))
    if not os.path.lexists(target):
        return
    if target.is_dir():
        raise Refusal(_("{shown} is a folder: give a file name inside it for {option}").format(
                          shown=shown, option=option))
    if holds_store(target):
        raise Refusal(_("{shown} holds an auditlog store, which is never overwritten, "
                        "--force or not: give another file name for {option}").format(
                          shown=shown, option=option))
    if target.exists() and not stat.S_ISREG(os.stat(target).st_mode):
        raise Refusal(_("{shown} is not a regular file: give a file name for {option}").format(
                          shown=shown, option=option))
    if not force:
        raise Refusal(_("{shown} already exists: add --force to replace it, or choose "
                        "another name for {option}").format(shown=shown, option=option))


def _mode(private: bool) -> int:
    if private:
        return 0o600
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_file(target: Path, data: bytes, *, force: bool = False, private: bool = False,
               option: str = "--to") -> None:
    """Write ``data`` to ``target`` whole or not at all (see the module's docstring)."""
    write_stream(target, lambda out: out.write(data), force=force, private=private,
                 option=option)


def write_stream(target: Path, produce: Callable[[BinaryIO], object], *, force: bool = False,
                 private: bool = False, option: str = "--to") -> None:
    """Write what ``produce`` writes to the file it is given to ``target``, whole or not at
    all: a large file (a national review) is written as it is produced, never held in memory,
    and still appears only once complete. If ``produce`` raises, nothing appears."""
    check_writable(target, force=force, option=option)
    parent = target.parent if str(target.parent) else Path(".")
    try:
        _write(target, parent, produce, force=force, private=private)
    except FileExistsError:
        raise Refusal(_("{target} was created meanwhile by someone else: add --force to "
                        "replace it, or choose another name for {option}").format(
                          target=_oneline(target), option=option)) from None
    except OSError as error:
        raise Refusal(_("cannot write {target}: {error}").format(
                          target=_oneline(target), error=_reason(error))) from None


def _reason(error: OSError) -> str:
    if error.errno == errno.ENAMETOOLONG:
        return _("the name is too long for this file system")
    return error.strerror or str(error)


Producer = Callable[[BinaryIO], object]


def _write(target: Path, parent: Path, produce: Producer, *, force: bool,
           private: bool) -> None:
    written = bool(_NAMELESS) and _write_nameless(target, parent, produce, force=force,
                                                  private=private)
    if not written:
        _NAMELESS.clear()  # this system cannot name a nameless file: use named ones from now
        _write_named(target, parent, produce, force=force, private=private)
    _sync_folder(parent)


_NAMELESS = [True] if getattr(os, "O_TMPFILE", 0) and os.path.isdir("/proc/self/fd") else []
_CANNOT_LINK = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT, errno.EXDEV,
                errno.EPERM)


def _fill(fd: int, produce: Producer, private: bool) -> None:
    # closefd=False: the caller owns the descriptor (it still has to link it).
    with io.FileIO(fd, "wb", closefd=False) as raw, io.BufferedWriter(raw, 1 << 20) as out:
        produce(out)
    os.fchmod(fd, _mode(private))
    os.fsync(fd)


def _write_nameless(target: Path, parent: Path, produce: Producer, *, force: bool,
                    private: bool) -> bool:
    """The file gets its first name only once complete, so a crash at any moment before leaves
    nothing at all behind. False when this system cannot do that here. When only naming it
    fails, its bytes are copied to a named temporary file, not produced again (a review may
    take minutes to produce)."""
    try:
        fd = os.open(parent, os.O_TMPFILE | os.O_RDWR, 0o600)
    except OSError as error:
        if error.errno in _CANNOT_LINK:
            return False
        raise
    try:
        _fill(fd, produce, private)
        source = f"/proc/self/fd/{fd}"
        try:
            if not force:
                os.link(source, target, follow_symlinks=True)  # refuses a name taken meanwhile
                return True
            staged = _free_name(parent)
            os.link(source, staged, follow_symlinks=True)
        except OSError as error:
            if error.errno in _CANNOT_LINK:
                _NAMELESS.clear()
                _write_named(target, parent, lambda out: _copy(fd, out), force=force,
                             private=private)
                return True
            raise
        try:
            os.replace(staged, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(staged)
            raise
        return True
    finally:
        os.close(fd)


def _copy(fd: int, out: BinaryIO) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    while chunk := os.read(fd, 1 << 20):
        out.write(chunk)


def _write_named(target: Path, parent: Path, produce: Producer, *, force: bool,
                 private: bool) -> None:
    """A hidden temporary file, renamed (or linked) to the target once complete."""
    import tempfile

    fd, tmp_name = tempfile.mkstemp(prefix=".auditlog-", suffix=".tmp", dir=parent)
    try:
        _fill(fd, produce, private)
        if force:
            os.replace(tmp_name, target)
        else:
            os.link(tmp_name, target)  # unlike rename, refuses a name taken meanwhile
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)


def _free_name(parent: Path) -> str:
    import tempfile

    fd, name = tempfile.mkstemp(prefix=".auditlog-", suffix=".tmp", dir=parent)
    os.close(fd)
    os.unlink(name)
    return name


def _sync_folder(parent: Path) -> None:
    """The new name is on the disk too, not only the bytes."""
    try:
        fd = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename itself is still atomic
    finally:
        os.close(fd)


def read_small_file(path: Path, cap: int, what: str) -> bytes:
    """The bytes of a small regular file; anything else (a FIFO, a device, a folder, a file
    larger than ``cap``) is refused in one line instead of hanging or filling the memory."""
    shown = _oneline(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise Refusal(_("{what} {shown} does not exist").format(what=what, shown=shown)) from None
    except OSError as error:
        raise Refusal(_("cannot read {what} {shown}: {error}").format(
                          what=what, shown=shown, error=_reason(error))) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise Refusal(_("{what} {shown} is a folder: give a file").format(
                              what=what, shown=shown))
        if not stat.S_ISREG(info.st_mode):
            raise Refusal(_("{what} {shown} is not a regular file: give a file").format(
                              what=what, shown=shown))
        if info.st_size > cap:
            raise Refusal(_("{what} {shown} is {st_size} bytes, more than the {cap} a {what} "
                            "can be: give the right file").format(
                              what=what, shown=shown, st_size=info.st_size, cap=cap))
        chunks: list[bytes] = []
        size = 0
        while size <= cap:
            chunk = os.read(fd, cap + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > cap:
            raise Refusal(_("{what} {shown} is larger than the {cap} bytes a {what} can be: "
                            "give the right file").format(what=what, shown=shown, cap=cap))
        return b"".join(chunks)
    except OSError as error:
        raise Refusal(_("cannot read {what} {shown}: {error}").format(
                          what=what, shown=shown, error=_reason(error))) from None
    finally:
        os.close(fd)
