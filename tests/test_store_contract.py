"""The store contract, on every engine: one abstract case, one subclass per engine (as
eventsourcing's own test-suite does). Each engine supplies a new store's --db and raw access
to its database, with the append-only triggers on or off (off: the attacker is a superuser or
holds the file)."""

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from auditlog import commands
from auditlog.domain.aggregate import Aggregate, Context, create_new
from auditlog.domain.events import RecommendationSpec, Status
from auditlog.domain.pemda import Pemda, pemda_id
from auditlog.errors import DamagedStore, Refusal
from auditlog.projections.model import Moment
from auditlog.projections.persisted import Projection
from auditlog.projections.summary import status_report
from auditlog.reports.views import fold, read_model
from auditlog.store.app import Store
from auditlog.store.chain import Kind
from auditlog.store.integrity import current_checkpoint, verify_store
from engines import admin_connect, fresh_database

T0 = datetime(2023, 1, 2, 9, 0, tzinfo=UTC)


def ctx(hours: int = 0, actor: str = "siti") -> Context:
    return Context(actor=actor, at=T0 + timedelta(hours=hours))


def finding(store: Store, title: str, hours: int = 1, pemda: str = "35.73",
            received: date = date(2023, 3, 1)) -> str:
    return commands.record_finding(store, ctx(hours), commands.NewFinding(
        pemda=pemda, title=title, received=received,
        recommendations=[RecommendationSpec(n=1, text="Setor", value=5_000_000),
                         RecommendationSpec(n=2, text="Catat aset")])).ref


def story(store: Store) -> None:
    """A small history: two pemda, two findings, follow-ups, reviews, a late correction."""
    commands.register_pemda(store, ctx(), "35.73", None, None, T0.date())
    commands.register_pemda(store, ctx(), "35.78", None, None, T0.date())
    finding(store, "Kas tekor", 1)
    finding(store, "Aset tidak tercatat", 2, pemda="35.78", received=date(2023, 4, 1))
    commands.record_followup(store, ctx(3), "F-2023-0001.1", date(2023, 5, 1), "Setor",
                             5_000_000, "STS-1", ())
    commands.review(store, ctx(4), "F-2023-0001.1", Status.S, "lunas", date(2023, 5, 2))
    commands.review(store, ctx(5), "F-2023-0002.2", Status.BS, "sebagian", date(2023, 5, 3))
    commands.correct(store, ctx(24 * 400), "F-2023-0001", "received", "2023-02-01",
                     "salah ketik", date(2024, 2, 5))


