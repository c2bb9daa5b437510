"""The command line on a PostgreSQL store: the URL, the password, the actor, and every way of
not reaching the right database, each one line naming host and database, exit 1."""

import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict

from auditlog.store.app import Store
from engines import admin_connect, fresh_database, url_for
from store_state import assert_one_line_refusal

from conftest import Run


@pytest.fixture
def pg(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """AUDITLOG_DB is a fresh database; the actor is left to the database."""
    for url in fresh_database():
        monkeypatch.setenv("AUDITLOG_DB", url)
        monkeypatch.delenv("AUDITLOG_ACTOR", raising=False)
        yield url


def parts(url: str) -> dict[str, str]:
    return {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}


def test_a_store_on_postgresql_is_created_recorded_and_verified(pg: str, ok: Run) -> None:
    p = parts(pg)
    created = ok("init").stdout
    assert created == (f"created an empty store at postgresql://{p['user']}@{p['host']}:"
                       f"{p['port']}/{p['dbname']}\n")
    assert ok("init").stdout.startswith("store already exists at postgresql://")
    ok("demo")
    shown = ok("history", "--format", "json").stdout
    assert f'"actor": "{p["user"]}"' in shown  # the database role, not the login name
    store = Store.open_existing(pg)
    try:
        held = store.max_position()
    finally:
        store.close()
    assert held > 0 and ok("verify").stdout.startswith(f"verified {held} events")
    assert "35.73" in ok("status").stdout


def test_the_password_is_never_printed(pg: str, ok: Run, run: Run) -> None:
    password = parts(pg)["password"]
    outputs = [ok(*args) for args in (("init",), ("demo",), ("history",), ("checkpoint",),
                                      ("verify",), ("status", "--format", "json"))]
    outputs.append(run("--actor", "someone", "pemda", "register", "35.10"))
    outputs.append(run("finding", "show", "F-2099-0001"))
    for result in outputs:
        assert password not in result.stdout + result.stderr, result


def test_the_password_may_come_from_pgpassword_or_pgpass(pg: str, ok: Run, run: Run,
                                                         tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    p = parts(pg)
    bare = url_for(pg, p["dbname"], password=None)
    assert "password" not in parts(bare)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.delenv("PGPASSFILE", raising=False)
    assert_one_line_refusal(run("--db", bare, "init"), "wrong or missing password")
    ok("--db", bare, "init", env={"PGPASSWORD": p["password"]})
    pgpass = tmp_path / ".pgpass"
    pgpass.write_text(f"{p['host']}:{p['port']}:*:{p['user']}:{p['password']}\n")
    pgpass.chmod(0o600)
    assert "(none)" in ok("--db", bare, "status").stdout


@pytest.mark.parametrize("case", ["password", "unreachable", "no database", "foreign"])
def test_a_wrong_database_is_one_line_naming_host_and_database(
        pg: str, run: Run, case: str) -> None:
    p = parts(pg)
    if case == "password":
        url = url_for(pg, p["dbname"], password="not-the-password")
        expected = "wrong or missing password"
    elif case == "unreachable":
        url = f"postgresql://{p['user']}:{p['password']}@127.0.0.1:1/{p['dbname']}"
        expected = "cannot reach PostgreSQL"
    elif case == "no database":
        url = url_for(pg, "auditlog_nowhere")
        expected = "does not exist"
    else:
        url = pg
        with closing(admin_connect(pg)) as db:
            db.execute("CREATE TABLE payroll (id int)")
        expected = "holds something else"
    for args in (("init",), ("status",), ("pemda", "register", "35.73")):
        result = run("--db", url, *args)
        where = "127.0.0.1:1" if case == "unreachable" else f"{p['host']}:{p['port']}"
        dbname = "auditlog_nowhere" if case == "no database" else p["dbname"]
        line = assert_one_line_refusal(result, expected, where, dbname)
        assert "not-the-password" not in line and p["password"] not in line
    if case == "foreign":
        with closing(admin_connect(pg)) as db:
            tables = {r[0] for r in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert tables == {"payroll"}  # nothing of auditlog was added to it


def test_an_actor_other_than_the_database_role_is_refused(pg: str, ok: Run, run: Run) -> None:
    ok("init")
    refused = run("--actor", "budi", "pemda", "register", "35.73")
    assert_one_line_refusal(refused, "--actor budi is not who is logged in",
                            parts(pg)["user"])
    store = Store.open_existing(pg)
    try:
        assert store.max_position() == 0
    finally:
        store.close()
    ok("--actor", parts(pg)["user"], "pemda", "register", "35.73")  # naming oneself is fine


def test_postgres_scheme_is_accepted_too(pg: str, ok: Run) -> None:
    ok("--db", "postgres://" + pg.split("://", 1)[1], "init")
    assert "(none)" in ok("status").stdout


def test_a_lock_held_past_the_timeout_is_exit_4_with_nothing_written(pg: str, ok: Run,
                                                                     run: Run) -> None:
    ok("pemda", "register", "35.73")
    with closing(admin_connect(pg)) as other, other.transaction():
        other.execute("LOCK TABLE stored_events IN EXCLUSIVE MODE")  # another writer, stuck
        started = time.monotonic()
        busy = run("pemda", "register", "35.78", env={"AUDITLOG_LOCK_TIMEOUT": "1"})
        waited = time.monotonic() - started
    assert busy.exit_code == 4, busy
    assert "nothing was written" in busy.stderr and "Traceback" not in busy.stderr
    assert waited < 10  # the timeout, not ten retries of it
    assert "35.78" not in ok("pemda", "list").stdout


def test_an_edited_event_stops_a_per_aggregate_read_with_exit_3(pg: str, ok: Run,
                                                                 run: Run) -> None:
    """As on SQLite (tests/test_trust.py): a row changed by a superuser with the triggers
    skipped is checked against its chain entry when one finding is read, never served."""
    ok("demo")
    with closing(admin_connect(pg)) as db, db.transaction():
        db.execute("SET LOCAL session_replication_role = replica")
        edited = db.execute(
            "UPDATE stored_events SET state = convert_to(replace(convert_from(state, 'UTF8'), "
            "'7500000', '9500000'), 'UTF8') WHERE convert_from(state, 'UTF8') LIKE "
            "'%7500000%' RETURNING notification_id").fetchall()
    assert edited
    with closing(admin_connect(pg)) as db:
        count = "SELECT count(*) FROM stored_events"
        before = db.execute(count).fetchone()
    for args in (("finding", "show", "F-2023-0003"),
                 ("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action",
                  "Setor")):
        result = run(*args)
        assert result.exit_code == 3, (args, result)
        assert "position" in result.stderr and "auditlog verify" in result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert "9500000" not in result.stdout and "9.500.000" not in result.stdout
    with closing(admin_connect(pg)) as db:
        assert db.execute(count).fetchone() == before  # nothing written


def test_a_dropped_evidence_trigger_is_a_missing_guard_that_init_puts_back(pg: str, ok: Run,
                                                                           run: Run) -> None:
    """As for the log's own tables: verify reports it, recording stops, init restores it."""
    ok("demo")
    Path("sts.pdf").write_bytes(b"%PDF bukti setor")
    ok("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "Setoran",
       "--evidence", "sts.pdf", "--keep")
    with closing(admin_connect(pg)) as db:
        db.execute("DROP TRIGGER evidence_chunk_no_delete ON evidence_chunk")
        count = "SELECT count(*) FROM stored_events"
        before = db.execute(count).fetchone()
    checked = run("verify")
    assert checked.exit_code == 3, checked
    assert "evidence_chunk_no_delete" in checked.stdout + checked.stderr
    refused = run("pemda", "register", "35.09")
    assert refused.exit_code == 3 and "evidence_chunk_no_delete" in refused.stderr, refused
    with closing(admin_connect(pg)) as db:
        assert db.execute(count).fetchone() == before  # nothing written
    put_back = ok("init").stdout
    assert "put back the append-only triggers evidence_chunk_no_delete:" in put_back
    assert ok("verify").stdout.startswith("verified ")
    with closing(admin_connect(pg)) as db, pytest.raises(Exception, match="append-only"):
        db.execute("DELETE FROM evidence_chunk")


def logins(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Where each connection to the server is opened from now on (auditlog's own and
    eventsourcing's pool's): each costs a login (SCRAM) and a server process."""
    import traceback

    import psycopg

    opened: list[str] = []
    real = psycopg.Connection.connect.__func__  # type: ignore[attr-defined]

    def counting(cls: type[psycopg.Connection[Any]], *args: Any, **kwargs: Any
                 ) -> psycopg.Connection[Any]:
        opened.append("".join(traceback.format_stack(limit=12)[:-1]))
        return real(cls, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(psycopg.Connection, "connect", classmethod(counting))
    monkeypatch.setattr(psycopg, "connect", psycopg.Connection.connect)
    return opened


def test_the_witness_after_a_save_uses_the_store_s_connection(pg: str, ok: Run) -> None:
    """The checkpoint witnessed after every save is read on the connection the save used
    (eventsourcing's pool), not on one logged in for it (one more login per write)."""
    ok("demo")
    with pytest.MonkeyPatch.context() as patch:
        opened = logins(patch)
        ok("finding", "record", "--pemda", "35.73", "--title", "Uji", "--received",
           "10/1/2024", "-r", "Uji")
    assert opened, "the patch saw no login at all"
    witnessing = [where for where in opened if "in witness" in where]
    assert witnessing == [], "\n".join(witnessing)
    checked = ok("verify").stdout  # and the new checkpoint was witnessed all the same
    assert "witness" in checked and "added after" not in checked, checked
