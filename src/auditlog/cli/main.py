"""The `auditlog` command line: thin commands that parse, call and print.

Every refusal is one line on stderr and exit code 1, raised before anything is written.
"""

import contextlib
import functools
import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress

from auditlog import commands, version
from auditlog.clock import now, parse_timestamp, today
from auditlog.domain.aggregate import Context
from auditlog.domain.events import RecommendationSpec
from auditlog.domain.finding import Finding
from auditlog.domain.grades import instrument_name, parse_score, rule_for
from auditlog.domain.inputs import (
    format_rupiah,
    normalise_finding_code,
    normalise_recommendation_code,
    normalise_region_code,
    parse_date,
    parse_rupiah,
    parse_year,
    require_text,
)
from auditlog.domain.recommendation import parse_status
from auditlog.errors import ExitCode, Refusal, StoreBusy
from auditlog.projections.model import Moment
from auditlog.reports import views
from auditlog.reports.render import Format, render
from auditlog.store.app import Store

from .options import AsOfOpt, FormatOpt, KnownAtOpt, OnOpt, PemdaOpt, ReasonOpt

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="auditlog",
    help="A tamper-evident, event-sourced audit log of findings, follow-ups and grades.\n\n"
    "Start with: auditlog demo",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
pemda_app = typer.Typer(help="Regional governments (pemda).", no_args_is_help=True)
finding_app = typer.Typer(help="Findings (temuan, catatan) and their recommendations.",
                          no_args_is_help=True)
followup_app = typer.Typer(help="Follow-ups (tindak lanjut) and the auditor's reviews.",
                           no_args_is_help=True)
grade_app = typer.Typer(help="Grades of SAKIP, RB and other instruments.", no_args_is_help=True)
app.add_typer(pemda_app, name="pemda")
app.add_typer(finding_app, name="finding")
app.add_typer(followup_app, name="followup")
app.add_typer(grade_app, name="grade")


@dataclass
class Settings:
    db: str
    actor: str


_current: list[Settings] = []


def settings() -> Settings:
    """The global options of the running invocation (set by the callback before any command)."""
    return _current[-1]


def fail(message: str, code: ExitCode) -> None:
    typer.echo(f"auditlog: {message}", err=True)
    raise typer.Exit(int(code))


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn the user's mistakes into one line and an exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except Refusal as refusal:
            fail(str(refusal), ExitCode.REFUSED)
        except StoreBusy as busy:
            fail(str(busy), ExitCode.BUSY)
        raise AssertionError("unreachable")

    return wrapper


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"auditlog {version()}")
        raise typer.Exit()


@app.callback()
def main_options(
    db: Annotated[str, typer.Option(
        "--db", envvar="AUDITLOG_DB", show_default=True,
        help="The store: a SQLite file path (or a postgresql:// URL in a later version).",
    )] = "auditlog.db",
    actor: Annotated[str | None, typer.Option(
        "--actor", envvar="AUDITLOG_ACTOR", help="Who is recording (default: your login name).",
    )] = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=version_callback, is_eager=True, help="Print the version.",
    )] = False,
) -> None:
    """A tamper-evident, event-sourced audit log of findings, follow-ups and grades."""
    _current[:] = [Settings(db=db, actor=(actor or _login()).strip() or "unknown")]


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers; the actor is then said explicitly
        return os.environ.get("USER", "unknown")


# --- helpers ---------------------------------------------------------------------------------


def recording() -> Context:
    return Context(actor=settings().actor, at=now())


@contextmanager
def writer() -> Iterator[Store]:
    """A store to record into, created on first use; a refusal on a new store leaves none."""
    target = settings().db
    Store.check_target(target, existing=False)
    existed = Store.exists(target)
    if not existed:
        parent = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(parent):
            raise Refusal(f"folder {parent} does not exist: create it or choose another --db")
    store = Store(target)
    try:
        yield store
    except (Refusal, StoreBusy):
        store.close()
        if not existed:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(target + suffix)
        raise
    finally:
        store.close()


@contextmanager
def reader() -> Iterator[Store]:
    store = Store.open_existing(settings().db)
    try:
        yield store
    finally:
        store.close()


