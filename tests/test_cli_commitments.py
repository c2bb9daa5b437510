"""The commitment group from the command line: recording, realisations, reviews, listings,
time travel, and every refusal (one line, exit 1, nothing written)."""

import hashlib
import json
from pathlib import Path

import pytest

from store_state import assert_one_line_refusal, observe, other_files, settle

from conftest import Run

STUNTING = ("commitment", "record", "--pemda", "35.73", "--opd", "Dinas Kesehatan",
            "--theme", "stunting", "--text", "Menurunkan prevalensi stunting",
            "--owner", "Sekretaris Dinas Kesehatan", "--indicator", "prevalensi stunting",
            "--unit", "%", "--baseline", "21.5", "--target", "14", "--by", "31/12/2023",
            "--on", "2023-08-01", "--answers", "F-2023-0001.1")


@pytest.fixture
def story(ok: Run, isolated: Path) -> Path:
    """Kota Malang with a catatan, a measured commitment answering it with a realisation, and
    an unmeasured one; Surabaya registered without any."""
    then = {"AUDITLOG_NOW": "2023-07-26T09:00:00Z"}  # transaction time only goes forward
    ok("pemda", "register", "35.73", env=then)
    ok("pemda", "register", "35.78", env=then)
    ok("finding", "record", "--pemda", "35.73", "--title", "Komitmen belum dituangkan",
       "--received", "2023-07-26", "-r", "Susun komitmen stunting", "-r", "Susun komitmen "
       "investasi", env=then)
    ok("finding", "record", "--pemda", "35.78", "--title", "Target belum berorientasi hasil",
       "--received", "2023-07-26", "-r", "Rumuskan ulang target", env=then)
    ok(*STUNTING, env={"AUDITLOG_NOW": "2023-08-01T09:00:00Z"})
    ok("commitment", "progress", "K-2023-0001", "--on", "2023-12-31", "--value", "17.75",
       env={"AUDITLOG_NOW": "2024-01-05T09:00:00Z"})
    ok("commitment", "record", "--pemda", "35.73", "--opd", "DPMPTSP", "--theme", "investasi",
       "--text", "Perizinan investasi daring", "--owner", "Sekretaris DPMPTSP", "--by",
       "2024-06-30", "--on", "2023-08-02")
    ok("status")
    return isolated


def test_record_prints_the_reference_and_json_has_it(story: Path, ok: Run) -> None:
    out = ok("commitment", "record", "--pemda", "35.73", "--opd", "Diskominfo", "--theme",
             "digitalisasi-pelayanan", "--text", "Layanan daring", "--owner",
             "Sekretaris Diskominfo", "--by", "2024-12-31", "--on", "2023-09-01",
             "--format", "json").stdout
    data = json.loads(out)
    assert data["ref"] == "K-2023-0003"
    assert data["theme_name"] == "digitalisasi pelayanan publik"
    assert data["status"] == "berjalan" and data["progress_pct"] is None


def test_progress_and_review_show_in_show_and_list(story: Path, ok: Run) -> None:
    shown = json.loads(ok("commitment", "show", "K-2023-0001", "--format", "json").stdout)
    assert shown["progress_pct"] == 50.0 and shown["direction"] == "turun"
    assert shown["answers"] == ["F-2023-0001.1"]
    assert [t["event"] for t in shown["trail"]] == ["commitment.recorded",
                                                   "commitment.progress_recorded"]
    ok("commitment", "review", "K-2023-0001", "--status", "tercapai", "--reason",
       "target terlampaui", "--on", "2024-01-10")
    listed = json.loads(ok("commitment", "list", "--status", "tercapai", "--format",
                           "json").stdout)
    assert [c["ref"] for c in listed] == ["K-2023-0001"]
    ok("commitment", "reopen", "K-2023-0001", "--reason", "data BPS dikoreksi", "--on",
       "2024-01-11")
    assert json.loads(ok("commitment", "show", "K-2023-0001", "--format",
                         "json").stdout)["status"] == "berjalan"


