"""Reading a register file into numbered rows of cells: XLSX/XLS/ODS through python-calamine,
CSV with its encoding and delimiter detected. What cannot be read is a Refusal in one line."""

import csv
import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from auditlog.errors import Refusal
from auditlog.i18n import N_, _
from auditlog.importer.values import Cell

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An Office file saved with a password is an OLE container holding the encrypted workbook
# and a stream of this name (MS-OFFCRYPTO); a plain .xls has none.
ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
DELIMITERS = (";", ",", "\t")
SAVE_AS = N_("save it as .xlsx or .csv (UTF-8 or Windows-1252) and import that")

Row = tuple[int, Sequence[Cell]]
# How well a delimiter splits a file's first rows (how many known headers it finds).
Score = Callable[[list[Sequence[Cell]]], int]


@dataclass
class RegisterFile:
    """A register file to import: its path, bytes and fingerprint."""

    path: Path
    data: bytes
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class Table:
    """The rows of one sheet (or of a CSV file), numbered as the spreadsheet shows them."""

    sheet: str | None
    rows: list[Row]


def load(path: Path) -> RegisterFile:
    """The file's bytes and SHA-256, or a one-line refusal."""
    if path.is_dir():
        raise Refusal(_("{path} is a folder: give the path of an .xlsx or .csv register").format(
                          path=path))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise Refusal(_("{path} does not exist: give the path of an .xlsx or .csv register").format(
                          path=path)) \
            from None
    except OSError as error:
        raise Refusal(_("{path} cannot be read ({strerror}): check the file and its "
                        "permissions").format(path=path, strerror=error.strerror)) from None
    if not data.strip():
        raise Refusal(_("{path} is empty: give a register with a header row and at least one "
                        "row").format(path=path))
    return RegisterFile(path=path, data=data, sha256=hashlib.sha256(data).hexdigest())


def read_table(source: RegisterFile, sheet: str | None, score: Score) -> Table:
    data = source.data
    if data.startswith(OLE_MAGIC) and ENCRYPTION_INFO in data:
        raise Refusal(_("{name} is protected by a password: open it in the spreadsheet "
                        "program, remove the password (File > Info > Protect Workbook) and "
                        "save, then import again").format(name=source.name))
    if data.startswith((ZIP_MAGIC, OLE_MAGIC)):
        return _read_workbook(source, sheet)
    if sheet is not None:
        raise Refusal(_("--sheet applies to workbooks, and {name} is a CSV file: leave "
                        "--sheet out").format(name=source.name))
    return Table(sheet=None, rows=_read_csv(source, score))


def _read_workbook(source: RegisterFile, sheet: str | None) -> Table:
    # Imported here: only imports need the reader.
    import python_calamine as calamine

    try:
        workbook = calamine.CalamineWorkbook.from_filelike(io.BytesIO(source.data))
    except calamine.PasswordError:
        raise Refusal(_("{name} is protected by a password: remove the password and save, "
                        "then import again").format(name=source.name)) from None
    except (calamine.CalamineError, ValueError) as error:
        kind = (_("a zip archive") if source.data.startswith(ZIP_MAGIC)
                else _("an old Office file"))
        raise Refusal(_("{name} is {kind} but not a workbook that can be read ({error}): "
                        "{SAVE_AS}").format(name=source.name, kind=kind, error=_short(error),
                                            SAVE_AS=_(SAVE_AS))) from None
    with workbook:
        names = workbook.sheet_names
        visible = [m.name for m in workbook.sheets_metadata
                   if m.visible == calamine.SheetVisibleEnum.Visible]
        if sheet is None:
            if not (visible or names):
                raise Refusal(_("{name} has no sheets: {SAVE_AS}").format(
                                  name=source.name, SAVE_AS=_(SAVE_AS)))
            chosen = (visible or names)[0]
        elif sheet in names:
            chosen = sheet
        else:
            raise Refusal(_("{name} has no sheet {sheet!r}: use --sheet with one of ").format(
                name=source.name, sheet=sheet)
                          + ", ".join(repr(n) for n in names))
        try:
            found = workbook.get_sheet_by_name(chosen)
            # Row n of the sheet is list item n-1: the reader starts at A1 when asked.
            rows: list[Row] = list(enumerate(found.to_python(skip_empty_area=False), start=1))
            merged = found.merged_cell_ranges or []
        except calamine.CalamineError as error:
            raise Refusal(_("sheet {chosen!r} of {name} cannot be read ({error}): "
                            "{SAVE_AS}").format(chosen=chosen, name=source.name,
                                                error=_short(error),
                              SAVE_AS=_(SAVE_AS))) from None
    _fill_merged(rows, merged)
    return Table(sheet=chosen, rows=rows)


def _short(error: Exception) -> str:
    return " ".join(str(error).split())[:120] or type(error).__name__


def _fill_merged(rows: list[Row], merged: list[tuple[tuple[int, int], tuple[int, int]]]) -> None:
    """A merged range shows one value over all its cells; the reader gives it only to the
    first. Each cell of the range gets the value, as the user sees it."""
    for (top, left), (bottom, right) in merged:
        if top >= len(rows):
            continue
        first = rows[top][1]
        value = first[left] if left < len(first) else None
        for r in range(top, min(bottom, len(rows) - 1) + 1):
            number, cells = rows[r]
            filled = [*cells, *([None] * (right + 1 - len(cells)))]
            filled[left:right + 1] = [value] * (right + 1 - left)
            rows[r] = (number, filled)


# --- CSV --------------------------------------------------------------------------------------


def decode(source: RegisterFile) -> str:
    data = source.data
    if b"\x00" in data[:4096]:
        raise Refusal(_("{name} is not a spreadsheet or a text file: {SAVE_AS}").format(
                          name=source.name, SAVE_AS=_(SAVE_AS)))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")  # what Excel writes as "CSV" on Windows
    except UnicodeDecodeError:
        raise Refusal(_("{name} is neither UTF-8 nor Windows-1252 text: {SAVE_AS}").format(
                          name=source.name, SAVE_AS=_(SAVE_AS))) \
            from None


def _read_csv(source: RegisterFile, score: Score) -> list[Row]:
    text = decode(source)
    head = text[:65536]
    best, best_score = DELIMITERS[0], -1
    for delimiter in DELIMITERS:
        try:
            sample: list[Sequence[Cell]] = []
            sample.extend(csv.reader(io.StringIO(head), delimiter=delimiter))
        except csv.Error:
            continue
        found = score(sample[:40])
        if found > best_score:
            best, best_score = delimiter, found
    try:
        rows: list[Row] = list(enumerate(csv.reader(io.StringIO(text), delimiter=best), 1))
        return rows
    except csv.Error as error:
        raise Refusal(_("{name} is not a well-formed CSV file ({error}): {SAVE_AS}").format(
                          name=source.name, error=_short(error), SAVE_AS=_(SAVE_AS))) from None

