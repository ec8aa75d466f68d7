"""Emit workflow events: the event row, its watchers and its outbox rows, in the caller's transaction.

Each item service makes one call here (``created``, ``updated``, ``transitioned``,
``progressed``). Fan-out is set-based: one ``INSERT … SELECT … ON CONFLICT DO NOTHING``
writes every recipient's in-app and email rows (keyed ``e<event>|u<user>|<channel>``,
UNIQUE), whatever the number of watchers; the group's chat robot gets one row. Recipients
are filtered in the same statement: never the actor, only active people, only people who
may read the item (``permissions.item_readers``), by their per-kind preference.
Nothing is sent here: a rollback takes the event and its rows with it.
"""

from datetime import datetime

from flask import current_app
from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    union,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from tracker import permissions
from tracker.auth.models import User
from tracker.clock import UTCDateTime, local_date
from tracker.event.services import event_timezone
from tracker.extensions import db
from tracker.groups.models import WorkGroup, group_membership
from tracker.items.models import Item
from tracker.notify import rules
from tracker.notify.models import EventPreference, ItemEvent, ItemWatch
from tracker.reminders import smtp
from tracker.reminders.models import Delivery

COLUMNS = (
    "dedupe_key",
    "channel",
    "rule",
    "user_id",
    "group_id",
    "item_id",
    "event_id",
    "local_date",
    "status",
    "attempts",
    "created_at",
    "next_attempt_at",
)


def _dialect_insert(model):
    module = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(model)


def _in_group(group_id):
    return exists().where(group_membership.c.user_id == User.id, group_membership.c.group_id == group_id)


def _audience(kind: str, item: Item, target_id: int | None):
    conditions = []
    for who in rules.audience(kind):
        if who == "target" and target_id is not None:
            conditions.append(User.id == target_id)
        elif who == "owner" and item.owner_id is not None:
            conditions.append(User.id == item.owner_id)
        elif who == "leads":
            conditions.append(and_(User.role == permissions.LEAD, _in_group(item.group_id)))
        elif who == "committee":
            conditions.append(User.role == permissions.COMMITTEE)
        elif who == "watchers":
            conditions.append(exists().where(ItemWatch.item_id == item.id, ItemWatch.user_id == User.id))
    return or_(*conditions) if conditions else None


def _channels():
    names = ["inapp", "email"] if smtp.mail_config(current_app.config) is not None else ["inapp"]
    selects = [select(literal_column(f"'{name}'").label("name")) for name in names]
    return (union_all(*selects) if len(selects) > 1 else selects[0]).subquery("ch")


