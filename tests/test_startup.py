"""Start-up: building the command tree (every `--help`, `--version`, a usage error) imports
none of what only the commands use, so each invocation starts in about the time of Typer alone.
What the commands import is measured in benchmarks/run; this checks which modules load."""

import subprocess
import sys

import pytest

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
                                  ["verify", "--help"]])
def test_a_command_help_imports_no_heavy_module_of_ours(args: list[str]) -> None:
    # Typer 0.29 also coerces the global options' values (--db, --lang) with pydantic's
    # TypeAdapter once a subcommand is reached (pydantic loads importlib.metadata for its
    # plugins): Typer's cost, not the command's.
    assert run_main(args) - {"rich", "pydantic", "importlib.metadata"} == set()


def test_the_probe_sees_a_heavy_import() -> None:
    """The check can fail: a command that ran does load what it needs."""
    assert "auditlog.store.app" in loaded_after("import auditlog.store.app")
