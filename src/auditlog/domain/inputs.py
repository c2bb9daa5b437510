"""Parsing of what auditors type: dates, rupiah, codes. Pure; every failure is a Refusal."""

import re
from datetime import date

from auditlog.errors import Refusal
from auditlog.i18n import N_, _, month_names

DATE_FORMS = N_("ISO 2023-07-26, day-first 26/7/2023 or 26 Juli 2023")
# The years a date may fall in: from the republic's founding to well past any deadline. Outside
# them a typo is far likelier than a fact, and references (F-YYYY-nnnn) need four-digit years.
FIRST_YEAR, LAST_YEAR = 1945, 2200
# The patterns are kept as text and compiled on first use (re caches them): the command line
# imports this module to build its options, and most runs match none of them.
# (?a), re.ASCII: \d would otherwise accept any Unicode digit (Arabic-Indic, full-width...), which
# int() reads happily and the store would then keep in a form no other tool types.
_ISO_DATE = r"(?a)^(\d{4})-(\d{1,2})-(\d{1,2})$"
_DMY_DATE = r"(?a)^(\d{1,2})/(\d{1,2})/(\d{4})$"
# 26 Juli 2023, 26 Jul 2023, 26 July 2023: the month by name, in either language.
_NAMED_DATE = r"(?a)^(\d{1,2})\s+([^\W\d_]+)\.?\s+(\d{4})$"


def parse_date(text: str, *, what: str = "date") -> date:
    raw = text.strip()
    match = re.match(_ISO_DATE, raw)
    if match:
        year, month, day = (int(g) for g in match.groups())
    elif match := re.match(_DMY_DATE, raw):
        day, month, year = (int(g) for g in match.groups())
    elif (match := re.match(_NAMED_DATE, raw)) and match.group(2).lower() in month_names():
        day, year = int(match.group(1)), int(match.group(3))
        month = month_names()[match.group(2).lower()]
    else:
        raise Refusal(_("{what} {text!r} is not a date: use {forms}").format(
            what=what, text=text, forms=_(DATE_FORMS)))
    try:
        parsed = date(year, month, day)
    except ValueError:
        raise Refusal(_("{what} {text!r} does not exist in the calendar: use {forms}").format(
            what=what, text=text, forms=_(DATE_FORMS))) from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise Refusal(_("{what} {text!r} is not in the years {first} to {last}: use {forms}")
                      .format(what=what, text=text, first=FIRST_YEAR, last=LAST_YEAR,
                              forms=_(DATE_FORMS)))
    return parsed


# A no-break space after "Rp" is common in text pasted from office documents.
# ",-" closes an amount written in full on Indonesian forms: Rp12.150.000,- (",00" stays
# refused: it reads as a decimal part, which rupiah amounts never have)
_RUPIAH = r"(?ai)^(?:rp\.?[\s\u00a0]?)?(\d{1,3}(?:\.\d{3})+|\d+)(?:,-)?$"
RUPIAH_FORMS = N_("a whole, non-negative amount such as 12150000, 12.150.000, Rp12.150.000 "
                  "or Rp12.150.000,-")
# Rp100 trillion, more than the yearly budget of any pemda: far above any finding's value, and
# sums of many such amounts still fit the 64-bit integers of SQLite and the exports.
MAX_RUPIAH = 10**14


def parse_rupiah(text: str, *, what: str = "amount") -> int:
    """Rupiah are integers; '.' groups thousands. Decimals, negatives and amounts above
    MAX_RUPIAH are refused."""
    raw = text.strip()
    match = re.match(_RUPIAH, raw)
    if not match:
        raise Refusal(_("{what} {text!r} is not a rupiah amount: use {forms}").format(
            what=what, text=text, forms=_(RUPIAH_FORMS)))
    digits = match.group(1).replace(".", "").lstrip("0")
    # Length first: int() refuses (ValueError) strings of thousands of digits.
    if len(digits) > len(str(MAX_RUPIAH)) or int(digits or "0") > MAX_RUPIAH:
        raise Refusal(_("{what} {text!r} is above the limit of {limit}: give an amount of at "
                        "most {limit}").format(what=what, text=text,
                                               limit=format_rupiah(MAX_RUPIAH)))
    return int(digits or "0")


def format_rupiah(amount: int) -> str:
    """Indonesian writing: Rp12.150.000."""
    return "Rp" + f"{amount:,}".replace(",", ".")


# One optional dot between levels and one trailing dot ("1.01.."  is refused).
_FINDING_CODE = r"(?a)^(\d)\.?(\d{2})(?:\.?(\d{2}))?\.?$"
FINDING_CODE_FORMS = N_("a BPK code of three levels such as 1.01.03 (101, 1.01. and 10103 also "
                        "work)")


def normalise_finding_code(text: str) -> str:
    """BPK three-level code: 101, 1.01., 1.01.00 and 1.01 all become one form (1.01.00)."""
    raw = text.strip()
    match = re.match(_FINDING_CODE, raw)
    if not match:
        raise Refusal(_("finding code {text!r} is not valid: use {forms}").format(
            text=text, forms=_(FINDING_CODE_FORMS)))
    first, second, third = match.groups()
    return f"{first}.{second}.{third or '00'}"


