"""Happy paths through the CLI: what each recording command prints and what it stores."""

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from auditlog.domain.events import FollowUpRecorded
from auditlog.store.app import Store

from conftest import Run


def as_json(text: str) -> Any:
    return json.loads(text)


def record(ok: Run, *extra: str, pemda: str = "35.73", title: str = "Temuan",
           received: str = "2023-03-01", recs: tuple[str, ...] = ("Rekomendasi",)) -> Any:
    args = ["finding", "record", "--pemda", pemda, "--title", title, "--received", received]
    for text in recs:
        args += ["-r", text]
    return as_json(ok(*args, *extra, "--format", "json").stdout)


# --- every recording command prints its object with "ref" --------------------------------------


def test_every_recording_command_prints_the_new_object_with_its_ref(ok: Run,
                                                                   tmp_path: Path) -> None:
    pemda = as_json(ok("pemda", "register", "35.73", "--format", "json").stdout)
    assert pemda == {"ref": "35.73", "pemda": "35.73", "name": "Kota Malang", "level": "kota"}
    other = as_json(ok("pemda", "register", "35.69", "--name", "Kabupaten Contoh", "--level",
                       "kabupaten", "--format", "json").stdout)
    assert (other["ref"], other["name"], other["level"]) == ("35.69", "Kabupaten Contoh",
                                                             "kabupaten")

    finding = record(ok, "--report", "700/012/ITDA/2023", "--code", "101", "--value",
                     "Rp12.150.000", "--opd", "Dinas Kesehatan", recs=("Setor", "Tertibkan"))
    assert finding["ref"] == "F-2023-0001"
    assert (finding["code"], finding["value"], finding["opd"]) == ("1.01.00", 12_150_000,
                                                                   "Dinas Kesehatan")
    assert [r["ref"] for r in finding["recommendations"]] == ["F-2023-0001.1", "F-2023-0001.2"]
    assert {r["status"] for r in finding["recommendations"]} == {"BD"}

    (tmp_path / "sts.pdf").write_bytes(b"%PDF slip")
    steps: list[tuple[tuple[str, ...], Any]] = [
        (("followup", "record", "F-2023-0001.1", "--on", "2023-04-01", "--action", "Setor",
          "--deposit", "5.000.000", "--evidence", "sts.pdf"),
         lambda d: d["recommendations"][0]["deposited"] == 5_000_000),
        (("followup", "review", "F-2023-0001.1", "--status", "S", "--on", "2023-04-02",
          "--reason", "Lunas"), lambda d: d["recommendations"][0]["status"] == "S"),
        (("followup", "reopen", "F-2023-0001.1", "--on", "2023-04-03", "--reason", "Palsu"),
         lambda d: d["recommendations"][0]["status"] == "BS"),
        (("followup", "extend", "F-2023-0001.2", "--due", "2023-12-31", "--on", "2023-04-03",
          "--reason", "Banjir"), lambda d: d["recommendations"][1]["due"] == "2023-12-31"),
        (("finding", "correct", "F-2023-0001", "--field", "opd", "--value", "Bappeda",
          "--reason", "Salah OPD"), lambda d: d["opd"] == "Bappeda"),
        (("finding", "correct", "F-2023-0001.2", "--field", "value", "--value", "Rp1.000",
          "--reason", "Nilai"), lambda d: d["recommendations"][1]["value"] == 1000),
        (("finding", "withdraw", "F-2023-0001", "--reason", "Tercatat ganda"),
         lambda d: d["withdrawn"] is True),
    ]
    for args, holds in steps:
        data = as_json(ok(*args, "--format", "json").stdout)
        typed = args[2]
        # A recommendation's command prints the recommendation, with its finding inside.
        assert data["ref"] == (typed if "." in typed else "F-2023-0001"), args
        assert holds(data.get("finding", data)), (args, data)

    grade = as_json(ok("grade", "record", "--pemda", "35.73", "--instrument", "sakip",
                       "--year", "2022", "--score", "80.01", "--on", "2023-12-20",
                       "--format", "json").stdout)
    assert grade["ref"] == "35.73/SAKIP/2022"
    assert (grade["grade"], grade["score"], grade["rule"]) == ("A", "80.01", "2021")
    corrected = as_json(ok("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP",
                           "--year", "2022", "--score", "80", "--correct", "--reason",
                           "Salah hitung", "--format", "json").stdout)
    assert corrected["ref"] == "35.73/SAKIP/2022"
    assert (corrected["grade"], corrected["score"]) == ("BB", "80")


