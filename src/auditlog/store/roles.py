"""Who may do what on a PostgreSQL store: three group roles whose rights the database enforces.

- auditlog_reader: reads everything, records checkpoints (``auditlog checkpoint``);
- auditlog_auditor (a reader too): records findings, follow-ups, reviews, extensions, grades;
- auditlog_inspektur (an auditor too): also reopens, corrects and withdraws.

Grants give each group SELECT, INSERT on the log and UPDATE on the events table (eventsourcing
takes ``LOCK TABLE ... IN EXCLUSIVE MODE`` on every insert, which PostgreSQL refuses to a role
with only SELECT and INSERT; the append-only trigger refuses any actual UPDATE). Kept evidence
is read by every group and inserted by auditors (a follow-up's files). DELETE and
TRUNCATE on the log are granted to no one. Which events a role may insert is decided by a
trigger, owned by the store's owner, that reads the event's topic, and that also refuses an
event whose actor is not the role logged in. The derived read-model tables may be brought up
to the log by every group (their rows are checked by ``verify --projections`` and restored by
``rebuild``; they are not the log).
"""

import re
from typing import Any

import psycopg
from psycopg import sql

from auditlog.errors import Refusal
from auditlog.i18n import N_, _
from auditlog.store.postgres import (
    EVIDENCE_TABLES,
    READER,
    PostgresEngine,
    _first_line,
    grant_projections,
)
from auditlog.store.sqlite_integrity import CHAIN, EVENTS, META

GROUPS = {"reader": READER, "auditor": "auditlog_auditor",
          "inspektur": "auditlog_inspektur"}
DELIBERATE = ("auditlog.recommendation.reopened", "auditlog.finding.corrected",
              "auditlog.finding.withdrawn", "auditlog.grade.corrected")
CHECKPOINT = "auditlog.checkpoint.recorded"
PROJECTION_PREFIX = "projection_"  # every derived read-model table, present or future
GATE = "auditlog_may_record"

_GATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {GATE}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    needed text;
    act text;
    actor text;
    tier text;
BEGIN
    -- The store's owner (and a superuser) writes anything: init, copy, migrations.
    IF pg_has_role(session_user, (SELECT tableowner FROM pg_tables
                                  WHERE schemaname = TG_TABLE_SCHEMA
                                  AND tablename = TG_TABLE_NAME), 'MEMBER') THEN
        RETURN NEW;
    END IF;
    IF NEW.topic = '{CHECKPOINT}' THEN
        needed := 'auditlog_reader'; act := 'a checkpoint';
    ELSIF NEW.topic IN ({", ".join(f"'{t}'" for t in DELIBERATE)}) THEN
        needed := 'auditlog_inspektur';
        act := CASE split_part(NEW.topic, '.', 3) WHEN 'reopened' THEN 'reopening'
                                                  WHEN 'withdrawn' THEN 'a withdrawal'
                                                  ELSE 'a correction' END;
    ELSE
        needed := 'auditlog_auditor'; act := 'recording';
    END IF;
    IF NOT pg_has_role(session_user, needed, 'MEMBER') THEN
        tier := CASE WHEN pg_has_role(session_user, 'auditlog_auditor', 'MEMBER')
                     THEN 'an auditor'
                     WHEN pg_has_role(session_user, 'auditlog_reader', 'MEMBER')
                     THEN 'a reader'
                     ELSE 'in no auditlog role' END;
        RAISE EXCEPTION 'auditlog: role % is %: % needs %', session_user, tier, act, needed
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    actor := convert_from(NEW.state, 'UTF8')::jsonb ->> 'actor';
    IF actor IS DISTINCT FROM session_user::text THEN
        RAISE EXCEPTION 'auditlog: role % may record only as itself, not as %',
            session_user, coalesce(actor, 'nobody') USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
