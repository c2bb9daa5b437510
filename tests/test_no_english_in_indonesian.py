"""A newcomer with LANG=id_ID.UTF-8 meets no English sentence, and one with LANG=en_US.UTF-8
no Indonesian one (domain terms such as temuan, tindak lanjut, pemda stay in both).

Every command runs through the console script's own entry point (auditlog.cli.main.main), as
a user meets it, including Click's usage errors, which only that entry point words. A line
fails when, once commands, options, paths and quoted values are set aside, it still holds
words only an English sentence uses.
"""

import re
import sqlite3
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from auditlog import i18n
from auditlog.cli.main import main

ENGLISH = re.compile(
    r"\b(the|is|are|was|were|not|must|use|give|cannot|should|expected|no such|missing|"
    r"invalid|nothing|written|try|of|and|or|with|which|wrote|saved|events?|show|this|yes|"
    r"owner|realised|progress|trail|option|argument|value|command|recommendations?|"
    r"findings?|received|due|overdue|total|year|name|store at|got|unexpected|possible)\b",
    re.IGNORECASE)
INDONESIAN = re.compile(
    r"\b(tidak|yang|dengan|untuk|gunakan|berikan|menulis|mencatat|"
    r"lembar|kolom|baris|peristiwa|sebelumnya|lewat jatuh tempo|bukan|atau)\b", re.IGNORECASE)


# Typed, not said: the command names (a help listing names them).
COMMANDS = {"finding", "followup", "grade", "commitment", "evidence", "keys", "roles", "pemda",
            "status", "history", "replay", "rebuild", "export", "checkpoint", "verify", "copy",
            "init", "demo", "import", "compare"}


def said(text: str) -> str:
    """The words of a line, without what is typed rather than said: quoted values, commands
    in quotes, command names, options, paths, URLs, references, hashes and hyphenated terms
    (K-2023-0001, tidak-tercapai)."""
    text = re.sub(r"'[^'\n]*'|`[^`\n]*`|\"[^\"\n]*\"", " ", text)
    return " ".join(word for word in text.split()
                    if not any(mark in word.rstrip(".,;:)") for mark in ("--", "://", "/", "@"))
                    and "." not in word.rstrip(".,;:)") and "-" not in word.strip("-")
                    and word not in COMMANDS and not word.isupper())


def english_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if ENGLISH.search(said(line))]


def indonesian_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if INDONESIAN.search(said(line))]


Console = Callable[..., tuple[int, str, str]]