def test_recording_commands_print_csv_and_a_table_line_too(ok: Run) -> None:
    ok("pemda", "register", "35.73")
    csv = ok("finding", "record", "--pemda", "35.73", "--title", "Kas", "--received",
             "2023-03-01", "-r", "Setor", "--format", "csv").stdout.splitlines()
    assert csv[0].split(",")[0] == "ref" and csv[1].startswith("F-2023-0001,35.73,")
    line = ok("finding", "record", "--pemda", "35.73", "--title", "Aset", "--received",
              "2023-03-01", "-r", "Catat").stdout
    assert line.startswith("recorded F-2023-0002: Aset") and "due 2023-04-30" in line


# --- input conventions -------------------------------------------------------------------------


def test_both_date_forms_record_the_same_day(ok: Run) -> None:
    ok("pemda", "register", "35.73")
    iso = record(ok, title="Satu", received="2023-07-26")
    day_first = record(ok, title="Dua", received="26/7/2023", recs=("A",))
    padded = record(ok, title="Tiga", received="26/07/2023", recs=("A",))
    for data in (iso, day_first, padded):
        assert data["received"] == "2023-07-26"
        assert data["recommendations"][0]["due"] == "2023-09-24"  # received + 60 days
    extended = as_json(ok("followup", "extend", "F-2023-0002.1", "--due", "1/10/2023", "--on",
                          "27/7/2023", "--reason", "x", "--format", "json").stdout)
    assert extended["due"] == "2023-10-01"
    assert extended["finding"]["recommendations"][0]["due"] == "2023-10-01"
    due = record(ok, "--due", "31/8/2023", "--issued", "2023-07-20", title="Empat",
                 received="2023-07-26")
    assert due["recommendations"][0]["due"] == "2023-08-31"
    assert due["issued"] == "2023-07-20"


@pytest.mark.parametrize("written", ["12150000", "12.150.000", "Rp12.150.000", "Rp 12.150.000"])
def test_every_rupiah_form_records_the_same_integer(ok: Run, written: str) -> None:
    ok("pemda", "register", "35.73")
    data = record(ok, "--value", written, "--rec-value", written)
    assert data["value"] == 12_150_000
    assert data["recommendations"][0]["value"] == 12_150_000
    after = as_json(ok("followup", "record", "F-2023-0001.1", "--on", "2023-04-01", "--action",
                       "Setor", "--deposit", written, "--format", "json").stdout)
    assert after["deposited"] == 12_150_000
    status = as_json(ok("status", "--format", "json").stdout)[0]
    assert (status["value_to_recover"], status["deposited"]) == (12_150_000, 12_150_000)


def test_deposits_add_up_and_never_close_a_recommendation(ok: Run) -> None:
    ok("pemda", "register", "35.73")
    record(ok, "--rec-value", "Rp12.150.000")
    for amount in ("7.500.000", "Rp4.650.000"):
        data = as_json(ok("followup", "record", "F-2023-0001.1", "--on", "2023-04-01",
                          "--action", "Setor", "--deposit", amount, "--format", "json").stdout)
    assert (data["ref"], data["deposited"]) == ("F-2023-0001.1", 12_150_000)
    assert data["followups"] == 2
    assert data["status"] == "BD"


# --- evidence ----------------------------------------------------------------------------------


def test_evidence_is_fingerprinted_with_sha256_and_its_name(ok: Run, tmp_path: Path,
                                                            isolated: Path) -> None:
    ok("pemda", "register", "35.73")
    record(ok)
    folder = tmp_path / "bukti"
    folder.mkdir()
    files = {"sk-iku.pdf": bytes(range(256)) * 4099, "sts.txt": b"STS-0412/2023\n",
             "kosong.txt": b""}
    for name, content in files.items():
        (folder / name).write_bytes(content)
    args = [a for name in files for a in ("--evidence", str(folder / name))]
    line = ok("followup", "record", "F-2023-0001.1", "--on", "2023-04-01", "--action",
              "Bukti", *args).stdout
    assert "F-2023-0001.1" in line
    store = Store(str(isolated))
    try:
        finding, _ = store.finding("F-2023-0001")
        (followup,) = [e for e in store.events_of(finding.id)
                       if isinstance(e, FollowUpRecorded)]
    finally:
        store.close()
    assert [(e.name, e.sha256, e.size) for e in followup.evidence] == [
        (name, hashlib.sha256(content).hexdigest(), len(content))
        for name, content in files.items()
    ]
    trail = as_json(ok("finding", "show", "F-2023-0001", "--format", "json").stdout)["trail"]
    detail = trail[-1]["detail"]
    for name, content in files.items():
        assert f"{name} sha256:{hashlib.sha256(content).hexdigest()[:12]}" in detail
    assert not (tmp_path / "sk-iku.pdf").exists()  # fingerprinted, never copied


