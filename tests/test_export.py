"""The annual review export: golden files, reproducibility, safety and numbers that add up."""

import csv
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from conftest import Run

GOLDEN = Path(__file__).resolve().parent / "golden"
FORMATS = ("json", "md", "html", "zip", "xlsx")
UPDATE = os.environ.get("AUDITLOG_UPDATE_GOLDEN") == "1"


@pytest.fixture
def demo(ok: Run) -> None:
    ok("demo")


def export(ok: Run, name: str, *args: str, env: dict[str, str] | None = None) -> bytes:
    ok("export", "--year", "2023", "--to", name, *args, env=env)
    return Path(name).read_bytes()


def normalise(text: str, store_id: str, root: str) -> str:
    """The store's identity is random per store; the golden files name a placeholder."""
    return text.replace(store_id, "<store-id>").replace(root, "<root>")


def parts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {i.filename: archive.read(i).decode() for i in archive.infolist()}


def test_golden_files(ok: Run, demo: None) -> None:
    meta = json.loads(export(ok, "first.json"))["meta"]["checkpoint"]
    store_id, root = meta["store_id"], meta["root"]
    for fmt in FORMATS:
        data = export(ok, f"review.{fmt}", "--lang", "id")
        if fmt in ("zip", "xlsx"):
            actual = "\n".join(f"--- {name}\n{body}" for name, body in parts(data).items())
        else:
            actual = data.decode()
        actual = normalise(actual, store_id, root)
        golden = GOLDEN / f"review-2023.{fmt}.txt"
        if UPDATE:
            golden.write_text(actual)
        assert golden.exists(), f"{golden.name} missing: AUDITLOG_UPDATE_GOLDEN=1 pytest"
        assert actual == golden.read_text(), f"{fmt} differs from {golden.name}"


def test_the_same_events_give_the_same_bytes_in_every_format(ok: Run, demo: None) -> None:
    for fmt in FORMATS:
        first = export(ok, f"a.{fmt}", "--lang", "id")
        again = export(ok, f"b.{fmt}", env={"AUDITLOG_LANG": "id"})
        assert first == again, fmt
    ok("export", "--year", "2023", "--to", "one", "--format", "csv")
    ok("export", "--year", "2023", "--to", "two", "--format", "csv")
    for path in sorted(Path("one").iterdir()):
        assert path.read_bytes() == (Path("two") / path.name).read_bytes()


def test_known_at_reproduces_the_review_after_more_is_recorded(ok: Run, demo: None) -> None:
    moment = "2024-01-15T09:00:00Z"
    first = json.loads(export(ok, "first.json", "--known-at", moment))
    ok("followup", "review", "F-2023-0003.1", "--status", "S", "--on", "2023-12-01",
       "--reason", "Lunas", env={"AUDITLOG_NOW": "2024-02-01T09:00:00Z"})
    later_bytes = export(ok, "later.json", "--known-at", moment)
    later = json.loads(later_bytes)
    now = json.loads(export(ok, "now.json"))
    assert later_bytes == Path("first.json").read_bytes()  # the checkpoint too
    assert later["meta"]["checkpoint"]["size"] < now["meta"]["checkpoint"]["size"]
    assert now["sections"] != first["sections"]


def test_the_checkpoint_of_a_prefix_is_the_root_the_log_then_had(ok: Run, demo: None) -> None:
    from auditlog.store.app import Store
    from auditlog.store.integrity import current_checkpoint, prefix_checkpoint

    store = Store("auditlog.db")
    try:
        then = current_checkpoint(store)
        assert prefix_checkpoint(store, then.size).root == then.root
        ok("followup", "record", "F-2023-0003.1", "--on", "2023-12-01", "--action", "Setor")
        assert prefix_checkpoint(store, then.size).root == then.root
        assert current_checkpoint(store).root != then.root
    finally:
        store.close()


def _sections(ok: Run) -> dict[str, Any]:
    return json.loads(export(ok, "review.json"))["sections"]  # type: ignore[no-any-return]


