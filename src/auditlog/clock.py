"""The one place that reads the system clock, so AUDITLOG_NOW can pin it for tests and docs."""

import os
from datetime import UTC, date, datetime, time

from auditlog.errors import Refusal
from auditlog.i18n import _

NOW_ENV = "AUDITLOG_NOW"


def parse_timestamp(text: str, *, what: str = "timestamp") -> datetime:
    """ISO 8601 with or without time and zone; without a zone it is local time."""
    raw = text.strip()
    try:
        return _in_range(_parse(raw), text, what)
    except (ValueError, OverflowError):
        raise Refusal(
            _("{what} {text!r} is not a timestamp: use ISO 8601, e.g. 2024-01-15, "
              "2024-01-15T09:30 or 2024-01-15T09:30:00+07:00").format(what=what, text=text)
        ) from None


def _in_range(moment: datetime, text: str, what: str) -> datetime:
    if not 1945 <= moment.year <= 2200:
        raise Refusal(_("{what} {text!r} is outside the years 1945 to 2200: give a timestamp "
                        "such as 2024-01-15T09:30").format(what=what, text=text))
    return moment


def _parse(raw: str) -> datetime:
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        # A date alone means what the log held on that day: up to its end, local time.
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            pass
        else:
            return datetime.combine(day, time.max).astimezone().astimezone(UTC)
    parsed = datetime.fromisoformat(raw)
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()  # naive means the auditor's local time
    return parsed.astimezone(UTC)


def now() -> datetime:
    """The current moment in UTC (or the pinned AUDITLOG_NOW)."""
    pinned = os.environ.get(NOW_ENV)
    if pinned:
        return parse_timestamp(pinned, what=NOW_ENV)
    return datetime.now(UTC)


def today() -> date:
    """The auditor's calendar date now (local time), used as the default reference date."""
    return now().astimezone().date()
