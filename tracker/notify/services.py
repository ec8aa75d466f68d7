"""Watching items, per-kind preferences and reading notifications. Callers commit."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update

from tracker import permissions
from tracker.errors import PermissionDenied, ValidationFailed
from tracker.extensions import db
from tracker.items import events
from tracker.items.models import Item
from tracker.outbox import rules
from tracker.outbox.models import EventPreference, ItemWatch, Notification

MAX_IDS = 500


def is_watching(item_id: int, user_id: int) -> bool:
    return db.session.get(ItemWatch, (item_id, user_id)) is not None


def set_watching(item: Item, watching: bool, *, actor, now: datetime) -> bool:
    """Watch or stop watching an item the actor may read; returns the new state."""
    if not permissions.can_view_item(actor, item):
        raise PermissionDenied(_l("You may not read this item."))
    if watching:
        events.watch(item.id, actor.id, now)
    else:
        db.session.execute(delete(ItemWatch).where(ItemWatch.item_id == item.id, ItemWatch.user_id == actor.id))
    return watching


def preferences(user_id: int) -> dict[str, str]:
    """Every kind's mode for the user, defaults filled in."""
    saved = dict(
        db.session.execute(
            select(EventPreference.kind, EventPreference.mode).where(EventPreference.user_id == user_id)
        ).all()
    )
    return {kind: saved.get(kind, rules.DEFAULT_MODE) for kind in rules.KINDS}


def save_preferences(modes: dict[str, str], *, actor) -> dict[str, str]:
    errors = {}
    for kind, mode in modes.items():
        if kind not in rules.KINDS or mode not in rules.MODES:
            errors[kind] = _l("Choose an option.")
        elif mode == "off" and kind in rules.ALWAYS_IN_APP:
            errors[kind] = _l("This one always shows in Wallchart; choose email or in-app only.")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    current = {
        p.kind: p for p in db.session.scalars(select(EventPreference).where(EventPreference.user_id == actor.id))
    }
    for kind, mode in modes.items():
        row = current.get(kind) or EventPreference(user_id=actor.id, kind=kind)
        row.mode = mode
        db.session.add(row)
    return preferences(actor.id)


def mark_read(ids: list[int] | None, *, actor, now: datetime) -> int:
    """Mark the actor's notifications read: the given ones (others' ids are ignored), or all when None."""
    query = update(Notification).where(Notification.user_id == actor.id, Notification.read_at.is_(None))
    if ids is not None:
        if len(ids) > MAX_IDS:
            raise ValidationFailed(
                _l("Please correct the marked fields."), {"ids": _l("At most %(n)s at once.", n=MAX_IDS)}
            )
        query = query.where(Notification.id.in_(ids))
    return db.session.execute(query.values(read_at=func.coalesce(Notification.read_at, now))).rowcount