def test_matrix_totals_are_the_sum_of_their_rows(ok: Run, demo: None) -> None:
    sections = _sections(ok)
    for key in ("matrix_pemda", "matrix_opd", "matrix_report", "summary"):
        rows = sections[key]["rows"]
        body, total = rows[:-1], rows[-1]
        assert total["pemda"] == "TOTAL"
        for column in ("BD", "BS", "S", "TDTL", "total", "deposited", "value_to_recover",
                       "overdue"):
            assert total[column] == sum(r[column] for r in body), (key, column)
        for row in rows:
            if row["total"]:
                assert row["completion_pct"] == round(100 * row["S"] / row["total"], 2)
                assert row["total"] == row["BD"] + row["BS"] + row["S"] + row["TDTL"]
    finance = sections["financial_pemda"]["rows"]
    assert finance[-1]["balance"] == sum(r["balance"] for r in finance[:-1])
    by_finding = sections["financial_finding"]["rows"]
    assert finance[-1]["deposited"] == sum(r["deposited"] for r in by_finding)
    # The matrix and the register describe the same recommendations.
    register = sections["register"]["rows"]
    assert sections["matrix_pemda"]["rows"][-1]["total"] == len(register)


def test_xlsx_cells_equal_the_json_values(ok: Run, demo: None) -> None:
    sections = _sections(ok)
    export(ok, "review.xlsx")
    book = openpyxl.load_workbook("review.xlsx")
    # One sheet per section, in order, after the cover (sheet names are in the review's
    # language).
    for (key, section), sheet in zip(sections.items(), book.worksheets[1:], strict=True):
        assert sheet.freeze_panes == "A2"
        keys = [c["key"] for c in section["columns"]]
        assert [c.value for c in sheet[1]] == [c["heading"] for c in section["columns"]]
        for r, row in enumerate(section["rows"], start=2):
            for i, column in enumerate(section["columns"], start=1):
                cell: Any = sheet.cell(r, i).value
                expected = row[keys[i - 1]]
                if column["kind"] == "date" and cell is not None:
                    assert isinstance(cell, datetime)  # a real date, not text
                    cell = cell.date().isoformat()
                assert cell == (None if expected in ("", None) else expected), (key, r, i)


NASTY = ["=HYPERLINK(\"http://x\",\"klik\")", "+62 811", "-1+2", "@SUM(A1)"]


def test_defuse_covers_every_formula_start() -> None:
    from auditlog.reports.render import defuse

    for text in [*NASTY, "\tTab", "\rCarriage"]:
        assert defuse(text) == "'" + text
    assert defuse("Dinas Kesehatan") == "Dinas Kesehatan"


def test_formulas_never_come_alive_in_csv_or_xlsx(ok: Run) -> None:
    ok("pemda", "register", "35.73")
    for i, text in enumerate(NASTY):
        ok("finding", "record", "--pemda", "35.73", "--title", text, "--opd", text,
           "--report", f"R/{i}", "--received", "2023-03-01", "-r", text)
    export(ok, "review.xlsx")
    export(ok, "review.zip")
    book = openpyxl.load_workbook("review.xlsx")
    register = book["Register"]  # the sheet's name in English, the tests' language
    titles = [c.value for c in register["H"][1:]]
    assert sorted(titles) == sorted(NASTY)
    for cell in register["H"][1:]:
        assert cell.data_type == "s"
    with zipfile.ZipFile("review.zip") as archive:
        name = next(n for n in archive.namelist() if n.endswith("register.csv"))
        rows = list(csv.reader(io.StringIO(archive.read(name).decode())))
    titles = [row[7] for row in rows[1:]]
    assert all(t.startswith("'") for t in titles)
    assert sorted(t[1:] for t in titles) == sorted(NASTY)


