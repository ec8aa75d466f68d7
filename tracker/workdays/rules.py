"""Working days as Chinese offices count them: pure functions over a day -> (working, name) map.

A day is a working day from Monday to Friday unless the calendar says otherwise: public
holidays take weekdays off, and 调休 turns some Saturdays and Sundays into working days.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

SHIFTS = ("before", "on", "after")  # a reminder falling on a day off: send it earlier, anyway, or later
MAX_SPAN_DAYS = 3 * 366  # no count walks further than this (dates are bounded elsewhere)


@dataclass(frozen=True)
class WorkCalendar:
    exceptions: Mapping[date, tuple[bool, str]] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """Changes whenever a day changes: part of cache keys of pages that count working days."""
        text = ";".join(f"{d.isoformat()}{int(w)}{n}" for d, (w, n) in sorted(self.exceptions.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def is_working(self, day: date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day][0]
        return day.weekday() < 5

    def name(self, day: date) -> str:
        return self.exceptions[day][1] if day in self.exceptions else ""

    def working_days_left(self, today: date, until: date) -> int:
        """Working days after ``today`` up to and including ``until``; negative when ``until`` is past.

        Like calendar days left, 0 on the day itself: a deadline tomorrow (a working day)
        is 1 working day away; a deadline after a week of 春节 holidays counts only the
        days people work.
        """
        if until == today:
            return 0
        start, end, sign = (today, until, 1) if until > today else (until, today, -1)
        span = min((end - start).days, MAX_SPAN_DAYS)
        return sign * sum(1 for n in range(1, span + 1) if self.is_working(start + timedelta(days=n)))

    def add_working_days(self, start: date, n: int) -> date:
        """The day ``n`` working days after ``start`` ("3 个工作日内" from today); n = 0 is ``start``."""
        day = start
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        for _ in range(MAX_SPAN_DAYS):
            if remaining == 0:
                break
            day += timedelta(days=step)
            if self.is_working(day):
                remaining -= 1
        return day

    def next_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the first working day after it."""
        for _ in range(MAX_SPAN_DAYS):
            if self.is_working(day):
                return day
            day += timedelta(days=1)
        return day

    def reminder_day(self, today: date, shift: str) -> date | None:
        """The day whose reminders go out today, under the day-off ``shift``.

        ``before``: on a working day, also what falls due on the days off that follow it
        (so the reminders of a holiday week go out on the last working day before it);
        ``on``: today; ``after``: nothing on a day off, and the next working day catches up.
        """
        if shift == "on":
            return today
        if shift == "after":
            return today if self.is_working(today) else None
        if not self.is_working(today):
            return today  # already sent on the working day before; the outbox drops repeats
        return self.next_working_day(today + timedelta(days=1)) - timedelta(days=1)


@dataclass(frozen=True)
class Span:
    start: date
    end: date
    working: bool  # a run of 调休 working days, or of days off
    name: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def named_spans(cal: WorkCalendar, start: date, end: date) -> list[Span]:
    """Runs of consecutive named days (a holiday, its 调休 days) between ``start`` and ``end``, in order."""
    spans: list[Span] = []
    for day in sorted(d for d, (_, name) in cal.exceptions.items() if name and start <= d <= end):
        working, name = cal.exceptions[day]
        last = spans[-1] if spans else None
        if last and last.working == working and last.name == name and (day - last.end).days == 1:
            spans[-1] = Span(last.start, day, working, name)
        else:
            spans.append(Span(day, day, working, name))
    return spans


def differs(day: date, working: bool, name: str) -> bool:
    """Whether a day needs storing: it is not what Monday-to-Friday says, or it has a name."""
    return working != (day.weekday() < 5) or bool(name)
