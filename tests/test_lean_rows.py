"""The rebuild's lean fold (projections/lean_rows.py) writes what the domain's fold writes.

On random logs (corrections of every kind, withdrawals, reopenings, extensions, follow-ups)
and random texts (any Unicode, control characters), each finding's state bytes must be the
domain aggregate's ``model_dump_json``, and its other rows what the incremental catch-up
writes for it.
"""

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlog import commands
from auditlog.domain.aggregate import Context, project
from auditlog.domain.events import FollowUpRecorded, RecommendationSpec
from auditlog.domain.finding import Finding
from auditlog.errors import DamagedStore
from auditlog.projections import lean_rows
from auditlog.projections.lean_rows import LogFold, finding_rows
from auditlog.projections.persisted import Meta, _rec_rows
from auditlog.store.app import Store
from test_projection_property import KINDS, History

TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).filter(
    lambda t: t.strip() != "")


def domain_findings(store: Store) -> dict[UUID, tuple[Finding, Meta, list[str]]]:
    """Each finding folded by the domain from its own events, with its Meta as the
    incremental catch-up keeps it and its follow-ups' actions."""
    found: dict[UUID, tuple[Finding, Meta, list[str]]] = {}
    events = [e for batch in store.stream() for _, e in batch]
    ids = {e.originator_id for e in events if type(e).__name__ == "FindingRecorded"}
    for fid, its in store.events_of_many(sorted(ids)).items():
        finding = project(None, its)
        assert isinstance(finding, Finding)
        meta = Meta()
        for event in its:
            meta = meta.after(event)
        found[fid] = (finding, meta,
                      [e.action for e in its if isinstance(e, FollowUpRecorded)])
    return found


def assert_lean_rows_are_the_domain_rows(store: Store) -> int:
    log = LogFold().fold(store.checked_rows(batch=4))
    expected = domain_findings(store)
    assert {UUID(oid.decode()) for oid in log.findings} == set(expected)
    for held in log.findings.values():
        rows = finding_rows(held)
        finding, meta, actions = expected[UUID(rows.id)]
        assert rows.state == finding.model_dump_json()
        assert Finding.model_validate_json(rows.state) == finding
        assert (rows.ref, rows.pemda, rows.withdrawn, rows.received) == (
            finding.ref, finding.pemda, finding.withdrawn, finding.received.isoformat())
        assert Meta(rows.first, rows.last, rows.effective) == meta
        assert rows.recs == _rec_rows(finding, rows.id)
        if finding.withdrawn:
            assert rows.search is None
        else:
            body = "\n".join(t for t in (finding.condition, finding.criteria, finding.cause,
                                         finding.effect) if t)
            assert rows.search == (finding.title, body,
                                   "\n".join(r.text for r in finding.recommendations),
                                   "\n".join(actions))
    return len(log.findings)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kinds=st.lists(st.sampled_from(KINDS), min_size=20, max_size=70),
       texts=st.lists(st.tuples(TEXT, TEXT, TEXT | st.none(), TEXT), min_size=1, max_size=3))
