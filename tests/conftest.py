"""Test isolation: no test ever touches a real store, the clock is pinned, output is stable."""

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditlog import i18n
from auditlog.cli.main import app

FIXED_NOW = "2024-01-15T09:00:00+00:00"
FIXED_STORE_ID = "3f2c8a1e-5b7d-4e9a-8c6f-1d2e3a4b5c6d"


@pytest.fixture(autouse=True, scope="session")
def no_real_witness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Stores made by module- or session-wide fixtures witness into a temporary folder too."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AUDITLOG_WITNESS", str(tmp_path_factory.mktemp("witness")))
        yield


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point AUDITLOG_DB at a temporary file, pin the clock, the actor and the identity of new
    stores, run in tmp_path."""
    db = tmp_path / "auditlog.db"
    monkeypatch.setenv("AUDITLOG_DB", str(db))
    monkeypatch.setenv("AUDITLOG_NOW", FIXED_NOW)
    monkeypatch.setenv("AUDITLOG_STORE_ID", FIXED_STORE_ID)
    monkeypatch.setenv("AUDITLOG_ACTOR", "auditor")
    # The witness log outside the store: never the real user's data folder.
    monkeypatch.setenv("AUDITLOG_WITNESS", str(tmp_path / "witness"))
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("COLUMNS", "200")
    # English unless a test asks otherwise, whatever the machine's locale.
    monkeypatch.setenv("AUDITLOG_LANG", "en")
    i18n.reset()
    time.tzset()
    monkeypatch.chdir(tmp_path)
    yield db
    i18n.reset()
    time.tzset()


class Result:
    def __init__(self, exit_code: int, stdout: str, stderr: str) -> None:
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self) -> str:
        return f"Result(exit={self.exit_code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


Run = Callable[..., Result]


@pytest.fixture
def run() -> Run:
    """Run the CLI in-process: run("status", "--format", "json") -> Result."""
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        saved = {k: os.environ.get(k) for k in (env or {})}
        os.environ.update(env or {})
        try:
            result = runner.invoke(app, list(args), catch_exceptions=False)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        return Result(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def ok(run: Run) -> Run:
    """Like run, but the command must succeed."""

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        result = run(*args, env=env)
        assert result.exit_code == 0, result
        return result

    return invoke