# --- references --------------------------------------------------------------------------------


def test_references_are_sequential_per_year_of_receipt(ok: Run) -> None:
    ok("pemda", "register", "35.73")
    ok("pemda", "register", "35.78")
    received = ["2023-03-01", "2023-03-02", "2022-11-30", "1/1/2023", "2022-12-31",
                "2023-12-31", "2024-01-15"]
    refs = [record(ok, title=f"Temuan {i}", received=day, pemda=("35.73", "35.78")[i % 2])["ref"]
            for i, day in enumerate(received)]
    assert refs == ["F-2023-0001", "F-2023-0002", "F-2022-0001", "F-2023-0003", "F-2022-0002",
                    "F-2023-0004", "F-2024-0001"]
    listed = as_json(ok("finding", "list", "--format", "json").stdout)
    assert [f["ref"] for f in listed] == ["F-2022-0001", "F-2022-0002", "F-2023-0001",
                                          "F-2023-0002", "F-2023-0003", "F-2023-0004",
                                          "F-2024-0001"]
    # a withdrawn finding keeps its number: the next one does not reuse it
    ok("finding", "withdraw", "F-2023-0004", "--reason", "salah")
    assert record(ok, title="Baru", received="2023-06-01")["ref"] == "F-2023-0005"
    # references are typed in any case
    shown = as_json(ok("finding", "show", "f-2023-0002", "--format", "json").stdout)
    assert shown["ref"] == "F-2023-0002"


# --- status ------------------------------------------------------------------------------------


def test_status_json_is_one_object_per_pemda_with_the_promised_keys(ok: Run) -> None:
    ok("pemda", "register", "35.73")
    ok("pemda", "register", "35.10")
    record(ok, "--rec-value", "10.000.000", "--rec-value", "2.000.000", "--rec-value", "0",
           "--rec-value", "0", recs=("A", "B", "C", "D"), received="2023-03-01")
    ok("followup", "record", "F-2023-0001.1", "--on", "2023-04-01", "--action", "x",
       "--deposit", "10.000.000")
    ok("followup", "review", "F-2023-0001.1", "--status", "S", "--on", "2023-04-02",
       "--reason", "Lunas")
    ok("followup", "review", "F-2023-0001.2", "--status", "BS", "--on", "2023-04-02",
       "--reason", "Sebagian")
    ok("followup", "review", "F-2023-0001.3", "--status", "TDTL", "--on", "2023-04-02",
       "--reason", "Meninggal dunia")
    record(ok, title="Baru", received="2023-12-20")  # due 2024-02-18: not yet overdue
    for year, how in (("2020", ("--grade", "B")), ("2021", ("--grade", "BB")),
                      ("2022", ("--score", "80.01"))):
        ok("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP", "--year", year, *how,
           "--on", "2023-01-10")
    ok("grade", "record", "--pemda", "35.73", "--instrument", "RB", "--year", "2022",
       "--grade", "BB", "--on", "2023-01-10")

    report = as_json(ok("status", "--format", "json").stdout)
    assert isinstance(report, list)
    assert [row["pemda"] for row in report] == ["35.10", "35.73"]
    empty, malang = report
    for row in report:
        assert {"pemda", "name", "grades", "recommendations", "completion_pct",
                "overdue"} <= set(row)
    assert empty["name"] == "Kabupaten Banyuwangi"
    assert empty["grades"] == {}
    assert empty["recommendations"] == {"BD": 0, "BS": 0, "S": 0, "TDTL": 0}
    assert empty["overdue"] == 0
    assert malang["name"] == "Kota Malang"
    assert malang["grades"] == {
        "SAKIP": {"grade": "A", "score": "80.01", "year": 2022,
                  "previous": {"grade": "BB", "score": None, "year": 2021}},
        "RB": {"grade": "BB", "score": None, "year": 2022, "previous": None},
    }
    assert malang["recommendations"] == {"BD": 2, "BS": 1, "S": 1, "TDTL": 1}
    assert malang["completion_pct"] == 20.0  # 1 S of 5 recommendations
    assert malang["overdue"] == 2  # F-2023-0001.2 (BS) and .4 (BD), due 2023-04-30
    only = as_json(ok("status", "--pemda", "35.73", "--format", "json").stdout)
    assert only == [malang]


