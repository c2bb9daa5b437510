"""The register's daily questions: filters, full-text search, what falls due soon.

Expected findings are read off the demo story (src/auditlog/demo.py) and the findings each
test records, not computed with the code under test.
"""

import json

from auditlog.projections.persisted import Projection
from auditlog.store.app import Store
from engines import on_engine_fixture  # noqa: F401 - the search tests run on both engines

from conftest import Run


def refs(run: Run, *args: str) -> list[str]:
    result = run("finding", "list", *args, "--format", "json")
    assert result.exit_code == 0, result
    return [f["ref"] for f in json.loads(result.stdout)]


def test_filters_by_opd_report_year_and_instrument(ok: Run) -> None:
    ok("demo")
    assert refs(ok, "--opd", "dinas KESEHATAN") == ["F-2023-0003"]
    assert refs(ok, "--opd", "  Dinas   Kesehatan ") == ["F-2023-0003"]
    assert refs(ok, "--report", "700/012/ITDA/2023") == ["F-2023-0003"]
    assert refs(ok, "--instrument", "rb") == ["F-2023-0002", "F-2023-0004"]
    assert refs(ok, "--instrument", "SAKIP", "--pemda", "35.73") == ["F-2023-0001"]
    assert refs(ok, "--year", "2023", "--pemda", "35.78") == ["F-2023-0006"]
    assert refs(ok, "--year", "2022") == []
    assert refs(ok, "--opd", "Dinas Pendidikan") == []


def test_filters_refuse_what_could_never_match(run: Run) -> None:
    run("demo")
    for args, said in ((("--year", "23"), "--year '23' is not valid"),
                       (("--instrument", "XYZ"), "instrument"),
                       (("--opd", " "), "--opd is required and must not be empty")):
        result = run("finding", "list", *args)
        assert result.exit_code == 1 and said in result.stderr, result


def test_status_counts_only_the_filtered_findings(ok: Run) -> None:
    ok("demo")
    rows = json.loads(ok("status", "--pemda", "35.73", "--opd", "Dinas Kesehatan",
                         "--format", "json").stdout)
    assert rows[0]["recommendations"] == {"BD": 0, "BS": 1, "S": 0, "TDTL": 0}
    assert rows[0]["value_to_recover"] == 12_150_000
    whole = json.loads(ok("status", "--pemda", "35.73", "--format", "json").stdout)
    assert whole[0]["total"] == 8


def test_search_finds_every_word_in_any_field_with_the_words_marked(ok: Run, on_engine: str
                                                                    ) -> None:
    ok("demo")
    found = json.loads(ok("finding", "list", "--search", "perjalanan dinas",
                          "--format", "json").stdout)
    assert [f["ref"] for f in found] == ["F-2023-0003"]
    assert "**" in found[0]["match"]
    table = ok("finding", "list", "--search", "perjalanan dinas").stdout
    assert "Kelebihan pembayaran **perjalanan** **dinas**" in table
    # a follow-up's action, matched by the beginning of a word (setor -> Setoran)
    assert refs(ok, "--search", "setor") == ["F-2023-0003"]
    assert refs(ok, "--search", "perjalanan tidakadadimanapun") == []


def test_search_ranks_a_title_match_above_a_passing_mention(ok: Run, on_engine: str
                                                            ) -> None:
    ok("pemda", "register", "35.73")
    ok("finding", "record", "--pemda", "35.73", "--title", "Pengadaan genset",
       "--received", "2023-03-01", "--effect", "Layanan terhenti saat banjir",
       "-r", "Perbaiki kontrak")
    ok("finding", "record", "--pemda", "35.73", "--title", "Tanggul banjir retak",
       "--received", "2023-03-02", "-r", "Perbaiki tanggul")
    assert refs(ok, "--search", "banjir") == ["F-2023-0002", "F-2023-0001"]


def test_search_follows_new_events_and_withdrawals(ok: Run, on_engine: str) -> None:
    ok("demo")
    ok("followup", "record", "F-2023-0002.1", "--on", "2024-01-10",
       "--action", "Aplikasi terintegrasi dengan satu data")
    assert refs(ok, "--search", "satu data") == ["F-2023-0002"]
    ok("finding", "withdraw", "F-2023-0002", "--reason", "tercatat ganda")
    assert refs(ok, "--search", "satu data") == []


def test_the_search_index_rebuilt_equals_the_incremental_one(ok: Run, on_engine: str
                                                               ) -> None:
    ok("demo")
    ok("followup", "record", "F-2023-0003.1", "--on", "2024-01-10", "--action", "Lunas")
    store = Store.open_existing(on_engine)
    try:
        projection = Projection(store)
        projection.catch_up()
        before = projection.dump()["projection_search"]
        projection.rebuild()
        assert projection.dump()["projection_search"] == before
        assert len(before) == 6  # the six findings of the demo
        projection.close()
    finally:
        store.close()


def test_search_refusals(run: Run, on_engine: str) -> None:
    run("demo")
    result = run("finding", "list", "--search", "!!! ???")
    assert result.exit_code == 1 and "has no word to look for" in result.stderr
    result = run("finding", "list", "--search", "dinas", "--as-of", "2023-06-30")
    assert result.exit_code == 1 and "now" in result.stderr
    # FTS5 syntax typed by a user is only words, never an error
    assert refs(run, "--search", 'dinas" (perjalanan* -') == ["F-2023-0003"]


def test_due_within_lists_open_recommendations_soonest_first(ok: Run) -> None:
    ok("demo")
    rows = json.loads(ok("finding", "list", "--due-within", "44", "--as-of", "2023-02-01",
                         "--format", "json").stdout)
    # demo: F-2023-0001 received 9 Jan (due 10 Mar), F-2023-0005 received 16 Jan (due 17 Mar)
    assert [(r["ref"], r["due"], r["days_left"]) for r in rows] == [
        ("F-2023-0001.1", "2023-03-10", 37), ("F-2023-0001.2", "2023-03-10", 37),
        ("F-2023-0005.1", "2023-03-17", 44)]
    assert rows[0]["status"] == "BD"
    # due today counts (0 days left); past due is overdue, not "due within"
    today = json.loads(ok("finding", "list", "--due-within", "0", "--as-of", "2023-03-24",
                          "--format", "json").stdout)
    assert [(r["ref"], r["days_left"]) for r in today] == [("F-2023-0006.2", 0)]  # .1 is S
    assert json.loads(ok("finding", "list", "--due-within", "6", "--as-of", "2023-03-25",
                         "--format", "json").stdout) == []


def test_due_within_skips_closed_recommendations_and_takes_filters(ok: Run) -> None:
    ok("demo")
    # on 15 January 2024 every demo recommendation is overdue or closed
    assert json.loads(ok("finding", "list", "--due-within", "30", "--format",
                         "json").stdout) == []
    rows = json.loads(ok("finding", "list", "--due-within", "60", "--as-of", "2023-02-01",
                         "--pemda", "35.78", "--format", "json").stdout)
    assert {r["ref"] for r in rows} == {"F-2023-0006.1", "F-2023-0006.2"}


def test_due_within_refuses_a_negative_window(run: Run) -> None:
    run("demo")
    assert run("finding", "list", "--due-within", "-1").exit_code == 2
