"""Cell values as people type them in Chinese ledgers: dates, names, lists of groups."""

import calendar
import re
import unicodedata
from datetime import date, datetime

from openpyxl.utils.datetime import from_excel

from tracker.spreadsheets import layout

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_CHINESE = re.compile(r"^(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]?$")
_MONTH_END = re.compile(r"^(?:(\d{4})年)?(\d{1,2})月(?:底|末)$")
_TIME_TAIL = re.compile(r"[T\s]+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
# "6月30日前" / "before" wording means the same deadline.
_BEFORE = ("之前", "以前", "前")
# Serial day numbers Excel uses for 1982…2119, when a date cell lost its format.
_SERIALS = range(30000, 80000)
LIST_SEPARATORS = re.compile(r"[、,，;；/\n]+")


class BadValue(ValueError):
    pass


def text(value) -> str:
    """A cell as text: numbers without a trailing .0, stripped, un-neutralised."""
    if value is None:
        return ""
    if value.__class__ is str:  # most cells: skip the other checks
        return layout.unneutralise(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return layout.unneutralise(str(value).strip())


def parse_date(value, event_year: int) -> date | None:
    """A deadline in any of the ways sheets carry one; raises BadValue when it is not a date."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if int(value) in _SERIALS:
            return from_excel(value).date()
        raise BadValue(value)
    raw = unicodedata.normalize("NFKC", str(value)).strip()
    if not raw:
        return None
    compact = re.sub(r"\s+", "", _TIME_TAIL.sub("", raw))
    for word in _BEFORE:
        compact = compact.removesuffix(word)
    for pattern in (_ISO, _COMPACT):
        match = pattern.match(compact)
        if match:
            return _real_date(*(int(g) for g in match.groups()), raw)
    match = _CHINESE.match(compact)
    if match:
        year = int(match.group(1)) if match.group(1) else event_year
        return _real_date(year, int(match.group(2)), int(match.group(3)), raw)
    match = _MONTH_END.match(compact)
    if match:
        year = int(match.group(1)) if match.group(1) else event_year
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise BadValue(raw)
        return date(year, month, calendar.monthrange(year, month)[1])
    raise BadValue(raw)


def _real_date(year: int, month: int, day: int, raw: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise BadValue(raw) from None


def split_list(value) -> list[str]:
    return [part.strip() for part in LIST_SEPARATORS.split(text(value)) if part.strip()]


def vocabulary(kind: str, value) -> str | bool | None:
    """The stored key for a fixed value (高/High/high → "high"); None for blank; BadValue if unknown."""
    raw = text(value)
    if not raw:
        return None
    key = layout.VOCABULARIES[kind].get(layout.squash(raw))
    if key is None:
        raise BadValue(raw)
    return key
