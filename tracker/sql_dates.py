"""Calendar-day arithmetic in SQL that gives the same numbers on SQLite and PostgreSQL.

The board computes lights inside its GROUP BY, so "days from issue to deadline"
and "the event-local date an item was created" must be SQL expressions. SQLite
has no time zones: it shifts by the zone's UTC offset at ``now`` (exact for
Asia/Shanghai, which has no daylight saving); PostgreSQL converts properly.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Float, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement


def day(value: date) -> ColumnElement:
    return literal(value, Date)


def local_day(column, dialect: str, tz: str, now: datetime) -> ColumnElement:
    """The date, in the event's time zone, of a UTC timestamp column."""
    if dialect == "sqlite":
        offset = ZoneInfo(tz).utcoffset(now.replace(tzinfo=None))
        minutes = int(offset.total_seconds() // 60) if offset else 0
        return func.date(column, f"{minutes:+d} minutes")
    return cast(func.timezone(tz, column), Date)


def days_between(later, earlier, dialect: str) -> ColumnElement:
    """``later - earlier`` in whole days, as a floating-point number (like Python's ``/``)."""
    if dialect == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return cast(later - earlier, Float)


def as_date(value) -> date:
    """SQLite hands back ``date()`` results as text, PostgreSQL as dates."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))
