"""`status` from a current projection's summary rows (reports/quick_status.py) prints the bytes
of the full path (reports/views.status_text over the persisted projection), and hands over to
the full path whenever the rows cannot answer for the log as it stands."""

import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlog import commands, i18n
from auditlog.clock import now
from auditlog.domain.aggregate import Context
from auditlog.domain.commitment import OPEN
from auditlog.domain.events import CommitmentStatus, Status
from auditlog.domain.grades import INSTRUMENTS
from auditlog.projections import quick
from auditlog.projections.model import FindingFilter, Moment
from auditlog.projections.persisted import Projection
from auditlog.reports import views
from auditlog.reports.quick_status import quick_status
from auditlog.reports.render import Format
from auditlog.store.app import Store
from test_projection_property import REFERENCE_DATES, History

from conftest import Run

DATES = (date(2022, 6, 30), date(2024, 1, 15), date(2026, 1, 1))


def full_path(store: Store, on: date, pemda: str | None, fmt: Format) -> str:
    return views.status_text(views.read_model(store, Moment()), on, pemda, fmt,
                             FindingFilter(pemda=pemda))


def boundaries(target: Path, most: int = 3) -> tuple[date, ...]:
    """Days on which something open falls due: where overdue counts change (due < on, not
    <=)."""
    conn = sqlite3.connect(target)
    try:
        days = conn.execute(
            "SELECT deadline FROM projection_commitment WHERE status IN ('berjalan', "
            "'sebagian') UNION SELECT due FROM projection_recommendation "
            "WHERE status IN ('BD', 'BS') ORDER BY 1").fetchall()
    finally:
        conn.close()
    chosen = days[:: max(1, len(days) // most)][:most]
    return tuple(date.fromisoformat(day) for (day,) in chosen)


def assert_same(target: Path, pemdas: list[str | None], days: tuple[date, ...] = DATES) -> None:
    """Every format, both languages, each pemda and day (and days something falls due): the
    quick path's bytes are the full path's, and the quick path did answer."""
    days = (*days, *boundaries(target))
    store = Store.open_existing(str(target))
    try:
        for lang in i18n.LANGUAGES:
            i18n.set_language(lang)
            for fmt in Format:
                for on in days:
                    for pemda in pemdas:
                        quick_text = quick_status(str(target), pemda, fmt, on)
                        assert quick_text is not None, (lang, fmt, on, pemda)
                        assert quick_text == full_path(store, on, pemda, fmt), (
                            lang, fmt, on, pemda)
    finally:
        store.close()
        i18n.reset()


@pytest.fixture
def demo(run: Run, isolated: Path) -> Path:
    """The demo store (grades, commitments with progress, catatan), projection current."""
    assert run("demo").exit_code == 0
    assert run("status").exit_code == 0
    return isolated


def test_the_demo_store_reads_alike(demo: Path) -> None:
    assert_same(demo, [None, "35.73", "35"], (*DATES, date(2023, 9, 1)))


def test_names_tabulate_lays_out_read_alike(run: Run, demo: Path) -> None:
    """A name beyond ASCII: the table goes through render and tabulate, as the full path's."""
    assert run("pemda", "register", "11", "--name", "Aceh — Serambi Mekkah",
               "--level", "provinsi").exit_code == 0
    assert run("status").exit_code == 0  # caught up
    assert_same(demo, [None, "11"], DATES[1:2])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kinds=st.lists(st.sampled_from(
    ("pemda", "finding", "finding", "followup", "review", "reopen", "extend", "correct",
     "withdraw", "grade", "grade", "commitment", "progress", "creview", "theme")),
    min_size=10, max_size=50))
def test_random_logs_read_alike(data: st.DataObject, kinds: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "quick.db"
        store = Store(str(target))
        try:
            history = History(store, data)
            history.step("pemda")
            for kind in kinds:
                history.step(kind)
            Projection(store).catch_up()
        finally:
            store.close()
        assert_same(target, [None, *history.pemdas[:2]], REFERENCE_DATES[1:3])


def test_the_codes_are_the_domains() -> None:
    assert tuple(s.value for s in Status) == quick.STATUS_CODES
    assert quick.OPEN_STATUS_CODES == ("BD", "BS")
    assert tuple(INSTRUMENTS) == quick.INSTRUMENT_ORDER
    assert CommitmentStatus.TERCAPAI.value == quick.ACHIEVED
    assert tuple(s.value for s in OPEN) == quick.OPEN_COMMITMENTS


def test_percent_is_the_summarys() -> None:
    from auditlog.projections.summary import percent

    cases = [(0, 0), (0, 3), (1, 3), (2, 3), (1, 8), (3, 8), (5, 8), (1, 6), (123, 456),
             (10**14, 3 * 10**14 + 7), (7, 7), (9, 7), (-1, 3), (1, -3)]
    cases += [(part, whole) for whole in range(1, 60) for part in range(whole + 2)]
    for part, whole in cases:
        assert quick.percent(part, whole) == percent(part, whole), (part, whole)


# --- handing over to the full path -------------------------------------------------------


@pytest.fixture
def db(demo: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(demo, isolation_level=None)
    yield conn
    conn.close()


def quick_answers(target: Path) -> bool:
    return quick_status(str(target), None, Format.table, date(2024, 1, 15)) is not None


def test_a_projection_behind_its_log_is_caught_up_by_the_full_path(
        run: Run, demo: Path) -> None:
    assert quick_answers(demo)
    store = Store.open_existing(str(demo))  # an event recorded without catching up
    try:
        commands.register_pemda(store, Context("auditor", now()), "11", "Aceh", "provinsi",
                                date(2024, 1, 2))
    finally:
        store.close()
    assert not quick_answers(demo)
    done = run("status", "--pemda", "11")
    assert done.exit_code == 0 and "Aceh" in done.stdout
    assert quick_answers(demo)  # caught up by that status: the next one is quick


def test_a_projection_on_a_rewritten_log_is_damage_reported_by_the_full_path(
        run: Run, demo: Path, db: sqlite3.Connection) -> None:
    db.execute("UPDATE projection_position SET hash = ?", ("00" * 32,))
    assert not quick_answers(demo)
    done = run("status")
    assert done.exit_code == 3
    assert "the log was cut short or rewritten" in done.stderr


@pytest.mark.parametrize("change", [
    "UPDATE projection_schema SET version = '6'",
    "DELETE FROM projection_position",
    "UPDATE projection_position SET position = position - 1",
    "DROP TABLE projection_summary",
    "UPDATE projection_summary SET status = 'XX' WHERE rowid = 1",
    # The schema before the grade columns: rebuilt by the full path, never read.
    "UPDATE projection_schema SET version = '7'",
])
def test_rows_that_cannot_answer_hand_over(demo: Path, db: sqlite3.Connection,
                                           change: str) -> None:
    assert quick_answers(demo)
    db.execute(change)
    assert not quick_answers(demo)


def test_what_is_no_plain_store_hands_over(isolated: Path, tmp_path: Path) -> None:
    assert not quick_answers(isolated)  # no file
    isolated.write_bytes(b"")
    assert not quick_answers(isolated)
    isolated.write_bytes(b"not a database at all")
    assert not quick_answers(isolated)
    assert quick_status("postgresql://auditor@localhost/x", None, Format.table,
                        date(2024, 1, 15)) is None


def test_an_unregistered_pemda_is_refused_by_the_full_path(run: Run, demo: Path) -> None:
    assert quick_status(str(demo), "99", Format.table, date(2024, 1, 15)) is None
    done = run("status", "--pemda", "99")
    assert done.exit_code == 1 and "is not registered" in done.stderr
