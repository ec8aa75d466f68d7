"""Reminder settings, preferences, in-app notifications and outbox administration.

Services take the actor and ``now``; callers commit.
"""

import logging
from datetime import datetime, time

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import joinedload

from tracker import permissions
from tracker.audit import services as audit
from tracker.auth.models import User
from tracker.errors import NotFound, PermissionDenied, ValidationFailed
from tracker.extensions import db
from tracker.items.models import Item
from tracker.outbox.mail import mail_config
from tracker.outbox.models import Delivery, Notification
from tracker.reminders import rules
from tracker.reminders.models import DIGEST_MODES, NotificationPreference, ReminderSettings
from tracker.workdays import services as workdays
from tracker.workdays.rules import SHIFTS

log = logging.getLogger(__name__)
SETTINGS_ID = 1


def get_settings() -> ReminderSettings:
    """The settings row, or unsaved defaults when admins never changed anything."""
    row = db.session.get(ReminderSettings, SETTINGS_ID)
    if row is None:
        row = ReminderSettings(
            id=SETTINGS_ID,
            **{
                c.name: c.default.arg
                for c in ReminderSettings.__table__.columns
                if c.default and c.name != "updated_at"
            },
        )
    return row


def policy(settings: ReminderSettings | None = None) -> rules.Policy:
    s = settings or get_settings()
    hour, minute = (int(part) for part in s.digest_time.split(":"))
    return rules.Policy(
        owner_days=rules.parse_days(s.owner_days),
        lead_overdue_days=s.lead_overdue_days,
        committee_overdue_days=s.committee_overdue_days,
        milestone_days=rules.parse_days(s.milestone_days),
        digest_at=time(hour, minute),
        digest_window_days=s.digest_window_days,
        max_attempts=s.max_attempts,
        retry_base_seconds=s.retry_base_seconds,
        working_days=bool(s.count_working_days),
        day_off_shift=s.day_off_shift or "on",
        calendar=workdays.calendar(),
        webhook_hosts=tuple(webhook_hosts(s)),
        mail=mail_config(current_app.config),
    )


def webhook_hosts(settings: ReminderSettings | None = None) -> list[str]:
    s = settings or get_settings()
    return [h.strip().lower() for h in s.webhook_hosts.split() if h.strip()]


def save_settings(data: dict, *, actor, now: datetime) -> ReminderSettings:
    if not permissions.can_administer(actor):
        raise PermissionDenied(_l("Only administrators change reminder rules."))
    errors = {}
    for name in ("owner_days", "milestone_days"):
        try:
            if not rules.parse_days(data[name]):
                errors[name] = _l("Give at least one number of days.")
        except ValueError:
            errors[name] = _l("Whole numbers of days from 0 to 365, separated by commas.")
    try:
        hour, minute = (int(part) for part in data["digest_time"].split(":"))
        time(hour, minute)
    except ValueError:
        errors["digest_time"] = _l("A time like 08:30.")
    hosts = [h.strip().lower() for h in data["webhook_hosts"].split() if h.strip()]
    if any("/" in h or ":" in h or "@" in h for h in hosts):
        errors["webhook_hosts"] = _l("Host names only, one per line (no scheme, port or path).")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    settings = get_settings()
    for name in (
        "lead_overdue_days",
        "committee_overdue_days",
        "digest_window_days",
        "max_attempts",
        "retry_base_seconds",
    ):
        setattr(settings, name, int(data[name]))
    settings.owner_days = ",".join(str(d) for d in rules.parse_days(data["owner_days"]))
    settings.milestone_days = ",".join(str(d) for d in rules.parse_days(data["milestone_days"]))
    settings.digest_time = f"{hour:02d}:{minute:02d}"
    settings.count_working_days = bool(data.get("count_working_days"))
    settings.day_off_shift = data.get("day_off_shift") if data.get("day_off_shift") in SHIFTS else "on"
    settings.webhook_hosts = "\n".join(dict.fromkeys(hosts))
    settings.updated_at = now
    db.session.add(settings)
    audit.record("reminder_settings_saved", actor=actor, now=now)
    return settings


def get_preference(user_id: int) -> NotificationPreference:
    pref = db.session.get(NotificationPreference, user_id)
    return pref or NotificationPreference(user_id=user_id, email_enabled=True, digest_mode="both")


