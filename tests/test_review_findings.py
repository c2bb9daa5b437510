"""Defects a review found by using the tool as an auditor would; each test failed before."""

import json
import sqlite3
from pathlib import Path

import pytest

from conftest import Run


def test_a_csv_folder_export_never_touches_files_it_did_not_write(ok: Run, run: Run) -> None:
    ok("demo")
    folder = Path("inspektorat")
    folder.mkdir()
    (folder / "notes.txt").write_text("catatan rapat")
    refused = run("export", "--year", "2023", "--format", "csv", "--to", "inspektorat")
    assert refused.exit_code == 1 and "other files" in refused.stderr
    assert (folder / "notes.txt").read_text() == "catatan rapat"
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    for target in (".", ".."):
        assert run("export", "--year", "2023", "--format", "csv", "--to", target).exit_code == 1
    assert Path("auditlog.db").exists()
    ok("export", "--year", "2023", "--format", "csv", "--to", "review")
    first = {p.name: p.read_bytes() for p in Path("review").iterdir()}
    refused = run("export", "--year", "2023", "--format", "csv", "--to", "review")
    assert refused.exit_code == 1 and "--force" in refused.stderr
    ok("export", "--year", "2023", "--format", "csv", "--to", "review", "--force")
    assert {p.name: p.read_bytes() for p in Path("review").iterdir()} == first
    Path("folder.md").mkdir()
    refused = run("export", "--year", "2023", "--to", "folder.md")
    assert refused.exit_code == 1 and "is a folder" in refused.stderr


def test_a_review_of_the_current_year_is_as_of_today(ok: Run, run: Run) -> None:
    ok("pemda", "register", "35.73")
    ok("finding", "record", "--pemda", "35.73", "--title", "Inventarisasi", "--received",
       "2024-01-02", "-r", "Inventarisasi aset")
    ok("export", "--year", "2024", "--to", "r.json")
    data = json.loads(Path("r.json").read_text())
    assert data["meta"]["as_of"] == "2024-01-15"  # AUDITLOG_NOW, not 31 December
    assert data["sections"]["aging"]["rows"][0]["days_overdue"] == 0
    assert run("export", "--year", "2025", "--to", "r.json").exit_code == 1


def test_a_recommendation_reopened_in_the_year_is_in_its_review(ok: Run) -> None:
    at = {"AUDITLOG_NOW": "2022-06-01T09:00:00Z"}
    ok("pemda", "register", "35.73", env=at)
    ok("finding", "record", "--pemda", "35.73", "--title", "Kas", "--received", "2022-03-01",
       "-r", "Setor", "--rec-value", "1.000.000", env=at)
    ok("followup", "review", "F-2022-0001.1", "--status", "S", "--on", "2022-04-02",
       "--reason", "lunas", env=at)
    ok("followup", "reopen", "F-2022-0001.1", "--on", "2023-05-01", "--reason", "bukti palsu")
    ok("export", "--year", "2023", "--to", "r.json")
    sections = json.loads(Path("r.json").read_text())["sections"]
    assert [r["ref"] for r in sections["register"]["rows"]] == ["F-2022-0001.1"]
    assert sections["matrix_pemda"]["rows"][-1]["total"] == 1
    assert sections["summary"]["rows"][-1]["total"] == 1


def test_known_at_alone_judges_overdue_on_that_date_not_on_the_clock(ok: Run) -> None:
    at = {"AUDITLOG_NOW": "2022-03-07T09:00:00Z"}
    ok("pemda", "register", "35.78", env=at)
    ok("finding", "record", "--pemda", "35.78", "--title", "Honor", "--received", "2022-03-04",
       "-r", "Setor", env=at)
    answers = {ok("status", "--known-at", "2022-03-08", "--format", "json",
                  env={"AUDITLOG_NOW": now}).stdout
               for now in ("2022-04-01T10:00:00Z", "2024-01-01T10:00:00Z")}
    assert len(answers) == 1
    assert json.loads(answers.pop())[0]["overdue"] == 0


