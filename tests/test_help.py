"""Help that teaches: every command has an example, every value a real metavar, statuses
spelled out, in both languages."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import Run

from auditlog import i18n
from auditlog.cli.main import app
from auditlog.cli.reference import reference

DOCS = Path(__file__).resolve().parent.parent / "docs"


def commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(getattr(group, "commands", {}).items()):
        if getattr(command, "commands", None):
            yield from commands(command, (*path, name))
        else:
            yield (*path, name)


ALL = list(commands(typer.main.get_command(app)))


def test_there_are_commands() -> None:
    assert ("finding", "list") in ALL and ("status",) in ALL and len(ALL) >= 20


@pytest.mark.parametrize("path", ALL, ids=" ".join)
def test_every_command_teaches_by_example(ok: Run, path: tuple[str, ...]) -> None:
    text = ok(*path, "--help").stdout
    # global options may come first: auditlog --db inspektorat.db init
    example = re.compile(r"Example: auditlog (--\S+ \S+ )*" + re.escape(" ".join(path)))
    assert example.search(" ".join(text.split())), text
    for vague in ("<str>", "<int>", "<list", "<Path>", "<path>", "<float>"):
        assert vague not in text, (path, vague)
    # flags take no value; only Click's own --help still says <bool>
    assert text.count("<bool>") <= 1, text


@pytest.mark.parametrize("path", [("finding", "list"), ("followup", "review")], ids=" ".join)
def test_statuses_are_spelled_out_where_asked(ok: Run, path: tuple[str, ...]) -> None:
    text = " ".join(ok(*path, "--help").stdout.replace("│", " ").split())
    for words in ("belum ditindaklanjuti", "belum sesuai", "sesuai",
                  "tidak dapat ditindaklanjuti"):
        assert words in text, (path, words)


@pytest.mark.parametrize(("lang", "name"), [("en", "cli-reference.md"),
                                            ("id", "cli-reference.id.md")])
def test_the_cli_reference_is_generated_from_the_code(lang: i18n.Lang, name: str) -> None:
    written = (DOCS / name).read_text()
    assert written == reference(lang), (
        f"docs/{name} is stale: python -m auditlog.cli.reference {lang} > docs/{name}")
