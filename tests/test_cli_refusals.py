"""Every refusal: exit 1, one line on stderr naming the problem and the accepted form, nothing
written. Reading commands on a missing store create nothing; usage errors exit 2.
"""

from pathlib import Path

import pytest

from store_state import assert_one_line_refusal, observe, other_files, settle

from conftest import Run


@pytest.fixture
def story(ok: Run, isolated: Path) -> Path:
    """A small store: one pemda, a finding with two recommendations, a follow-up, a review
    (rec 2 is S), a grade; projections caught up. Returns the store path."""
    ok("pemda", "register", "35.73")
    ok("finding", "record", "--pemda", "35.73", "--title",
       "Kelebihan pembayaran perjalanan dinas", "--report", "700/012/ITDA/2023", "--issued",
       "1/3/2023", "--received", "3/3/2023", "--value", "Rp12.150.000",
       "-r", "Setor ke kas daerah", "-r", "Tertibkan administrasi",
       "--rec-value", "12.150.000", "--rec-value", "0")
    ok("followup", "record", "F-2023-0001.1", "--on", "2023-04-28", "--action",
       "Setoran sebagian", "--deposit", "7.500.000")
    ok("followup", "review", "F-2023-0001.2", "--status", "S", "--on", "2023-05-02",
       "--reason", "Administrasi tertib")
    ok("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP", "--year", "2022",
       "--score", "80.01", "--on", "2023-12-20", "--because", "F-2023-0001.2")
    ok("status")
    return isolated


DATE_HINT = "26/7/2023"
RUPIAH_HINT = "Rp12.150.000"
RECORD = ("finding", "record", "--pemda", "35.73", "--title", "Uji", "-r", "Uji")