def test_a_date_alone_as_known_at_means_the_end_of_that_day(ok: Run) -> None:
    at = {"AUDITLOG_NOW": "2022-03-08T15:00:00Z"}
    ok("pemda", "register", "35.78", env=at)
    assert "35.78" in ok("pemda", "list").stdout
    listed = ok("status", "--known-at", "2022-03-08", "--format", "json").stdout
    assert json.loads(listed)[0]["pemda"] == "35.78"


@pytest.mark.parametrize("command", [("status",), ("verify",), ("pemda", "list")])
def test_a_database_of_something_else_is_not_a_store(run: Run, command: tuple[str, ...]) -> None:
    db = sqlite3.connect("other.db")
    db.execute("CREATE TABLE pegawai (nip TEXT)")
    db.commit()
    db.close()
    before = Path("other.db").read_bytes()
    refused = run("--db", "other.db", *command)
    assert refused.exit_code == 1 and "not an auditlog store" in refused.stderr
    assert Path("other.db").read_bytes() == before


@pytest.mark.parametrize("target", ["", ":memory:", "somedir"])
def test_a_db_that_cannot_be_a_store_is_refused_in_one_line(run: Run, target: str) -> None:
    Path("somedir").mkdir()
    refused = run("--db", target, "pemda", "register", "35.73")
    assert refused.exit_code == 1, refused
    assert len(refused.stderr.strip().splitlines()) == 1
    assert list(Path("somedir").iterdir()) == []


def test_history_as_of_shows_what_the_state_on_that_date_rests_on(ok: Run) -> None:
    at = {"AUDITLOG_NOW": "2023-02-01T09:00:00Z"}
    ok("pemda", "register", "35.73", env=at)
    ok("finding", "record", "--pemda", "35.73", "--title", "Aset", "--received", "30/1/2023",
       "-r", "Inventarisasi", env=at)
    ok("finding", "correct", "F-2023-0001", "--field", "received", "--value", "10/1/2023",
       "--reason", "agenda surat")
    assert "F-2023-0001" in ok("finding", "list", "--as-of", "2023-01-20").stdout
    shown = ok("history", "--to", "2023-01-20").stdout
    assert "finding.recorded" in shown and "finding.corrected" in shown
    ok("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP", "--year", "2022",
       "--grade", "A", "--on", "2023-06-30")
    ok("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP", "--year", "2022",
       "--grade", "BB", "--correct", "--reason", "salah baca")
    status = json.loads(ok("status", "--as-of", "2023-07-01", "--format", "json").stdout)
    assert status[0]["grades"]["SAKIP"]["grade"] == "BB"
    assert "grade.corrected" in ok("history", "--as-of", "2023-07-01").stdout
    assert "grade.recorded" not in ok("history", "--as-of", "2023-06-29").stdout


def test_listings_in_csv_never_carry_a_live_formula(ok: Run) -> None:
    ok("pemda", "register", "35.73")
    ok("finding", "record", "--pemda", "35.73", "--title", "=HYPERLINK(\"x\")", "--received",
       "2023-03-01", "-r", "Setor")
    listed = ok("finding", "list", "--format", "csv").stdout
    assert "'=HYPERLINK" in listed and ",=HYPERLINK" not in listed


def test_verify_projections_catches_edited_read_models(ok: Run, run: Run) -> None:
    ok("demo")
    assert "projections: equal" in ok("verify", "--projections").stdout
    db = sqlite3.connect("auditlog.db")
    db.execute("UPDATE projection_recommendation SET status = 'S'")
    db.commit()
    db.close()
    assert ok("verify").exit_code == 0  # the log itself is intact
    caught = run("verify", "--projections")
    assert caught.exit_code == 3
    assert "projections differ" in caught.stderr and "rebuild" in caught.stderr
    ok("rebuild")
    assert "projections: equal" in ok("verify", "--projections").stdout


