"""The install's event: reading it (cached per request) and setting it up or changing it.

Changes take the actor and ``now``, check permissions and write their audit row in the
caller's transaction; callers commit.
"""

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import available_timezones

from blinker import Namespace
from flask import current_app, g, has_app_context
from flask_babel import lazy_gettext as _l

from tracker import permissions
from tracker.audit import services as audit
from tracker.clock import local_date
from tracker.errors import PermissionDenied, ValidationFailed
from tracker.event import rules
from tracker.event.models import Event
from tracker.extensions import db, kept

FIELDS = ("name", "name_en", "host_city", "opening_at", "closing_at", "timezone", "default_locale")
# Sent inside the transaction that creates the event: other areas give it what it starts with
# (the working-day calendar seeds the official holidays it knows).
event_created = Namespace().signal("event-created")


def current_event() -> Event | None:
    """The install's event (one per install for now; items carry event_id). Cached per request."""
    if has_app_context() and "event" in g:
        return g.event
    return current_event_with()[0]


def current_event_with(*columns) -> tuple[Event | None, tuple]:
    """The install's event and other values (SQL) read in the same statement, the values None
    without an event. The event is kept for the request, as ``current_event`` keeps it, and so
    are the values other areas asked to read along (``read_along``)."""
    along = [offer for offer in (provide() for provide in current_app.extensions.get("event_read_along", ())) if offer]
    row = db.session.execute(_event_statement(columns, along)).first()
    event, values = (row[0], tuple(row[1:])) if row else (None, (None,) * (len(columns) + len(along)))
    g.event = event
    if event is not None:
        rest = iter(values[len(columns) :])
        g.read_along = {key: tuple(next(rest) for _ in made) for key, made in _along_columns(along)}
    return event, values[: len(columns)]


def read_along(app, provide: Callable[[], tuple | None]) -> None:
    """Have ``provide()`` add values to the statement that reads the event, when a request
    first reads it: one statement where a page would send two. It returns None or ``(key,
    build)``: ``build()`` makes the SQL values, once per key in each process, so the key names
    all they depend on. The values are then ``carried(key)`` for the rest of the request."""
    app.extensions.setdefault("event_read_along", []).append(provide)


def carried(key) -> tuple | None:
    """The values read along with the event for ``key`` in this request, if they were."""
    return g.get("read_along", {}).get(key)


def _event_statement(columns: tuple, along: list):
    """The statement, built once per process for the same columns and read-along keys: building
    a statement and its cache key costs SQLAlchemy more than the database takes to run it."""

    def build():
        extra = [column for _key, made in _along_columns(along) for column in made]
        return db.select(Event, *columns, *extra).order_by(Event.id).limit(1)

    return kept("event_statements", (columns, tuple(key for key, _build in along)), build)


def _along_columns(along: list) -> list[tuple]:
    """Each read-along key with its SQL values, built once per key in each process."""
    return [(key, kept("event_along_columns", key, lambda build=build: tuple(build()))) for key, build in along]


def event_timezone() -> str:
    event = current_event()
    return event.timezone if event else current_app.config["TIMEZONE"]


def local_today(now: datetime) -> date:
    """Today's date in the event's time zone: the day deadlines and reminders count in."""
    return local_date(now, event_timezone())


def check_event(data: dict, now: datetime) -> dict:
    """The event's own rules, whichever page or API call sets it: field name → problem."""
    errors = {}
    if data.get("timezone") not in available_timezones():
        errors["timezone"] = _l("Unknown time zone, e.g. Asia/Shanghai.")
    opening, closing = data.get("opening_at"), data.get("closing_at")
    if opening is None:
        errors["opening_at"] = _l("Set the opening time.")
    elif closing is not None and closing < opening:
        errors["closing_at"] = _l("Closing must be after opening.")
    for name in ("opening_at", "closing_at"):
        if data.get(name) is not None and name not in errors and not rules.within_span(data[name], now):
            errors[name] = _l("Must be within %(n)s years of today.", n=rules.YEARS)
    return errors


def save_event(data: dict, *, actor, now: datetime) -> Event:
    """Set up the event, or change the one there is (``FIELDS``; times aware, in UTC)."""
    if not permissions.can_administer(actor):
        raise PermissionDenied(_l("Only administrators set up the event."))
    errors = check_event(data, now)
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    event = current_event()
    created = event is None
    if created:
        event = Event()
        db.session.add(event)
    for name in FIELDS:
        value = data.get(name)
        setattr(event, name, value.strip() if isinstance(value, str) else value)
    event.name_en = event.name_en or ""
    event.host_city = event.host_city or ""
    db.session.flush()
    if has_app_context():
        g.event = event
    if created:
        event_created.send(event, now=now)
    audit.record("event_saved", actor=actor, target=event.name, now=now)
    return event