def happened_on(text: str | None, *, what: str = "--on") -> date:
    """A date in the world; the future has not happened yet, so it is refused."""
    if text is None:
        return today()
    day = parse_date(text, what=what)
    if day > today():
        raise Refusal(f"{what} {day} is in the future (today is {today()}): record it once it "
                      "has happened")
    return day


def moment(as_of: str | None, known_at: str | None, *, as_of_name: str = "--as-of") -> Moment:
    return Moment(
        as_of=parse_date(as_of, what=as_of_name) if as_of else None,
        known_at=parse_timestamp(known_at, what="--known-at") if known_at else None,
    )


def reference_date(m: Moment) -> date:
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


# --- init, demo ----------------------------------------------------------------------------


@app.command()
@guarded
def init() -> None:
    """Create an empty store (idempotent) and say where it is.

    Example: auditlog --db inspektorat.db init
    """
    target = settings().db
    existed = Store.exists(target)
    with writer() as store:
        views.open_projection(store).close()
    echo(f"{'store already exists' if existed else 'created an empty store'} at {target}")


@app.command()
@guarded
def demo(fmt: FormatOpt = Format.table) -> None:
    """Record the Kota Malang 2023 story (and its neighbours), then print the status table.

    A newcomer's first command. Running it again records nothing new.

    Example: auditlog demo
    """
    from auditlog.demo import record_demo

    with writer() as store:
        recorded = record_demo(store, settings().actor)
        if fmt is Format.table:
            message = (
                f"recorded the demo story: {recorded} events in {store.target}"
                if recorded else "the demo story is already in this store: nothing recorded"
            )
            echo(message + "\n")
        echo(views.status_text(views.current(store), today(), None, fmt))


# --- pemda -----------------------------------------------------------------------------------


