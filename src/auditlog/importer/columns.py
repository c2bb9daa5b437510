"""Which column holds what: the header row found below any title rows, its cells matched to
fields case- and space-insensitively, Indonesian names first, plus a --mapping file's names."""

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditlog.errors import Refusal
from auditlog.i18n import _
from auditlog.importer.values import Cell

# field -> headers accepted (the first is the one the template writes). Order of fields is
# the template's column order.
HEADERS: dict[str, tuple[str, ...]] = {
    "pemda": ("Pemda", "Kode Pemda", "Kode Wilayah", "Pemerintah Daerah"),
    "opd": ("OPD", "Perangkat Daerah", "Obrik", "Auditi", "Satker"),
    "report": ("Nomor LHP", "No LHP", "No. LHP", "Nomor Laporan", "Nomor LHE", "No LHE"),
    "issued": ("Tanggal LHP", "Tgl LHP", "Tanggal Laporan", "Tanggal LHE", "Tgl LHE"),
    "received": ("Tanggal Diterima", "Tgl Terima", "Tgl Diterima", "Tanggal Terima"),
    "title": ("Judul Temuan", "Uraian Temuan", "Temuan", "Catatan"),
    "condition": ("Kondisi",),
    "criteria": ("Kriteria",),
    "cause": ("Sebab",),
    "effect": ("Akibat",),
    "code": ("Kode Temuan",),
    "value": ("Nilai Temuan",),
    "instrument": ("Instrumen",),
    "year": ("Tahun Evaluasi",),
    "recommendation": ("Rekomendasi", "Uraian Rekomendasi"),
    "rec_code": ("Kode Rekomendasi",),
    "rec_value": ("Nilai Rekomendasi",),
    "due": ("Batas Waktu", "Jatuh Tempo"),
    "followup": ("Tindak Lanjut", "Uraian Tindak Lanjut"),
    "followup_on": ("Tanggal Tindak Lanjut", "Tgl Tindak Lanjut", "Tanggal TL", "Tgl TL"),
    "deposit": ("Nilai Setor", "Jumlah Setor", "Nilai Tindak Lanjut"),
    "slip": ("Nomor STS", "No STS", "Nomor Bukti Setor"),
    "status": ("Status", "Status TL", "Status Tindak Lanjut", "Hasil Reviu"),
    "reviewed_on": ("Tanggal Reviu", "Tgl Reviu"),
    "reason": ("Alasan", "Alasan Status", "Keterangan Reviu"),
}
REQUIRED = ("pemda", "title", "recommendation")
# How far down title rows ("MATRIKS PEMANTAUAN ...", the Inspektorat, the semester) may go.
HEADER_SEARCH_ROWS = 30


def header_key(text: str) -> str:
    """'No. LHP', 'NO  LHP', 'Nilai Temuan (Rp)' and 'Nilai\\nTemuan' compare equal to their
    plain forms: units in brackets, punctuation, case and spacing do not count."""
    text = re.sub(r"\([^)]*\)", " ", text)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


@dataclass(frozen=True)
class Columns:
    """The header row and, per field, the column index and the header as written."""

    header_row: int
    where: dict[str, tuple[int, str]]

    def get(self, cells: Sequence[Cell], field: str) -> Cell:
        found = self.where.get(field)
        if found is None or found[0] >= len(cells):
            return None
        return cells[found[0]]

    def header(self, field: str) -> str:
        found = self.where.get(field)
        return found[1] if found else HEADERS[field][0]


class Matcher:
    def __init__(self, extra: dict[str, str] | None = None) -> None:
        self.names: dict[str, str] = {}
        for field, headers in HEADERS.items():
            for header in headers:
                self.names.setdefault(header_key(header), field)
        for header, field in (extra or {}).items():
            self.names[header_key(header)] = field

    def match_row(self, cells: Sequence[Cell]) -> dict[str, tuple[int, str]]:
        found: dict[str, tuple[int, str]] = {}
        for i, cell in enumerate(cells):
            if not isinstance(cell, str):
                continue
            field = self.names.get(header_key(cell))
            if field is not None and field not in found:
                found[field] = (i, " ".join(cell.split()))
        return found

    def score(self, rows: list[Sequence[Cell]]) -> int:
        """How many fields the best header row among the first rows names."""
        return max((len(self.match_row(cells)) for cells in rows[:HEADER_SEARCH_ROWS]),
                   default=0)

    def find(self, rows: list[tuple[int, Sequence[Cell]]], name: str) -> Columns:
        """The first row naming the required columns (title rows above it are skipped)."""
        best: tuple[int, dict[str, tuple[int, str]]] | None = None
        for number, cells in rows[:HEADER_SEARCH_ROWS]:
            found = self.match_row(cells)
            if all(f in found for f in REQUIRED):
                return Columns(header_row=number, where=found)
            if found and (best is None or len(found) > len(best[1])):
                best = (number, found)
        if best is None:
            raise Refusal(
                _("{name} has no header row in its first {HEADER_SEARCH_ROWS} rows: name the "
                  "columns Pemda, Judul Temuan and Rekomendasi at least (see 'auditlog "
                  "import --template FILE.xlsx'), or map yours with --mapping").format(
                    name=name, HEADER_SEARCH_ROWS=HEADER_SEARCH_ROWS)
            )
        number, found = best
        missing = [f for f in REQUIRED if f not in found]
        names = "; ".join(_('"{header}" (or {others})').format(
                              header=HEADERS[f][0], others=", ".join(HEADERS[f][1:]))
                          if len(HEADERS[f]) > 1 else f'"{HEADERS[f][0]}"' for f in missing)
        raise Refusal(_("{name}: the header row (row {number}) has no column for {names}: "
                        "add it, or map your column with --mapping").format(
                          name=name, number=number, names=names))


def load_mapping(path: Path) -> dict[str, str]:
    """A TOML or YAML file: a table `columns` of header -> field, e.g.
    [columns]
    "Uraian Masalah" = "title"
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise Refusal(_("mapping file {path} does not exist: give a TOML or YAML file").format(
                          path=path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise Refusal(_("mapping file {path} cannot be read ({error}): give a UTF-8 TOML or "
                        "YAML file").format(path=path, error=error)) from None
    data: Any
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise Refusal(_("mapping file {path} is not valid YAML: {value}").format(
                              path=path, value=' '.join(str(error).split()))) from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise Refusal(_("mapping file {path} is not valid TOML ({error}): write "
                            '[columns] and lines such as "Uraian Masalah" = "title"').format(
                              path=path, error=error)) from None
    columns = data.get("columns") if isinstance(data, dict) else None
    if not isinstance(columns, dict) or not columns:
        raise Refusal(_("mapping file {path} has no table 'columns': write [columns] and "
                        'lines such as "Uraian Masalah" = "title"').format(path=path))
    mapping: dict[str, str] = {}
    for header, field in columns.items():
        if not isinstance(field, str) or field not in HEADERS:
            raise Refusal(_("mapping file {path}: {header!r} maps to {field!r}, which "
                            "is not a field: use one of ").format(
                path=path, header=header, field=field) + ", ".join(HEADERS))
        mapping[str(header)] = field
    return mapping