def test_lean_rows_equal_the_domain_aggregates_rows(
        data: st.DataObject, kinds: list[str], texts: list[tuple[str, str, str | None, str]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(str(Path(folder) / "lean.db"))
        try:
            history = History(store, data)
            history.step("pemda")
            for i, (text, condition, cause, action) in enumerate(texts):  # any text, as typed
                title = f"{text} {i}"
                finding = commands.record_finding(store, history.ctx(), commands.NewFinding(
                    pemda=history.pemdas[0], title=title, condition=condition, cause=cause,
                    received=date(2023, 3, 1), recommendations=[
                        RecommendationSpec(n=1, text=condition, value=10**12)]))
                history.refs.append(finding.ref)
                history.keys[finding.ref] = (history.pemdas[0], title, None, date(2023, 3, 1))
                commands.record_followup(store, history.ctx(), f"{finding.ref}.1",
                                         date(2023, 3, 2), action, 5, None, ())
            for kind in kinds:
                history.step(kind)
            assert assert_lean_rows_are_the_domain_rows(store) >= len(texts)
        finally:
            store.close()


def small_store(path: Path) -> Store:
    store = Store(str(path))
    ctx = Context("siti", datetime(2024, 1, 2, tzinfo=UTC))
    commands.register_pemda(store, ctx, "35.73", None, None, date(2023, 1, 2))
    commands.record_finding(store, ctx, commands.NewFinding(
        pemda="35.73", title="Kas", received=date(2023, 3, 1),
        recommendations=[RecommendationSpec(n=1, text="Setor", value=5_000_000)]))
    commands.record_followup(store, ctx, "F-2023-0001.1", date(2023, 4, 1),
                             "setor sebagian", 2_000_000, None, [])
    return store


def test_the_comparison_sees_a_lean_fold_that_differs(tmp_path: Path) -> None:
    """The property can fail: a lean fold that forgets to count follow-ups differs."""
    from unittest import mock

    store = small_store(tmp_path / "lean.db")
    try:
        assert_lean_rows_are_the_domain_rows(store)

        def deposit_only(f: lean_rows.FindingState, s: dict[str, object]) -> None:
            rec = f.rec(s["recommendation"])  # type: ignore[arg-type]
            rec.deposited += s["deposit"]  # type: ignore[operator]

        handlers = {**lean_rows.HANDLERS, FollowUpRecorded.topic: deposit_only}
        with mock.patch.object(lean_rows, "HANDLERS", handlers), \
                pytest.raises(AssertionError):
            assert_lean_rows_are_the_domain_rows(store)
    finally:
        store.close()


def test_an_event_that_cannot_be_decoded_stops_the_fold(tmp_path: Path) -> None:
    """A checked row the lean fold cannot read is damage, stated with its position."""
    from unittest import mock

    store = small_store(tmp_path / "damaged.db")
    try:
        def broken(f: lean_rows.FindingState, s: dict[str, object]) -> None:
            raise KeyError("deposit")

        handlers = {**lean_rows.HANDLERS, FollowUpRecorded.topic: broken}
        last = store.max_position()  # the follow-up
        with mock.patch.object(lean_rows, "HANDLERS", handlers), \
                pytest.raises(DamagedStore, match=f"position {last}:"):
            LogFold().fold(store.checked_rows())
    finally:
        store.close()


def test_an_upcaster_that_changes_the_state_is_run() -> None:
    """The folds skip upcasting only where every upcaster does nothing (documents an added
    optional field); one that changes the state is run, and domain events always upcast."""
    from typing import Any

    from auditlog.domain.events import Event, FindingWithdrawn, FollowUpRecorded
    from auditlog.projections.lean import DOMAIN, FINDING, _upcasts

    class Renamed(Event):
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reason"] = state.pop("why")

        reason: str

    assert _upcasts(Renamed, FINDING)
    assert not _upcasts(FollowUpRecorded, FINDING)  # v2 only added the optional `source`
    assert _upcasts(FollowUpRecorded, DOMAIN)
    assert not _upcasts(FindingWithdrawn, DOMAIN)  # version 1: nothing to upcast


def test_ids_read_as_the_domain_writes_them() -> None:
    """A finding's id column is str(UUID) of its stored id, however it was stored."""
    from uuid import uuid4

    from auditlog.projections.lean_rows import _canonical

    for _ in range(200):
        its = uuid4()
        for stored in (its.hex, str(its), str(its).upper(), its.hex.upper()):
            assert _canonical(stored) == str(its)
    with pytest.raises(ValueError):
        _canonical("not an id")


@pytest.mark.parametrize(("stamp", "than", "later"), [
    ("2024-01-01T00:00:01Z", "2024-01-01T00:00:00Z", True),
    ("2024-01-01T00:00:00.500000Z", "2024-01-01T00:00:00Z", True),  # '.' sorts before 'Z'
    ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.500000Z", False),
    ("2024-01-01T06:00:00+07:00", "2023-12-31T23:30:00Z", False),  # 23:00 UTC
    ("2024-01-01T08:00:00+07:00", "2024-01-01T00:30:00Z", True),  # 01:00 UTC
])
def test_transaction_times_compare_as_times(stamp: str, than: str, later: bool) -> None:
    from auditlog.projections.lean_rows import _later

    assert _later(stamp, than) is later
    assert (datetime.fromisoformat(stamp) > datetime.fromisoformat(than)) is later


def test_the_layout_check_sees_a_field_left_out() -> None:
    """The lean state's layout is checked against the models when the module loads: a
    state missing a field (or in another order) is refused."""
    from dataclasses import replace
    from unittest import mock

    real = lean_rows.finding_rows

    def without_opd(held: lean_rows.FindingState) -> lean_rows.FindingRows:
        rows = real(held)
        state = orjson.loads(rows.state)
        del state["opd"]
        return replace(rows, state=orjson.dumps(state).decode())

    lean_rows._check_layout()
    with mock.patch.object(lean_rows, "finding_rows", without_opd), \
            pytest.raises(RuntimeError, match="no longer writes"):
        lean_rows._check_layout()


def test_a_rebuild_leaves_every_index_in_place(tmp_path: Path) -> None:
    """A rebuild on SQLite drops the secondary indexes while it writes: they are back after,
    as the schema makes them, and the search table answers."""
    from auditlog.projections.persisted import INDEX_NAMES, Projection

    store = small_store(tmp_path / "indexes.db")
    projection = Projection(store)
    try:
        projection.catch_up()
        before = projection.dump()
        schema = projection.db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "ORDER BY name").fetchall()
        assert {name for name, _ in schema} >= set(INDEX_NAMES)
        assert projection.rebuild() == store.max_position()
        assert projection.dump() == before
        assert projection.db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "ORDER BY name").fetchall() == schema
        assert [hit.title for hit in projection.search("kas")] == ["**Kas**"]
    finally:
        projection.close()
        store.close()


def test_a_domain_event_stored_with_its_class_version_is_upcast(tmp_path: Path) -> None:
    """A pemda the importer registers is stored with its class_version (the commands' mapper
    leaves it out): the rebuild's fold upcasts it as every decode does, and folds the same
    pemda (it stopped the rebuild as "fields unknown to PemdaRegistered: class_version")."""
    from auditlog.domain.events import PemdaRegistered

    store = small_store(tmp_path / "versioned.db")
    try:
        rows = [row for batch in store.checked_rows() for row in batch]
    finally:
        store.close()
    marked = []
    for position, oid, version, topic, raw in rows:
        if topic.decode() == PemdaRegistered.topic:
            state = orjson.loads(raw)
            state["class_version"] = PemdaRegistered.class_version
            raw = orjson.dumps(state)
        marked.append((position, oid, version, topic, raw))
    assert marked != rows
    plain = LogFold().fold([rows]).others
    versioned = LogFold().fold([marked]).others
    assert [entry[0] for entry in versioned.values()] == [entry[0] for entry in plain.values()]