"""


# The gate trigger speaks English (it runs in the database, which knows no reader's language);
# its two sentences are rebuilt here in the reader's language from the words it fills in.
_REFUSED = re.compile(r"role (?P<role>.+) is (?P<tier>an auditor|a reader|in no auditlog role): "
                      r"(?P<act>.+) needs (?P<group>auditlog_\w+)$")
_NOT_ITSELF = re.compile(r"role (?P<role>.+) may record only as itself, not as (?P<actor>.+)$")
_TIERS = {
    "a reader": N_("role {role} is a reader: {act} needs {group}"),
    "an auditor": N_("role {role} is an auditor: {act} needs {group}"),
    "in no auditlog role": N_("role {role} is in no auditlog role: {act} needs {group}"),
}
_ACTS = {"recording": N_("recording"), "reopening": N_("reopening"),
         "a withdrawal": N_("a withdrawal"), "a correction": N_("a correction"),
         "a checkpoint": N_("a checkpoint")}


def gate_refusal(line: str) -> str:
    """The gate trigger's refusal (without its 'auditlog: ' prefix) in the reader's language;
    a sentence it does not know is given as the database wrote it."""
    if (refused := _REFUSED.match(line)) and refused["act"] in _ACTS:
        return _(_TIERS[refused["tier"]]).format(role=refused["role"],
                                                  act=_(_ACTS[refused["act"]]),
                                                  group=refused["group"])
    if itself := _NOT_ITSELF.match(line):
        return _("role {role} may record only as itself, not as {actor}").format(
            role=itself["role"], actor=itself["actor"])
    return line


def _identifier(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def setup(engine: PostgresEngine) -> list[str]:
    """Create the three groups (if missing) and grant them their rights on this database;
    idempotent. Needs the store's owner with CREATEROLE (or a superuser)."""
    if not engine.exists():
        raise Refusal(_("no store in {target}: create it first with 'auditlog --db "
                        "{display} init' as its owner").format(
            target=engine.target.where(), display=engine.display))
    done: list[str] = []
    try:
        with engine.target.connect() as db, db.transaction():
            existing = {r[0] for r in db.execute(
                "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)",
                (list(GROUPS.values()),))}
            member_of = {"auditlog_auditor": "auditlog_reader",
                         "auditlog_inspektur": "auditlog_auditor"}
            for group in GROUPS.values():
                if group not in existing:
                    db.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(_identifier(group)))
                if group in member_of:
                    db.execute(sql.SQL("GRANT {} TO {}").format(
                        _identifier(member_of[group]), _identifier(group)))
            reader = _identifier(GROUPS["reader"])
            dbname = db.execute("SELECT current_database()").fetchone()
            assert dbname is not None
            db.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                _identifier(dbname[0]), reader))
            db.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(reader))
            projections = [r[0] for r in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND starts_with(tablename, %s) ORDER BY tablename", (PROJECTION_PREFIX,))]
            if not projections:
                raise Refusal(_("{target} has no read-model tables yet: run 'auditlog "
                                "rebuild' as its owner, then roles setup").format(
                    target=engine.target.where()))
            evidence = [r[0] for r in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename = ANY(%s) ORDER BY tablename", (list(EVIDENCE_TABLES),))]
            tables = [EVENTS, CHAIN, META, *evidence, *projections]
            db.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(
                sql.SQL(", ").join(_identifier(t) for t in tables), reader))
            db.execute(sql.SQL("GRANT INSERT, UPDATE ON {} TO {}").format(
                _identifier(EVENTS), reader))
            db.execute(sql.SQL("GRANT INSERT ON {} TO {}").format(_identifier(CHAIN), reader))
            db.execute(sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(
                _identifier(f"{EVENTS}_notification_id_seq"), reader))
            grant_projections(db, projections)
            if evidence:  # kept evidence comes with a follow-up, which auditors record
                db.execute(sql.SQL("GRANT INSERT ON {} TO {}").format(
                    sql.SQL(", ").join(_identifier(t) for t in evidence),
                    _identifier(GROUPS["auditor"])))
            db.execute(_GATE_FUNCTION)
            db.execute(sql.SQL(
                "CREATE OR REPLACE TRIGGER {} BEFORE INSERT ON {} FOR EACH ROW "
                "EXECUTE FUNCTION {}()").format(
                    _identifier(GATE), _identifier(EVENTS), _identifier(GATE)))
            done.append(_("the groups {values} are ready (each includes the one before)").format(
                values=', '.join(GROUPS.values())))
            done.append(_("granted them their rights on database {dbname}").format(
                dbname=dbname[0]))
    except psycopg.errors.InsufficientPrivilege as error:
        raise Refusal(_("roles setup needs the store's owner with CREATEROLE (or a "
                        "superuser) on {target}: {error}").format(
            target=engine.target.where(), error=_first_line(error))) from None
    except psycopg.errors.UndefinedTable as error:
        raise Refusal(_("{target} lacks a table of the store ({error}): run 'auditlog "
                        "init' first").format(
            target=engine.target.where(), error=_first_line(error))) from None
    return done


def grant(engine: PostgresEngine, login: str, group: str) -> str:
    """Make LOGIN a member of a group; returns the group's role name."""
    role = GROUPS.get(group.strip().lower())
    if role is None:
        raise Refusal(_("{group!r} is not a group: give reader, auditor or inspektur").format(
            group=group))
    try:
        with engine.target.connect() as db, db.transaction():
            rows: list[Any] = db.execute(
                "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s)",
                ([login, role],)).fetchall()
            found = dict(rows)
            if role not in found:
                raise Refusal(_("there is no role {role} yet: run 'auditlog roles "
                                "setup' first").format(
                    role=role))
            if login not in found:
                raise Refusal(_("PostgreSQL has no role {login}: create it first "
                                "(CREATE ROLE {login} LOGIN PASSWORD '...') and grant "
                                "it then").format(
                    login=login))
            if not found[login]:
                raise Refusal(_("{login} cannot log in: give a LOGIN role (a person), "
                                "not a group").format(
                    login=login))
            db.execute(sql.SQL("GRANT {} TO {}").format(_identifier(role),
                                                        _identifier(login)))
    except psycopg.errors.InsufficientPrivilege as error:
        raise Refusal(_("granting {role} needs the store's owner with CREATEROLE (or a "
                        "superuser) on {target}: {error}").format(
            role=role, target=engine.target.where(), error=_first_line(error))) from None
    return role