# (id, arguments, fragments the one line must hold: the problem, then the accepted form)
REFUSALS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    # impossible dates and other forms
    ("received-31-feb", (*RECORD, "--received", "31/2/2023"),
     ("'31/2/2023'", "does not exist", DATE_HINT)),
    ("received-29-feb-2023", (*RECORD, "--received", "2023-02-29"),
     ("'2023-02-29'", "does not exist", DATE_HINT)),
    ("received-dashes", (*RECORD, "--received", "26-07-2023"),
     ("'26-07-2023'", "not a date", DATE_HINT)),
    ("received-future", (*RECORD, "--received", "2025-01-01"), ("future", "2024-01-15")),
    ("due-before-received", (*RECORD, "--received", "2023-03-01", "--due", "2023-02-01"),
     ("2023-02-01", "on or after")),
    ("followup-on-month-13", ("followup", "record", "F-2023-0001.1", "--on", "2023-13-01",
                              "--action", "x"), ("'2023-13-01'", "does not exist", DATE_HINT)),
    ("extend-31-april", ("followup", "extend", "F-2023-0001.1", "--due", "31/4/2023",
                         "--reason", "x"), ("'31/4/2023'", "does not exist", DATE_HINT)),
    ("followup-before-received", ("followup", "record", "F-2023-0001.1", "--on", "2023-03-01",
                                  "--action", "x"), ("2023-03-01", "2023-03-03", "on or after")),
    ("review-before-received", ("followup", "review", "F-2023-0001.1", "--status", "BS",
                                "--on", "2023-03-01", "--reason", "x"),
     ("2023-03-01", "2023-03-03", "on or after")),
    ("as-of-30-feb", ("status", "--as-of", "30/2/2023"), ("'30/2/2023'", DATE_HINT)),
    ("received-year-999", (*RECORD, "--received", "0999-01-01"),
     ("'0999-01-01'", "1945 to 2200", DATE_HINT)),
    ("due-year-2201", (*RECORD, "--received", "2023-03-01", "--due", "1/1/2201"),
     ("'1/1/2201'", "1945 to 2200", DATE_HINT)),
    ("as-of-year-10", ("status", "--as-of", "0010-06-30"), ("'0010-06-30'", "1945 to 2200")),
    # dates of status changes and corrections in order
    ("reopen-before-review", ("followup", "reopen", "F-2023-0001.2", "--on", "2023-04-01",
                              "--reason", "x"),
     ("2023-04-01", "before the latest status change of F-2023-0001.2", "2023-05-02")),
    ("review-before-review", ("followup", "review", "F-2023-0001.2", "--status", "TDTL",
                              "--on", "2023-05-01", "--reason", "x"),
     ("2023-05-01", "latest status change", "on or after 2023-05-02")),
    ("correct-received-future", ("finding", "correct", "F-2023-0001", "--field", "received",
                                 "--value", "2024-01-16", "--reason", "x"),
     ("2024-01-16", "future", "2024-01-15")),
    ("correct-received-after-followup", ("finding", "correct", "F-2023-0001", "--field",
                                         "received", "--value", "2023-04-29", "--reason", "x"),
     ("2023-04-29", "on or before 2023-04-28")),
    # unknown pemda
    ("finding-unknown-pemda", ("finding", "record", "--pemda", "35.78", "--title", "X", "-r",
                               "Y", "--received", "2023-03-01"),
     ("35.78 is not registered", "auditlog pemda register 35.78")),
    ("grade-unknown-pemda", ("grade", "record", "--pemda", "35.78", "--instrument", "SAKIP",
                             "--year", "2022", "--grade", "A"),
     ("35.78 is not registered", "auditlog pemda register 35.78")),
    ("status-unknown-pemda", ("status", "--pemda", "35.78"),
     ("35.78 is not registered", "auditlog pemda list")),
    ("malformed-region", (*RECORD[:2], "--pemda", "35.7", "--title", "X", "-r", "Y"),
     ("'35.7'", "35.73")),
    ("register-not-official", ("pemda", "register", "35.69"),
     ("35.69", "not in the official", "--name and --level")),
    ("register-wrong-level", ("pemda", "register", "35.73", "--level", "kabupaten"),
     ("kota", "--level kota")),
    ("register-twice", ("pemda", "register", "35.73"),
     ("already registered", "auditlog pemda list")),
    # unknown references
    ("unknown-finding", ("followup", "record", "F-2023-0099.1", "--on", "2023-05-01",
                         "--action", "x"), ("no finding F-2023-0099", "auditlog finding list")),
    ("unknown-year", ("followup", "review", "F-2022-0001.1", "--status", "S", "--reason", "x"),
     ("no finding F-2022-0001", "auditlog finding list")),
    ("unknown-recommendation", ("followup", "review", "F-2023-0001.3", "--status", "S",
                                "--reason", "x"),
     ("no recommendation 3", "F-2023-0001.1, F-2023-0001.2")),
    ("finding-not-recommendation", ("followup", "review", "F-2023-0001", "--status", "S",
                                    "--reason", "x"), ("names a finding", "F-2023-0001.1")),
    ("not-a-reference", ("followup", "review", "Malang-1", "--status", "S", "--reason", "x"),
     ("'Malang-1' is not a reference", "F-2023-0007")),
    ("reference-number-too-long", ("followup", "record", "F-2023-99999999999999999999.1",
                                   "--on", "2023-05-01", "--action", "x"),
     ("'F-2023-99999999999999999999.1' is not a reference", "9 digits", "F-2023-0007")),
    ("recommendation-number-too-long", ("followup", "review", "F-2023-0001.99999", "--status",
                                        "S", "--reason", "x"), ("4", "F-2023-0007.1")),
    ("show-reference-too-long", ("finding", "show", "F-2023-" + "9" * 40), ("9 digits",)),
    ("correct-unknown", ("finding", "correct", "F-2023-0042", "--field", "title", "--value",
                         "X", "--reason", "x"), ("no finding F-2023-0042", "finding list")),
    ("show-unknown", ("finding", "show", "F-2023-0099"), ("no finding F-2023-0099",)),
    ("history-unknown", ("history", "--finding", "F-2023-0009"), ("no finding F-2023-0009",)),
    ("withdraw-recommendation", ("finding", "withdraw", "F-2023-0001.1", "--reason", "x"),
     ("not a recommendation", "use F-2023-0001")),
    ("because-unknown", ("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP",
                         "--year", "2023", "--grade", "A", "--because", "F-2023-0009"),
     ("no finding F-2023-0009",)),
    ("because-unknown-recommendation", ("grade", "record", "--pemda", "35.73", "--instrument",
                                        "RB", "--year", "2023", "--grade", "A", "--because",
                                        "F-2023-0001.7"), ("no recommendation 7", "F-2023-0001.2")),
    # forbidden transitions and the like
    ("s-to-bs", ("followup", "review", "F-2023-0001.2", "--status", "BS", "--reason", "x"),
     ("F-2023-0001.2 is S", "may only set TDTL", "auditlog followup reopen F-2023-0001.2")),
    ("bd-to-bd", ("followup", "review", "F-2023-0001.1", "--status", "BD", "--reason", "x"),
     ("from BD to BD", "may set BS, S, TDTL")),
    ("unknown-status", ("followup", "review", "F-2023-0001.1", "--status", "OK", "--reason",
                        "x"), ("'OK'", "BD, BS, S or TDTL")),
    ("reopen-open", ("followup", "reopen", "F-2023-0001.1", "--reason", "x"),
     ("F-2023-0001.1 is BD", "only S or TDTL")),
    ("extend-not-later", ("followup", "extend", "F-2023-0001.1", "--due", "2023-05-02",
                          "--reason", "x"), ("2023-05-02", "later date")),
    # missing reasons
    ("review-empty-reason", ("followup", "review", "F-2023-0001.1", "--status", "S",
                             "--reason", ""), ("--reason", '--reason "TEXT"')),
    ("review-blank-reason", ("followup", "review", "F-2023-0001.1", "--status", "TDTL",
                             "--reason", "   "), ("--reason", '--reason "TEXT"')),
    ("reopen-empty-reason", ("followup", "reopen", "F-2023-0001.2", "--reason", ""),
     ("--reason", '--reason "TEXT"')),
    ("extend-empty-reason", ("followup", "extend", "F-2023-0001.1", "--due", "2023-09-30",
                             "--reason", ""), ("--reason", '--reason "TEXT"')),
    ("withdraw-empty-reason", ("finding", "withdraw", "F-2023-0001", "--reason", " "),
     ("--reason", '--reason "TEXT"')),
    ("correct-empty-reason", ("finding", "correct", "F-2023-0001", "--field", "title",
                              "--value", "Y", "--reason", ""), ("--reason", '--reason "TEXT"')),
    ("grade-correct-without-reason", ("grade", "record", "--pemda", "35.73", "--instrument",
                                      "SAKIP", "--year", "2022", "--grade", "AA", "--correct"),
     ("--reason", '--reason "TEXT"')),
    ("grade-reason-without-correct", ("grade", "record", "--pemda", "35.73", "--instrument",
                                      "SAKIP", "--year", "2023", "--grade", "A", "--reason",
                                      "x"), ("--reason goes with --correct",)),
    # grades
    ("grade-off-scale", ("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP",
                         "--year", "2023", "--grade", "E"),
     ("'E' is not on the SAKIP scale", "AA, A, BB, B, CC, C, D")),
    ("spip-off-scale", ("grade", "record", "--pemda", "35.73", "--instrument", "SPIP",
                        "--year", "2023", "--grade", "6"), ("'6'", "1, 2, 3, 4, 5")),
    ("spip-with-score", ("grade", "record", "--pemda", "35.73", "--instrument", "SPIP",
                         "--year", "2023", "--score", "3"), ("without a score", "--grade")),
    ("score-above-100", ("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP",
                         "--year", "2023", "--score", "100.01"),
     ("100.01 is outside the scale", "from 0 to 100")),
    ("score-below-0", ("grade", "record", "--pemda", "35.73", "--instrument", "RB",
                       "--year", "2023", "--score", "-0.5"),
     ("-0.5 is outside the scale", "from 0 to 100")),
    ("score-not-a-number", ("grade", "record", "--pemda", "35.73", "--instrument", "RB",
                            "--year", "2023", "--score", "delapan puluh"),
     ("not a number", "80.01")),
    *[(f"score-{name}", ("grade", "record", "--pemda", "35.73", "--instrument", "RB",
                         "--year", "2023", "--score", text), (repr(text), "80.01"))
      for name, text in (("exponent", "1e1"), ("underscore", "1_0"), ("negative-zero", "-0"),
                         ("nan", "NaN"), ("three-decimals", "80.001"), ("plus", "+80"))],
    ("grade-correct-nothing", ("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP",
                               "--year", "2022", "--score", "80,01", "--because",
                               "f-2023-0001.2", "--correct", "--reason", "x"),
     ("SAKIP grade of 35.73 for 2022 is already A", "nothing to correct")),
    ("grade-contradicts-score", ("grade", "record", "--pemda", "35.73", "--instrument",
                                 "SAKIP", "--year", "2023", "--score", "80", "--grade", "A"),
     ("contradicts score 80", "is BB", "leave out --grade")),
    ("second-grade", ("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP",
                      "--year", "2022", "--grade", "AA"),
     ("already has a SAKIP grade for 2022", "--correct --reason")),
    ("correct-missing-grade", ("grade", "record", "--pemda", "35.73", "--instrument", "RB",
                               "--year", "2022", "--grade", "AA", "--correct", "--reason", "x"),
     ("no RB grade for 2022", "without --correct")),
    ("unknown-instrument", ("grade", "record", "--pemda", "35.73", "--instrument", "IKM",
                            "--year", "2023", "--grade", "A"), ("'IKM'", "SAKIP, RB")),
    ("bad-year", ("grade", "record", "--pemda", "35.73", "--instrument", "RB", "--year", "23",
                  "--grade", "A"), ("'23'", "such as 2023")),
    # money
    ("negative-value", (*RECORD, "--received", "2023-03-01", "--value", "-5"),
     ("'-5' is not a rupiah amount", RUPIAH_HINT)),
    ("decimal-value", (*RECORD, "--received", "2023-03-01", "--value", "12.5"),
     ("'12.5'", RUPIAH_HINT)),
    ("decimal-comma-value", (*RECORD, "--received", "2023-03-01", "--value", "12150000,00"),
     ("'12150000,00'", RUPIAH_HINT)),
    ("negative-rec-value", (*RECORD, "--received", "2023-03-01", "--rec-value", "-1"),
     ("--rec-value '-1'", RUPIAH_HINT)),
    ("decimal-deposit", ("followup", "record", "F-2023-0001.1", "--on", "2023-05-01",
                         "--action", "x", "--deposit", "1.000,50"),
     ("--deposit '1.000,50'", RUPIAH_HINT)),
    ("negative-deposit", ("followup", "record", "F-2023-0001.1", "--on", "2023-05-01",
                          "--action", "x", "--deposit", "-Rp5.000"),
     ("'-Rp5.000'", RUPIAH_HINT)),
    ("correct-negative-value", ("finding", "correct", "F-2023-0001", "--field", "value",
                                "--value", "-1", "--reason", "x"), ("'-1'", RUPIAH_HINT)),
    ("value-above-limit", (*RECORD, "--received", "2023-03-01", "--value",
                           "Rp100.000.000.000.001"), ("above the limit", "Rp100.000.000.000.000")),
    ("rec-value-64-bit", (*RECORD, "--received", "2023-03-01", "--rec-value",
                          "18446744073709551616"), ("--rec-value", "Rp100.000.000.000.000")),
    ("deposit-above-limit", ("followup", "record", "F-2023-0001.1", "--on", "2023-05-01",
                             "--action", "x", "--deposit", "9" * 30),
     ("--deposit", "Rp100.000.000.000.000")),
    ("correct-value-above-limit", ("finding", "correct", "F-2023-0001.1", "--field", "value",
                                   "--value", "1" + "0" * 19, "--reason", "x"),
     ("Rp100.000.000.000.000",)),
    # evidence
    ("missing-evidence", ("followup", "record", "F-2023-0001.1", "--on", "2023-05-01",
                          "--action", "x", "--evidence", "nope.pdf"),
     ("nope.pdf does not exist", "existing file")),
    ("evidence-is-a-folder", ("followup", "record", "F-2023-0001.1", "--on", "2023-05-01",
                              "--action", "x", "--evidence", "."), ("not a file",)),
    # duplicates
    ("duplicate-finding", ("finding", "record", "--pemda", "35.73", "--title",
                           "Kelebihan pembayaran perjalanan dinas", "--report",
                           "700/012/ITDA/2023", "--received", "2023-03-03", "-r", "Z"),
     ("already recorded as F-2023-0001", "auditlog finding correct")),
    ("duplicate-finding-retyped", ("finding", "record", "--pemda", "35.73", "--title",
                                   "  kelebihan PEMBAYARAN  perjalanan dinas", "--report",
                                   "700/012/itda/2023", "--received", "2023-03-04", "-r", "Z"),
     ("already recorded as F-2023-0001",)),
    # other input
    ("bad-finding-code", (*RECORD, "--received", "2023-03-01", "--code", "1.1"),
     ("'1.1'", "1.01.03")),
    ("bad-rec-code", (*RECORD, "--received", "2023-03-01", "--rec-code", "15"),
     ("'15'", "01 to 14")),
    ("rec-values-miscounted", (*RECORD, "-r", "Dua", "--received", "2023-03-01",
                               "--rec-value", "5"), ("1 --rec-value for 2", "one --rec-value")),
    ("blank-title", ("finding", "record", "--pemda", "35.73", "--title", " ", "-r", "Y"),
     ("--title", '--title "TEXT"')),
    ("unknown-field", ("finding", "correct", "F-2023-0001", "--field", "colour", "--value",
                       "x", "--reason", "x"), ("'colour'", "received, report, title")),
    ("correct-received-before-issued", ("finding", "correct", "F-2023-0001", "--field",
                                        "received", "--value", "2023-02-27", "--reason", "x"),
     ("2023-02-27", "2023-03-01")),
    ("bad-known-at", ("status", "--known-at", "yesterday"), ("'yesterday'", "ISO 8601")),
]