def save_preference(*, actor, email_enabled: bool, digest_mode: str) -> NotificationPreference:
    if digest_mode not in DIGEST_MODES:
        raise ValidationFailed(_l("Please correct the marked fields."), {"digest_mode": _l("Choose an option.")})
    pref = get_preference(actor.id)
    pref.email_enabled = bool(email_enabled)
    pref.digest_mode = digest_mode
    db.session.add(pref)
    return pref


def _as_dict(n: Notification, actor: str | None = None) -> dict:
    return {
        "id": n.id,
        "kind": n.rule,
        "item": n.item_id,
        "actor": actor,
        "message": n.subject,
        "rule": n.rule,
        "subject": n.subject,
        "body": n.body,
        "url": n.url,
        "item_id": n.item_id,
        "milestone_id": n.milestone_id,
        "created_at": n.created_at.isoformat(),
        "read": n.read_at is not None,
        "read_at": n.read_at.isoformat() if n.read_at else None,
    }


def readable_notifications(actor):
    """The actor's notifications, less those about an item the actor may no longer read.

    Texts were filtered when they were sent; an item made confidential or reassigned
    since then must not stay readable through an old notification.
    """
    mine = Notification.user_id == actor.id
    if actor.role in permissions.OVERSIGHT:
        return mine
    # Correlated: one primary-key lookup per notification shown, not a scan of every item.
    readable = select(Item.id).where(Item.id == Notification.item_id, permissions.item_visibility(actor, Item))
    return and_(mine, or_(Notification.item_id.is_(None), readable.exists()))


def user_notifications(actor, page: int = 1, per_page: int = 20) -> tuple[list[dict], int]:
    """The actor's in-app notifications, newest first, one page of them, and the total."""
    page, per_page = max(int(page), 1), min(max(int(per_page), 1), 100)
    mine = readable_notifications(actor)
    total = db.session.scalar(select(func.count()).select_from(Notification).where(mine))
    rows = db.session.execute(
        select(Notification, User.username)
        .outerjoin(User, User.id == Notification.actor_id)
        .where(mine)
        .order_by(Notification.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return [_as_dict(n, actor) for n, actor in rows], total


def unread(actor):
    """How many of the actor's notifications are unread, as a SQL value (the bell reads it with the to-do count)."""
    unread = and_(readable_notifications(actor), Notification.read_at.is_(None))
    return select(func.count()).select_from(Notification).where(unread).scalar_subquery()


def unread_count(actor) -> int:
    return db.session.scalar(select(unread(actor)))


def mark_read(notification_id: int, *, actor, now: datetime) -> None:
    """Someone else's notification answers like a missing one."""
    done = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.user_id == actor.id)
        .values(read_at=func.coalesce(Notification.read_at, now))
    ).rowcount
    if not done:
        raise NotFound(_l("No such notification."))


def mark_all_read(*, actor, now: datetime) -> int:
    return db.session.execute(
        update(Notification).where(Notification.user_id == actor.id, Notification.read_at.is_(None)).values(read_at=now)
    ).rowcount


def resend_delivery(delivery_id: int, *, actor, now: datetime) -> Delivery:
    """Queue a failed or abandoned delivery again, with a fresh set of attempts."""
    if not permissions.can_administer(actor):
        raise PermissionDenied(_l("Only administrators resend deliveries."))
    row = db.session.get(Delivery, delivery_id)
    if row is None:
        raise NotFound(_l("No such delivery."))
    if row.status not in ("failed", "dead", "skipped"):
        raise ValidationFailed(_l("Only failed or skipped deliveries can be sent again."))
    row.status, row.attempts, row.next_attempt_at = "pending", 0, now
    row.lease_until = row.claim_token = None
    audit.record("delivery_resent", actor=actor, target=f"{row.channel} #{row.id}", detail=row.rule, now=now)
    return row


def deliveries(status: str | None, page: int, per_page: int = 50) -> tuple[list[Delivery], int]:
    query = select(Delivery).options(
        joinedload(Delivery.user), joinedload(Delivery.group), joinedload(Delivery.item).lazyload("*")
    )
    if status:
        query = query.where(Delivery.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.with_only_columns(Delivery.id).subquery()))
    rows = db.session.scalars(
        query.order_by(Delivery.id.desc()).offset((max(page, 1) - 1) * per_page).limit(per_page)
    ).all()
    return rows, total
