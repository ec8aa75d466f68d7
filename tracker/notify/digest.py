"""The daily activity digest: one message per person listing yesterday's events on their items.

Queued set-based with the reminders' daily digest (same time, same run): one row per
person and channel, keyed ``u<user>|-|activity|<day>|<channel>``. What it lists is
computed at send time (sender.digest_events), through the reader's visibility.
"""

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    union,
    union_all,
)

from tracker.auth.models import User
from tracker.clock import UTCDateTime, start_of_day
from tracker.event.services import event_timezone
from tracker.extensions import db
from tracker.items.events import COLUMNS, _dialect_insert
from tracker.items.models import Item
from tracker.outbox import rules
from tracker.outbox.mail import mail_config
from tracker.outbox.models import Delivery, ItemEvent, ItemWatch
from tracker.reminders.models import NotificationPreference


def queue(now: datetime, today: date) -> int:
    tz = event_timezone()
    yesterday = today - timedelta(days=1)
    start, end = start_of_day(yesterday, tz), start_of_day(today, tz)
    recent = and_(ItemEvent.created_at >= start, ItemEvent.created_at < end)
    owners = (
        select(Item.owner_id.label("uid"))
        .select_from(ItemEvent)
        .join(Item, Item.id == ItemEvent.item_id)
        .where(
            recent, Item.owner_id.is_not(None), or_(ItemEvent.actor_id.is_(None), ItemEvent.actor_id != Item.owner_id)
        )
    )
    watchers = (
        select(ItemWatch.user_id.label("uid"))
        .select_from(ItemEvent)
        .join(ItemWatch, ItemWatch.item_id == ItemEvent.item_id)
        .where(recent, or_(ItemEvent.actor_id.is_(None), ItemEvent.actor_id != ItemWatch.user_id))
    )
    uids = union(owners, watchers).subquery("uids")
    names = ["inapp", "email"] if mail_config(current_app.config) is not None else ["inapp"]
    selects = [select(literal_column(f"'{name}'").label("name")) for name in names]
    ch = (union_all(*selects) if len(selects) > 1 else selects[0]).subquery("ch")
    pref = NotificationPreference
    wants_email = and_(User.email.is_not(None), User.email != "", func.coalesce(pref.email_enabled, true()))
    at_now = literal(now, UTCDateTime())
    key = (
        literal("u", String)
        .op("||")(cast(User.id, String))
        .op("||")(literal(f"|-|{rules.ACTIVITY_DIGEST}|{today.isoformat()}|", String))
    )
    none = cast(null(), Integer)
    query = (
        select(
            key.op("||")(ch.c.name),
            ch.c.name,
            literal(rules.ACTIVITY_DIGEST, String),
            User.id,
            none,
            none,
            none,
            literal(today, Date),
            literal("pending", String),
            literal(0),
            at_now,
            at_now,
        )
        .select_from(User)
        .join(uids, uids.c.uid == User.id)
        .join(ch, true())
        .outerjoin(pref, pref.user_id == User.id)
        .where(
            User.is_active_account.is_(True),
            func.coalesce(pref.digest_mode, "both") != "singles",
            or_(ch.c.name == "inapp", wants_email),
        )
    )
    stmt = _dialect_insert(Delivery).from_select(COLUMNS, query).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return max(db.session.execute(stmt.execution_options(preserve_rowcount=True)).rowcount, 0)