@pytest.mark.parametrize(("args", "fragments"), [(a, f) for _, a, f in REFUSALS],
                         ids=[name for name, _, _ in REFUSALS])
def test_a_refusal_is_one_line_exit_1_and_writes_nothing(
        run: Run, story: Path, args: tuple[str, ...], fragments: tuple[str, ...]) -> None:
    before, files = settle(story), other_files(story)
    assert_one_line_refusal(run(*args), *fragments)
    after = observe(story)
    assert after.events == before.events
    assert after.main == before.main, "the store file changed"
    assert after.wal == before.wal, "the write-ahead log changed"
    assert other_files(story) == files, "a file appeared or vanished"


def test_the_settled_snapshot_does_see_a_write(ok: Run, story: Path) -> None:
    """The comparison above can fail: a command that writes one event changes it."""
    before = settle(story)
    ok("followup", "record", "F-2023-0001.1", "--on", "2023-05-01", "--action", "x")
    after = observe(story)
    assert after.events == before.events + 1
    assert (after.main, after.wal) != (before.main, before.wal)


def test_leaving_out_the_reason_is_a_one_line_refusal(run: Run, story: Path) -> None:
    before = settle(story)
    assert_one_line_refusal(run("followup", "review", "F-2023-0001.1", "--status", "S"),
                            "--reason")
    assert observe(story) == before