def test_list_filters(story: Path, ok: Run) -> None:
    def refs(*args: str) -> list[str]:
        out = ok("commitment", "list", *args, "--format", "json").stdout
        return [c["ref"] for c in json.loads(out)]

    assert refs() == ["K-2023-0001", "K-2023-0002"]
    assert refs("--theme", "investasi") == ["K-2023-0002"]
    assert refs("--opd", "dinas  kesehatan") == ["K-2023-0001"]
    assert refs("--owner", "Sekretaris DPMPTSP") == ["K-2023-0002"]
    assert refs("--pemda", "35.78") == []
    # on 2024-01-15 the stunting commitment (by 2023-12-31) is open and overdue
    assert refs("--overdue") == ["K-2023-0001"]
    assert refs("--overdue", "--as-of", "2023-12-31") == []
    assert refs("--status", "berjalan") == ["K-2023-0001", "K-2023-0002"]


def test_as_of_and_known_at(story: Path, ok: Run, run: Run) -> None:
    before = json.loads(ok("commitment", "list", "--as-of", "2023-08-01", "--format",
                           "json").stdout)
    assert [c["ref"] for c in before] == ["K-2023-0001"]
    assert before[0]["progress_pct"] is None  # the realisation is of 2023-12-31
    known = json.loads(ok("commitment", "show", "K-2023-0001", "--known-at",
                          "2023-12-01", "--format", "json").stdout)
    assert known["realisations"] == []
    assert_one_line_refusal(run("commitment", "show", "K-2023-0002", "--as-of", "2023-08-01"),
                            "K-2023-0002", "made after 2023-08-01")


def test_status_has_commitments_by_theme(story: Path, ok: Run) -> None:
    rows = json.loads(ok("status", "--format", "json").stdout)
    malang = next(r for r in rows if r["pemda"] == "35.73")
    assert malang["commitments"] == {
        "investasi": {"count": 1, "achieved": 0, "overdue": 0, "measured": 0,
                      "mean_progress_pct": None},
        "stunting": {"count": 1, "achieved": 0, "overdue": 1, "measured": 1,
                     "mean_progress_pct": 50.0},
    }
    # the keys of CLI.md are kept
    assert {"pemda", "name", "grades", "recommendations", "completion_pct",
            "overdue"} <= set(malang)
    table = ok("status").stdout
    assert "commitments by theme:" in table and "50.00" in table


def test_themes_added_once_are_usable(story: Path, ok: Run) -> None:
    ok("commitment", "theme", "add", "ketahanan-pangan", "--name", "ketahanan pangan")
    ok("commitment", "record", "--pemda", "35.73", "--opd", "Dinas Pertanian", "--theme",
       "ketahanan-pangan", "--text", "Cadangan pangan", "--owner", "Sekretaris Distan",
       "--by", "2024-12-31", "--on", "2023-09-01")
    listed = ok("commitment", "theme", "list", "--format", "csv").stdout.splitlines()
    assert listed[-1] == "ketahanan-pangan,ketahanan pangan" and len(listed) == 6


def test_evidence_is_fingerprinted(story: Path, ok: Run) -> None:
    Path("sk.pdf").write_bytes(b"SK rencana aksi")
    ok("commitment", "progress", "K-2023-0002", "--on", "2023-10-01", "--note",
       "SK ditetapkan", "--evidence", "sk.pdf")
    shown = json.loads(ok("commitment", "show", "K-2023-0002", "--format", "json").stdout)
    assert shown["realisations"][0]["evidence"] == [
        {"name": "sk.pdf", "size": 15, "sha256": hashlib.sha256(b"SK rencana aksi").hexdigest()}]


def test_history_names_commitment_events(story: Path, ok: Run) -> None:
    out = ok("history", "--pemda", "35.73", "--format", "csv").stdout
    assert "commitment.recorded,K-2023-0001," in out
    assert "commitment.progress_recorded,K-2023-0001,realised 17.75" in out
    assert "reference_allocated" not in out


