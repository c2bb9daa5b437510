"""A save refused because transaction time would go backwards writes nothing, on both engines.

On PostgreSQL the check runs after the events are inserted, in their transaction (it needs the
log's head under the table lock); eventsourcing's insert keeps any exception raised there until
its transaction block has ended, and so committed the events without their chain entries
before the refusal was raised: 'nothing was written' was said over a log that no longer
verified. Two auditors whose machines' clocks differ meet it; AUDITLOG_NOW behind the log too.
"""

from auditlog.store.app import Store
from engines import on_engine_fixture  # noqa: F401 - these tests run on both engines
from store_state import assert_one_line_refusal

from conftest import Run


def held(target: str) -> int:
    store = Store.open_existing(target)
    try:
        return store.max_position()
    finally:
        store.close()


def test_a_save_behind_the_log_s_last_event_writes_nothing(ok: Run, run: Run, on_engine: str
                                                           ) -> None:
    ok("pemda", "register", "35.73", env={"AUDITLOG_NOW": "2024-01-15T09:00:00Z"})
    before = held(on_engine)
    refused = run("pemda", "register", "35.78", env={"AUDITLOG_NOW": "2024-01-10T09:00:00Z"})
    assert_one_line_refusal(refused, "transaction time never goes backwards")
    assert held(on_engine) == before
    assert ok("verify").stdout.startswith(f"verified {before} events")
    # and the log goes on from there
    ok("pemda", "register", "35.78", env={"AUDITLOG_NOW": "2024-01-16T09:00:00Z"})
    assert ok("verify").stdout.startswith(f"verified {before + 1} events")
