"""The language of every word a user reads: gettext catalogs managed with Babel.

Messages are marked with `_()` (translated now) or `N_()` (marked for extraction, translated
where it is shown: texts defined at import time, such as help and headings). The catalogs live
in `auditlog/locale/<lang>/LC_MESSAGES/auditlog.po`, compiled `.mo` beside them and shipped in
the package. Update them with Babel (see babel.cfg):

    pybabel extract -F babel.cfg -o src/auditlog/locale/auditlog.pot src
    pybabel update -i src/auditlog/locale/auditlog.pot -d src/auditlog/locale -D auditlog
    pybabel compile -d src/auditlog/locale -D auditlog

The language is chosen once per invocation: `--lang`, else AUDITLOG_LANG, else the locale
(LC_ALL, LC_MESSAGES, LANG in POSIX order; one starting with `id` means Indonesian), else
English. Display forms (dates, rupiah, percentages) come from Babel's CLDR data, never from
the machine's locale, so a report is the same bytes on every machine.
"""

import functools
import gettext
import os
from datetime import date
from pathlib import Path
from typing import Literal, get_args

Lang = Literal["id", "en"]
LANGUAGES: tuple[Lang, ...] = get_args(Lang)
DOMAIN = "auditlog"
LOCALE_DIR = Path(__file__).with_name("locale")

_chosen: list[Lang] = []


def from_environment(environ: dict[str, str] | None = None) -> Lang:
    """AUDITLOG_LANG, else the first locale variable set (LC_ALL, LC_MESSAGES, LANG)."""
    env = os.environ if environ is None else environ
    wanted = env.get("AUDITLOG_LANG", "").strip().lower()
    if wanted:
        return parse_lang(wanted)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "id" if value.lower().startswith("id") else "en"
    return "en"


class UnknownLanguage(ValueError):
    pass


def parse_lang(text: str) -> Lang:
    lang = text.strip().lower()
    if lang not in LANGUAGES:
        raise UnknownLanguage(
            f"language {text!r} is not available: use one of {', '.join(LANGUAGES)}")
    return lang


def set_language(lang: Lang | None) -> Lang:
    """Choose the language for this invocation (None: from the environment)."""
    chosen = from_environment() if lang is None else lang
    _chosen[:] = [chosen]
    return chosen


def reset() -> None:
    """Forget the choice: the next message asks the environment again (tests, new runs)."""
    _chosen.clear()


def language() -> Lang:
    if not _chosen:
        try:
            set_language(None)
        except UnknownLanguage:  # refused where the options are parsed; speak English here
            set_language("en")
    return _chosen[0]


@functools.cache
def translations(lang: Lang) -> gettext.NullTranslations:
    if lang == "en":  # the messages are written in English
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])


def _(message: str) -> str:
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a message for extraction without translating it yet."""
    return message


# --- display forms ---------------------------------------------------------------------------
# Babel is imported when first needed: it loads CLDR data that most commands never use.


def format_date(day: date, lang: Lang | None = None) -> str:
    """26 Juli 2023 in Indonesian; ISO 2023-07-26 in English (what scripts and BPK expect)."""
    if (lang or language()) == "en":
        return day.isoformat()
    return _indonesian_date(day)


# A report words the same few thousand dates over and over, each a call into babel (~10 us).
@functools.lru_cache(maxsize=1 << 14)
def _indonesian_date(day: date) -> str:
    from babel.dates import format_date as babel_date

    return babel_date(day, "d MMMM y", locale="id")


def format_pct(value: float | None, lang: Lang | None = None) -> str:
    """37,50% in Indonesian; 37.50 in English (the English heading says %)."""
    if value is None:
        return ""
    if (lang or language()) == "en":
        return f"{value:.2f}"
    from babel.numbers import format_percent

    return format_percent(value / 100, "#,##0.00%", locale="id")


@functools.cache
def month_names() -> dict[str, int]:
    """Every month name and abbreviation of both languages, lower case -> month number."""
    from babel.dates import get_month_names

    names: dict[str, int] = {}
    for locale in LANGUAGES:
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=locale).items():
                names[str(name).lower().rstrip(".")] = int(number)
    return names