REFUSALS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("unknown-theme", ("commitment", "record", "--pemda", "35.73", "--opd", "x", "--theme",
                       "pariwisata", "--text", "t", "--owner", "o", "--by", "2024-12-31",
                       "--on", "2023-08-01"),
     ("'pariwisata'", "kemiskinan-ekstrem, digitalisasi-pelayanan, stunting, investasi")),
    ("target-equals-baseline", ("commitment", "record", "--pemda", "35.73", "--opd", "x",
                                "--theme", "stunting", "--text", "t", "--owner", "o", "--by",
                                "2024-12-31", "--indicator", "i", "--unit", "%",
                                "--baseline", "14", "--target", "14,0"),
     ("equals the baseline", "above or below")),
    ("indicator-half-given", ("commitment", "record", "--pemda", "35.73", "--opd", "x",
                              "--theme", "stunting", "--text", "t", "--owner", "o", "--by",
                              "2024-12-31", "--baseline", "14"),
     ("--indicator, --unit, --target",)),
    ("answers-missing", ("commitment", "record", "--pemda", "35.73", "--opd", "x", "--theme",
                         "stunting", "--text", "t", "--owner", "o", "--by", "2024-12-31",
                         "--answers", "F-2023-0009"), ("F-2023-0009", "finding list")),
    ("answers-missing-recommendation", ("commitment", "record", "--pemda", "35.73", "--opd",
                                        "x", "--theme", "stunting", "--text", "t", "--owner",
                                        "o", "--by", "2024-12-31", "--answers",
                                        "F-2023-0001.7"), ("no recommendation 7",)),
    ("answers-other-pemda", ("commitment", "record", "--pemda", "35.73", "--opd", "x",
                             "--theme", "stunting", "--text", "t", "--owner", "o", "--by",
                             "2024-12-31", "--answers", "F-2023-0002"), ("35.78", "own pemda")),
    ("answers-not-a-ref", ("commitment", "record", "--pemda", "35.73", "--opd", "x",
                           "--theme", "stunting", "--text", "t", "--owner", "o", "--by",
                           "2024-12-31", "--answers", "K-2023-0001"),
     ("'K-2023-0001'", "F-2023-0007")),
    ("unregistered-pemda", ("commitment", "record", "--pemda", "35.10", "--opd", "x",
                            "--theme", "stunting", "--text", "t", "--owner", "o", "--by",
                            "2024-12-31"), ("35.10", "pemda register")),
    ("duplicate", (*STUNTING[:-2], "--on", "2023-08-01"), ("already recorded as K-2023-0001",)),
    ("deadline-before-made", ("commitment", "record", "--pemda", "35.73", "--opd", "x",
                              "--theme", "stunting", "--text", "t", "--owner", "o", "--by",
                              "2023-07-01", "--on", "2023-08-01"), ("--by 2023-07-01",)),
    ("empty-owner", ("commitment", "record", "--pemda", "35.73", "--opd", "x", "--theme",
                     "stunting", "--text", "t", "--owner", " ", "--by", "2024-12-31"),
     ("--owner",)),
    ("value-not-a-number", ("commitment", "progress", "K-2023-0001", "--on", "2024-01-01",
                            "--value", "1e3"), ("'1e3'", "12,5")),
    ("progress-before-commitment", ("commitment", "progress", "K-2023-0001", "--on",
                                    "2023-07-31", "--value", "20"),
     ("2023-07-31", "2023-08-01", "on or after")),
    ("progress-without-value", ("commitment", "progress", "K-2023-0001", "--on", "2024-01-01",
                                "--note", "x"), ("--value X",)),
    ("progress-unknown-ref", ("commitment", "progress", "K-2023-0099", "--on", "2024-01-01",
                              "--value", "3"), ("K-2023-0099", "commitment list")),
    ("progress-missing-evidence", ("commitment", "progress", "K-2023-0001", "--on",
                                   "2024-01-01", "--value", "3", "--evidence", "nope.pdf"),
     ("nope.pdf", "existing file")),
    ("progress-future", ("commitment", "progress", "K-2023-0001", "--on", "2025-01-01",
                         "--value", "3"), ("future",)),
    ("review-without-reason", ("commitment", "review", "K-2023-0001", "--status", "tercapai"),
     ("--reason",)),
    ("review-bad-status", ("commitment", "review", "K-2023-0001", "--status", "selesai",
                           "--reason", "x"), ("'selesai'", "tercapai, sebagian")),
    ("review-before-commitment", ("commitment", "review", "K-2023-0001", "--status",
                                  "sebagian", "--reason", "x", "--on", "2023-07-01"),
     ("2023-07-01", "on or after 2023-08-01")),
    ("reopen-open", ("commitment", "reopen", "K-2023-0001", "--reason", "x"),
     ("not closed",)),
    ("list-unknown-theme", ("commitment", "list", "--theme", "x"), ("'x'", "stunting")),
    ("list-bad-status", ("commitment", "list", "--status", "BS"), ("'BS'", "berjalan")),
    ("list-unregistered-pemda", ("commitment", "list", "--pemda", "35.10"), ("35.10",)),
    ("show-bad-ref", ("commitment", "show", "F-2023-0001"), ("'F-2023-0001'", "K-2023-0001")),
    ("theme-bad-code", ("commitment", "theme", "add", "Pariwisata Daerah", "--name", "x"),
     ("'Pariwisata Daerah'", "hyphens")),
    ("theme-default-again", ("commitment", "theme", "add", "stunting", "--name", "stunting"),
     ("never renamed",)),
    ("theme-without-name", ("commitment", "theme", "add", "pariwisata"), ("--name",)),
]