def test_leaving_out_the_reason_writes_nothing(run: Run, story: Path) -> None:
    before = settle(story)
    for args in (("followup", "review", "F-2023-0001.1", "--status", "S"),
                 ("followup", "reopen", "F-2023-0001.2"),
                 ("followup", "extend", "F-2023-0001.1", "--due", "2023-09-30"),
                 ("finding", "withdraw", "F-2023-0001"),
                 ("finding", "correct", "F-2023-0001", "--field", "title", "--value", "Y")):
        result = run(*args)
        assert result.exit_code in (1, 2), result
        assert "--reason" in result.stderr and "Traceback" not in result.stderr
    assert observe(story) == before


# --- a missing store ---------------------------------------------------------------------------


READING = [
    ("status",), ("status", "--format", "json"), ("pemda", "list"), ("finding", "list"),
    ("finding", "show", "F-2023-0001"), ("grade", "list"), ("history",),
    ("history", "--finding", "F-2023-0001"), ("replay", "--to", "2023-07-26"), ("rebuild",),
    ("status", "--as-of", "2023-06-30"), ("finding", "list", "--known-at", "2024-01-01"),
]


@pytest.mark.parametrize("args", READING, ids=" ".join)
def test_a_reading_command_on_a_missing_store_exits_1_and_creates_nothing(
        run: Run, isolated: Path, args: tuple[str, ...]) -> None:
    folder = isolated.parent
    assert list(folder.iterdir()) == []
    line = assert_one_line_refusal(run(*args), f"no store at {isolated}", "auditlog init")
    assert "--db" in line
    assert list(folder.iterdir()) == []


