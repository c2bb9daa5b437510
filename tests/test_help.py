"""Help that teaches: every command has an example, every value a real metavar, statuses
spelled out, in both languages."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from auditlog import i18n
from auditlog.cli.main import app
from auditlog.cli.reference import reference

from conftest import Run

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


def complete(words: str, env: dict[str, str] | None = None) -> list[str]:
    """What bash completion offers after `words` (the last word is being typed)."""
    result = CliRunner().invoke(app, [], prog_name="auditlog", env={
        "_AUDITLOG_COMPLETE": "complete_bash", "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1), **(env or {})})
    return result.stdout.split()


def test_references_and_pemda_codes_complete_from_the_store(ok: Run) -> None:
    ok("demo")
    assert complete("auditlog finding show F-2023-000") == [
        f"F-2023-000{n}" for n in range(1, 7)]
    assert complete("auditlog followup review F-2023-0006") == ["F-2023-0006.1",
                                                                "F-2023-0006.2"]
    assert complete("auditlog status --pemda 35.7") == ["35.73", "35.78"]
    ok("finding", "withdraw", "F-2023-0006", "--reason", "tercatat ganda")
    ok("finding", "list")  # completion reads the projection as the last reader left it
    assert "F-2023-0006" not in complete("auditlog finding show F-2023-000")


def test_completion_offers_nothing_rather_than_fail(tmp_path: Path) -> None:
    assert complete("auditlog finding show F-") == []  # no store yet
    (tmp_path / "other.db").write_bytes(b"not a database at all")
    assert complete("auditlog status --pemda 3", {"AUDITLOG_DB": str(tmp_path / "other.db")}
                    ) == []


def test_completion_can_be_installed(ok: Run) -> None:
    text = ok("--help").stdout
    assert "--install-completion" in text and "--show-completion" in text


@pytest.mark.parametrize("lang, first", [("id", "Penggunaan: auditlog"),
                                         ("en", "Usage: auditlog")])
@pytest.mark.parametrize("path", [(), ("status",), ("finding", "record")])
def test_help_begins_in_the_chosen_language(ok: Run, lang: str, first: str,
                                            path: tuple[str, ...]) -> None:
    """Click writes "Usage: " as a literal; the Indonesian help began with it."""
    shown = ok("--lang", lang, *path, "--help").stdout
    assert shown.strip().startswith(first + " " + " ".join(path)), shown[:200]
