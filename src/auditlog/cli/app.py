"""The Typer app and the helpers every command group shares: global options, the one-line
refusal, opening a store to read or to record, and parsing the two times.

Command groups live in their own modules and are registered in cli/main.py.
"""

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from auditlog import version
from auditlog.clock import now, parse_timestamp, today
from auditlog.domain.inputs import (
    ACTOR_LIMIT,
    LIMITS,
    LONG_TEXTS,
    PATH_LIMIT,
    SHORT_LIMIT,
    check_text,
    normalise_region_code,
    parse_date,
)
from auditlog.errors import DamagedStore, ExitCode, Refusal, StoreBusy
from auditlog.i18n import N_, _
from auditlog.reports.render import Format

from . import _collector as collector
from .language import LocalisedGroup, choose_language

if TYPE_CHECKING:  # the command tree is built without them: `--help` must start fast
    from auditlog.domain.aggregate import Context
    from auditlog.domain.finding import Finding
    from auditlog.projections.model import Moment
    from auditlog.store.app import Store

P = ParamSpec("P")
R = TypeVar("R")


class AuditGroup(LocalisedGroup):
    def main(self, args: Sequence[str] | None = None, *more: Any, **extra: Any) -> Any:
        try:  # reaches into Typer's private coercion: a Typer that moved it coerces as usual
            from .coercion import coerce_plainly
        except ImportError:
            pass
        else:
            coerce_plainly(self)  # before anything is parsed: no pydantic for text and choices
        return super().main(args, *more, **extra)

    def invoke(self, ctx: Any) -> Any:
        collector.resume(freeze=True)  # a command runs: with the collector (cli/_collector.py)
        return super().invoke(ctx)


app = typer.Typer(
    name="auditlog",
    cls=AuditGroup,
    help=N_("A tamper-evident, event-sourced audit log of findings, follow-ups and grades.\n\n"
    "Start with: auditlog demo"),
    no_args_is_help=True,
    add_completion=True,  # --install-completion; refs and codes complete from the store
    context_settings={"help_option_names": ["-h", "--help"]},
)



class Settings:
    """The global options of one invocation (a plain class: a dataclass costs a start-up
    more to define than everything else in this module)."""

    def __init__(self, db: str, actor: str, actor_given: bool = False,
                 actor_refused: str | None = None) -> None:
        self.db = db
        self.actor = actor
        self.actor_given = actor_given
        self.actor_refused = actor_refused  # why the --actor given cannot record here


_current: list[Settings] = []


def settings() -> Settings:
    """The global options of the running invocation (set by the callback before any command)."""
    return _current[-1]


def fail(message: str, code: ExitCode) -> None:
    typer.echo(_("auditlog: {message}").format(message=message), err=True)
    raise typer.Exit(int(code))


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn the user's mistakes into one line and an exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            check_options(kwargs)
            return fn(*args, **kwargs)
        except Refusal as refusal:
            fail(str(refusal), ExitCode.REFUSED)
        except StoreBusy as busy:
            fail(str(busy), ExitCode.BUSY)
        except DamagedStore as damage:  # a row failed its chain check while being read
            fail(str(damage), ExitCode.INTEGRITY)
        except BrokenPipeError:
            # The reader went away (`auditlog status | head`): what it read was right, and
            # there is no one left to tell anything to. Quiet, like the tools it is piped to.
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except OSError as error:  # the system refused a file: one line, never a traceback
            fail(f"{error.strerror or error}"
                 f"{': ' + repr(error.filename) if error.filename else ''}", ExitCode.REFUSED)
        except Exception as error:  # last: OSError's kinds are handled above
            if not _unusable(error):
                raise
            # What SQLite says when the file cannot be used: locked past the timeout is
            # "busy" (exit 4); anything else (disk I/O error, read-only media) is one line.
            text = " ".join(str(error).split())
            if "locked" in text or "busy" in text:
                fail(_("the store at {db} stayed locked ({text}); nothing was written: "
                       "try again").format(
                    db=settings().db, text=text), ExitCode.BUSY)
            fail(_("the store at {db} cannot be used: {text}").format(
                db=settings().db, text=text), ExitCode.REFUSED)
        raise AssertionError("unreachable")

    return wrapper


