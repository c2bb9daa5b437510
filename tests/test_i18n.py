"""The translation catalogs against the code, the choice of language, the display forms.

A message marked in the code without an Indonesian translation, a catalog that keeps messages
the code no longer has, or a compiled .mo older than its .po fails here; the commands to fix
each are in src/auditlog/i18n.py.
"""

import io
import json
import re
import subprocess
import sys
import tomllib
import zipfile
from datetime import date
from fnmatch import fnmatch
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from auditlog import i18n
from auditlog.domain.inputs import parse_date, parse_rupiah
from auditlog.errors import Refusal

from conftest import Run

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "auditlog"
PO = PACKAGE / "locale" / "id" / "LC_MESSAGES" / "auditlog.po"
MO = PO.with_suffix(".mo")
FIELD = re.compile(r"\{[^{}]*\}")


def extracted() -> set[str]:
    """The message ids the code marks today, as `pybabel extract -F babel.cfg` finds them."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    ids: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / "src", method_map, options_map):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def catalog() -> Catalog:
    with PO.open("rb") as po:
        return read_po(po, locale="id")


def test_the_code_marks_messages() -> None:
    assert len(extracted()) >= 10


def test_every_message_has_an_indonesian_translation() -> None:
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog() if m.id}
    missing = sorted(m for m in extracted() if m not in translated)
    assert not missing, ("messages not in the Indonesian catalog (pybabel extract + update, "
                         f"then translate): {missing}")
    empty = sorted(k for k, m in translated.items()
                   if not m.string or (isinstance(m.string, tuple) and not all(m.string))
                   or m.fuzzy)
    assert not empty, f"messages without a (non-fuzzy) Indonesian translation: {empty}"


def test_the_catalog_keeps_no_message_the_code_dropped() -> None:
    kept = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog() if m.id}
    stale = sorted(kept - extracted())
    assert not stale, f"the catalog is stale, run pybabel extract + update: {stale}"


def test_translations_keep_the_placeholders() -> None:
    for message in catalog():
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        string = message.string or ()
        strings = [string] if isinstance(string, str) else list(string)
        wanted = sorted(FIELD.findall(ids[-1]))
        for text in strings:
            assert sorted(FIELD.findall(text)) == wanted, (message.id, text)


def test_the_compiled_catalog_is_the_po_compiled() -> None:
    out = io.BytesIO()
    write_mo(out, catalog())
    assert MO.read_bytes() == out.getvalue(), (
        "auditlog.mo is stale: pybabel compile -d src/auditlog/locale -D auditlog")


def test_the_compiled_catalog_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["auditlog"]
    relative = MO.relative_to(PACKAGE).as_posix()
    assert any(fnmatch(relative, p) for p in patterns), patterns


# --- the choice of language --------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "id_ID.UTF-8"}, "id"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LC_ALL": "id_ID.UTF-8", "LANG": "en_US.UTF-8"}, "id"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "id_ID.UTF-8"}, "en"),
        ({"LC_MESSAGES": "id_ID", "LANG": "en_US"}, "id"),
        ({"AUDITLOG_LANG": "en", "LANG": "id_ID.UTF-8"}, "en"),
        ({"AUDITLOG_LANG": "ID", "LANG": "en_US.UTF-8"}, "id"),
    ],
)
def test_the_language_follows_the_environment(environ: dict[str, str], expected: str) -> None:
    assert i18n.from_environment(environ) == expected


def test_an_unknown_language_is_refused_naming_the_choices() -> None:
    with pytest.raises(i18n.UnknownLanguage, match="use one of id, en"):
        i18n.from_environment({"AUDITLOG_LANG": "fr"})


def test_a_refusal_speaks_the_chosen_language() -> None:
    i18n.set_language("id")
    with pytest.raises(Refusal) as refused:
        parse_date("31/2/2023", what="--received")
    assert str(refused.value) == (
        "--received '31/2/2023' tidak ada di kalender: gunakan ISO 2023-07-26, hari lebih dulu "
        "26/7/2023, atau 26 Juli 2023")
    i18n.set_language("en")
    with pytest.raises(Refusal, match="does not exist in the calendar"):
        parse_date("31/2/2023", what="--received")


# --- display forms and input -------------------------------------------------------------


def test_indonesian_display_forms() -> None:
    assert i18n.format_date(date(2023, 7, 26), "id") == "26 Juli 2023"
    assert i18n.format_date(date(2023, 12, 1), "id") == "1 Desember 2023"
    assert i18n.format_pct(37.5, "id") == "37,50%"
    assert i18n.format_pct(100.0, "id") == "100,00%"
    assert i18n.format_pct(None, "id") == ""


def test_english_display_forms_are_the_machine_forms() -> None:
    assert i18n.format_date(date(2023, 7, 26), "en") == "2023-07-26"
    assert i18n.format_pct(37.5, "en") == "37.50"


def test_display_forms_do_not_depend_on_the_machine_locale() -> None:
    script = ("from datetime import date; from auditlog import i18n; "
              "print(i18n.format_date(date(2023, 7, 26), 'id'), i18n.format_pct(37.5, 'id'))")
    outputs = {
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       check=True, env={"LC_ALL": lc, "LANG": lc, "PATH": ""}).stdout
        for lc in ("C", "en_US.UTF-8", "id_ID.UTF-8")
    }
    assert outputs == {"26 Juli 2023 37,50%\n"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("26 Juli 2023", date(2023, 7, 26)),
        ("26 juli 2023", date(2023, 7, 26)),
        ("26 July 2023", date(2023, 7, 26)),
        ("1 Agustus 2023", date(2023, 8, 1)),
        ("17 Agu 2023", date(2023, 8, 17)),
        ("5 Des 2023", date(2023, 12, 5)),
        ("5 Des. 2023", date(2023, 12, 5)),
        ("31 Mei 2024", date(2024, 5, 31)),
    ],
)
def test_dates_with_the_month_by_name(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["26 Juy 2023", "31 Juni 2023", "26 Juli", "Juli 2023",
                                  "26 Juli 23"])
def test_unknown_months_and_impossible_named_dates_are_refused(text: str) -> None:
    with pytest.raises(Refusal, match="26 Juli 2023"):
        parse_date(text)


@pytest.mark.parametrize("text", ["Rp12.150.000,-", "12.150.000,-", "Rp 12.150.000,-"])
def test_rupiah_closed_with_comma_dash(text: str) -> None:
    assert parse_rupiah(text) == 12_150_000


@pytest.mark.parametrize("text", ["Rp12.150.000,", "Rp12.150.000,50", "Rp12.150.000-"])
def test_rupiah_with_cents_or_a_stray_mark_is_refused(text: str) -> None:
    with pytest.raises(Refusal, match=r"Rp12\.150\.000,-"):
        parse_rupiah(text)


# --- the command line --------------------------------------------------------------------


def test_lang_option_env_and_locale_choose_the_language(run: Run,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    run("demo")
    indonesian = "--year '23' tidak sah: gunakan tahun empat angka seperti 2023"
    english = "--year '23' is not valid: use a four-digit year such as 2023"
    assert indonesian in run("--lang", "id", "finding", "list", "--year", "23").stderr
    assert english in run("--lang", "en", "finding", "list", "--year", "23").stderr
    assert indonesian in run("finding", "list", "--year", "23",
                             env={"AUDITLOG_LANG": "id"}).stderr
    monkeypatch.delenv("AUDITLOG_LANG")
    assert indonesian in run("finding", "list", "--year", "23",
                             env={"LANG": "id_ID.UTF-8", "LC_ALL": ""}).stderr
    assert english in run("finding", "list", "--year", "23",
                          env={"LANG": "en_US.UTF-8", "LC_ALL": ""}).stderr


def test_an_unknown_language_is_a_usage_error(run: Run) -> None:
    for args, env in ((("--lang", "fr", "status"), {}), (("status",), {"AUDITLOG_LANG": "fr"})):
        result = run(*args, env=env)
        assert result.exit_code == 2 and "use one of id, en" in result.stderr, result


def test_tables_use_indonesian_display_forms_and_csv_stays_machine(ok: Run) -> None:
    ok("demo")
    table = ok("--lang", "id", "status", "--pemda", "35.73").stdout
    assert "87,50%" in table and "Rp12.150.000" in table
    register = ok("--lang", "id", "finding", "list", "--pemda", "35.78").stdout
    assert "23 Januari 2023" in register
    csv = ok("--lang", "id", "status", "--pemda", "35.73", "--format", "csv").stdout
    assert ",87.50," in csv and "12150000" in csv
    assert "2023-01-23" in ok("--lang", "id", "finding", "list", "--pemda", "35.78",
                              "--format", "csv").stdout
    assert " 87.50 " in ok("--lang", "en", "status", "--pemda", "35.73").stdout


def test_export_csv_headers_are_the_json_keys_in_both_languages(ok: Run) -> None:
    """Scripts read the review's CSV files: their headers are the JSON keys, in English, whatever
    the language of the review (XLSX, Markdown and HTML headings are translated)."""
    ok("demo")
    ok("--lang", "id", "export", "--year", "2023", "--to", "id.zip")
    ok("--lang", "en", "export", "--year", "2023", "--to", "en.zip")
    ok("--lang", "id", "export", "--year", "2023", "--to", "id.json")
    sections = json.loads(Path("id.json").read_text())["sections"]
    with zipfile.ZipFile("id.zip") as indonesian, zipfile.ZipFile("en.zip") as english:
        names = [n for n in indonesian.namelist() if n != "00-cover.csv"]
        assert names == [n for n in english.namelist() if n != "00-cover.csv"]
        assert len(names) == len(sections)
        for name in names:
            header_id = indonesian.read(name).decode().splitlines()[0]
            header_en = english.read(name).decode().splitlines()[0]
            key = name.split("-", 1)[1].removesuffix(".csv")
            assert header_id == header_en == ",".join(c["key"] for c in sections[key]["columns"])
    assert "Ringkasan kepatuhan" in Path("id.json").read_text()  # the headings are translated
    ok("--lang", "id", "export", "--year", "2023", "--to", "id.md")
    assert "| Kode pemda |" in Path("id.md").read_text()