# --- finding list ------------------------------------------------------------------------------


@pytest.fixture
def register(ok: Run) -> None:
    ok("pemda", "register", "35.73")
    ok("pemda", "register", "35.78")
    record(ok, title="Kas", received="2023-03-01", recs=("A", "B"))  # F-2023-0001
    record(ok, title="Aset", received="2023-12-20", pemda="35.78")  # F-2023-0002, not due
    record(ok, title="Jalan", received="2023-01-10")  # F-2023-0003
    record(ok, title="Dobel", received="2023-01-10")  # F-2023-0004, withdrawn below
    ok("followup", "review", "F-2023-0001.1", "--status", "S", "--on", "2023-04-01",
       "--reason", "x")
    ok("followup", "review", "F-2023-0003.1", "--status", "TDTL", "--on", "2023-04-01",
       "--reason", "Force majeure")
    ok("followup", "review", "F-2023-0002.1", "--status", "BS", "--on", "2023-12-28",
       "--reason", "x")
    ok("finding", "withdraw", "F-2023-0004", "--reason", "tercatat ganda")


@pytest.mark.parametrize(
    ("filters", "refs"),
    [((), ["F-2023-0001", "F-2023-0002", "F-2023-0003"]),
     (("--pemda", "35.78"), ["F-2023-0002"]),
     (("--pemda", "35.73"), ["F-2023-0001", "F-2023-0003"]),
     (("--status", "S"), ["F-2023-0001"]),
     (("--status", "bd"), ["F-2023-0001"]),
     (("--status", "BS"), ["F-2023-0002"]),
     (("--status", "TDTL"), ["F-2023-0003"]),
     (("--overdue",), ["F-2023-0001"]),
     (("--pemda", "35.78", "--overdue"), []),
     (("--pemda", "35.73", "--status", "TDTL"), ["F-2023-0003"]),
     (("--status", "S", "--overdue"), ["F-2023-0001"]),
     (("--overdue", "--as-of", "2024-03-01"), ["F-2023-0001", "F-2023-0002"])],
)
def test_finding_list_filters(ok: Run, register: None, filters: tuple[str, ...],
                              refs: list[str]) -> None:
    listed = as_json(ok("finding", "list", *filters, "--format", "json").stdout)
    assert [f["ref"] for f in listed] == refs
    csv_rows = ok("finding", "list", *filters, "--format", "csv").stdout.splitlines()[1:]
    assert [row.split(",")[0] for row in csv_rows] == refs


# --- history -----------------------------------------------------------------------------------


def test_history_shows_who_recorded_each_event_and_both_times(ok: Run) -> None:
    ok("pemda", "register", "35.73", env={"AUDITLOG_NOW": "2023-01-02T08:00:00Z",
                                          "AUDITLOG_ACTOR": "siti"})
    ok("--actor", "budi", "finding", "record", "--pemda", "35.73", "--title", "Kas",
       "--received", "1/3/2023", "-r", "Setor", env={"AUDITLOG_NOW": "2023-03-02T09:15:00Z"})
    ok("followup", "review", "F-2023-0001.1", "--status", "S", "--on", "2023-05-02",
       "--reason", "Lunas", env={"AUDITLOG_NOW": "2023-05-03T10:30:00+07:00",
                                 "AUDITLOG_ACTOR": "Inspektur Pembantu II"})
    rows = as_json(ok("history", "--format", "json").stdout)
    assert [(r["event"], r["actor"], r["recorded_at"], r["effective_on"]) for r in rows] == [
        ("pemda.registered", "siti", "2023-01-02T08:00:00Z", "2023-01-02"),
        ("finding.recorded", "budi", "2023-03-02T09:15:00Z", "2023-03-01"),
        ("recommendation.reviewed", "Inspektur Pembantu II", "2023-05-03T03:30:00Z",
         "2023-05-02"),
    ]
    assert rows[-1]["subject"] == "F-2023-0001.1" and "Lunas" in rows[-1]["detail"]
    positions = [r["position"] for r in rows]
    assert positions == sorted(positions)
    table = ok("history", "--finding", "F-2023-0001").stdout
    for text in ("budi", "2023-03-02T09:15:00Z", "2023-03-01", "Inspektur Pembantu II",
                 "2023-05-03T03:30:00Z", "2023-05-02"):
        assert text in table
    assert "siti" not in table  # only the finding's own events


