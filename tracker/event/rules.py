"""How far from today an event's dates may lie: a typo such as 2998 must not make every
page that counts days towards opening (the board, the burndown) walk a thousand years."""

from datetime import date, datetime, timedelta

YEARS = 10
SPAN = timedelta(days=3653)  # ten years, leap days included


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def within_span(moment: date | datetime, now: datetime) -> bool:
    """``moment`` (a date or an aware datetime) lies within ``YEARS`` years of ``now``, either way."""
    day = moment.date() if isinstance(moment, datetime) else moment
    today = now.date()
    return _years_from(today, -YEARS) <= day <= _years_from(today, YEARS)


def offset_within_span(days: int) -> bool:
    """A milestone's days from opening day (T-30 is -30) stay within the same span."""
    return abs(days) <= SPAN.days
