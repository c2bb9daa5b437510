"""Questions about the past answered from the persisted projection plus a little refolding.

An aggregate that nothing touched after the moment asked about (no event recorded after
--known-at, no event effective after --as-of other than retroactive corrections) is, at that
moment, exactly what the projection holds now. Only the others are refolded from their own
events. So `status --as-of 2023-06-30` reads the findings in flight on that date, not the log.
A property test checks that this equals folding the whole log (`replay`).
"""

from datetime import date
from typing import Any
from uuid import UUID

from auditlog.domain.commitment import Commitment
from auditlog.domain.events import Status
from auditlog.domain.finding import Finding
from auditlog.domain.grades import GradeSeries
from auditlog.domain.pemda import Pemda
from auditlog.projections.model import (
    Moment,
    RecRow,
    commitment_key,
    project_admitted,
    rec_rows_of,
    ref_key,
)
from auditlog.projections.persisted import Projection, micros
from auditlog.store.app import Store


class TemporalModel:
    """A ReadModel for one Moment, built from the projection and the aggregates' own events."""

    def __init__(self, store: Store, projection: Projection, moment: Moment) -> None:
        self.store = store
        self.projection = projection
        self.moment = moment
        self.ts = None if moment.known_at is None else micros(moment.known_at)
        self.day = None if moment.as_of is None else moment.as_of.isoformat()

    def _untouched(self, last_recorded: int, last_effective: str = "") -> bool:
        return (self.ts is None or last_recorded <= self.ts) and (
            self.day is None or last_effective <= self.day)

    def _refold(self, aggregate_ids: list[str]) -> list[Finding | GradeSeries | Commitment]:
        """The aggregates as they stood at the moment, folded from their admitted events."""
        histories = self.store.events_of_many([UUID(i) for i in aggregate_ids])
        folded = []
        for events in histories.values():
            found = project_admitted(e for e in events if self.moment.admits(e))
            if found is not None:
                assert isinstance(found, Finding | GradeSeries | Commitment)
                folded.append(found)
        return folded

    def pemda_list(self) -> list[Pemda]:
        rows = self.projection.db.execute(
            "SELECT state FROM projection_pemda WHERE CAST(? AS BIGINT) IS NULL OR recorded <= ? "
            "ORDER BY code",
            (self.ts, self.ts),
        ).fetchall()
        return [Pemda.model_validate_json(r[0]) for r in rows]

    def _finding_rows(self, pemda: str | None) -> list[tuple[str, str, int, str, str, int]]:
        sql = ("SELECT id, state, last_recorded, last_effective, received, withdrawn "
               "FROM projection_finding WHERE 1 = 1")
        params: list[object] = []
        if pemda is not None:
            sql += " AND pemda = ?"
            params.append(pemda)
        if self.ts is None:
            # Nothing recorded later can change these: withdrawal and received date are final.
            sql += " AND withdrawn = 0"
            if self.day is not None:
                sql += " AND received <= ?"
                params.append(self.day)
        else:
            sql += " AND first_recorded <= ?"
            params.append(self.ts)
        return self.projection.db.execute(sql, params).fetchall()

    def _findings(self, pemda: str | None, *, states: bool) -> tuple[list[Finding], list[str]]:
        """Refolded or reused findings, and the ids whose projected rows can be used as-is."""
        found: list[Finding] = []
        reusable: list[str] = []
        touched: list[str] = []
        for fid, state, last_recorded, last_effective, received, withdrawn in self._finding_rows(
                pemda):
            if self._untouched(last_recorded, last_effective):
                # Untouched: the projected row is the state at the moment; is it in view?
                if withdrawn or (self.day is not None and received > self.day):
                    continue
                if states:
                    found.append(Finding.model_validate_json(state))
                else:
                    reusable.append(fid)
                continue
            touched.append(fid)
        for folded in self._refold(touched):
            if isinstance(folded, Finding) and self.moment.shows(folded):
                found.append(folded)
        return found, reusable

    def open_finding_ids(self) -> set[UUID]:
        refolded, reusable = self._findings(None, states=False)
        found = {f.id for f in refolded if not f.is_closed}
        db = self.projection.db
        self._fill_reuse(reusable)
        found.update(UUID(r[0]) for r in db.execute(
            "SELECT DISTINCT r.finding_id FROM projection_recommendation r "
            "JOIN reuse u ON u.id = r.finding_id WHERE r.status IN ('BD', 'BS')"))
        return found

    def _fill_reuse(self, reusable: list[str]) -> None:
        db = self.projection.db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS reuse (id TEXT PRIMARY KEY)")
        db.execute("DELETE FROM reuse")
        db.executemany("INSERT INTO reuse (id) VALUES (?)", [(i,) for i in reusable])

    def active_findings(self, pemda: str | None = None) -> list[Finding]:
        found, _ = self._findings(pemda, states=True)
        return sorted(found, key=ref_key)

    def rec_rows(self, pemda: str | None = None) -> list[RecRow]:
        refolded, reusable = self._findings(pemda, states=False)
        rows = [row for f in refolded for row in rec_rows_of(f)]
        db = self.projection.db
        self._fill_reuse(reusable)
        for p, s, v, d, due in db.execute(
            "SELECT r.pemda, r.status, r.value, r.deposited, r.due "
            "FROM projection_recommendation r JOIN reuse u ON u.id = r.finding_id"
        ):
            rows.append(RecRow(p, Status(s), v, d, date.fromisoformat(due)))
        return rows

    def _known_rows(self, columns: str, table: str, pemda: str | None) -> list[Any]:
        """The rows of a table (of one pemda, or all) whose aggregate the log held by the
        moment's --known-at (all of them without one)."""
        sql = f"SELECT {columns} FROM {table} WHERE 1 = 1"
        params: list[object] = []
        if pemda is not None:
            sql += " AND pemda = ?"
            params.append(pemda)
        if self.ts is not None:
            sql += " AND first_recorded <= ?"
            params.append(self.ts)
        rows: list[Any] = self.projection.db.execute(sql, params).fetchall()
        return rows

    def grade_series(self, pemda: str | None = None) -> list[GradeSeries]:
        found = []
        touched = []
        for gid, state, last_recorded in self._known_rows(
                "id, state, last_recorded", "projection_grades", pemda):
            if not self._untouched(last_recorded):
                touched.append(gid)
                continue
            series = GradeSeries.model_validate_json(state)
            if self.moment.as_of is not None:
                # Corrections are retroactive and keep the original's date: filtering the
                # current entries by date is what folding the events would give, but for the
                # series' version, which counts the events left out: a series that loses an
                # entry is refolded (grade series are few and short).
                kept = {y: e for y, e in series.years.items()
                        if e.effective_on <= self.moment.as_of}
                if len(kept) != len(series.years):
                    touched.append(gid)
                    continue
            if series.years:
                found.append(series)
        found += [s for s in self._refold(touched) if isinstance(s, GradeSeries) and s.years]
        return sorted(found, key=lambda g: (g.pemda, g.instrument))

    def commitments(self, pemda: str | None = None) -> list[Commitment]:
        """Untouched rows are the state at the moment (a commitment's own date counts among
        its effective dates, so one made after --as-of is never untouched); the others are
        refolded, and a commitment made after the moment folds to nothing."""
        found: list[Commitment] = []
        touched: list[str] = []
        for cid, state, last_recorded, last_effective in self._known_rows(
                "id, state, last_recorded, last_effective", "projection_commitment", pemda):
            if self._untouched(last_recorded, last_effective):
                found.append(Commitment.model_validate_json(state))
            else:
                touched.append(cid)
        found += [c for c in self._refold(touched) if isinstance(c, Commitment)]
        return sorted(found, key=commitment_key)
