"""`auditlog import`: registers as Inspektorats keep them, imported exactly or refused in one
clear message with the store left byte for byte as it was."""

import hashlib
import io
import json
import sqlite3
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import openpyxl
import pytest
import xlsxwriter
from eventsourcing.persistence import RecordConflictError
from openpyxl.utils import get_column_letter

from auditlog import commands
from auditlog.domain.aggregate import Context
from auditlog.domain.events import (
    FindingRecorded,
    FollowUpRecorded,
    RecommendationReviewed,
    RecommendationSpec,
)
from auditlog.importer import plan as plan_module
from auditlog.importer.columns import HEADERS, Matcher
from auditlog.store.app import Store
from auditlog.store.mapper import Rows
from auditlog.store.recorder import AuditRecorder

from conftest import Run

HEAD = ["No", "Pemda", "No. LHP", "Tgl LHP", "Uraian Temuan", "Nilai Temuan (Rp)",
        "Rekomendasi", "Tindak Lanjut", "Tgl Tindak Lanjut", "Nilai Setor", "Status TL",
        "Tanggal Reviu", "Catatan Internal"]


def matriks(path: Path, *, status_first: str = "Dalam Proses", extra_rows: int = 0,
            bad: dict[tuple[int, int], Any] | None = None) -> Path:
    """A matriks pemantauan as kept in Excel: title rows, a finding merged over its two
    recommendation rows, one repeated on each row, one left blank after its first row, Excel
    and text dates, a hidden column and trailing empty (formatted) rows."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Matriks TL")
    day = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.write(0, 0, "MATRIKS PEMANTAUAN TINDAK LANJUT HASIL PEMERIKSAAN")
    ws.write(1, 0, "INSPEKTORAT DAERAH KOTA MALANG")
    ws.write(2, 0, "Semester II Tahun 2023")
    for col, head in enumerate(HEAD):
        ws.write(4, col, head)
    ws.set_column(12, 12, None, None, {"hidden": True})
    # finding 1: merged over rows 6-7 (0-based 5-6)
    for col, value in ((1, "Kota Malang"), (2, "700/012/ITDA/2023"), (4, "Kelebihan bayar "
                       "perjalanan dinas"), (5, "Rp12.150.000,-")):
        ws.merge_range(5, col, 6, col, value)
    ws.merge_range(5, 3, 6, 3, datetime(2023, 3, 6), day)
    ws.write_row(5, 6, ["Setor kelebihan ke kas daerah", "Setoran sebagian"])
    ws.write_datetime(5, 8, datetime(2023, 4, 10), day)
    ws.write_row(5, 9, ["7.500.000", status_first])
    ws.write_datetime(5, 11, datetime(2023, 4, 14), day)
    ws.write_row(6, 6, ["Tegur bendahara", None, None, None, "Selesai", "14 April 2023",
                        "tidak dipublikasikan"])
    # finding 2: repeated on each row, text dates
    for r, rec in ((7, "Selaraskan IKU dengan RPJMD"), (8, "Latih pengelola kinerja")):
        ws.write_row(r, 1, ["Kab. Banyuwangi", "700/045/LHE/2023", "26 Juli 2023",
                            "IKU belum selaras", None, rec])
    # finding 3: blank after its first row; a code typed as text, a serial date as a number
    ws.write_row(9, 1, ["35.78", "LHP-7/2023", 45200, "Aset tetap belum tercatat", 25000000,
                        "Catat aset tetap", "Aset dicatat", "2/11/2023", None, "S"])
    ws.write_row(10, 6, ["Inventarisasi ulang", None, None, None, "BD"])
    for extra in range(extra_rows):  # more findings of the same kind
        ws.write_row(11 + extra, 1, ["35.73", f"LHP-X/{extra}", "1/8/2023",
                                     f"Temuan tambahan {extra}", None, "Perbaiki"])
    for r in range(11 + extra_rows, 40 + extra_rows):  # formatted but empty rows
        ws.write_blank(r, 3, None, day)
    for (r, c), value in (bad or {}).items():
        ws.write(r, c, value)
    wb.close()
    return path


def store_bytes(db: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(db.parent.glob(db.name + "*"))}


def events(db: Path) -> list[Any]:
    store = Store.open_existing(str(db))
    try:
        return [store.decode(n) for batch in store.notifications() for n in batch]
    finally:
        store.close()


def status_json(ok: Run) -> list[dict[str, Any]]:
    return json.loads(ok("status", "--format", "json").stdout)  # type: ignore[no-any-return]


def test_a_real_looking_workbook_is_imported_exactly(ok: Run, tmp_path: Path,
                                                     isolated: Path) -> None:
    path = matriks(tmp_path / "matriks.xlsx")
    out = ok("import", str(path)).stdout
    assert "imported matriks.xlsx (sheet 'Matriks TL', 6 rows" in out
    assert ("pemda registered from the official list: 35.73 Kota Malang, 35.10 Kabupaten "
            "Banyuwangi, 35.78 Kota Surabaya") in out
    assert "new: 3 findings with 6 recommendations, 2 follow-ups, 3 reviews" in out
    status = {row["pemda"]: row for row in status_json(ok)}
    assert status["35.73"]["recommendations"] == {"BD": 0, "BS": 1, "S": 1, "TDTL": 0}
    assert status["35.10"]["recommendations"] == {"BD": 2, "BS": 0, "S": 0, "TDTL": 0}
    assert status["35.78"]["recommendations"] == {"BD": 1, "BS": 0, "S": 1, "TDTL": 0}
    recorded = [e for e in events(isolated) if isinstance(e, FindingRecorded)]
    by_title = {e.title: e for e in recorded}
    first = by_title["Kelebihan bayar perjalanan dinas"]
    assert (first.pemda, first.report, first.issued, first.value) == (
        "35.73", "700/012/ITDA/2023", date(2023, 3, 6), 12150000)
    assert [r.text for r in first.recommendations] == ["Setor kelebihan ke kas daerah",
                                                       "Tegur bendahara"]
    assert by_title["IKU belum selaras"].received.isoformat() == "2023-07-26"
    assert by_title["Aset tetap belum tercatat"].received.isoformat() == "2023-10-01"  # 45200
    assert first.source is not None and first.source.row == 6
    assert first.source.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    followups = [e for e in events(isolated) if isinstance(e, FollowUpRecorded)]
    assert [(f.action, f.deposit, f.effective_on.isoformat(), f.source and f.source.row)
            for f in followups] == [("Setoran sebagian", 7500000, "2023-04-10", 6),
                                    ("Aset dicatat", 0, "2023-11-02", 10)]
    reviews = [e for e in events(isolated) if isinstance(e, RecommendationReviewed)]
    assert {(r.status.value, r.effective_on.isoformat(), r.reason) for r in reviews} == {
        ("BS", "2023-04-14", "imported from matriks.xlsx, row 6"),
        ("S", "2023-04-14", "imported from matriks.xlsx, row 7"),
        ("S", "2024-01-15", "imported from matriks.xlsx, row 10"),
    }
    assert "dates supplied (the sheet gave none, so the import's date 2024-01-15): " \
           "0 follow-ups, 1 review" in out
    trail = ok("history", "--finding", "F-2023-0001").stdout
    assert trail.count("[matriks.xlsx row 6]") == 3 and "[matriks.xlsx row 7]" in trail
    ok("verify")


def test_the_file_fingerprint_is_recorded_once(ok: Run, tmp_path: Path, isolated: Path) -> None:
    path = matriks(tmp_path / "matriks.xlsx")
    ok("import", str(path))
    ok("import", str(path))
    files = [e for e in events(isolated) if e.topic == "auditlog.import.file_recorded"]
    assert len(files) == 1
    assert files[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_reimporting_the_same_file_records_nothing(ok: Run, tmp_path: Path,
                                                   isolated: Path) -> None:
    path = matriks(tmp_path / "matriks.xlsx")
    ok("import", str(path))
    before = store_bytes(isolated)
    out = ok("import", str(path)).stdout
    assert "new: 0 findings with 0 recommendations, 0 follow-ups, 0 reviews" in out
    assert "already there: 3 findings" in out
    assert store_bytes(isolated) == before


def test_a_changed_register_records_only_what_changed(ok: Run, tmp_path: Path,
                                                      isolated: Path) -> None:
    ok("import", str(matriks(tmp_path / "v1.xlsx")))
    count = len(events(isolated))
    later = matriks(tmp_path / "v2.xlsx", status_first="Sesuai", extra_rows=1,
                    bad={(10, 7): "Inventarisasi selesai"})
    out = ok("import", str(later)).stdout
    assert "new: 1 finding with 1 recommendation, 0 follow-ups, 0 reviews" in out
    assert "changed: 1 new follow-up and 1 status change on findings already there" in out
    added = events(isolated)[count:]
    kinds = sorted(e.topic for e in added)
    assert kinds == sorted(["auditlog.import.file_recorded", "auditlog.reference.allocated",
                            "auditlog.finding.recorded", "auditlog.followup.recorded",
                            "auditlog.recommendation.reviewed"])
    review = next(e for e in added if isinstance(e, RecommendationReviewed))
    assert (review.previous.value, review.status.value) == ("BS", "S")
    assert status_json(ok)[1]["recommendations"]["S"] == 2  # 35.73: both S now


def test_one_bad_row_among_many_refuses_the_file_and_lists_every_problem(
        run: Run, ok: Run, tmp_path: Path, isolated: Path) -> None:
    ok("pemda", "register", "35.73")
    before = store_bytes(isolated)
    path = matriks(tmp_path / "bad.xlsx", extra_rows=300,
                   bad={(200, 3): "31/02/2023", (250, 9): "Rp 1.500,50", (260, 10): "Lunas"})
    result = run("import", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "auditlog: bad.xlsx: 3 problems, nothing imported:",
        'row 201, column "Tgl LHP": "31/02/2023" is not a date (use 26/7/2023 or 2023-07-26)',
        'row 251, column "Nilai Setor": "Rp 1.500,50" has a fraction of a rupiah (use a whole '
        "amount such as 12150000, 12.150.000 or Rp12.150.000)",
        'row 261, column "Status TL": "Lunas" is not a status (use S/Sesuai/Selesai/Tuntas, '
        "BS/Belum Sesuai/Dalam Proses, BD/Belum Ditindaklanjuti/Belum TL/BT or "
        "TDTL/Tidak Dapat Ditindaklanjuti/TD)",
    ]
    assert store_bytes(isolated) == before


def test_rules_of_the_domain_are_problems_of_their_rows(run: Run, ok: Run, tmp_path: Path,
                                                        isolated: Path) -> None:
    ok("import", str(matriks(tmp_path / "v1.xlsx")))
    before = store_bytes(isolated)
    # S back to "Dalam Proses" is a reopening, not a review; a review before the report.
    path = matriks(tmp_path / "v2.xlsx", bad={(6, 10): "Dalam Proses", (9, 11): "1/1/2023",
                                             (9, 10): "Belum Sesuai"})
    result = run("import", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:] == [
        "row 7: F-2023-0001.2 is S (closed): a review may only set TDTL; to bring it back to "
        "BS, reopen it with 'auditlog followup reopen F-2023-0001.2 --reason TEXT'",
        "row 10: review date 2023-01-01 is before F-2023-0003 was received (2023-10-01): "
        "use a date on or after the received date",
    ]
    assert store_bytes(isolated) == before


def test_a_refused_first_import_leaves_no_store(run: Run, tmp_path: Path,
                                                isolated: Path) -> None:
    path = matriks(tmp_path / "bad.xlsx", bad={(5, 10): "?"})
    result = run("import", str(path))
    assert result.exit_code == 1 and 'row 6, column "Status TL"' in result.stderr
    assert not list(isolated.parent.glob(isolated.name + "*"))


def test_dry_run_prints_the_summary_and_writes_nothing(ok: Run, tmp_path: Path,
                                                       isolated: Path) -> None:
    path = matriks(tmp_path / "matriks.xlsx")
    out = ok("import", str(path), "--dry-run").stdout
    assert out.startswith("dry run, nothing written: matriks.xlsx")
    assert "new: 3 findings with 6 recommendations" in out
    assert not list(isolated.parent.glob(isolated.name + "*"))  # no store was created
    ok("init")
    before = store_bytes(isolated)
    ok("import", str(path), "--dry-run")
    assert store_bytes(isolated) == before


def cp1252_csv(path: Path) -> Path:
    text = (
        "Matriks Pemantauan Tindak Lanjut;;;;;\r\n"
        ";;;;;\r\n"
        "Kode Wilayah;Nomor Laporan;Tanggal Diterima;Judul Temuan;Rekomendasi;Status\r\n"
        "35.73;700/1/2023;26-07-2023;Pengadaan tidak sesuai kontrak – denda;"
        "Tagih denda keterlambatan;Belum TL\r\n"
        ";;;;Tegur PPK;Tuntas\r\n"
        '35.73;700/2/2023;2023-08-01;"Kas; selisih Rp1.000";Setor selisih;\r\n'
    )
    path.write_bytes(text.encode("cp1252"))
    return path


def test_csv_with_semicolons_in_windows_1252(ok: Run, tmp_path: Path, isolated: Path) -> None:
    out = ok("import", str(cp1252_csv(tmp_path / "matriks.csv"))).stdout
    assert "new: 2 findings with 3 recommendations, 0 follow-ups, 1 review" in out
    titles = sorted(e.title for e in events(isolated) if isinstance(e, FindingRecorded))
    assert titles == ["Kas; selisih Rp1.000", "Pengadaan tidak sesuai kontrak – denda"]


def test_csv_with_commas_in_utf8_with_bom(ok: Run, tmp_path: Path, isolated: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("\ufeffPemda,Temuan,Uraian Rekomendasi,Tgl LHP,Status Tindak Lanjut\n"
                    "Kota Surabaya,Belanja modal,Perbaiki SOP,26/7/2023,Sesuai\n", "utf-8")
    assert "new: 1 finding with 1 recommendation" in ok("import", str(path)).stdout
    assert [e.pemda for e in events(isolated) if isinstance(e, FindingRecorded)] == ["35.78"]


def test_a_mapping_file_names_other_headers(ok: Run, run: Run, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("Wilayah;Masalah;Saran;Tgl LHP\n35.73;Kas kurang;Setor;1/8/2023\n")
    refused = run("import", str(path))
    assert refused.exit_code == 1 and "no column for" in refused.stderr
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\nWilayah = "pemda"\nMasalah = "title"\nSaran = '
                       '"recommendation"\n')
    assert "new: 1 finding" in ok("import", str(path), "--mapping", str(mapping)).stdout
    yaml_map = tmp_path / "map.yaml"
    yaml_map.write_text("columns:\n  Wilayah: pemda\n  Masalah: nonsense\n")
    bad = run("import", str(path), "--mapping", str(yaml_map))
    assert bad.exit_code == 1 and "'Masalah' maps to 'nonsense'" in bad.stderr


def password_protected(path: Path, plain: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    with plain.open("rb") as handle:
        OOXMLFile(handle).encrypt("rahasia", out)
    path.write_bytes(out.getvalue())
    return path


def written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def not_xlsx_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "not a workbook")
    return path


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: written(d / "empty.xlsx", b""), "is empty"),
    (lambda d: written(d / "ls.csv", bytes(range(256)) * 4),
     "is not a spreadsheet or a text file"),
    (lambda d: not_xlsx_zip(d / "zip.xlsx"), "is a zip archive but not a workbook"),
    (lambda d: password_protected(d / "locked.xlsx", matriks(d / "plain.xlsx")),
     "is protected by a password"),
    (lambda d: d / "missing.xlsx", "does not exist"),
    (lambda d: written(d / "notes.csv", b"just some text\nno headers here\n"),
     "has no header row"),
])
def test_unreadable_files_are_refused_in_one_line(run: Run, tmp_path: Path, isolated: Path,
                                                  make: Any, message: str) -> None:
    path = make(tmp_path)
    result = run("import", str(path))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and message in result.stderr, result
    assert "Traceback" not in result.stderr
    assert not list(isolated.parent.glob(isolated.name + "*"))


def test_sheet_is_chosen_by_name(ok: Run, run: Run, tmp_path: Path) -> None:
    path = matriks(tmp_path / "m.xlsx")
    assert "6 rows" in ok("import", str(path), "--sheet", "Matriks TL", "--dry-run").stdout
    wrong = run("import", str(path), "--sheet", "Sheet9")
    assert wrong.exit_code == 1 and "has no sheet 'Sheet9'" in wrong.stderr


def test_the_template_is_a_register_the_import_reads(ok: Run, run: Run, tmp_path: Path) -> None:
    target = tmp_path / "register.xlsx"
    ok("import", "--template", str(target))
    refused = run("import", "--template", str(target))
    assert refused.exit_code == 1 and "already exists" in refused.stderr
    ok("import", "--template", str(target), "--force")
    workbook = openpyxl.load_workbook(target)
    assert workbook.sheetnames == ["Register", "Petunjuk"]
    sheet = workbook["Register"]
    headers = [str(c.value) for c in sheet[1]]
    assert Matcher().match_row([*headers]).keys() == HEADERS.keys()
    validations = sheet.data_validations.dataValidation
    status_col = get_column_letter(headers.index("Status") + 1)
    assert any(v.type == "list" and str(v.sqref).startswith(f"{status_col}2")
               and "Belum Sesuai" in (v.formula1 or "") for v in validations)
    guide = workbook["Petunjuk"]
    assert [c.value for c in guide["A"]][1:] == headers
    assert all(c.value for c in guide["D"][1:])  # an example for every column
    # filled in, it imports
    sheet.append(["35.73", "Bappeda", "700/9/2023", "1/3/2023", "6/3/2023", "IKU belum selaras"]
                 + [None] * 8 + ["Selaraskan IKU"])
    workbook.save(target)
    assert "new: 1 finding with 1 recommendation" in ok("import", str(target)).stdout


def test_template_must_be_xlsx_and_not_with_a_file(run: Run, tmp_path: Path) -> None:
    assert "ending in .xlsx" in run("import", "--template", str(tmp_path / "t.csv")).stderr
    both = run("import", str(tmp_path / "a.xlsx"), "--template", str(tmp_path / "t.xlsx"))
    assert both.exit_code == 1 and "not both" in both.stderr
    assert not (tmp_path / "t.xlsx").exists()


def test_a_problem_in_a_later_chunk_rolls_back_the_chunks_already_written(
        run: Run, ok: Run, tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan_module, "CHUNK", 1)  # every finding its own chunk
    inserted: list[int] = []
    insert_in = AuditRecorder.insert_in

    def counting(self: AuditRecorder, c: Any, stored: Any) -> None:
        inserted.append(len(stored))
        insert_in(self, c, stored)

    monkeypatch.setattr(AuditRecorder, "insert_in", counting)
    ok("init")
    before = store_bytes(isolated)
    # the third finding's review is dated before its report was received
    result = run("import", str(matriks(tmp_path / "m.xlsx", bad={(9, 11): "1/1/2023"})))
    assert result.exit_code == 1 and "row 10: review date 2023-01-01" in result.stderr
    assert len(inserted) == 2  # two chunks went in before the problem, then rolled back
    assert store_bytes(isolated) == before
    ok("verify")


def test_killed_half_way_the_store_has_none_of_it_and_still_verifies(
        run: Run, ok: Run, tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_module, "CHUNK", 1)
    calls: list[int] = []
    insert_in = AuditRecorder.insert_in

    def killed(self: AuditRecorder, c: Any, stored: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process stops between two chunks
        insert_in(self, c, stored)

    monkeypatch.setattr(AuditRecorder, "insert_in", killed)
    ok("init")
    before = store_bytes(isolated)
    assert run("import", str(matriks(tmp_path / "m.xlsx"))).exit_code == 130  # interrupted
    assert store_bytes(isolated) == before
    assert events(isolated) == []
    ok("verify")


def test_someone_saving_first_means_planning_afresh(
        ok: Run, tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = matriks(tmp_path / "m.xlsx")
    ok("init")
    insert_in = AuditRecorder.insert_in
    calls: list[int] = []

    def another_auditor_first(self: AuditRecorder, c: Any, stored: Any) -> None:
        calls.append(1)
        if len(calls) == 1:  # another auditor records a finding of 2023 meanwhile
            other = Store(str(isolated))
            ctx = Context("other", datetime(2024, 1, 15, 9, tzinfo=UTC))
            commands.register_pemda(other, ctx, "35.78", None, None, date(2024, 1, 15))
            commands.record_finding(other, ctx, commands.NewFinding(
                pemda="35.78", title="Kas kurang", received=date(2023, 5, 2),
                recommendations=[RecommendationSpec(n=1, text="Setor")]))
            other.close()
            raise RecordConflictError("another writer saved first")
        insert_in(self, c, stored)

    monkeypatch.setattr(AuditRecorder, "insert_in", another_auditor_first)
    out = ok("import", str(path)).stdout
    assert "new: 3 findings with 6 recommendations" in out
    assert "registered from the official list: 35.73 Kota Malang, 35.10 Kabupaten " \
           "Banyuwangi\n" in out  # 35.78 was registered by the other auditor
    assert len(calls) == 2
    recorded = [(e.ref, e.title) for e in events(isolated) if isinstance(e, FindingRecorded)]
    assert [ref for ref, _ in recorded] == ["F-2023-0001", "F-2023-0002", "F-2023-0003",
                                            "F-2023-0004"]
    assert recorded[0][1] == "Kas kurang"
    ok("verify")


def test_a_store_whose_guards_were_removed_gets_nothing_imported(
        run: Run, ok: Run, tmp_path: Path, isolated: Path) -> None:
    ok("init")
    db = sqlite3.connect(isolated)
    db.execute("DROP TRIGGER stored_events_no_update")
    db.close()
    before = store_bytes(isolated)
    result = run("import", str(matriks(tmp_path / "m.xlsx")))
    assert result.exit_code == 3 and "stored_events_no_update" in result.stderr
    assert store_bytes(isolated) == before


def test_codes_years_and_missing_cells_are_problems_of_their_cells(run: Run, tmp_path: Path
                                                                  ) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "Pemda;Judul Temuan;Kode Temuan;Tahun Evaluasi;Rekomendasi;Kode Rekomendasi;Tgl LHP\n"
        "35.73;Kas kurang;1.0x;2023;Setor;01;1/8/2023\n"
        "35.73;IKU;1.01.03;23;Perbaiki;15;1/8/2023\n"
        ";Aset;;;Catat;;1/8/2023\n"
        "35.73;Belanja;;;;;\n"
        "Kota Atlantis;Hibah;;;Tagih;;1/8/2023\n", "utf-8")
    result = run("import", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:] == [
        'row 2, column "Kode Temuan": finding code \'1.0x\' is not valid: use a BPK code of '
        "three levels such as 1.01.03 (101, 1.01. and 10103 also work)",
        'row 3, column "Tahun Evaluasi": year \'23\' is not valid: use a four-digit year such '
        "as 2023",
        'row 3, column "Kode Rekomendasi": recommendation code \'15\' is not valid: use 01 to '
        "14 (e.g. 01, 06, 14)",
        'row 4, column "Pemda": is empty: give the region code (35.73) or official name '
        "(Kota Malang)",
        'row 5, column "Rekomendasi": is empty: every row is one recommendation, give its text',
        'row 6, column "Pemda": "Kota Atlantis" is not a pemda in the official region list '
        "(use a Kemendagri code such as 35.73 or an official name such as Kota Malang)",
    ]


def test_texts_of_a_register_follow_the_rules_of_typed_texts(run: Run, tmp_path: Path,
                                                             isolated: Path) -> None:
    """A control character or an over-long cell would enter the immutable log for ever (and
    break every later XLSX export), exactly as when typed: it is a problem of its cell."""
    path = tmp_path / "r.csv"
    path.write_text(
        "Pemda;Tgl LHP;Judul Temuan;Rekomendasi;OPD\n"
        "35.73;1/2/2024;Judul\x07baru;Rek baru;Dinas\n"
        "35.73;1/2/2024;Judul lain;Rek\x1b[31m merah;Dinas\n"
        f"35.73;1/2/2024;{'J' * 501};Rek;Dinas\n"
        "35.73;1/2/2024;Judul keempat;Rek\u009bC1;Dinas\n"
        "35.73;1/2/2024;Judul kelima;Rek;Dinas\x1b\n", "utf-8")
    result = run("import", str(path))
    assert result.exit_code == 1, result
    problems = result.stderr.splitlines()[1:]
    assert [p.split(":")[0] for p in problems] == [
        'row 2, column "Judul Temuan"', 'row 3, column "Rekomendasi"',
        'row 4, column "Judul Temuan"', 'row 5, column "Rekomendasi"', 'row 6, column "OPD"']
    assert "U+0007" in problems[0] and "501 characters" in problems[2]
    assert not isolated.exists()


def test_a_blank_title_under_another_report_is_not_filled_down(run: Run, tmp_path: Path,
                                                               isolated: Path) -> None:
    """Cells left blank continue the finding above only within its report: under another LHP
    number the title above would be given to a finding it does not belong to."""
    path = tmp_path / "r.csv"
    path.write_text(
        "Nomor LHP;Tanggal LHP;Pemda;Judul Temuan;Rekomendasi;Status\n"
        "700/007;1/3/2023;35.73;Judul A;Rek A;Belum TL\n"
        "700/007;1/3/2023;35.73;;Rek A2;Belum TL\n"
        "700/008;1/3/2023;35.73;;Rek B;Sesuai\n", "utf-8")
    result = run("import", str(path))
    assert result.exit_code == 1, result
    problems = result.stderr.splitlines()[1:]
    assert len(problems) == 1 and problems[0].startswith('row 4, column "Judul Temuan": '), (
        problems)
    assert not isolated.exists()


def every_column_csv(path: Path) -> Path:
    """A register using every column the importer reads, optional ones included."""
    head = [HEADERS[f][0] for f in HEADERS]
    full = {"pemda": "35.73", "opd": "Dinas Pendidikan", "report": "700/9/ITDA/2023",
            "issued": "1/3/2023", "received": "6/3/2023", "title": "Belanja modal lebih bayar",
            "condition": "Kondisi", "criteria": "Kriteria", "cause": "Sebab", "effect": "Akibat",
            "code": "1.01.03", "value": "Rp12.150.000,-", "instrument": "", "year": "",
            "recommendation": "Setor ke kas daerah", "rec_code": "06", "rec_value": "7.500.000",
            "due": "5/5/2023", "followup": "Setoran sebagian", "followup_on": "10/4/2023",
            "deposit": "Rp7.500.000,-", "slip": "STS-0012/2023", "status": "TDTL",
            "reviewed_on": "14/4/2023", "reason": "  Rekanan pailit  "}
    second = {**full, "recommendation": "Tegur PPK", "rec_code": "", "rec_value": "",
              "due": "", "followup": "", "followup_on": "", "deposit": "", "slip": "",
              "status": "Sesuai", "reviewed_on": "", "reason": ""}
    bare = {f: "" for f in HEADERS} | {"pemda": "Kab. Banyuwangi", "received": "2023-08-01",
                                        "title": "Kas kurang", "recommendation": "Setor"}
    lines = [head] + [[row[f] for f in HEADERS] for row in (full, second, bare)]
    path.write_text("\n".join(";".join(cells) for cells in lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("pinned", [True, False])
def test_what_an_import_stores_is_what_the_events_encode_to(
        ok: Run, tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch,
        pinned: bool) -> None:
    """New findings are written straight in stored form (store.mapper.Rows): every row must
    be the very bytes the mapper writes for the same event, validated, as the commands do."""
    if not pinned:  # restamped at the save, with the clock's microseconds
        monkeypatch.delenv("AUDITLOG_NOW")
    ok("import", str(matriks(tmp_path / "matriks.xlsx")))
    ok("import", str(every_column_csv(tmp_path / "every.csv")))
    store = Store.open_existing(str(isolated))
    try:
        mapper = store.app.mapper
        rows = [n for batch in store.notifications() for n in batch]
        for row in rows:
            again = mapper.to_stored_event(mapper.to_domain_event(row))
            assert (again.topic, again.state) == (row.topic, row.state), row.topic
        decoded = [store.decode(n) for n in rows]
    finally:
        store.close()
    topics = {e.topic for e in decoded}
    assert {"auditlog.finding.recorded", "auditlog.reference.allocated",
            "auditlog.followup.recorded", "auditlog.recommendation.reviewed"} <= topics
    found = next(e for e in decoded if isinstance(e, FindingRecorded)
                 and e.title == "Belanja modal lebih bayar")
    assert (found.code, found.value, found.opd, found.recommendations[0].due) == (
        "1.01.03", 12150000, "Dinas Pendidikan", date(2023, 5, 5))
    follow = next(e for e in decoded if isinstance(e, FollowUpRecorded)
                  and e.slip == "STS-0012/2023")
    assert (follow.deposit, follow.originator_version) == (7500000, 2)
    reasons = {e.reason for e in decoded if isinstance(e, RecommendationReviewed)}
    assert "Rekanan pailit" in reasons
    ok("verify")


def test_rows_written_straight_must_have_every_field_of_their_event() -> None:
    """A field added to an event and not to the importer's rows would store bytes no command
    writes: the rows refuse to be made without it."""
    rows = Rows(datetime(2024, 1, 15, 9, tzinfo=UTC))
    with pytest.raises(TypeError, match="FollowUpRecorded rows need exactly the fields"):
        rows.add(FollowUpRecorded, uuid4(), 2, "auditor", date(2024, 1, 2),
                 {"recommendation": 1, "action": "Setor", "deposit": 0, "slip": None,
                  "source": None})
    rows.add(FollowUpRecorded, uuid4(), 2, "auditor", date(2024, 1, 2),
             {"recommendation": 1, "action": "Setor", "deposit": 0, "slip": None,
              "evidence": [], "source": None})
    assert len(rows.collect_stored()) == 1
