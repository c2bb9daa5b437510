"""A fuzz of the whole command line: random text, bytes, sizes and special files as the value
of one argument of a real command. Whatever is typed, auditlog answers with exit 1 (refused)
or 2 (usage), one line on stderr for a refusal, never a traceback, and the store stays
byte-for-byte as it was.

The counts (inputs tried, failures) are printed at the end of the run.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlog.clock import parse_timestamp
from auditlog.domain.inputs import parse_date, parse_rupiah, parse_year
from auditlog.errors import Refusal

from conftest import Run

TALLY = {"inputs": 0, "failures": 0}

# A value no command accepts: the strategies below are filtered through the parsers, or
# carry a defect no parser lets through (a control character, an impossible size).
CONTROL = st.sampled_from(["\x00", "\x07", "\x1b[31m", "\x85", "\x9b", "\x7f", "\x0b"])
SPECIAL_PATHS = st.sampled_from(["/dev/null", "/dev/zero", "/proc/self/mem", "/", ".",
                                 "fifo", "/nonexistent/dir/x", "x" * 300, "a\nb",
                                 "auditlog.db"])


def _refused(parse: object, text: str) -> bool:
    try:
        parse(text)  # type: ignore[operator]
    except Refusal:
        return True
    except Exception:  # a parser that fails otherwise is a finding of this fuzz
        return False
    return False


def defective_text(limit: int) -> st.SearchStrategy[str]:
    with_control = st.tuples(st.text(max_size=40), CONTROL, st.text(max_size=40)).map(
        lambda parts: parts[0] + parts[1] + parts[2])
    too_long = st.integers(limit + 1, limit + 3000).map(lambda n: "x" * n)
    undecodable = st.binary(min_size=1, max_size=20).map(
        lambda b: (b + b"\xff").decode("utf-8", "surrogateescape"))
    return st.one_of(with_control, too_long, undecodable)


def bad(parse: object) -> st.SearchStrategy[str]:
    anything = st.one_of(st.text(max_size=60), st.from_regex(r"-?[0-9.,/Rp ]{1,30}"),
                         st.integers().map(str), st.floats().map(str))
    # Blank means "not given" for an optional value: not a defect.
    return anything.filter(lambda t: t.strip() != "" and not t.startswith("-")
                           and _refused(parse, t))


# (command with a {} where the fuzzed value goes, the strategy for that value)
CASES: list[tuple[tuple[str, ...], st.SearchStrategy[str]]] = [
    (("finding", "record", "--pemda", "35.73", "--title", "{}", "--received", "2023-03-01",
      "-r", "x"), defective_text(500)),
    (("finding", "record", "--pemda", "35.73", "--title", "T", "--received", "{}", "-r", "x"),
     bad(parse_date)),
    (("finding", "record", "--pemda", "35.73", "--title", "T", "--received", "2023-03-01",
      "--value", "{}", "-r", "x"), bad(parse_rupiah)),
    (("finding", "record", "--pemda", "35.73", "--title", "T", "--received", "2023-03-01",
      "-r", "{}"), defective_text(10_000)),
    (("followup", "record", "F-2023-0001.1", "--on", "2023-03-02", "--action", "a",
      "--deposit", "{}"), bad(parse_rupiah)),
    (("followup", "record", "F-2023-0001.1", "--on", "2023-03-02", "--action", "a",
      "--evidence", "{}"), SPECIAL_PATHS.filter(lambda p: p != "auditlog.db")),
    (("followup", "review", "F-2023-0001.1", "--status", "S", "--reason", "{}"),
     defective_text(10_000)),
    (("status", "--as-of", "{}"), bad(parse_date)),
    (("status", "--known-at", "{}"), bad(parse_timestamp)),
    (("export", "--year", "{}", "--to", "r.json"), bad(parse_year)),
    (("export", "--year", "2023", "--to", "{}", "--format", "json"), SPECIAL_PATHS),
    (("checkpoint", "--to", "{}"), SPECIAL_PATHS),
    (("verify", "--checkpoint", "{}"), SPECIAL_PATHS.filter(lambda p: p != "auditlog.db")),
    (("verify", "--key", "{}"), SPECIAL_PATHS),
    (("--actor", "{}", "pemda", "register", "35.10"), defective_text(100)),
    (("--db", "{}", "status"), SPECIAL_PATHS.filter(lambda p: p != "auditlog.db")),
    (("finding", "show", "{}"), st.text(max_size=30).filter(lambda t: not t.startswith("-"))),
    (("grade", "record", "--pemda", "35.73", "--instrument", "SAKIP", "--year", "2023",
      "--score", "{}"), st.one_of(st.text(max_size=20), st.floats().map(str)).filter(
          lambda t: not t.startswith("-") and not _score_ok(t))),
]


def _score_ok(text: str) -> bool:
    from auditlog.domain.grades import parse_score

    try:
        parse_score(text)
    except Refusal:
        return False
    except Exception:
        return False
    return True


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("fuzz")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()
            if p.is_file() and p.name.startswith("auditlog.db")}


@pytest.mark.parametrize("case", range(len(CASES)))
def test_the_command_line_refuses_whatever_is_typed(case: int, ok: Run, run: Run,
                                                    isolated: Path) -> None:
    command, values = CASES[case]
    ok("pemda", "register", "35.73")
    ok("finding", "record", "--pemda", "35.73", "--title", "Temuan", "--received",
       "2023-03-01", "-r", "Perbaiki")
    ok("status")  # projections caught up: a reading command has nothing to write
    os.mkfifo("fifo")
    before = _snapshot(isolated.parent)

    @settings(max_examples=int(os.environ.get("AUDITLOG_FUZZ_EXAMPLES", "25")), deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.filter_too_much, HealthCheck.too_slow],
              derandomize=os.environ.get("AUDITLOG_FUZZ_RANDOM") != "1")
    @given(value=values)
    def one(value: str) -> None:
        args = [value if word == "{}" else word for word in command]
        TALLY["inputs"] += 1
        result = run(*args)
        try:
            assert result.exit_code in (1, 2), result
            assert "Traceback" not in result.stderr + result.stdout, result
            if result.exit_code == 1:
                assert len(result.stderr.strip().splitlines()) == 1, result
            assert _snapshot(isolated.parent) == before, args
        except AssertionError:
            TALLY["failures"] += 1
            raise

    one()


def test_zz_fuzz_counts(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the tally of the run (this test sorts after the fuzz)."""
    with capsys.disabled():
        print(f"\nfuzz of the command line: {TALLY['inputs']} inputs tried, "
              f"{TALLY['failures']} failures")
    assert TALLY["failures"] == 0