# --- codes, grades with both inputs, formats, rebuild ------------------------------------------


@pytest.mark.parametrize("written", ["101", "1.01.", "1.01.00", "1.01", "10100"])
def test_every_spelling_of_a_finding_code_is_stored_in_one_form(ok: Run, written: str) -> None:
    ok("pemda", "register", "35.73")
    assert record(ok, "--code", written)["code"] == "1.01.00"


def test_a_grade_with_an_agreeing_score_and_grade_is_recorded(ok: Run) -> None:
    ok("pemda", "register", "35.73")
    data = as_json(ok("grade", "record", "--pemda", "35.73", "--instrument", "RB", "--year",
                      "2021", "--score", "80.00", "--grade", "bb", "--format", "json").stdout)
    assert (data["grade"], data["score"], data["rule"]) == ("BB", "80.00", "2021")
    spip = as_json(ok("grade", "record", "--pemda", "35.73", "--instrument", "SPIP", "--year",
                      "2021", "--grade", "3", "--format", "json").stdout)
    assert (spip["grade"], spip["score"]) == ("3", None)


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "md"])
def test_every_reading_command_prints_every_format(ok: Run, fmt: str) -> None:
    ok("pemda", "register", "35.73")
    record(ok, "--value", "Rp12.150.000", title="Kas")
    ok("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP", "--year", "2022",
       "--grade", "A")
    for args in (("status",), ("pemda", "list"), ("finding", "list"), ("grade", "list"),
                 ("history",), ("finding", "show", "F-2023-0001")):
        text = ok(*args, "--format", fmt).stdout
        assert "35.73" in text, (args, fmt)
        if fmt == "json":
            json.loads(text)
        elif fmt == "md":
            assert "|" in text
        elif fmt == "csv":
            assert "," in text.splitlines()[0]


def test_rebuild_recreates_the_projections_from_every_event(ok: Run, isolated: Path) -> None:
    ok("pemda", "register", "35.73")
    record(ok, "--rec-value", "5.000.000", "--rec-value", "0", recs=("A", "B"))
    ok("followup", "review", "F-2023-0001.1", "--status", "S", "--on", "2023-04-01",
       "--reason", "x")
    before = ok("status", "--format", "json").stdout
    store = Store(str(isolated))
    try:
        events = store.max_position()
    finally:
        store.close()
    assert ok("rebuild").stdout.strip() == f"rebuilt the projections from {events} events"
    assert ok("status", "--format", "json").stdout == before


def test_a_blank_actor_means_the_login_name_not_unknown(ok: Run, monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    monkeypatch.setenv("USER", "siti")
    monkeypatch.setattr("getpass.getuser", lambda: "siti")
    ok("--actor", "   ", "pemda", "register", "35.73")
    monkeypatch.setenv("AUDITLOG_ACTOR", "  ")
    ok("pemda", "register", "35.78")
    actors = {e["actor"] for e in json.loads(ok("history", "--format", "json").stdout)}
    assert actors == {"siti"}


def test_a_reader_that_closes_the_pipe_gets_no_error(ok: Run, isolated: Path) -> None:
    """`auditlog history | head -1`: the reader going away is not a refusal (it was
    'auditlog: Broken pipe' and exit 1)."""
    import subprocess
    import sys

    ok("demo")
    process = subprocess.Popen(
        [sys.executable, "-c", "from auditlog.cli.main import main; main()", "--db",
         str(isolated), "history"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before it writes a thing
    error = process.stderr.read()
    assert process.wait(timeout=60) == 0
    assert error == b""


def test_history_refuses_a_pemda_that_is_not_registered(ok: Run, run: Run) -> None:
    ok("pemda", "register", "35.73")
    result = run("history", "--pemda", "99.99")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == ("auditlog: pemda 99.99 is not registered: 'auditlog pemda list' "
                             "shows the registered ones\n")
    assert "35.73" in ok("history", "--pemda", "35.73").stdout
