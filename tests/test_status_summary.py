"""The persisted projection's status columns and counts (projections/persisted.py) equal the
fold's, on the days where they change: overdue counted as the open ones less those not yet due
(Projection.summary_rows and the fast path, projections/quick.py), and the latest grades kept
in columns of projection_grades rather than parsed from each series' state."""

import sqlite3
import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlog.projections import quick
from auditlog.projections.model import Moment
from auditlog.projections.persisted import Projection
from auditlog.projections.summary import grade_json, status_report
from auditlog.reports.views import fold
from auditlog.store.app import Store
from test_projection_property import KINDS, History


def due_days(target: Path) -> list[date]:
    """Each day an open recommendation falls due, and the day after: overdue is due < on, so
    the count changes between the two."""
    conn = sqlite3.connect(target)
    try:
        days = conn.execute("SELECT DISTINCT due FROM projection_recommendation "
                            "WHERE status IN ('BD', 'BS') ORDER BY 1").fetchall()
    finally:
        conn.close()
    found = [date.fromisoformat(day) for (day,) in days]
    return sorted({*found, *(day + timedelta(days=1) for day in found)})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kinds=st.lists(st.sampled_from(KINDS), min_size=15, max_size=60),
       rebuilt=st.booleans())
def test_overdue_and_grades_are_the_folds_on_every_due_day(
        data: st.DataObject, kinds: list[str], rebuilt: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "summary.db"
        store = Store(str(target))
        projection = Projection(store)
        try:
            history = History(store, data)
            history.step("pemda")
            for kind in kinds:
                history.step(kind)
            if rebuilt:
                projection.rebuild()
            else:
                projection.catch_up()
            folded = fold(store, Moment())
            conn = sqlite3.connect(target)
            try:
                for on in due_days(target):
                    expected = status_report(folded, on)
                    assert status_report(projection, on) == expected, on
                    assert quick.status_report(conn, on.isoformat()) == expected, on
                columns = conn.execute(
                    "SELECT pemda, instrument, latest_grade, latest_score, latest_year, "
                    "previous_grade, previous_score, previous_year "
                    "FROM projection_grades").fetchall()
            finally:
                conn.close()
            cells = []
            for series in folded.grade_series():
                latest, previous = series.latest()
                cells.append((series.pemda, series.instrument,
                              *[None if e is None else grade_json(e)[k]  # type: ignore[index]
                                for e in (latest, previous) for k in ("grade", "score", "year")]))
            assert sorted(columns) == sorted(cells)
        finally:
            projection.close()
            store.close()
