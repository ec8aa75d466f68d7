from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from tracker.auth.models import User
from tracker.auth.rules import normalise_username
from tracker.auth.services import check_user_fields, password_changed
from tracker.errors import ValidationFailed
from tracker.event import rules as event_rules
from tracker.event.models import Event
from tracker.extensions import db
from tracker.groups import rules as group_rules
from tracker.groups.models import WorkGroup
from tracker.workdays import services as workdays

EVENT_FIELDS = ("name", "name_en", "host_city", "opening_at", "closing_at", "timezone", "default_locale")


def check_event(data: dict, now: datetime) -> dict:
    """The event's own rules, whichever page or API call sets it."""
    from zoneinfo import available_timezones

    errors = {}
    if data.get("timezone") not in available_timezones():
        errors["timezone"] = _l("Unknown time zone, e.g. Asia/Shanghai.")
    opening, closing = data.get("opening_at"), data.get("closing_at")
    if opening is None:
        errors["opening_at"] = _l("Set the opening time.")
    elif closing is not None and closing < opening:
        errors["closing_at"] = _l("Closing must be after opening.")
    for name in ("opening_at", "closing_at"):
        if data.get(name) is not None and name not in errors and not event_rules.within_span(data[name], now):
            errors[name] = _l("Must be within %(n)s years of today.", n=event_rules.YEARS)
    return errors


def save_event(event: Event | None, data: dict, *, now: datetime) -> Event:
    errors = check_event(data, now)
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    created = event is None
    if created:
        event = Event()
        db.session.add(event)
    for name in EVENT_FIELDS:
        value = data.get(name)
        setattr(event, name, value.strip() if isinstance(value, str) else value)
    event.name_en = event.name_en or ""
    event.host_city = event.host_city or ""
    db.session.flush()
    if created:  # a new event starts with the official holidays the library knows
        workdays.seed_event(event)
    return event


def save_group(group: WorkGroup | None, data: dict) -> WorkGroup:
    code = group_rules.normalise_code(data["code"])
    if not group_rules.is_valid_code(code):
        raise ValidationFailed(
            _l("Please correct the marked fields."),
            {"code": _l("A code is a letter followed by up to 15 letters, digits, - or _ (for example CG or JS-2).")},
        )
    taken = db.session.scalars(select(WorkGroup).where(WorkGroup.code == code)).first()
    if taken is not None and taken is not group:
        raise ValidationFailed(_l("Please correct the marked fields."), {"code": _l("This code is taken.")})
    if group is None:
        group = WorkGroup()
        db.session.add(group)
    group.code = code
    group.name = data["name"].strip()
    group.name_en = (data.get("name_en") or "").strip()
    if data.get("sort_order") is not None:
        group.sort_order = data["sort_order"]
    elif group.sort_order is None:  # a new group without a place: after the groups already configured
        with db.session.no_autoflush:
            group.sort_order = (db.session.scalar(select(func.max(WorkGroup.sort_order))) or 0) + 1
    db.session.flush()
    return group


def save_user(user: User | None, data: dict, *, actor, now: datetime) -> User:
    """Create or change a user. Role, password or deactivation end their sessions; a new password
    also revokes their API tokens."""
    password = data.get("password") or None
    if user is None and not password:
        raise ValidationFailed(_l("Please correct the marked fields."), {"password": _l("Set a password.")})
    errors, email = check_user_fields(
        username=normalise_username(data["username"]),
        password=password,
        role=data["role"],
        email=data.get("email"),
        user=user,
    )
    if user is not None and user.id == actor.id and (data["role"] != "admin" or not data["is_active_account"]):
        errors["role"] = _l("You cannot remove your own admin access.")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    if user is None:
        user = User(password_hash="")
        db.session.add(user)
    elif password or user.role != data["role"] or (user.is_active_account and not data["is_active_account"]):
        user.end_sessions()
    user.username = normalise_username(data["username"])
    user.display_name = (data.get("display_name") or "").strip()
    user.email = email
    user.role = data["role"]
    user.is_active_account = bool(data["is_active_account"])
    if password:
        user.set_password(password)
        if user.id is not None:
            password_changed.send(user, now=now)
    user.groups = db.session.scalars(select(WorkGroup).where(WorkGroup.id.in_(data.get("group_ids") or []))).all()
    db.session.flush()
    return user
