"""What the database itself refuses to auditlog's groups, whatever client a person uses."""

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import closing

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from auditlog.store.app import Store
from engines import admin_connect, fresh_database, url_for
from store_state import assert_one_line_refusal

from conftest import Run

PERSON = f"pegawai_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def store(ok: Run, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A demo store on the server with the groups set up, and PERSON an auditor."""
    monkeypatch.delenv("AUDITLOG_ACTOR", raising=False)
    for url in fresh_database():
        ok("--db", url, "demo")
        ok("--db", url, "roles", "setup")
        with closing(admin_connect(url)) as db:
            db.execute(f"CREATE ROLE {PERSON} LOGIN PASSWORD 'rahasia'")
        try:
            ok("--db", url, "roles", "grant", PERSON, "AUDITOR")
            yield url
        finally:
            with closing(admin_connect(url)) as db:
                db.execute(f"DROP OWNED BY {PERSON}")
                db.execute(f"DROP ROLE {PERSON}")


def as_person(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(url_for(url, str(conninfo_to_dict(url)["dbname"]), user=PERSON,
                                   password="rahasia"), autocommit=True)


@pytest.mark.parametrize("statement, refusal", [
    ("DELETE FROM stored_events", "permission denied"),
    ("TRUNCATE integrity_chain", "permission denied"),
    ("UPDATE stored_events SET topic = topic", "append-only"),
    ("DELETE FROM integrity_chain", "permission denied"),
    ("DELETE FROM evidence_chunk", "permission denied"),
    ("UPDATE evidence_blob SET size = 0", "permission denied"),
    ("ALTER TABLE stored_events DISABLE TRIGGER USER", "must be owner"),
    ("INSERT INTO stored_events (originator_id, originator_version, topic, state) "
     "SELECT gen_random_uuid(), 1, 'auditlog.pemda.registered', "
     "convert_to('{\"actor\": \"rahmat\"}', 'UTF8')", "only as itself"),
    ("INSERT INTO stored_events (originator_id, originator_version, topic, state) "
     "SELECT gen_random_uuid(), 1, 'auditlog.finding.withdrawn', "
     f"convert_to('{{\"actor\": \"{PERSON}\"}}', 'UTF8')", "needs auditlog_inspektur"),
])
def test_the_database_refuses_an_auditor_whatever_the_client(store: str, statement: str,
                                                              refusal: str) -> None:
    with closing(as_person(store)) as db, pytest.raises(psycopg.Error, match=refusal):
        db.execute(statement)


def test_an_auditor_records_through_auditlog_as_itself(store: str, ok: Run) -> None:
    url = url_for(store, str(conninfo_to_dict(store)["dbname"]), user=PERSON,
                  password="rahasia")
    ok("--db", url, "pemda", "register", "35.09")
    assert f'"actor": "{PERSON}"' in ok("--db", url, "history", "--pemda", "35.09",
                                        "--format", "json").stdout
    opened = Store.open_existing(store)
    try:
        held = opened.max_position()
    finally:
        opened.close()
    assert ok("--db", url, "verify").stdout.startswith(f"verified {held} events")


def _kept_then_made_reader(store: str, ok: Run) -> str:
    """PERSON keeps a file as an auditor, then is made a reader; their URL."""
    url = url_for(store, str(conninfo_to_dict(store)["dbname"]), user=PERSON,
                  password="rahasia")
    with open("sts.pdf", "wb") as slip:
        slip.write(b"%PDF bukti setor")
    ok("--db", url, "followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action",
       "Setoran", "--evidence", "sts.pdf", "--keep")
    with closing(admin_connect(store)) as db:
        db.execute(f"REVOKE auditlog_auditor FROM {PERSON}")
        db.execute(f"GRANT auditlog_reader TO {PERSON}")
    return url


def test_an_auditor_keeps_evidence_that_a_reader_gets_back(store: str, ok: Run) -> None:
    url = _kept_then_made_reader(store, ok)
    sha = hashlib.sha256(b"%PDF bukti setor").hexdigest()
    ok("--db", url, "evidence", "get", sha[:12], "--to", "back.pdf")
    with open("back.pdf", "rb") as back:
        assert back.read() == b"%PDF bukti setor"
    assert "evidence: 1 kept file matches" in ok("--db", url, "verify").stdout


def test_roles_are_refused_on_sqlite_and_for_unknown_groups(run: Run, store: str) -> None:
    assert_one_line_refusal(run("roles", "setup"), "a SQLite file has no logins")
    assert_one_line_refusal(run("--db", store, "roles", "grant", PERSON, "admin"),
                            "give reader, auditor or inspektur")
    assert_one_line_refusal(run("--db", store, "roles", "grant", "nobody_here", "reader"),
                            "no role nobody_here")


@pytest.mark.parametrize("lang, line", [
    ("en", "role {person} is an auditor: reopening needs auditlog_inspektur; nothing was "
           "written"),
    ("id", "role {person} adalah auditor: pembukaan kembali memerlukan auditlog_inspektur; "
           "tidak ada yang ditulis"),
])
def test_the_database_refusal_speaks_the_chosen_language(store: str, run: Run, lang: str,
                                                         line: str) -> None:
    """The gate trigger writes English; the reader reads the refusal in their language."""
    url = url_for(store, str(conninfo_to_dict(store)["dbname"]), user=PERSON,
                  password="rahasia")
    before = held(store)
    refused = run("--lang", lang, "--db", url, "followup", "reopen", "F-2023-0001.1",
                  "--reason", "Bukti setor ternyata palsu")
    assert_one_line_refusal(refused, line.format(person=PERSON))
    assert held(store) == before


def held(url: str) -> int:
    opened = Store.open_existing(url)
    try:
        return opened.max_position()
    finally:
        opened.close()


def test_roles_keep_working_after_the_projection_tables_change(store: str, ok: Run,
                                                               run: Run) -> None:
    """An upgrade that changes the projection tables: roles that may not drop them read by
    folding the log and record as before; the owner's rebuild gives the grants back."""
    reader = f"pembaca_{uuid.uuid4().hex[:8]}"
    with closing(admin_connect(store)) as db:
        db.execute(f"CREATE ROLE {reader} LOGIN PASSWORD 'rahasia'")
    try:
        ok("--db", store, "roles", "grant", reader, "reader")
        dbname = str(conninfo_to_dict(store)["dbname"])
        as_reader = url_for(store, dbname, user=reader, password="rahasia")
        as_auditor = url_for(store, dbname, user=PERSON, password="rahasia")
        expected = ok("--db", store, "status", "--format", "json").stdout
        with closing(admin_connect(store)) as db:  # as an earlier auditlog left them
            db.execute("UPDATE projection_schema SET version = 'earlier'")
        assert ok("--db", as_reader, "status", "--format", "json").stdout == expected
        ok("--db", as_auditor, "pemda", "register", "35.09")
        assert_one_line_refusal(run("--db", as_reader, "pemda", "list"),
                                "the owner runs 'auditlog rebuild'")
        with closing(admin_connect(store)) as db:  # nothing was dropped nor written
            assert db.execute("SELECT version FROM projection_schema").fetchall() == [
                ("earlier",)]
        ok("--db", store, "rebuild")
        ok("--db", as_auditor, "pemda", "register", "35.08")
        listed = ok("--db", as_reader, "pemda", "list").stdout
        assert "35.09" in listed and "35.08" in listed
    finally:
        with closing(admin_connect(store)) as db:
            db.execute(f"DROP OWNED BY {reader}")
            db.execute(f"DROP ROLE {reader}")


def test_evidence_tables_added_by_the_owner_s_upgrade_get_the_groups_grants(
        store: str, ok: Run) -> None:
    """A store set up with roles before kept evidence existed: the owner's next command adds
    the evidence tables, and with them the grants 'roles setup' gives (before, its readers
    and auditors met 'permission denied for table evidence_blob' as a traceback)."""
    with closing(admin_connect(store)) as db:  # the store as an earlier auditlog left it
        db.execute("DROP TABLE evidence_chunk, evidence_blob")
    ok("--db", store, "init")  # the owner opens it: the tables are added
    url = _kept_then_made_reader(store, ok)
    assert "evidence: 1 kept file matches" in ok("--db", url, "verify").stdout


def test_a_reader_without_the_evidence_grants_is_told_in_one_line(store: str, run: Run
                                                                  ) -> None:
    """verify and evidence get, by a role whose group lost its grants on the kept evidence:
    one line naming the role and the way out, not a database traceback."""
    with closing(admin_connect(store)) as db:
        db.execute("REVOKE ALL ON evidence_blob, evidence_chunk FROM auditlog_reader")
    url = url_for(store, str(conninfo_to_dict(store)["dbname"]), user=PERSON,
                  password="rahasia")
    for args in (("verify",), ("evidence", "get", "abcdef012345", "--to", "back.pdf")):
        assert_one_line_refusal(run("--db", url, *args), PERSON, "kept evidence",
                                "roles setup")