@pytest.fixture
def console(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Console:
    """console(lang, *args) -> (exit code, stdout, stderr), run as `auditlog ARGS` is run with
    LANG set to that locale and no AUDITLOG_LANG."""
    monkeypatch.delenv("AUDITLOG_LANG", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)

    def invoke(locale: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("LANG", locale)
        monkeypatch.setattr(sys, "argv", ["auditlog", *args])
        i18n.reset()
        try:
            main()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


INDONESIAN_LOCALE = "id_ID.UTF-8"
ENGLISH_LOCALE = "en_US.UTF-8"

# From the demo to the annual review: what a newcomer runs on the first day.
WALK = [
    ("demo",), ("status",), ("status", "--pemda", "35.73"), ("finding", "list"),
    ("finding", "list", "--overdue"), ("finding", "show", "F-2023-0003"),
    ("history", "--finding", "F-2023-0003"), ("history",), ("replay", "--to", "2023-12-31"),
    ("verify",), ("verify", "--projections"), ("checkpoint", "--to", "checkpoint.txt"),
    ("verify", "--checkpoint", "checkpoint.txt"), ("import", "--template", "register.xlsx"),
    ("grade", "list"), ("commitment", "list"), ("commitment", "show", "K-2023-0001"),
    ("compare", "--instrument", "SAKIP"), ("pemda", "list"),
    ("finding", "list", "--search", "perjalanan dinas"),
    ("finding", "list", "--due-within", "45", "--as-of", "2023-02-01"),
    ("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "Setoran sisa",
     "--deposit", "Rp4.650.000"),
    ("followup", "review", "F-2023-0003.1", "--status", "S", "--reason", "Setoran lunas"),
    ("rebuild",), ("status", "--as-of", "2023-06-30"),
    ("export", "--year", "2023", "--to", "review.xlsx"),
    ("export", "--year", "2023", "--to", "review.zip"),
    ("export", "--year", "2023", "--to", "review.md"),
    ("export", "--year", "2023", "--to", "review.html"),
    ("export", "--year", "2023", "--to", "review.json"),
    ("copy", "--to", "copy.db"), ("--help",), ("finding", "list", "--help"),
]

# Bad input of every kind: usage errors (exit 2), refusals (exit 1), on a demo store.
BAD = [
    ("status", "--bogus"), ("finding", "show"), ("finding", "list", "--year"), ("nosuch",),
    ("status", "extra"), ("finding", "list", "--overdue=yes"),
    ("finding", "list", "--format", "xml"), ("finding", "list", "--due-within", "abc"),
    ("finding", "list", "--stat"), ("--lang", "xx", "status"),
    ("finding", "show", "F-2023-0099"), ("finding", "list", "--year", "23"),
    ("finding", "list", "--pemda", "99.99"),
    ("finding", "record", "--pemda", "35.73", "--title", "Uji", "--received", "31/2/2023",
     "-r", "Uji"),
    ("finding", "record", "--pemda", "35.73", "--title", "a\tb", "--received", "2023-01-01",
     "-r", "x"),
    ("finding", "correct", "F-2023-0001", "--field", "title", "--value", "x", "--reason", " "),
    ("followup", "review", "F-2023-0001.1", "--status", "BS", "--reason", "x"),
    ("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "x",
     "--deposit", "abc"),
    ("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP", "--year", "2023",
     "--grade", "Z"),
    ("commitment", "show", "K-2099-0001"), ("commitment", "show", "X"),
    ("commitment", "list", "--status", "bogus"),
    ("commitment", "progress", "K-2023-0001", "--on", "2024-01-10", "--value", "abc"),
    ("commitment", "review", "K-2023-0002", "--status", "tercapai", "--reason", "lagi"),
    ("compare", "--instrument", "XYZ"), ("compare", "--instrument", "SAKIP", "--province",
                                         "35.73"),
    ("copy", "--to", "auditlog.db"), ("roles", "setup"), ("--db", "/", "status"),
    ("--db", "nothere/x.db", "status"), ("--db", "notastore.db", "status"),
    ("verify", "--checkpoint", "missing.txt"), ("checkpoint", "--sign", "missing.key"),
    ("import", "missing.xlsx"), ("import", "bad.csv"), ("import", "no-title.csv"),
    ("export", "--year", "2023", "--to", "review.pdf"),
    ("export", "--year", "2023", "--to", "review.csv"), ("evidence", "get", "abc", "--to", "x"),
    ("history", "--pemda", "99.99"), ("replay", "--to", "31/2/2023"),
    ("pemda", "register", "35.99", "--name", "X", "--level", "bogus"),
]


def _inputs(folder: Path) -> None:
    (folder / "notastore.db").write_text("not a database\n")
    (folder / "bad.csv").write_text(
        "Pemda,Judul Temuan,Rekomendasi,Tanggal Diterima,Nilai Temuan,Status\n"
        "99.99,Uji,Rek,31/2/2023,abc,zzz\n"
        "35.73,,Rek dua,2023-01-05,\"1,5\",S\n"
        "Kota Malang,Uji tiga,,2099-01-05,100,S\n")
    (folder / "no-title.csv").write_text("Pemda,Rekomendasi\n35.73,Rek\n")


_DEMO: list[Path] = []  # the first demo store of the module, copied for the others


@pytest.fixture
def demo_store(console: Console, tmp_path: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store in tmp_path: recorded once per module, then copied (SQLite's backup)."""
    if not _DEMO:
        code, _out, _err = console(ENGLISH_LOCALE, "demo")
        assert code == 0
        kept = tmp_path_factory.mktemp("demo") / "auditlog.db"
        with closing(sqlite3.connect(tmp_path / "auditlog.db")) as source, \
                closing(sqlite3.connect(kept)) as copy:
            source.backup(copy)
        _DEMO.append(kept)
    else:
        with closing(sqlite3.connect(_DEMO[0])) as source, \
                closing(sqlite3.connect(tmp_path / "auditlog.db")) as copy:
            source.backup(copy)
    _inputs(tmp_path)
    return tmp_path


def test_the_newcomers_walk_in_indonesian_has_no_english_sentence(console: Console,
                                                                   tmp_path: Path) -> None:
    for args in WALK:
        code, out, err = console(INDONESIAN_LOCALE, *args)
        assert code == 0, (args, err)
        assert not english_lines(out + err), (args, english_lines(out + err))
    for name in ("review.md", "review.html"):
        text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", (tmp_path / name).read_text(),
                      flags=re.DOTALL)
        assert not english_lines(text), (name, english_lines(text))


@pytest.mark.parametrize("args", BAD, ids=" ".join)
def test_every_kind_of_bad_input_is_refused_in_indonesian(console: Console, demo_store: Path,
                                                          args: tuple[str, ...]) -> None:
    code, out, err = console(INDONESIAN_LOCALE, *args)
    assert code in (1, 2), (args, code, out, err)
    assert err.startswith("auditlog: "), (args, err)
    assert not english_lines(out + err), (args, out + err)
    # The same refusal in English really is English: the word list catches it.
    code, out, err = console(ENGLISH_LOCALE, *args)
    assert english_lines(err), (args, err)
    assert not indonesian_lines(err), (args, err)


def test_verify_names_the_damage_in_indonesian(console: Console, demo_store: Path) -> None:
    with sqlite3.connect(demo_store / "auditlog.db") as db:
        db.execute("DROP TRIGGER stored_events_no_update")
        db.execute("UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), "
                   "'7500000', '9500000') AS BLOB) WHERE CAST(state AS TEXT) LIKE '%7500000%'")
    code, out, err = console(INDONESIAN_LOCALE, "verify")
    assert code == 3, (out, err)
    assert "diubah" in out and "pengaman append-only hilang" in out, out
    assert not english_lines(out + err), out + err
    code, out, err = console(ENGLISH_LOCALE, "verify")
    assert code == 3 and "edited" in out and not indonesian_lines(out + err), out + err


def test_an_english_newcomer_meets_no_indonesian_sentence(console: Console,
                                                          demo_store: Path) -> None:
    code, out, _err = console(ENGLISH_LOCALE, "status")
    assert code == 0
    heading = next(line for line in out.splitlines() if "mean progress" in line)
    assert "achieved" in heading and "tercapai" not in heading, heading
    assert not indonesian_lines(out), indonesian_lines(out)