def emit(
    kind: str,
    item: Item,
    *,
    actor,
    now: datetime,
    target_id: int | None = None,
    before: str | None = None,
    after: str | None = None,
    note: str = "",
) -> int:
    """Record one event and queue its messages; returns the event id."""
    event_id = db.session.execute(
        insert(ItemEvent)
        .values(
            item_id=item.id,
            kind=kind,
            actor_id=actor.id,
            target_id=target_id,
            before=before,
            after=after,
            note=note or "",
            created_at=now,
        )
        .returning(ItemEvent.id)
    ).scalar_one()
    who = _audience(kind, item, target_id)
    if who is None:
        return event_id
    day = local_date(now, event_timezone())
    ch = _channels()
    pref = EventPreference
    mode = func.coalesce(pref.mode, rules.DEFAULT_MODE)
    inapp_ok = true() if kind in rules.ALWAYS_IN_APP else mode != "off"
    email_ok = and_(mode == "email", User.email.is_not(None), User.email != "")
    key = literal(f"e{event_id}|u", String).op("||")(cast(User.id, String)).op("||")(literal("|", String))
    at_now = literal(now, UTCDateTime())
    later = literal(rules.send_after(now), UTCDateTime())
    users = (
        select(
            key.op("||")(ch.c.name),
            ch.c.name,
            literal(kind, String),
            User.id,
            cast(null(), Integer),
            literal(item.id),
            literal(event_id),
            literal(day),
            literal("pending", String),
            literal(0),
            at_now,
            case((ch.c.name == "inapp", at_now), else_=later),
        )
        .select_from(User)
        .join(ch, true())
        .outerjoin(pref, and_(pref.user_id == User.id, pref.kind == kind))
        .where(
            who,
            User.id != actor.id,
            User.is_active_account.is_(True),
            permissions.item_readers(item, User, _in_group(item.group_id)),
            or_(and_(ch.c.name == "inapp", inapp_ok), and_(ch.c.name == "email", email_ok)),
        )
    )
    db.session.execute(
        _dialect_insert(Delivery).from_select(COLUMNS, users).on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    group = db.session.get(WorkGroup, item.group_id)  # not item.group: stale right after a regroup
    if group is not None and group.webhook_url and not item.is_confidential:
        db.session.execute(
            _dialect_insert(Delivery)
            .values(
                dedupe_key=f"e{event_id}|g{group.id}|webhook",
                channel="webhook",
                rule=kind,
                group_id=group.id,
                item_id=item.id,
                event_id=event_id,
                local_date=day,
                status="pending",
                attempts=0,
                created_at=now,
                next_attempt_at=rules.send_after(now),
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
    # Bundling: earlier email/chat rows about this item wait for this one, to go out together.
    db.session.execute(
        update(Delivery)
        .where(
            Delivery.event_id.in_(
                select(ItemEvent.id).where(
                    ItemEvent.item_id == item.id, ItemEvent.created_at >= rules.bundle_since(now)
                )
            ),
            Delivery.status == "pending",
            Delivery.channel != "inapp",
        )
        .values(next_attempt_at=rules.send_after(now))
        .execution_options(synchronize_session=False)
    )
    return event_id


def watch_by_default(item_ids: list[int], now: datetime) -> None:
    """Creator, owner and the group's leads watch the items (set-based; existing watches stay)."""
    if not item_ids:
        return
    mine = Item.id.in_(item_ids)
    creators = select(Item.id.label("item_id"), Item.created_by_id.label("user_id")).where(
        mine, Item.created_by_id.is_not(None)
    )
    owners = select(Item.id, Item.owner_id).where(mine, Item.owner_id.is_not(None))
    leads = (
        select(Item.id, User.id)
        .select_from(Item)
        .join(group_membership, group_membership.c.group_id == Item.group_id)
        .join(User, User.id == group_membership.c.user_id)
        .where(mine, User.role == permissions.LEAD)
    )
    rows = union(creators, owners, leads).subquery("w")
    query = select(rows.c.item_id, rows.c.user_id, literal(now, UTCDateTime())).where(
        true()
    )  # SQLite: WHERE before ON CONFLICT
    db.session.execute(
        _dialect_insert(ItemWatch)
        .from_select(["item_id", "user_id", "created_at"], query)
        .on_conflict_do_nothing(index_elements=["item_id", "user_id"])
    )


def watch(item_id: int, user_id: int, now: datetime) -> None:
    db.session.execute(
        _dialect_insert(ItemWatch)
        .values(item_id=item_id, user_id=user_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["item_id", "user_id"])
    )


# One call per item service:


def created(items: list[Item], *, actor, now: datetime) -> None:
    watch_by_default([item.id for item in items], now)
    for item in items:
        if item.owner_id is not None:
            emit(rules.ASSIGNED, item, actor=actor, now=now, target_id=item.owner_id)


def updated(item: Item, before: dict, *, actor, now: datetime, reason: str = "") -> None:
    """``before`` holds the values the changed fields had."""
    if "owner_id" in before:
        old, new = before["owner_id"], item.owner_id
        if new is not None:
            watch(item.id, new, now)
            emit(rules.ASSIGNED, item, actor=actor, now=now, target_id=new)
        if old is not None:
            emit(rules.UNASSIGNED, item, actor=actor, now=now, target_id=old)
    if "deadline" in before:
        old = before["deadline"]
        emit(
            rules.DEADLINE,
            item,
            actor=actor,
            now=now,
            before=old.isoformat() if old else None,
            after=item.deadline.isoformat() if item.deadline else None,
            note=reason,
        )


def transitioned(item: Item, action: str, *, actor, now: datetime, note: str = "") -> None:
    kind = rules.ACTION_KINDS.get(action)
    if kind is not None:
        emit(kind, item, actor=actor, now=now, note=note)


def progressed(item: Item, *, actor, now: datetime, note: str, progress: int | None, files: int) -> None:
    emit(
        rules.PROGRESS,
        item,
        actor=actor,
        now=now,
        after=str(progress) if progress is not None else None,
        before=str(files) if files else None,
        note=note,
    )
    names = rules.mentions(note)
    if names:
        for user_id in db.session.scalars(select(User.id).where(User.username.in_(names), User.id != actor.id)):
            emit(rules.MENTIONED, item, actor=actor, now=now, target_id=user_id, note=note)


def extension_step(request, kind: str, *, actor, now: datetime) -> None:
    """A deadline extension (延期) requested, approved or refused; approval also moves the deadline."""
    item = request.item
    dates = {
        "before": request.from_deadline.isoformat() if request.from_deadline else None,
        "after": request.to_deadline.isoformat() if request.to_deadline else None,
    }
    if kind == "extension_requested":
        emit(rules.EXTENSION_REQUESTED, item, actor=actor, now=now, note=request.reason or "", **dates)
        return
    approved = kind == "extension_approved"
    emit(
        rules.EXTENSION_DECIDED,
        item,
        actor=actor,
        now=now,
        target_id=request.requested_by_id,
        note=request.note or "",
        before=dates["before"],
        after=dates["after"] if approved else None,  # a refusal names no new date
    )
    if approved:
        emit(rules.DEADLINE, item, actor=actor, now=now, note=request.reason or "", **dates)
