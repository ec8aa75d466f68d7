"""The event's working-day calendar: reading it (cached per request), correcting days, seeding
a year from the ``chinese-calendar`` library, importing a year's arrangement from a sheet."""

from datetime import date, datetime

import chinese_calendar
from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker import permissions
from tracker.audit import services as audit
from tracker.clock import local_date
from tracker.errors import PermissionDenied, ValidationFailed
from tracker.event.models import Event
from tracker.event.services import current_event, event_created
from tracker.extensions import db
from tracker.workdays.models import WorkingDay
from tracker.workdays.rules import Span, WorkCalendar, differs, named_spans

NAME_MAX = 60
# The library's holiday names, as Chinese offices write them.
LIBRARY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}
MAKE_UP_SUFFIX = " 调休上班"


def calendar(event: Event | None = None) -> WorkCalendar:
    """The event's calendar (Monday to Friday where there is no event). One query per request."""
    event = event or current_event()
    if event is None:
        return WorkCalendar()
    key = f"work_calendar_{event.id}"
    if has_app_context() and key in g:
        return g.get(key)
    rows = db.session.execute(
        select(WorkingDay.day, WorkingDay.working, WorkingDay.name).where(WorkingDay.event_id == event.id)
    ).all()
    result = WorkCalendar({row.day: (row.working, row.name) for row in rows})
    if has_app_context():
        setattr(g, key, result)
    return result


def forget_cached() -> None:
    for key in [k for k in vars(g) if k.startswith("work_calendar_")]:
        g.pop(key)


def exceptions_between(event: Event, start: date, end: date) -> list[WorkingDay]:
    return db.session.scalars(
        select(WorkingDay)
        .where(WorkingDay.event_id == event.id, WorkingDay.day >= start, WorkingDay.day <= end)
        .order_by(WorkingDay.day)
    ).all()


def _check(actor) -> None:
    """Admins on the pages and the API; ``None`` is the command line (the server's own operator)."""
    if actor is not None and not permissions.can_administer(actor):
        raise PermissionDenied(_l("Only administrators change the working-day calendar."))


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if len(name) > NAME_MAX:
        raise ValidationFailed(_l("The day was not saved."), {"name": _l("At most %(n)s characters.", n=NAME_MAX)})
    return name


def set_day(event: Event, day: date, *, working: bool, name: str, actor, now: datetime) -> WorkingDay | None:
    """Make ``day`` a working day or a day off (with its name); a plain weekday or weekend is not stored."""
    _check(actor)
    name = _clean_name(name)
    row = db.session.scalar(select(WorkingDay).where(WorkingDay.event_id == event.id, WorkingDay.day == day))
    if not differs(day, working, name):
        if row is not None:
            db.session.delete(row)
    elif row is None:
        row = WorkingDay(event_id=event.id, day=day, working=working, name=name)
        db.session.add(row)
    else:
        row.working, row.name = working, name
    audit.record(
        "working_day_saved",
        actor=actor,
        target=day.isoformat(),
        detail=f"{'working' if working else 'off'} {name}",
        now=now,
    )
    db.session.flush()
    forget_cached()
    return row if row is not None and differs(day, working, name) else None


def reset_day(event: Event, day: date, *, actor, now: datetime) -> None:
    """Back to the Monday-to-Friday default."""
    _check(actor)
    row = db.session.scalar(select(WorkingDay).where(WorkingDay.event_id == event.id, WorkingDay.day == day))
    if row is not None:
        db.session.delete(row)
        audit.record("working_day_saved", actor=actor, target=day.isoformat(), detail="default", now=now)
        db.session.flush()
        forget_cached()


def library_years() -> range:
    days = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    return range(min(days).year, max(days).year + 1)


def library_arrangement(year: int) -> dict[date, tuple[bool, str]]:
    """The State Council's arrangement for ``year`` as the library has it (empty past its last year)."""
    result = {}
    for day, holiday in chinese_calendar.holidays.items():
        if day.year == year:
            result[day] = (False, LIBRARY_NAMES.get(str(holiday), str(holiday)))
    for day, holiday in chinese_calendar.workdays.items():
        if day.year == year and day.weekday() >= 5:
            result[day] = (True, LIBRARY_NAMES.get(str(holiday), str(holiday)) + MAKE_UP_SUFFIX)
    return result


def apply_year(
    event: Event, year: int, days: dict[date, tuple[bool, str]], *, actor, now: datetime, source: str
) -> int:
    """Replace the stored exceptions of ``year`` with ``days``, all or nothing; returns days stored."""
    _check(actor)
    wrong_year = sorted(d for d in days if d.year != year)
    if wrong_year:
        raise ValidationFailed(
            _l("The arrangement was not saved."),
            {"file": _l("%(day)s is not in %(year)s.", day=wrong_year[0].isoformat(), year=year)},
        )
    existing = exceptions_between(event, date(year, 1, 1), date(year, 12, 31))
    for row in existing:
        db.session.delete(row)
    db.session.flush()
    stored = 0
    for day, (working, name) in sorted(days.items()):
        name = _clean_name(name)
        if differs(day, working, name):
            db.session.add(WorkingDay(event_id=event.id, day=day, working=working, name=name))
            stored += 1
    audit.record("working_days_imported", actor=actor, target=str(year), detail=f"{source}: {stored} days", now=now)
    db.session.flush()
    forget_cached()
    return stored


def seed_from_library(event: Event, year: int, *, actor, now: datetime) -> int:
    days = library_arrangement(year)
    if not days:
        raise ValidationFailed(
            _l("The arrangement was not saved."),
            {
                "year": _l(
                    "The holiday library has no arrangement for %(year)s yet: enter it by hand or import it.", year=year
                )
            },
        )
    return apply_year(event, year, days, actor=actor, now=now, source="chinese-calendar")


@event_created.connect
def seed_new_event(event: Event, **_extra) -> int:
    """A new event starts with the official holidays the library knows (runs in its transaction)."""
    return seed_event(event)


def seed_event(event: Event) -> int:
    """A new event starts with every year the library knows from its opening year back one year."""
    stored = 0
    years = library_years()
    for year in (event.opening_date.year - 1, event.opening_date.year):
        if year in years:
            for day, (working, name) in library_arrangement(year).items():
                db.session.add(WorkingDay(event_id=event.id, day=day, working=working, name=name))
                stored += 1
    db.session.flush()
    forget_cached()
    return stored


def holidays_until(event: Event, today: date) -> list[Span]:
    """The named holidays and 调休 days from today to the event's closing (or opening) day."""
    end = max(event.opening_date, local_date(event.closing_at, event.timezone) if event.closing_at else today)
    return named_spans(calendar(event), today, max(end, today))


def deadline_warnings(day: date | None, cal: WorkCalendar | None = None) -> list[dict]:
    """``deadline_not_working_day`` when a date falls on a day off (the save is still allowed)."""
    if day is None:
        return []
    cal = cal or calendar()
    if cal.is_working(day):
        return []
    name = cal.name(day)
    message = (
        _l("%(day)s is not a working day (%(name)s).", day=day.isoformat(), name=name)
        if name
        else _l("%(day)s is not a working day.", day=day.isoformat())
    )
    return [{"code": "deadline_not_working_day", "message": str(message)}]