def _unusable(error: Exception) -> bool:
    """Whether the database said the file cannot be used (sqlite3's or eventsourcing's
    OperationalError). Asked of the modules only once loaded: a command that never opened
    the store through them cannot have raised their errors, and loading eventsourcing to
    ask would cost a fast command its speed."""
    kinds: list[type[BaseException]] = []
    if "sqlite3" in sys.modules:
        kinds.append(sys.modules["sqlite3"].OperationalError)
    persistence = sys.modules.get("eventsourcing.persistence")
    if persistence is not None:
        kinds.append(persistence.OperationalError)
    return isinstance(error, tuple(kinds))


def check_options(options: dict[str, object]) -> None:
    """Every text a user gives, checked once here before any command sees it: valid UTF-8,
    within its length limit, no control characters (line ends only in long texts)."""
    for name, value in options.items():
        # finding correct --field F --value V: the value is a text of the field it corrects.
        field = name if name != "value" else str(options.get("field") or "value")
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, os.PathLike):
                check_text(os.fspath(item), what=f"--{name.replace('_', '-')}",
                           limit=PATH_LIMIT)
            elif isinstance(item, str):
                check_text(item, what=f"--{name.replace('_', '-')}",
                           limit=LIMITS.get(field, SHORT_LIMIT),
                           multiline=field in LONG_TEXTS)


def version_callback(value: bool) -> None:
    if value:
        typer.echo(_("auditlog {value}").format(value=version()))
        raise typer.Exit()


@app.callback()
def main_options(
    db: Annotated[str, typer.Option(
        "--db", envvar="AUDITLOG_DB", show_default=True,
        help=N_("The store: a SQLite file path, or postgresql://user@host:port/dbname (the "
        "password from PGPASSWORD or ~/.pgpass)."),
    )] = "auditlog.db",
    actor: Annotated[str | None, typer.Option(
        "--actor", envvar="AUDITLOG_ACTOR", help=N_("Who is recording (default: your login name; "
        "on PostgreSQL always the database role)."),
    )] = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=version_callback, is_eager=True, help=N_("Print the version."),
    )] = False,
    lang: Annotated[str | None, typer.Option(
        "--lang", envvar="AUDITLOG_LANG", metavar="id|en", is_eager=True,
        callback=choose_language, show_default=False,
        help=N_("Language of everything you read: id (Bahasa Indonesia) or en; default from "
        "the locale (LANG starting with id: Indonesian). JSON keys and CSV headers stay "
        "English."),
    )] = None,
) -> None:
    """A tamper-evident, event-sourced audit log of findings, follow-ups and grades."""
    try:
        check_text(db, what="--db", limit=PATH_LIMIT)
        if actor is not None:
            check_text(actor, what="--actor (AUDITLOG_ACTOR)", limit=ACTOR_LIMIT)
    except Refusal as refusal:
        fail(str(refusal), ExitCode.REFUSED)
    # A blank --actor names nobody: like an empty one, it means the login name (recording
    # "unknown" would leave events that no one can be asked about).
    given = actor.strip() if actor else ""
    current = Settings(db=db, actor=given or _login().strip() or "unknown",
                       actor_given=bool(given))
    _current[:] = [current]
    if "auditlog.files" in sys.modules:  # else nothing was protected yet
        sys.modules["auditlog.files"].forget_protected()  # a new invocation (tests run many)
    # This runs before every subcommand, its --help included: the store's modules (and
    # psycopg) are imported only for a URL that can name a server.
    if db.startswith("postgres"):
        from auditlog.store.app import is_postgres
        from auditlog.store.postgres import PostgresTarget

        if is_postgres(db):
            with contextlib.suppress(Refusal):  # a malformed URL is refused by the command
                _log_in_as(current, PostgresTarget(db).user)


def _log_in_as(current: Settings, role: str) -> None:
    """On a server the actor is whom the database logs in, not whom --actor names."""
    if current.actor_given and current.actor != role:
        current.actor_refused = (
            _("--actor {actor} is not who is logged in: on PostgreSQL the actor is the "
              "database role ({role}); leave --actor out or connect as that role").format(
                actor=current.actor, role=role))
    current.actor = role


