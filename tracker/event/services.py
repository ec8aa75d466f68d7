from datetime import date, datetime

from flask import current_app, g, has_app_context

from tracker.clock import local_date
from tracker.event.models import Event
from tracker.extensions import db


def current_event() -> Event | None:
    """The install's event (one per install for now; items carry event_id). Cached per request."""
    if has_app_context() and "event" in g:
        return g.event
    event = db.session.scalars(db.select(Event).order_by(Event.id).limit(1)).first()
    if has_app_context():
        g.event = event
    return event


def event_timezone() -> str:
    event = current_event()
    return event.timezone if event else current_app.config["TIMEZONE"]


def local_today(now: datetime) -> date:
    """Today's date in the event's time zone: the day deadlines and reminders count in."""
    return local_date(now, event_timezone())