@pytest.mark.parametrize("args,fragments", [(a, f) for _, a, f in REFUSALS],
                         ids=[i for i, _, _ in REFUSALS])
def test_every_refusal_is_one_line_and_writes_nothing(story: Path, run: Run,
                                                       args: tuple[str, ...],
                                                       fragments: tuple[str, ...]) -> None:
    before, files = settle(story), other_files(story)
    assert_one_line_refusal(run(*args), *fragments)
    assert observe(story) == before
    assert other_files(story) == files


def test_review_out_of_order_is_refused_and_writes_nothing(story: Path, ok: Run,
                                                           run: Run) -> None:
    ok("commitment", "review", "K-2023-0001", "--status", "sebagian", "--reason", "separuh",
       "--on", "2024-01-10")
    before = settle(story)
    assert_one_line_refusal(run("commitment", "review", "K-2023-0001", "--status",
                                "tercapai", "--reason", "x", "--on", "2024-01-09"),
                            "before the latest status change", "2024-01-10")
    ok("commitment", "review", "K-2023-0001", "--status", "batal", "--reason", "dihentikan",
       "--on", "2024-01-10")
    assert_one_line_refusal(run("commitment", "review", "K-2023-0001", "--status",
                                "tercapai", "--reason", "x"), "closed", "commitment reopen")
    assert observe(story).events == before.events + 1


def test_recording_on_a_missing_store_refused_leaves_no_store(run: Run, isolated: Path) -> None:
    assert_one_line_refusal(run("commitment", "record", "--pemda", "35.73", "--opd", "x",
                                "--theme", "stunting", "--text", "t", "--owner", "o", "--by",
                                "2024-12-31"), "35.73")
    assert not isolated.exists()