RECOMMENDATION_CODES: dict[str, str] = {
    "01": "penyetoran ke kas negara/daerah",
    "02": "pengembalian/penyetoran ke pihak ketiga",
    "03": "penyerahan aset",
    "04": "pelaksanaan sanksi kepada pihak ketiga",
    "05": "pelaksanaan sanksi kepegawaian",
    "06": "perbaikan laporan dan penertiban administrasi",
    "07": "pelaksanaan prosedur/pengendalian",
    "08": "peningkatan kualitas dan kuantitas sumber daya",
    "09": "perubahan atau perbaikan prosedur, peraturan dan kebijakan",
    "10": "perubahan atau perbaikan struktur organisasi",
    "11": "koordinasi antar instansi",
    "12": "pelaksanaan penelitian oleh tim khusus atau audit lanjutan",
    "13": "pelaksanaan sosialisasi",
    "14": "lain-lain",
}


# str.isdigit() is true for '²' and other characters int() refuses: a crash, not a refusal.
_ASCII_DIGITS = r"^[0-9]+$"


def normalise_recommendation_code(text: str) -> str:
    raw = text.strip()
    # Without the leading zeros first: int() refuses (ValueError) thousands of digits.
    digits = raw.lstrip("0")
    if re.match(_ASCII_DIGITS, raw) and len(digits) <= 2 and 1 <= int(digits or "0") <= 14:
        return f"{int(digits):02d}"
    raise Refusal(_("recommendation code {text!r} is not valid: use 01 to 14 (e.g. 01, 06, 14)")
                  .format(text=text))


_REGION = r"(?a)^\d{2}(\.\d{2})?$"


def normalise_region_code(text: str) -> str:
    """Kemendagri codes stay strings: '35', '35.73'. A province or a regency/city."""
    raw = text.strip()
    if not re.match(_REGION, raw):
        raise Refusal(_("region code {text!r} is not valid: use a Kemendagri code as text, 35 "
                        "for a province or 35.73 for a regency or city").format(text=text))
    return raw


def parse_year(text: str | int, *, what: str = "year") -> int:
    raw = str(text).strip()
    if not (re.match(_ASCII_DIGITS, raw) and len(raw) == 4 and 1945 <= int(raw) <= 2200):
        raise Refusal(_("{what} {text!r} is not valid: use a four-digit year such as 2023")
                      .format(what=what, text=text))
    return int(raw)


def require_text(text: str | None, *, what: str) -> str:
    if text is None or not text.strip():
        form = f'{what} "TEXT"' if what.startswith("--") else _("a non-empty text")
        raise Refusal(_("{what} is required and must not be empty: give {form}").format(
            what=what, form=form))
    return text.strip()


# --- what any text may hold --------------------------------------------------------------------

LONG_TEXTS = frozenset({"condition", "criteria", "cause", "effect", "action", "reason",
                        "recommendation"})
"""Options whose texts are long and may span lines; every other text is one line."""

LONG_TEXT_LIMIT = 10_000
TITLE_LIMIT = 500
ACTOR_LIMIT = 100
PATH_LIMIT = 4096
SHORT_LIMIT = 200
LIMITS = {"title": TITLE_LIMIT, "actor": ACTOR_LIMIT, **dict.fromkeys(LONG_TEXTS,
                                                                      LONG_TEXT_LIMIT)}
"""Characters per text (README, 'Limits'): far above any real entry, far below what a
spreadsheet cell holds (32,767), so nothing is ever cut short on the way out."""

# C0 and C1 control characters and DEL; line and paragraph separators end lines too. A long
# text may hold tabs and line ends; nothing may hold the rest (an escape sequence recolours a
# terminal, NUL and BEL break files and spreadsheets for ever, the event being immutable).
_ONE_LINE_BAD = "[\x00-\x1f\x7f-\x9f\u2028\u2029]"
_LONG_BAD = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_UNDECODED = "[\ud800-\udfff]"  # bytes that were not UTF-8 (surrogateescape)


def check_text(value: str, *, what: str, limit: int, multiline: bool = False) -> None:
    """Refuse, in one line, a text that is not valid UTF-8, too long, or holds control
    characters (line ends only where ``multiline``)."""
    if re.search(_UNDECODED, value):
        raise Refusal(_("{what} is not valid UTF-8 text: type it again, or save the "
                        "file it came from as UTF-8").format(
            what=what))
    if len(value) > limit:
        raise Refusal(_("{what} is {count:,} characters long, more than the {limit:,} "
                        "allowed: shorten it (see Limits in the README)").format(
            what=what, count=len(value), limit=limit))
    bad = re.search(_LONG_BAD if multiline else _ONE_LINE_BAD, value)
    if bad:
        where = "" if multiline else _(" (line ends only in long texts such as --condition)")
        raise Refusal(_("{what} holds the control character U+{code:04X} at character "
                        "{position}{where}: remove it").format(
            what=what, code=ord(bad.group()), position=bad.start() + 1, where=where))
