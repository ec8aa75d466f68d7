"""Calendar feeds behind a secret URL, so a phone can subscribe without signing in.

A feed URL carries ``<user id>-<signature>``: an HMAC-SHA256 of the user id and
the user's salt (``CalendarToken``) under the app's secret key. Building the URL
reads only; resetting replaces the salt, so the old URL stops working at once.
Changing the app's secret key also retires every feed URL.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import false, or_, select

from tracker import permissions
from tracker.audit import services as audit
from tracker.auth.models import User
from tracker.calendar.models import CalendarToken
from tracker.extensions import db
from tracker.groups import services as group_services
from tracker.groups.models import WorkGroup
from tracker.items.models import Item
from tracker.items.rules import ACTIVE_STATUSES
from tracker.routing import external_url

_MAX_ID_DIGITS = 12


def _salt(user_id: int) -> str:
    return db.session.scalar(select(CalendarToken.salt).where(CalendarToken.user_id == user_id)) or ""


def _signature(user_id: int, salt: str) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key if isinstance(key, bytes) else str(key).encode()
    mac = hmac.new(key, f"wallchart-calendar|{user_id}|{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def feed_token(user) -> str:
    return f"{user.id}-{_signature(user.id, _salt(user.id))}"


def calendar_url(user) -> str:
    """The absolute URL of ``user``'s personal feed (their deadlines and the milestones)."""
    return external_url("calendar.feed", token=feed_token(user))


def group_calendar_url(user, group: WorkGroup) -> str:
    return external_url("calendar.group_feed", token=feed_token(user), code=group.code)


def user_for_token(token: str) -> User | None:
    """The active user a feed token belongs to, or None (unknown, reset or forged)."""
    user_id, _, signature = (token or "").partition("-")
    if not user_id.isdigit() or len(user_id) > _MAX_ID_DIGITS or not signature:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active:
        return None
    expected = _signature(user.id, _salt(user.id))
    return user if hmac.compare_digest(expected.encode(), signature.encode()) else None


def reset_token(user, *, now: datetime) -> None:
    """Give ``user`` a new feed URL; the old one dies with this transaction. Callers commit."""
    row = db.session.scalar(select(CalendarToken).where(CalendarToken.user_id == user.id))
    if row is None:
        row = CalendarToken(user_id=user.id)
        db.session.add(row)
    row.salt = secrets.token_urlsafe(32)
    row.reset_at = now
    audit.record("calendar_reset", actor=user, now=now)


def subscribable_groups(user) -> list[WorkGroup]:
    groups = group_services.ordered_groups()
    return [g for g in groups if permissions.can_subscribe_group_calendar(user, g.id)]


def _deadline_query(user):
    query = permissions.visible_items(select(Item), user, Item)
    return query.where(Item.deadline.is_not(None), Item.status.in_(ACTIVE_STATUSES)).order_by(Item.deadline, Item.id)


def personal_items(user) -> list[Item]:
    """Open items the user owns, or that belong to a group they lead, that have a deadline."""
    led = [gid for gid in user.group_ids if permissions.leads_group(user, gid)]
    mine = or_(Item.owner_id == user.id, Item.group_id.in_(led) if led else false())
    return db.session.scalars(_deadline_query(user).where(mine)).unique().all()


def group_items(user, group: WorkGroup) -> list[Item]:
    return db.session.scalars(_deadline_query(user).where(Item.group_id == group.id)).unique().all()
