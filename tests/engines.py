"""The engines the store contract is tested on: a SQLite file, and a fresh database on the
PostgreSQL server named by AUDITLOG_TEST_PG (started by .ci/pg).

Without that server the PostgreSQL tests fail in CI (CI=true) with how to get it; a local run
without it skips them and says why.
"""

import os
import uuid
from collections.abc import Generator, Iterator
from contextlib import closing
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

PG_ENV = "AUDITLOG_TEST_PG"
HOW = (f"the PostgreSQL tests need a server: run them through .ci/pg, which installs "
       f"PostgreSQL with apt-get and starts a throwaway one (.ci/pg .venv/bin/python -m pytest), "
       f"or set {PG_ENV}=postgresql://SUPERUSER:PASSWORD@HOST:PORT/postgres")


def admin_url() -> str:
    """The superuser URL of the test server, or fail (CI) / skip (a local run)."""
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(HOW, pytrace=False)
        pytest.skip(HOW)
    return url


def url_for(admin: str, dbname: str, **override: Any) -> str:
    """The admin URL pointed at another database (and, given, another user or password)."""
    params = {k: v for k, v in conninfo_to_dict(admin).items() if v is not None}
    params.update(dbname=dbname, **override)
    host, port = str(params.pop("host", "localhost")), str(params.pop("port", "5432"))
    user, password = str(params.pop("user", "")), params.pop("password", None)
    auth = user + (f":{password}" if password is not None else "")
    query = "&".join(f"{k}={v}" for k, v in params.items() if k != "dbname")
    return f"postgresql://{auth}@{host}:{port}/{dbname}" + (f"?{query}" if query else "")


def admin_connect(url: str | None = None) -> psycopg.Connection[Any]:
    return psycopg.connect(make_conninfo(url or admin_url()), autocommit=True)


def fresh_database(prefix: str = "auditlog_test") -> Generator[str, None, None]:
    """A new empty database on the test server, dropped afterwards; yields its URL."""
    admin = admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with closing(admin_connect(admin)) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url_for(admin, name)
    finally:
        with closing(admin_connect(admin)) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')




@pytest.fixture(params=["sqlite", "postgresql"], name="on_engine")
def on_engine_fixture(request: pytest.FixtureRequest, isolated: Any,
                      monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The test runs twice: AUDITLOG_DB a SQLite file (conftest's), then a fresh PostgreSQL
    database (where the actor is the database role, so AUDITLOG_ACTOR is left out). Import
    on_engine_fixture into a test module and ask for ``on_engine``: the store's --db."""
    if request.param == "sqlite":
        yield str(isolated)
        return
    for url in fresh_database():
        monkeypatch.setenv("AUDITLOG_DB", url)
        monkeypatch.delenv("AUDITLOG_ACTOR", raising=False)
        yield url
