"""Start-up: building the command tree (every `--help`, `--version`, a usage error) imports
none of what only the commands use, so each invocation starts in about the time of Typer alone.
What the commands import is measured in benchmarks/run; this checks which modules load."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Run

# Heavy at import time (pydantic model definitions, cryptography's bindings, eventsourcing's
# persistence, rich's console), or large modules of our own behind them.
HEAVY = ("pydantic", "eventsourcing", "cryptography", "rich", "tabulate", "xlsxwriter",
         "openpyxl", "babel", "psycopg", "importlib.metadata", "auditlog.commands",
         "auditlog.store.app", "auditlog.domain.events", "auditlog.reports.views",
         "auditlog.projections.persisted")


def loaded_after(code: str) -> set[str]:
    probe = (f"import sys\n{code}\n"
             f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    return set(done.stderr.split())


def test_the_command_tree_imports_no_heavy_module() -> None:
    assert loaded_after("import typer.main\nfrom auditlog.cli.main import app\n"
                        "typer.main.get_command(app)") == set()


def run_main(args: list[str]) -> set[str]:
    return loaded_after("from auditlog.cli.main import main\n"
                        f"sys.argv = ['auditlog', *{args!r}]\n"
                        "try:\n    main()\nexcept SystemExit:\n    pass")


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_help_and_version_import_no_heavy_module(args: list[str]) -> None:
    # Typer itself draws help and errors with rich when it is installed (so does the floor)
    assert run_main(args) - {"rich"} == set()


@pytest.mark.parametrize("args", [["finding", "record", "--help"], ["export", "--help"],
                                  ["verify", "--help"], ["--lang", "id", "status", "-h"]])
def test_a_command_help_imports_no_heavy_module_of_ours(args: list[str]) -> None:
    # Typer 0.29 coerces option values with pydantic's TypeAdapter; for text, flags and
    # choices cli/coercion.py does it without (tests/test_help.py: the same words).
    assert run_main(args) - {"rich"} == set()


# What `status` answered from the projection's summary rows must not load: the store, the
# domain's models, the fold (a plain `status` used to load all of them, and tabulate).
DOMAIN = ("pydantic", "eventsourcing", "tabulate", "importlib.metadata", "auditlog.store.app",
          "auditlog.domain.aggregate", "auditlog.domain.events", "auditlog.domain.finding",
          "auditlog.domain.grades", "auditlog.projections.persisted", "auditlog.reports.views",
          "auditlog.projections.summary", "auditlog.projections.model")


def loaded_by_status(db: Path, *args: str) -> set[str]:
    probe = ("import sys\nfrom auditlog.cli.main import main\n"
             f"sys.argv = ['auditlog', '--db', {str(db)!r}, 'status', *{args!r}]\n"
             "try:\n    main()\nexcept SystemExit as done:\n    assert not done.code, done\n"
             f"print(' '.join(m for m in {DOMAIN!r} if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    return set(done.stderr.split())


@pytest.fixture
def current(run: Run, isolated: Path) -> Path:
    """A store whose projection is current (`status` caught it up)."""
    assert run("demo").exit_code == 0
    assert run("status").exit_code == 0
    return isolated


@pytest.mark.parametrize("args", [(), ("--format", "json"), ("-f", "csv"), ("-f", "md"),
                                  ("--pemda", "35.73")])
def test_status_on_a_current_projection_loads_no_domain(current: Path,
                                                        args: tuple[str, ...]) -> None:
    assert loaded_by_status(current, *args) == set()


def test_status_that_needs_the_domain_loads_it(current: Path) -> None:
    """The probe can fail: narrowed by year, status takes the full path."""
    assert {"pydantic", "auditlog.domain.finding"} <= loaded_by_status(current, "--year",
                                                                      "2023")


def test_the_probe_sees_a_heavy_import() -> None:
    """The check can fail: a command that ran does load what it needs."""
    assert "auditlog.store.app" in loaded_after("import auditlog.store.app")


def test_the_collector_runs_for_every_command_and_after_import(
        run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """cli/_collector.py pauses it only while the modules load and the tree is built."""
    import gc

    from auditlog.cli import _collector

    frozen: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))  # not the test session's
    assert gc.isenabled()  # importing cli/main.py (conftest did) left it running
    _collector.pause()  # as main() does before Typer builds the tree
    try:
        assert not gc.isenabled()
        assert run("init").exit_code == 0
        assert gc.isenabled() and frozen == [True]  # resumed when the command ran
    finally:
        _collector.resume()
        gc.enable()
    probe = ("import gc, sys\nfrom auditlog.cli.main import main\nassert gc.isenabled()\n"
             "sys.argv = ['auditlog', '--version']\ntry:\n    main()\nexcept SystemExit:\n"
             "    pass\nassert gc.isenabled()")
    subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True)


def test_a_typer_without_its_private_coercion_still_runs(tmp_path: Path) -> None:
    """cli/coercion.py leans on Typer's private modules: where a later Typer has moved them,
    the command line takes Typer's own coercion and works as before."""
    code = ("import sys; sys.modules['auditlog.cli.coercion'] = None  # its import fails\n"
            "from auditlog.cli.main import main\n"
            "sys.argv = ['auditlog', '--lang', 'en', 'pemda', 'list']\n"
            "main()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "AUDITLOG_DB": str(tmp_path / "s.db")})
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), result.stderr