class StoreContract:
    """What every engine must keep. Subclasses supply ``target`` and ``raw``."""

    @pytest.fixture
    def target(self) -> Iterator[str]:
        raise NotImplementedError

    def raw(self, target: str, statement: str, *, triggers: bool = True) -> None:
        """Run one statement on the database as its owner, triggers on or off."""
        raise NotImplementedError

    @pytest.fixture
    def store(self, target: str) -> Iterator[Store]:
        opened = Store(target)
        yield opened
        opened.close()

    def test_recorded_events_are_read_back_after_reopening(self, target: str) -> None:
        first = Store(target)
        story(first)
        position = first.max_position()
        first.close()
        again = Store.open_existing(target)
        try:
            assert again.max_position() == position == 10
            found, _ = again.finding("F-2023-0001")
            assert found.received == date(2023, 2, 1)
            assert found.recommendation(1).status is Status.S
            assert [e.actor for e in again.events_of(found.id)] == ["siti"] * 4
            assert verify_store(again).ok
        finally:
            again.close()

    def test_refusals_write_nothing(self, store: Store) -> None:
        story(store)
        before = store.max_position()
        with pytest.raises(Refusal, match="not registered"):
            finding(store, "Untuk pemda yang tak terdaftar", pemda="35.10")
        with pytest.raises(Refusal):
            finding(store, "Kas tekor")  # the same finding again
        with pytest.raises(Refusal):  # S goes back only through a reopen
            commands.review(store, ctx(9), "F-2023-0001.1", Status.BD, "salah", date(2023, 6, 1))
        assert store.max_position() == before
        assert verify_store(store).size == before

    def test_concurrent_recorders_lose_nothing(self, target: str) -> None:
        setup = Store(target)
        commands.register_pemda(setup, ctx(), "35.73", None, None, T0.date())
        setup.close()
        workers, each = 4, 6
        errors: list[BaseException] = []
        gun = threading.Barrier(workers)

        def record(worker: int) -> None:
            mine = Store(target)
            try:
                gun.wait()
                for i in range(each):
                    finding(mine, f"Temuan {worker}-{i}")
            except BaseException as error:  # reported below, with the others
                errors.append(error)
            finally:
                mine.close()

        threads = [threading.Thread(target=record, args=(w,)) for w in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        store = Store(target)
        try:
            refs = sorted(f.ref for f in read_model(store, Moment()).active_findings())
            assert refs == [f"F-2023-{n:04d}" for n in range(1, workers * each + 1)]
            report = verify_store(store)
            assert report.ok and report.size == 1 + 2 * workers * each  # counter + finding
        finally:
            store.close()

    def test_time_travel_as_of_and_known_at(self, store: Store) -> None:
        story(store)
        today = date(2024, 3, 1)

        def overdue(moment: Moment) -> dict[str, int]:
            on = moment.as_of or today
            a = {r["pemda"]: r["overdue"] for r in status_report(read_model(store, moment), on)}
            b = {r["pemda"]: r["overdue"] for r in status_report(fold(store, moment), on)}
            assert a == b  # the projection asked about the past equals the fold of the log
            return a

        # Received 2023-02-01 under the correction: due 2023-04-02, so both recommendations
        # were overdue on 2023-04-15.
        assert overdue(Moment(as_of=date(2023, 4, 15)))["35.73"] == 2
        # What the log held in 2023: received 2023-03-01, due 2023-04-30.
        believed = Moment(as_of=date(2023, 4, 15), known_at=datetime(2023, 12, 31, tzinfo=UTC))
        assert overdue(believed)["35.73"] == 0
        # Before anything about 35.78 was reviewed, its finding's both recommendations were BD.
        early = Moment(known_at=T0 + timedelta(hours=2, minutes=30))
        assert [r["recommendations"]["BD"] for r in status_report(read_model(store, early), today)
                if r["pemda"] == "35.78"] == [2]

    def test_projection_caught_up_incrementally_equals_a_rebuild(self, store: Store,
                                                                 monkeypatch: Any) -> None:
        from auditlog.projections import persisted

        monkeypatch.setattr(persisted, "BATCH", 2)  # several batches, each with its position
        projection = Projection(store)
        try:
            commands.register_pemda(store, ctx(), "35.73", None, None, T0.date())
            projection.catch_up()
            story_rest: list[Callable[[], object]] = [lambda: finding(store, "Kas tekor", 1),
                          lambda: commands.record_followup(
                              store, ctx(3), "F-2023-0001.1", date(2023, 5, 1), "Setor",
                              2_000_000, None, ()),
                          lambda: commands.review(store, ctx(4), "F-2023-0001.1", Status.BS,
                                                  "sebagian", date(2023, 5, 2)),
                          lambda: finding(store, "Aset", 5),
                          lambda: commands.withdraw(store, ctx(6), "F-2023-0002", "ganda",
                                                    date(2023, 5, 3))]
            for step in story_rest:
                step()
                projection.catch_up()
            assert projection.position() == store.max_position()
            incremental = projection.dump()
            assert len(incremental["projection_finding"]) == 2
            assert projection.rebuild() == store.max_position()
            assert projection.dump() == incremental
        finally:
            projection.close()

    def test_events_and_chain_refuse_update_and_delete(self, target: str) -> None:
        store = Store(target)
        story(store)
        store.close()
        for statement in ("UPDATE stored_events SET topic = topic",
                          "DELETE FROM stored_events",
                          "UPDATE integrity_chain SET hash = hash",
                          "DELETE FROM integrity_chain",
                          "DELETE FROM integrity_meta"):
            with pytest.raises(Exception, match="append-only"):
                self.raw(target, statement)
        store = Store(target)
        try:
            assert verify_store(store).ok and store.max_position() == 10
        finally:
            store.close()

    def test_an_edit_with_the_triggers_off_is_caught(self, target: str) -> None:
        store = Store(target)
        story(store)
        saved = current_checkpoint(store)
        store.close()
        self.raw(target, self.edit_state_of(4), triggers=False)
        self.raw(target, "DELETE FROM stored_events WHERE "
                 f"{self.position_column} = 6", triggers=False)
        store = Store(target)
        try:
            report = verify_store(store, [("saved", saved)])
            kinds = {(p.kind, p.position) for p in report.problems}
            assert (Kind.edited, 4) in kinds
            assert (Kind.missing, 6) in kinds
            assert not report.ok
        finally:
            store.close()

    def test_a_per_aggregate_read_checks_each_row_against_the_chain(self, target: str
                                                                    ) -> None:
        store = Store(target)
        story(store)
        store.close()
        self.raw(target, self.edit_state_of(4), triggers=False)  # F-2023-0001's first event
        store = Store(target)
        try:
            with pytest.raises(DamagedStore, match="position 4: its bytes are not"):
                store.finding("F-2023-0001")
            # (On SQLite the edit dropped the triggers, which stops a write first.)
            with pytest.raises(DamagedStore, match=r"position 4|append-only trigger"):
                commands.record_followup(store, ctx(30), "F-2023-0001.2", date(2023, 6, 1),
                                         "Dicatat", 0, None, ())
            assert store.max_position() == 10  # nothing written
            other, _ = store.finding("F-2023-0002")  # an untouched aggregate still reads
            assert other.title == "Aset tidak tercatat"
        finally:
            store.close()

    def test_a_write_in_chunks_commits_as_one_or_not_at_all(self, store: Store) -> None:
        def pemda(code: str) -> Aggregate:
            return create_new(Pemda, ctx(), pemda_id(code), T0.date(), code=code,
                              name=f"Pemda {code}", level="kabupaten")

        def refused() -> Iterator[list[Aggregate]]:
            yield [pemda("11.03")]
            raise Refusal("row 2 is wrong")

        with pytest.raises(Refusal, match="row 2"):
            store.save_in_chunks(refused)
        assert store.max_position() == 0
        store.save_in_chunks(lambda: iter([[pemda("11.01")], [pemda("11.02")]]))
        report = verify_store(store)
        # Two events, chained 1 and 2 (a server's positions may skip the rolled-back one).
        assert report.ok and report.size == 2

    position_column = "rowid"

    def edit_state_of(self, position: int) -> str:
        raise NotImplementedError


class TestSQLite(StoreContract):
    @pytest.fixture
    def target(self, tmp_path: Path) -> Iterator[str]:
        yield str(tmp_path / "contract.db")

    def raw(self, target: str, statement: str, *, triggers: bool = True) -> None:
        with closing(sqlite3.connect(target, isolation_level=None)) as db:
            if not triggers:  # the file's holder can drop them; auditlog puts them back
                names = [r[0] for r in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'")]
                for name in names:
                    db.execute(f"DROP TRIGGER {name}")
            db.execute(statement)

    def edit_state_of(self, position: int) -> str:
        return (f"UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), 'Setor', "
                f"'Sétor') AS BLOB) WHERE rowid = {position}")


class TestPostgreSQL(StoreContract):
    position_column = "notification_id"

    @pytest.fixture
    def target(self) -> Iterator[str]:
        yield from fresh_database()

    def raw(self, target: str, statement: str, *, triggers: bool = True) -> None:
        with closing(admin_connect(target)) as db, db.transaction():
            if not triggers:  # a superuser session may skip user triggers altogether
                db.execute("SET LOCAL session_replication_role = replica")
            db.execute(statement)

    def edit_state_of(self, position: int) -> str:
        return ("UPDATE stored_events SET state = convert_to(replace(convert_from(state, "
                f"'UTF8'), 'Setor', 'Sétor'), 'UTF8') WHERE notification_id = {position}")

    def test_truncate_is_refused(self, target: str) -> None:
        Store(target).close()
        for table in ("stored_events", "integrity_chain", "integrity_meta"):
            with pytest.raises(Exception, match="append-only"):
                self.raw(target, f"TRUNCATE {table}")

    def test_a_store_made_without_the_position_index_gets_it_from_its_owner(
            self, target: str) -> None:
        Store(target).close()
        self.raw(target, "DROP INDEX integrity_chain_position")
        store = Store(target)  # the owner opens it (as 'auditlog init' would)
        store.close()
        with closing(admin_connect(target)) as db:
            assert db.execute("SELECT 1 FROM pg_indexes WHERE indexname = "
                              "'integrity_chain_position'").fetchone() is not None

    def test_the_same_commands_give_the_same_root_on_both_engines(
            self, target: str, tmp_path: Path) -> None:
        roots = []
        for where in (target, str(tmp_path / "twin.db")):
            store = Store(where)
            story(store)
            roots.append(current_checkpoint(store).root)
            store.close()
        assert roots[0] == roots[1]


def test_without_a_server_ci_fails_and_says_how_to_get_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from engines import admin_url

    monkeypatch.delenv("AUDITLOG_TEST_PG", raising=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"\.ci/pg.*apt-get"):
        admin_url()
    monkeypatch.setenv("CI", "false")  # a developer's run says why it skips
    with pytest.raises(pytest.skip.Exception, match=r"\.ci/pg"):
        admin_url()