@pemda_app.command("register")
@guarded
def pemda_register(
    code: Annotated[str, typer.Argument(help="Kemendagri region code, e.g. 35.73.")],
    name: Annotated[str | None, typer.Option("--name", help="Name; default from the "
                                             "official list.")] = None,
    level: Annotated[str | None, typer.Option("--level", help="provinsi, kabupaten or kota; "
                                              "default from the official list.")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Register a regional government; name and level come from the official region list.

    Example: auditlog pemda register 35.73
    """
    region = normalise_region_code(code)
    with writer() as store:
        pemda = commands.register_pemda(store, recording(), region, name, level, today())
    row = {"pemda": pemda.code, "name": pemda.name, "level": pemda.level}
    if fmt is Format.table:
        echo(f"registered {pemda.code} {pemda.name} ({pemda.level})")
    else:
        echo(render([row], views.PEMDA_COLUMNS, fmt, data={"ref": pemda.code, **row}))


@pemda_app.command("list")
@guarded
def pemda_list(fmt: FormatOpt = Format.table) -> None:
    """List the registered pemda.

    Example: auditlog pemda list --format csv
    """
    with reader() as store:
        rows = [{"pemda": p.code, "name": p.name, "level": p.level}
                for p in views.current(store).pemda_list()]
    echo(render(rows, views.PEMDA_COLUMNS, fmt))


# --- findings --------------------------------------------------------------------------------


def _optional(text: str | None) -> str | None:
    return text.strip() if text and text.strip() else None


@finding_app.command("record")
@guarded
def finding_record(
    pemda: Annotated[str, typer.Option("--pemda", help="Region code of the audited pemda.")],
    title: Annotated[str, typer.Option("--title", help="Short title of the finding.")],
    recommendation: Annotated[list[str], typer.Option(
        "--recommendation", "-r", help="A recommendation; repeat for each (numbered 1, 2...).")],
    report: Annotated[str | None, typer.Option("--report", help="LHP/LHE number, "
                                               "e.g. 700/012/ITDA/2026.")] = None,
    received: Annotated[str | None, typer.Option(
        "--received", help="Date the report was received (deadlines run from it); "
        "default today.")] = None,
    issued: Annotated[str | None, typer.Option("--issued", help="Issue date of the report.")]
    = None,
    instrument: Annotated[str | None, typer.Option(
        "--instrument", help="Instrument evaluated, for a catatan (SAKIP, RB ...).")] = None,
    year: Annotated[str | None, typer.Option("--year", help="Assessment year of a catatan.")]
    = None,
    opd: Annotated[str | None, typer.Option("--opd", help="The unit (OPD) concerned.")] = None,
    condition: Annotated[str | None, typer.Option("--condition", help="Kondisi.")] = None,
    criteria: Annotated[str | None, typer.Option("--criteria", help="Kriteria.")] = None,
    cause: Annotated[str | None, typer.Option("--cause", help="Sebab.")] = None,
    effect: Annotated[str | None, typer.Option("--effect", help="Akibat.")] = None,
    code: Annotated[str | None, typer.Option("--code", help="BPK finding code, e.g. 1.01.03.")]
    = None,
    value: Annotated[str | None, typer.Option("--value", help="Nilai temuan in rupiah.")] = None,
    rec_code: Annotated[list[str] | None, typer.Option(
        "--rec-code", help="Recommendation code 01-14, one per --recommendation, in order.")]
    = None,
    rec_value: Annotated[list[str] | None, typer.Option(
        "--rec-value", help="Rupiah to recover, one per --recommendation, in order.")] = None,
    due: Annotated[str | None, typer.Option(
        "--due", help="Due date set by the report; default received + 60 days.")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Record a finding (catatan/temuan) with its recommendations; prints its reference.

    Example: auditlog finding record --pemda 35.73 --title "IKU belum selaras"
    --report 700/012/ITDA/2023 --received 14/3/2023 -r "Selaraskan IKU dengan RPJMD"
    """
    region = normalise_region_code(pemda)
    received_on = happened_on(received, what="--received")
    issued_on = happened_on(issued, what="--issued") if issued else None
    due_on = parse_date(due, what="--due") if due else None
    codes = [normalise_recommendation_code(c) for c in rec_code or []]
    values = [parse_rupiah(v, what="--rec-value") for v in rec_value or []]
    for given, what in ((codes, "--rec-code"), (values, "--rec-value")):
        if given and len(given) != len(recommendation):
            raise Refusal(f"{len(given)} {what} for {len(recommendation)} --recommendation: give "
                          f"one {what} per recommendation, in the same order")
    specs = [
        RecommendationSpec(
            n=i + 1, text=require_text(text, what=f"recommendation {i + 1}"),
            code=codes[i] if codes else None, value=values[i] if values else None, due=due_on,
        )
        for i, text in enumerate(recommendation)
    ]
    new = commands.NewFinding(
        pemda=region, title=require_text(title, what="--title"), received=received_on,
        recommendations=specs, opd=_optional(opd), report=_optional(report), issued=issued_on,
        instrument=instrument_name(instrument) if instrument else None,
        year=parse_year(year) if year else None, condition=_optional(condition),
        criteria=_optional(criteria), cause=_optional(cause), effect=_optional(effect),
        code=normalise_finding_code(code) if code else None,
        value=parse_rupiah(value, what="--value") if value else None,
    )
    with writer() as store:
        finding = commands.record_finding(store, recording(), new)
    _print_recorded(finding, fmt, f"recorded {finding.ref}: {finding.title} "
                    f"({len(finding.recommendations)} recommendation"
                    f"{'s' if len(finding.recommendations) != 1 else ''}, due "
                    f"{finding.recommendations[0].due(finding.received)})")


def _print_recorded(finding: Finding, fmt: Format, line: str, ref: str | None = None) -> None:
    """The confirmation line, or the object with its reference under "ref" for scripts.

    For a recommendation's command, "ref" is the recommendation's (F-2023-0001.1) and
    "finding" holds the whole finding it belongs to."""
    if fmt is Format.table:
        echo(line)
        return
    data = views.finding_json(finding, today())
    if ref is not None:
        n = int(ref.rsplit(".", 1)[1])
        rec = next(r for r in data["recommendations"] if r["n"] == n)
        data = {**rec, "finding": data}
    echo(render([views.finding_row(finding, today())], views.FINDING_COLUMNS, fmt, data=data))


def _rec_ref(finding: Finding, typed: str) -> str:
    return f"{finding.ref}.{int(typed.rsplit('.', 1)[1])}"


@finding_app.command("show")
@guarded
def finding_show(
    ref: Annotated[str, typer.Argument(help="Finding reference, e.g. F-2023-0001.")],
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """One finding with every recommendation and its full trail (who, when, what, why).

    Example: auditlog finding show F-2023-0001
    """
    m = moment(as_of, known_at)
    with reader() as store:
        echo(views.finding_show(store, ref, m, reference_date(m), fmt))


@finding_app.command("list")
@guarded
def finding_list(
    pemda: PemdaOpt = None,
    status: Annotated[str | None, typer.Option(
        "--status", help="Only findings with a recommendation in this status: "
        "S, BS, BD or TDTL.")] = None,
    overdue: Annotated[bool, typer.Option(
        "--overdue", help="Only findings with an open recommendation past its due date.")]
    = False,
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The register of findings, with their recommendations' statuses.

    Example: auditlog finding list --pemda 35.73 --overdue
    """
    wanted = parse_status(status) if status else None
    m = moment(as_of, known_at)
    with reader() as store:
        model = views.read_model(store, m)
        echo(views.finding_list(model, pemda_code(pemda), wanted, overdue,
                                reference_date(m), fmt))


@finding_app.command("correct")
@guarded
def finding_correct(
    ref: Annotated[str, typer.Argument(help="F-2023-0001, or F-2023-0001.2 for a "
                                       "recommendation's text, code or value.")],
    field: Annotated[str, typer.Option("--field", help="The field to correct, e.g. received, "
                                       "title, value, opd.")],
    value: Annotated[str, typer.Option("--value", help="The right value.")],
    reason: ReasonOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Correct a field, as a new event; the original stays visible in history.

    Example: auditlog finding correct F-2023-0001 --field received --value 2023-03-10
    --reason "tanggal terima salah ketik"
    """
    why = require_text(reason, what="--reason")
    with writer() as store:
        finding = commands.correct(store, recording(), ref, field.strip().lower(), value, why,
                                   today())
    _print_recorded(finding, fmt, f"corrected {field} of {ref.upper()}",
                    _rec_ref(finding, ref) if "." in ref else None)


@finding_app.command("withdraw")
@guarded
def finding_withdraw(
    ref: Annotated[str, typer.Argument(help="The finding recorded in error.")],
    reason: ReasonOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Withdraw a finding recorded in error: it leaves the projections, not the log.

    Example: auditlog finding withdraw F-2023-0003 --reason "tercatat ganda"
    """
    why = require_text(reason, what="--reason")
    with writer() as store:
        finding = commands.withdraw(store, recording(), ref, why, today())
    _print_recorded(finding, fmt, f"withdrew {finding.ref}: it stays in the log and history")


# --- follow-ups ------------------------------------------------------------------------------


@followup_app.command("record")
@guarded
def followup_record(
    rec: Annotated[str, typer.Argument(help="Recommendation reference, e.g. F-2023-0001.1.")],
    on: Annotated[str, typer.Option("--on", help="Date the follow-up was received.")],
    action: Annotated[str, typer.Option("--action", help="What the audited unit did.")],
    deposit: Annotated[str | None, typer.Option("--deposit", help="Rupiah deposited "
                                                "(nilai setor).")] = None,
    slip: Annotated[str | None, typer.Option("--slip", help="Deposit slip number.")] = None,
    evidence: Annotated[list[str] | None, typer.Option(
        "--evidence", help="An evidence file, fingerprinted with SHA-256 (not copied); "
        "repeat for each.")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Record a follow-up received for a recommendation. Money alone never closes it.

    Example: auditlog followup record F-2023-0001.1 --on 10/5/2023
    --action "IKU direvisi" --evidence sk-iku.pdf
    """
    day = happened_on(on)
    what = require_text(action, what="--action")
    amount = parse_rupiah(deposit, what="--deposit") if deposit else 0
    with writer() as store:
        finding = commands.record_followup(store, recording(), rec, day, what, amount,
                                           _optional(slip), evidence or [])
    extra = f", deposit {format_rupiah(amount)}" if amount else ""
    _print_recorded(finding, fmt, f"recorded a follow-up on {rec.upper()} ({day}{extra})",
                    _rec_ref(finding, rec))


@followup_app.command("review")
@guarded
def followup_review(
    rec: Annotated[str, typer.Argument(help="Recommendation reference, e.g. F-2023-0001.1.")],
    status: Annotated[str, typer.Option("--status", help="S, BS, BD or TDTL.")],
    reason: ReasonOpt = None,
    on: OnOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The auditor's decision on a recommendation's status, with a written rationale.

    Allowed: BD->BS, BD->S, BS->BS, BS->S, and any status -> TDTL (the reason names the
    lawful ground). S and TDTL go back to BS only through 'followup reopen'.
    Example: auditlog followup review F-2023-0001.1 --status S --reason "bukti setor lengkap"
    """
    new = parse_status(status)
    why = require_text(reason, what="--reason")
    day = happened_on(on)
    with writer() as store:
        finding = commands.review(store, recording(), rec, new, why, day)
    _print_recorded(finding, fmt, f"{rec.upper()} is now {new.value}", _rec_ref(finding, rec))


@followup_app.command("reopen")
@guarded
def followup_reopen(
    rec: Annotated[str, typer.Argument(help="A recommendation that is S or TDTL.")],
    reason: ReasonOpt = None,
    on: OnOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Reopen a resolved recommendation (S or TDTL back to BS): a deliberate act with a reason.

    Example: auditlog followup reopen F-2023-0001.1 --reason "bukti setor ternyata palsu"
    """
    why = require_text(reason, what="--reason")
    day = happened_on(on)
    with writer() as store:
        finding = commands.reopen(store, recording(), rec, why, day)
    _print_recorded(finding, fmt, f"reopened {rec.upper()}: it is BS again",
                    _rec_ref(finding, rec))


@followup_app.command("extend")
@guarded
def followup_extend(
    rec: Annotated[str, typer.Argument(help="Recommendation reference.")],
    due: Annotated[str, typer.Option("--due", help="The new, later due date.")],
    reason: ReasonOpt = None,
    on: OnOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Extend a recommendation's due date; the extension is itself a recorded fact.

    Example: auditlog followup extend F-2023-0001.1 --due 30/9/2023 --reason "banjir"
    """
    new_due = parse_date(due, what="--due")
    why = require_text(reason, what="--reason")
    day = happened_on(on)
    with writer() as store:
        finding = commands.extend(store, recording(), rec, new_due, why, day)
    _print_recorded(finding, fmt, f"{rec.upper()} is now due {new_due}", _rec_ref(finding, rec))


# --- grades ----------------------------------------------------------------------------------


@grade_app.command("record")
@guarded
def grade_record(
    pemda: Annotated[str, typer.Option("--pemda", help="Region code.")],
    instrument: Annotated[str, typer.Option("--instrument", help="SAKIP, RB, SPIP or BPK.")],
    year: Annotated[str, typer.Option("--year", help="Assessment year.")],
    grade: Annotated[str | None, typer.Option("--grade", help="The grade (AA, A, BB ...).")]
    = None,
    score: Annotated[str | None, typer.Option("--score", help="The score 0-100; the grade is "
                                              "derived from it by the rule.")] = None,
    on: OnOpt = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Version of the grading rule "
                                             "(default: the current one).")] = None,
    because: Annotated[list[str] | None, typer.Option(
        "--because", help="A finding or recommendation whose follow-up produced this grade; "
        "repeat for each.")] = None,
    correct: Annotated[bool, typer.Option("--correct", help="Correct the grade already "
                                          "recorded for this year (needs --reason).")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why, for a correction.")]
    = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Record a grade for an assessment year; with a score the grade is derived by the rule.

    Example: auditlog grade record --pemda 35.73 --instrument SAKIP --year 2022 --grade A
    --because F-2023-0001
    """
    region = normalise_region_code(pemda)
    name = instrument_name(instrument)
    the_rule = rule_for(name, rule)
    the_year = parse_year(year)
    the_score = parse_score(score) if score is not None else None
    day = happened_on(on)
    correction = require_text(reason, what="--reason") if correct else None
    if reason is not None and not correct:
        raise Refusal("--reason goes with --correct: leave it out for a first recording")
    with writer() as store:
        series = commands.record_grade(store, recording(), region, name, the_year, the_rule,
                                       grade, the_score, because or [], day, correction)
    entry = series.years[the_year]
    data = {"ref": f"{region}/{name}/{the_year}", "pemda": region, "instrument": name,
            "year": the_year, "grade": entry.grade,
            "score": None if entry.score is None else str(entry.score), "rule": entry.rule,
            "because": list(entry.because)}
    if fmt is Format.table:
        scored = f" (score {entry.score})" if entry.score is not None else ""
        label = the_rule.label(entry.grade)
        echo(f"{'corrected' if correct else 'recorded'} {name} {the_year} for {region}: "
             f"{entry.grade}{scored}{' ' + label if label else ''}")
    else:
        echo(render([data], [(k, k) for k in data if k != "because"], fmt, data=data))


@grade_app.command("list")
@guarded
def grade_list(
    pemda: PemdaOpt = None,
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Every grade per pemda and instrument by year, with what produced it.

    Example: auditlog grade list --pemda 35.73
    """
    m = moment(as_of, known_at)
    with reader() as store:
        echo(views.grade_list(views.read_model(store, m), pemda_code(pemda), fmt))


# --- status, history, replay, rebuild --------------------------------------------------------


@app.command()
@guarded
def status(
    pemda: PemdaOpt = None,
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Compliance per pemda: grades, recommendations by status (count and rupiah), overdue.

    Example: auditlog status --pemda 35.73 --as-of 2023-06-30
    """
    m = moment(as_of, known_at)
    with reader() as store:
        echo(views.status_text(views.read_model(store, m), reference_date(m),
                               pemda_code(pemda), fmt))


@app.command()
@guarded
def history(
    pemda: PemdaOpt = None,
    finding: Annotated[str | None, typer.Option("--finding", help="Only this finding "
                                                "(F-2023-0001).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Only events effective on or before "
                                           "this date.")] = None,
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The events in log order, with who recorded each, when, and the date it concerns.

    Example: auditlog history --finding F-2023-0001
    """
    if pemda and finding:
        raise Refusal("give --pemda or --finding, not both")
    if to and as_of:
        raise Refusal("--to and --as-of mean the same here: give one of them")
    m = moment(to or as_of, known_at, as_of_name="--to" if to else "--as-of")
    with reader() as store:
        echo(views.history(store, m, pemda_code(pemda), finding, fmt))


@app.command()
@guarded
def replay(
    to: Annotated[str, typer.Option("--to", help="The date to rebuild the state at.")],
    pemda: PemdaOpt = None,
    known_at: KnownAtOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Rebuild the state as it stood on a date from the events alone, and print it.

    Example: auditlog replay --to 2023-07-26 --pemda 35.73
    """
    m = moment(to, known_at, as_of_name="--to")
    with reader() as store:
        universe = views.fold(store, m)
        body = views.status_text(universe, reference_date(m), pemda_code(pemda), fmt)
        if fmt is Format.table:
            # Only what the moment admits, so a reproduced report prints the same line.
            echo(f"replayed {universe.events_applied} events (up to log position "
                 f"{universe.last_applied}) to {m.as_of}"
                 + (f", as known at {m.known_at.isoformat()}" if m.known_at else "") + "\n")
        echo(body)


@app.command()
@guarded
def rebuild() -> None:
    """Rebuild every projection from the events, with a progress bar.

    Example: auditlog rebuild
    """
    with reader() as store:
        total = store.max_position()
        projection = views.open_projection(store, catch_up=False)
        with Progress(transient=True, console=Console(stderr=True)) as progress:
            task = progress.add_task("rebuilding", total=total)
            applied = projection.rebuild(lambda n: progress.advance(task, n))
    echo(f"rebuilt the projections from {applied} events")


def main() -> None:
    """The console script: usage errors exit 2, refusals 1, integrity 3, busy 4."""
    app()


# Commands that live in their own modules register themselves on `app` when imported.
from auditlog.cli import export as _export  # noqa: E402
from auditlog.cli import integrity as _integrity  # noqa: E402

__all__ = ["_export", "_integrity", "app", "main"]