def test_a_missing_store_named_by_db_is_not_created_either(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "arsip" / "inspektorat.db"
    for args in (("status",), ("finding", "list")):
        assert_one_line_refusal(run("--db", str(target), *args), f"no store at {target}")
    assert not target.parent.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_refused_recording_command_on_a_missing_store_creates_nothing(
        run: Run, isolated: Path) -> None:
    for args in (("finding", "record", "--pemda", "35.73", "--title", "X", "-r", "Y"),
                 ("followup", "review", "F-2023-0001.1", "--status", "S", "--reason", "x"),
                 ("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP", "--year",
                  "2023", "--score", "101")):
        assert_one_line_refusal(run(*args))
        assert list(isolated.parent.iterdir()) == [], args


def test_input_refusals_on_a_missing_store_create_nothing(run: Run, isolated: Path) -> None:
    for args in (("pemda", "register", "35.7"),
                 ("finding", "record", "--pemda", "35.73", "--title", "X", "-r", "Y",
                  "--received", "31/2/2023"),
                 ("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP", "--year",
                  "2023", "--rule", "2011", "--grade", "A")):
        assert_one_line_refusal(run(*args))
    assert list(isolated.parent.iterdir()) == []


# --- usage errors ------------------------------------------------------------------------------


USAGE = [("bogus",), ("status", "--bogus"), ("finding", "bogus"), ("--bogus", "status"),
         ("finding", "record", "--pemda", "35.73", "--title", "X", "-r", "Y", "--colour", "red"),
         ("followup", "review", "F-2023-0001.1", "--status"), ("grade", "list", "extra")]


@pytest.mark.parametrize("args", USAGE, ids=" ".join)
def test_an_unknown_command_or_option_exits_2_and_writes_nothing(
        run: Run, story: Path, args: tuple[str, ...]) -> None:
    before = settle(story)
    result = run(*args)
    assert result.exit_code == 2, result
    assert "Traceback" not in result.stderr
    assert "Usage:" in result.stderr or "Error" in result.stderr
    assert observe(story) == before


def test_usage_errors_exit_2_on_a_missing_store_too(run: Run, isolated: Path) -> None:
    assert run("bogus").exit_code == 2
    assert run("status", "--bogus").exit_code == 2
    assert list(isolated.parent.iterdir()) == []


# --- one finding, one identity -----------------------------------------------------------------


def test_a_correction_cannot_make_two_findings_the_same(ok: Run, run: Run, story: Path) -> None:
    ok("finding", "record", "--pemda", "35.73", "--title", "Aset tidak tercatat", "--report",
       "700/012/ITDA/2023", "--received", "2023-03-03", "-r", "Catat aset")
    before = settle(story)
    assert_one_line_refusal(
        run("finding", "correct", "F-2023-0002", "--field", "title", "--value",
            "KELEBIHAN pembayaran perjalanan dinas", "--reason", "x"),
        "F-2023-0002 would be the same finding as F-2023-0001", "tells them apart")
    assert observe(story) == before
    # a different report number tells them apart
    ok("finding", "correct", "F-2023-0002", "--field", "report", "--value", "700/013/ITDA/2023",
       "--reason", "nomor LHP")
    ok("finding", "correct", "F-2023-0002", "--field", "title", "--value",
       "Kelebihan pembayaran perjalanan dinas", "--reason", "judul")


def test_a_finding_cannot_be_recorded_again_under_its_corrected_title(
        ok: Run, run: Run, story: Path) -> None:
    ok("finding", "correct", "F-2023-0001", "--field", "title", "--value", "Perjalanan dinas",
       "--reason", "judul")
    before = settle(story)
    assert_one_line_refusal(
        run("finding", "record", "--pemda", "35.73", "--title", "Perjalanan dinas", "--report",
            "700/012/ITDA/2023", "--received", "2023-03-03", "-r", "Setor"),
        "already recorded as F-2023-0001")
    assert observe(story) == before


def test_a_withdrawn_finding_can_be_recorded_again(ok: Run, run: Run, story: Path) -> None:
    record = ("finding", "record", "--pemda", "35.73", "--title",
              "Kelebihan pembayaran perjalanan dinas", "--report", "700/012/ITDA/2023",
              "--received", "2023-03-03", "-r", "Setor")
    ok("finding", "withdraw", "F-2023-0001", "--reason", "tercatat ganda")
    assert "F-2023-0002" in ok(*record).stdout
    before = settle(story)
    assert_one_line_refusal(run(*record), "already recorded as F-2023-0002")
    assert observe(story) == before
    assert "F-2023-0002" in ok("finding", "list").stdout


@pytest.mark.parametrize(("args", "line"), [
    (("finding", "record", "--pemda", "35.73", "--title", "x"),
     "auditlog: Missing option '--recommendation' / '-r': see 'auditlog finding record -h'"),
    (("statuss",), "auditlog: No such command 'statuss'. Did you mean 'status'?: see "
                   "'auditlog -h'"),
    (("status", "--bogus"), "auditlog: No such option: --bogus: see 'auditlog status -h'"),
])
def test_a_usage_error_of_the_console_script_is_one_line(args: tuple[str, ...], line: str,
                                                         tmp_path: Path) -> None:
    """The installed command (not the test runner's app) says a usage error in one line with
    exit 2, like every refusal, instead of Typer's box of several lines."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import sys; sys.argv[0] = 'auditlog'; "
         "from auditlog.cli.main import main; main()", *args],
        capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", line + "\n")