def _login() -> str:
    import getpass  # with termios behind it: only when no --actor is given

    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers; the actor is then said explicitly
        return os.environ.get("USER", "unknown")


# --- helpers ---------------------------------------------------------------------------------


def recording() -> "Context":
    from auditlog.domain.aggregate import Context

    current = settings()
    if current.actor_refused is not None:
        raise Refusal(current.actor_refused)
    return Context(actor=current.actor, at=now())


@contextmanager
def writer(*, restoring: bool = False) -> "Iterator[Store]":
    """A store to record into, created on first use; a refusal on a new store leaves none.

    One whose append-only triggers were removed is refused (exit 3), except to 'init'
    (``restoring``), which puts them back once the log verifies."""
    from auditlog import files
    from auditlog.store.app import Store

    target = settings().db
    Store.check_target(target, existing=False)
    existed = Store.exists(target)
    files.protect(target)
    store = Store(target)
    try:
        authenticated = store.session_user()
        if authenticated is not None:  # the database's word is final
            _log_in_as(settings(), authenticated)
            recording()
        if not restoring:
            store.require_writable()
        yield store
    except (Refusal, StoreBusy, DamagedStore):
        store.close()
        if not existed:
            store.engine.discard()
        raise
    finally:
        for warning in dict.fromkeys(store.warnings):
            typer.echo(_("auditlog: warning: {warning}").format(warning=warning), err=True)
        store.close()


@contextmanager
def reader(*, verifying: bool = False) -> "Iterator[Store]":
    """A store to read; one that lost its integrity tables is refused (exit 3), except to
    verify, which reports what is gone."""
    from auditlog import files
    from auditlog.store.app import Store

    files.protect(settings().db)
    store = Store.open_existing(settings().db)
    try:
        if not verifying:
            store.require_intact_tables()
        yield store
    finally:
        for warning in dict.fromkeys(store.warnings):  # e.g. checkpoint records an event
            typer.echo(_("auditlog: warning: {warning}").format(warning=warning), err=True)
        store.close()


def happened_on(text: str | None, *, what: str = "--on") -> date:
    """A date in the world; the future has not happened yet, so it is refused."""
    if text is None:
        return today()
    day = parse_date(text, what=what)
    if day > today():
        raise Refusal(_("{what} {day} is in the future (today is {value}): record it once it "
                        "has happened").format(what=what, day=day, value=today()))
    return day


def moment(as_of: str | None, known_at: str | None, *, as_of_name: str = "--as-of") -> "Moment":
    from auditlog.projections.model import Moment

    return Moment(
        as_of=parse_date(as_of, what=as_of_name) if as_of else None,
        known_at=parse_timestamp(known_at, what="--known-at") if known_at else None,
    )


def reference_date(m: "Moment") -> date:
    """Overdue and aging are judged on the as-of date; asked only what the log held at a
    moment, on that moment's date (so the answer never depends on the clock); else today."""
    if m.as_of is not None:
        return m.as_of
    if m.known_at is not None:
        return m.known_at.astimezone().date()
    return today()


def echo(text: str) -> None:
    typer.echo(text)


def pemda_code(text: str | None) -> str | None:
    return None if text is None else normalise_region_code(text)


def optional(text: str | None) -> str | None:
    return text.strip() if text and text.strip() else None



def print_recorded(finding: "Finding", fmt: Format, line: str, ref: str | None = None) -> None:
    """The confirmation line, or the object with its reference under "ref" for scripts.

    For a recommendation's command, "ref" is the recommendation's (F-2023-0001.1) and
    "finding" holds the whole finding it belongs to."""
    from auditlog.reports import views
    from auditlog.reports.render import render

    if fmt is Format.table:
        echo(line)
        return
    data = views.finding_json(finding, today())
    if ref is not None:
        n = int(ref.rsplit(".", 1)[1])
        rec = next(r for r in data["recommendations"] if r["n"] == n)
        data = {**rec, "finding": data}
    echo(render([views.finding_row(finding, today())], views.FINDING_COLUMNS, fmt, data=data))


def rec_ref(finding: "Finding", typed: str) -> str:
    return f"{finding.ref}.{int(typed.rsplit('.', 1)[1])}"

