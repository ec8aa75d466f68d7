"""iCalendar (RFC 5545) documents: item deadlines and milestones as all-day events.

A deadline is a day in the event's time zone (整改时限 "by 20 May"), so it is an
all-day event on that date; the opening ceremony is a timed event with its
TZID and VTIMEZONE. UIDs are stable and SEQUENCE follows the item's version, so
a calendar that refreshes replaces changed events instead of duplicating them.
"""

from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event, vDuration

from tracker.items import labels
from tracker.items.rules import OPEN_STATUSES
from tracker.milestones import labels as milestone_labels
from tracker.routing import base_url, external_url

REFRESH = timedelta(hours=1)


def build_calendar(*, name: str, items, milestones, event, now: datetime, locale: str, holidays=()) -> bytes:
    tz = event.timezone if event else "UTC"
    host = urlsplit(base_url()).hostname or "wallchart"  # event UIDs: stable, whatever Host was sent
    today = now.astimezone(ZoneInfo(tz)).date()
    cal = Calendar()
    cal.add("prodid", "-//Wallchart//Para Games preparation//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz)
    cal.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    with force_locale(locale):
        for item in items:
            cal.add_component(_item_event(item, host=host, now=now, today=today))
        for milestone in milestones:
            cal.add_component(_milestone_event(milestone, host=host, now=now, locale=locale))
        if event is not None:
            cal.add_component(_opening_event(event, host=host, now=now, locale=locale))
        for span in holidays:
            cal.add_component(_holiday_event(span, host=host, now=now))
    cal.add_missing_timezones()
    return cal.to_ical()


def _item_event(item, *, host: str, now: datetime, today) -> Event:
    ref = item.code or f"#{item.id}"
    overdue = item.status in OPEN_STATUSES and item.deadline < today
    prefix = _("Overdue") if overdue else _("Due")
    status = str(labels.STATUS.get(item.status, item.status))
    lines = [
        f"{_('Responsible group')}: {item.group.code} {item.group.name}",
        f"{_('Responsible person')}: {item.owner.name if item.owner else '—'}",
        f"{_('Status')}: {status} · {_('Progress')}: {item.progress}%",
    ]
    if item.measures:
        lines.append(f"{_('Measures')}: {item.measures}")
    link = external_url("items.detail", item_id=item.id)
    lines.append(link)
    vevent = Event()
    vevent.add("uid", f"item-{item.id}@{host}")
    vevent.add("dtstamp", now)
    vevent.add("dtstart", item.deadline)
    vevent.add("dtend", item.deadline + timedelta(days=1))
    vevent.add("summary", f"[{prefix}] {ref} {item.title}")
    vevent.add("description", "\n".join(lines))
    vevent.add("url", link)
    vevent.add("categories", [item.group.code])
    vevent.add("sequence", item.version)
    vevent.add("last-modified", item.updated_at)
    vevent.add("transp", "TRANSPARENT")
    return vevent


def _milestone_event(milestone, *, host: str, now: datetime, locale: str) -> Event:
    vevent = Event()
    vevent.add("uid", f"milestone-{milestone.id}@{host}")
    vevent.add("dtstamp", now)
    vevent.add("dtstart", milestone.date)
    vevent.add("dtend", milestone.date + timedelta(days=1))
    vevent.add("summary", f"{milestone.t_label} {milestone.display_title(locale)}")
    vevent.add(
        "description", f"{_('Milestone')}: {milestone_labels.MILESTONE_KIND.get(milestone.kind, milestone.kind)}"
    )
    vevent.add("categories", [milestone.group.code if milestone.group else _("Milestone")])
    vevent.add("transp", "TRANSPARENT")
    return vevent


def _opening_event(event, *, host: str, now: datetime, locale: str) -> Event:
    vevent = Event()
    name = event.name_en if locale.startswith("en") and event.name_en else event.name
    vevent.add("uid", f"event-{event.id}-opening@{host}")
    vevent.add("dtstamp", now)
    vevent.add("dtstart", event.opening_at.astimezone(ZoneInfo(event.timezone)))
    vevent.add("duration", timedelta(hours=2))
    vevent.add("summary", f"{_('Opening ceremony')} · {name}")
    if event.host_city:
        vevent.add("location", event.host_city)
    return vevent


def _holiday_event(span, *, host: str, now: datetime) -> Event:
    """A holiday or 调休 run of the working-day calendar, as one all-day event (on request)."""
    vevent = Event()
    vevent.add("uid", f"workdays-{span.start.isoformat()}-{int(span.working)}@{host}")
    vevent.add("dtstamp", now)
    vevent.add("dtstart", span.start)
    vevent.add("dtend", span.end + timedelta(days=1))
    kind = _("working day") if span.working else _("day off")
    vevent.add("summary", f"{span.name} ({kind})")
    vevent.add("categories", [_("Working days")])
    vevent.add("transp", "TRANSPARENT")
    return vevent