def test_export_never_leaves_a_partial_file(ok: Run, run: Run, demo: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    Path("review.json").write_text("the previous review")

    def broken(out: Any, *_: Any) -> None:
        out.write(b'{"meta": ')  # halfway through: the review is written as it is made
        raise OSError("disk full")

    monkeypatch.setattr("auditlog.reports.export.write_json", broken)
    failed = run("export", "--year", "2023", "--to", "review.json", "--force")
    assert failed.exit_code == 1  # one line
    assert failed.stderr == "auditlog: cannot write review.json: disk full\n"
    assert Path("review.json").read_text() == "the previous review"
    assert sorted(p.name for p in Path(".").iterdir() if p.name.startswith(".")) == []


def test_export_overwrites_nothing_without_force_and_never_a_store(ok: Run, run: Run,
                                                                   demo: None) -> None:
    Path("review.json").write_text("the previous review")
    refused = run("export", "--year", "2023", "--to", "review.json")
    assert refused.exit_code == 1 and "add --force" in refused.stderr
    assert Path("review.json").read_text() == "the previous review"
    ok("export", "--year", "2023", "--to", "review.json", "--force")
    assert Path("review.json").read_text().startswith("{")
    store = Path("auditlog.db").read_bytes()
    for args in (("--to", "auditlog.db", "--format", "json"),
                 ("--to", "auditlog.db", "--format", "json", "--force")):
        refused = run("export", "--year", "2023", *args)
        assert refused.exit_code == 1 and "store in use" in refused.stderr, refused
    ok("init", env={"AUDITLOG_DB": "other.db"})
    other = Path("other.db").read_bytes()
    refused = run("export", "--year", "2023", "--to", "other.db", "--format", "json", "--force")
    assert refused.exit_code == 1 and "holds an auditlog store" in refused.stderr
    assert Path("auditlog.db").read_bytes() == store and Path("other.db").read_bytes() == other


def test_format_comes_from_the_option_or_the_extension(ok: Run, run: Run, demo: None) -> None:
    assert export(ok, "review.data", "--format", "md").startswith(b"# Annual review 2023")
    assert export(ok, "review.html", "--lang", "en").startswith(b"<!DOCTYPE html>")
    for name, words in (("review.csv", "zip"), ("review.pdf", "--format")):
        refused = run("export", "--year", "2023", "--to", name)
        assert refused.exit_code == 1 and words in refused.stderr
        assert not Path(name).exists()
    assert run("export", "--year", "2023", "--to", "x.md", "--as-of", "2022-05-01").exit_code == 1


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_html_report_renders_in_a_real_browser(ok: Run, demo: None, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium (see .ci/run)")
        pytest.skip("chromium is not installed here")
    export(ok, "review.html")
    page = (tmp_path / "review.html").resolve()
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert dom.count('class="grade-chart"') >= 3  # Banyuwangi, Malang, Surabaya
    assert "<polyline" in dom
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console
    assert not re.search(r"(https?:)?//[^\"']*\.(js|css|png|woff)", page.read_text())


def test_the_workbook_holds_the_review_cell_for_cell_with_types(ok: Run, demo: None) -> None:
    """What the XLSX says is what the JSON says: text as text (never a formula), rupiah, counts
    and percentages as numbers, dates as dates, grade scores as numbers."""
    from openpyxl import load_workbook

    ok("grade", "record", "--pemda", "35.78", "--instrument", "RB", "--year", "2019",
       "--score", "65.5", "--on", "2020-03-01")

    review = json.loads(export(ok, "review.json"))
    book = load_workbook(io.BytesIO(export(ok, "review.xlsx")), read_only=True)
    assert book.sheetnames[0] == "Cover"  # the tests speak English
    scores = 0
    for section, sheet in zip(review["sections"].values(), book.worksheets[1:],
                              strict=True):
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0]) == [c["heading"] for c in section["columns"]]
        assert len(rows) == len(section["rows"]) + 1
        for row, expected in zip(rows[1:], section["rows"], strict=True):
            for cell, column in zip(row, section["columns"], strict=True):
                value = expected[column["key"]]
                if value is None or value == "":
                    assert cell is None
                elif column["key"] == "score":
                    assert isinstance(cell, int | float) and cell == float(value)
                    scores += 1
                elif column["kind"] == "date":
                    assert isinstance(cell, datetime) and cell.date().isoformat() == value
                elif column["kind"] in ("int", "rupiah", "pct"):
                    assert isinstance(cell, int | float) and cell == value
                else:
                    assert cell == value
    assert scores > 0  # the demo's grades have scores: the numeric path was taken