def test_a_store_locked_past_the_timeout_is_busy_not_a_traceback(ok: Run, run: Run) -> None:
    ok("pemda", "register", "12")  # leaves an event the projection has not caught up with
    holder = sqlite3.connect("auditlog.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another auditor's write in progress
    try:
        busy = run("status", env={"AUDITLOG_LOCK_TIMEOUT": "1"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert busy.exit_code == 4, busy
    assert len(busy.stderr.strip().splitlines()) == 1 and "busy" in busy.stderr
    assert "Traceback" not in busy.stderr


def test_an_export_known_at_alone_does_not_depend_on_the_clock(ok: Run) -> None:
    at = {"AUDITLOG_NOW": "2023-08-01T09:00:00Z"}
    ok("pemda", "register", "35.73", env=at)
    ok("finding", "record", "--pemda", "35.73", "--title", "Kas", "--received", "2023-03-01",
       "-r", "Setor", env=at)
    for name, now in (("a.json", "2023-10-06T10:00:00Z"), ("b.json", "2023-11-20T10:00:00Z")):
        ok("export", "--year", "2023", "--to", name, "--known-at", "2023-09-01",
           env={"AUDITLOG_NOW": now})
    assert Path("a.json").read_bytes() == Path("b.json").read_bytes()
    assert json.loads(Path("a.json").read_text())["meta"]["as_of"] == "2023-09-01"


def _counts(name: str) -> dict[str, int]:
    rows = json.loads(Path(name).read_text())["sections"]["activity_counts"]["rows"]
    return {row["activity"]: row["count"] for row in rows}


def test_the_activity_of_the_year_agrees_with_the_register(ok: Run) -> None:
    at = {"AUDITLOG_NOW": "2023-02-01T09:00:00Z"}
    ok("pemda", "register", "35.73", env=at)
    ok("finding", "record", "--pemda", "35.73", "--title", "Kas", "--received", "2023-01-10",
       "-r", "Setor", env=at)
    ok("finding", "record", "--pemda", "35.73", "--title", "Ganda", "--received", "2023-01-12",
       "-r", "Setor", env=at)
    ok("finding", "correct", "F-2023-0001", "--field", "received", "--value", "2022-12-20",
       "--reason", "agenda surat", env=at)
    ok("finding", "withdraw", "F-2023-0002", "--reason", "tercatat ganda", env=at)
    ok("export", "--year", "2023", "--to", "r2023.json", "--lang", "en")
    ok("export", "--year", "2022", "--to", "r2022.json", "--lang", "en")
    this_year, last_year = _counts("r2023.json"), _counts("r2022.json")
    assert this_year["findings recorded"] == 0  # one moved to 2022, one never existed
    assert this_year["withdrawals"] == 1
    assert last_year["findings recorded"] == 1
    register = json.loads(Path("r2022.json").read_text())["sections"]["register"]["rows"]
    assert [r["ref"] for r in register] == ["F-2023-0001.1"]


def test_a_grade_correction_keeps_its_causes_unless_given_again(ok: Run) -> None:
    ok("pemda", "register", "35.73")
    ok("finding", "record", "--pemda", "35.73", "--title", "IKU", "--received", "2023-01-09",
       "-r", "Selaraskan IKU")
    ok("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP", "--year", "2022",
       "--score", "82", "--on", "2023-06-30", "--because", "F-2023-0001.1")
    ok("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP", "--year", "2022",
       "--score", "79", "--correct", "--reason", "salah hitung")
    grades = json.loads(ok("grade", "list", "--format", "json").stdout)
    assert (grades[0]["grade"], grades[0]["because"]) == ("BB", ["F-2023-0001.1"])


@pytest.mark.parametrize("moment", ["0001-01-01", "9999-12-31T23:59:59-12:00",
                                    "0001-01-01T00:00+14:00"])
def test_extreme_known_at_is_refused_in_one_line(ok: Run, run: Run, moment: str) -> None:
    ok("demo")
    for command in (("status",), ("replay", "--to", "2023-01-01"),
                    ("export", "--year", "2023", "--to", "x.json")):
        refused = run(*command, "--known-at", moment)
        assert refused.exit_code == 1, refused
        assert len(refused.stderr.strip().splitlines()) == 1