def test_the_demo_follows_the_catatan_to_commitments_and_on_to_the_grade(ok: Run) -> None:
    ok("demo")
    commitments = json.loads(ok("commitment", "list", "--pemda", "35.73", "--format",
                                "json").stdout)
    assert [c["theme"] for c in commitments] == ["kemiskinan-ekstrem", "digitalisasi-pelayanan",
                                                 "stunting", "investasi"]
    assert all(c["owner"].startswith("Sekretaris ") for c in commitments)
    catatan = json.loads(ok("finding", "show", "F-2023-0004", "--format", "json").stdout)
    assert catatan["title"] == "Komitmen RB Tematik belum dituangkan dalam rencana aksi OPD"
    assert [c["answers"] for c in commitments] == [[r["ref"]] for r in
                                                   catatan["recommendations"]]
    grades = json.loads(ok("grade", "list", "--pemda", "35.73", "--format", "json").stdout)
    rb_2023 = next(g for g in grades if (g["instrument"], g["year"]) == ("RB", 2023))
    assert rb_2023["because"] == [r["ref"] for r in catatan["recommendations"]]
    # with the clock at 15 January 2024, only what happened by then is in the story
    assert all(r["on"] <= "2024-01-15" for c in commitments for r in c["realisations"])
    assert [c["status"] for c in commitments] == ["berjalan", "tercapai", "berjalan",
                                                  "sebagian"]


def test_the_demo_run_later_has_the_realisations_of_2024(ok: Run) -> None:
    ok("demo", env={"AUDITLOG_NOW": "2025-06-01T09:00:00Z"})
    commitments = json.loads(ok("commitment", "list", "--format", "json").stdout)
    assert [c["status"] for c in commitments] == ["sebagian", "tercapai", "tercapai",
                                                  "sebagian"]
    assert commitments[2]["progress_pct"] == 105.0  # stunting 18.0 -> 13.8 against 14.0


def _review_sections(ok: Run, *args: str) -> dict[str, list[dict[str, object]]]:
    name = f"review-{len(list(Path().glob('review-*.json')))}.json"
    ok("export", "--year", "2023", "--to", name, *args)
    data = json.loads(Path(name).read_text())
    return {key: s["rows"] for key, s in data["sections"].items()}


def test_the_annual_review_accounts_for_commitments_by_theme_and_owner(ok: Run) -> None:
    ok("demo")
    sections = _review_sections(ok)
    themes = {r["theme"]: r for r in sections["commitments"]}
    assert themes["investasi"] == {
        "pemda": "35.73", "name": "Kota Malang", "theme": "investasi",
        "theme_name": "pertumbuhan investasi", "count": 1, "achieved": 0, "overdue": 0,
        "measured": 1, "mean_progress_pct": 64.29}
    owners = {r["owner"]: r for r in sections["commitment_owners"]}
    assert set(owners) == {"Sekretaris Dinas Sosial", "Sekretaris Dinas Kesehatan",
                           "Sekretaris DPMPTSP", "Sekretaris Dinas Komunikasi dan Informatika"}
    assert owners["Sekretaris Dinas Kesehatan"]["mean_progress_pct"] == 37.5
    # as of 31 December 2023: the tercapai of 10 January 2024 is not yet there
    listed = {r["ref"]: r for r in sections["commitment_list"]}
    assert listed["K-2023-0002"]["status"] == "berjalan"
    assert listed["K-2023-0003"]["realised"] == "16.5"


def test_the_commitment_sections_reproduce_with_known_at(ok: Run) -> None:
    ok("demo")
    before = _review_sections(ok, "--as-of", "2024-06-30", "--known-at",
                              "2024-01-15T09:00:00Z")
    ok("commitment", "progress", "K-2023-0003", "--on", "2024-01-15", "--value", "15",
       env={"AUDITLOG_NOW": "2024-01-16T09:00:00Z"})
    again = _review_sections(ok, "--as-of", "2024-06-30", "--known-at",
                             "2024-01-15T09:00:00Z")
    assert again["commitment_list"] == before["commitment_list"]
    now = _review_sections(ok, "--as-of", "2024-06-30")
    stunting = next(r for r in now["commitment_list"] if r["ref"] == "K-2023-0003")
    assert stunting["realised"] == "15" and stunting["progress_pct"] == 75.0
