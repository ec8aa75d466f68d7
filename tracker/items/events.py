"""Emit workflow events: the event row, its watchers and its outbox rows, in the caller's transaction.

Each item service makes one call here (``created``, ``updated``, ``transitioned``,
``progressed``). Fan-out is set-based: one ``INSERT … SELECT … ON CONFLICT DO NOTHING``
writes every recipient's in-app and email rows (keyed ``e<event>|u<user>|<channel>``,
UNIQUE), whatever the number of watchers or of events (a bulk import records its
thousands of events together, see ``collected``); the group's chat robot gets one row. Recipients
are filtered in the same statement: never the actor, only active people, only people who
may read the item (``permissions.item_readers``), by their per-kind preference.
Nothing is sent here: a rollback takes the event and its rows with it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from itertools import groupby
from operator import itemgetter

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
from sqlalchemy.orm import aliased

from tracker import permissions
from tracker.auth.models import User
from tracker.clock import UTCDateTime, local_date
from tracker.event.services import event_timezone
from tracker.extensions import db
from tracker.groups.models import WorkGroup, group_membership
from tracker.items.models import Item
from tracker.outbox import rules
from tracker.outbox.mail import mail_config
from tracker.outbox.models import Delivery, EventPreference, ItemEvent, ItemWatch

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


def _channels():
    names = ["inapp", "email"] if mail_config(current_app.config) is not None else ["inapp"]
    selects = [select(literal_column(f"'{name}'").label("name")) for name in names]
    return (union_all(*selects) if len(selects) > 1 else selects[0]).subquery("ch")


def _kinds_heard_by(who: str) -> list[str]:
    return [kind for kind in rules.KINDS if who in rules.audience(kind)]


def _audience(events):
    """(event_id, user_id) pairs: who hears each of ``events`` by its kind's rule."""
    E = ItemEvent
    lead = aliased(User)
    return union(
        select(E.id.label("event_id"), E.target_id.label("user_id")).where(
            events, E.kind.in_(_kinds_heard_by("target")), E.target_id.is_not(None)
        ),
        select(E.id, Item.owner_id)
        .join(Item, Item.id == E.item_id)
        .where(events, E.kind.in_(_kinds_heard_by("owner")), Item.owner_id.is_not(None)),
        select(E.id, lead.id)
        .join(Item, Item.id == E.item_id)
        .join(group_membership, group_membership.c.group_id == Item.group_id)
        .join(lead, lead.id == group_membership.c.user_id)
        .where(events, E.kind.in_(_kinds_heard_by("leads")), lead.role == permissions.LEAD),
        select(E.id, lead.id)
        .join(lead, lead.role == permissions.COMMITTEE)
        .where(events, E.kind.in_(_kinds_heard_by("committee"))),
        select(E.id, ItemWatch.user_id)
        .join(ItemWatch, ItemWatch.item_id == E.item_id)
        .where(events, E.kind.in_(_kinds_heard_by("watchers"))),
    ).subquery("who")


def _dedupe_key(*parts):
    """'e<event>|u<user>|inapp' and the like, built in SQL from literals and columns."""
    key = None
    for part in parts:
        part = literal(part, String) if isinstance(part, str) else cast(part, String)
        key = part if key is None else key.op("||")(part)
    return key


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
) -> None:
    """Record one event and queue its messages (at the end of a ``collected`` block, if in one)."""
    event = {
        "item_id": item.id,
        "kind": kind,
        "actor_id": actor.id,
        "target_id": target_id,
        "before": before,
        "after": after,
        "note": note or "",
        "created_at": now,
    }
    pending = _COLLECTED.get()
    if pending is not None:
        pending.append(event)
    else:
        record([event])


_COLLECTED: ContextVar[list | None] = ContextVar("collected_events", default=None)


@contextmanager
def collected() -> Iterator[list[dict]]:
    """Bulk changes (an imported sheet): events are kept and recorded together by ``record``."""
    pending: list[dict] = []
    token = _COLLECTED.set(pending)
    try:
        yield pending
    finally:
        _COLLECTED.reset(token)


FAN_OUT_CHUNK = 1000  # events per fan-out statement


def record(events: list[dict]) -> None:
    """Store the events, then their outbox rows, set-based whatever their number."""
    for now, same_moment in groupby(events, key=itemgetter("created_at")):
        rows = list(same_moment)
        ids = db.session.scalars(insert(ItemEvent).returning(ItemEvent.id, sort_by_parameter_order=True), rows).all()
        for start in range(0, len(ids), FAN_OUT_CHUNK):
            _fan_out(ItemEvent.id.in_(ids[start : start + FAN_OUT_CHUNK]), now)


def _fan_out(events, now: datetime) -> None:
    """One outbox row per recipient and channel, and one for the group's chat robot.

    Recipients are filtered in the same statement: never the actor, only active people,
    only people who may read the item, by their per-kind preference.
    """
    E = ItemEvent
    day = literal(local_date(now, event_timezone()))
    at_now = literal(now, UTCDateTime())
    later = literal(rules.send_after(now), UTCDateTime())
    who = _audience(events)
    ch = _channels()
    pref = EventPreference
    mode = func.coalesce(pref.mode, rules.DEFAULT_MODE)
    inapp_ok = or_(E.kind.in_(rules.ALWAYS_IN_APP), mode != "off")
    email_ok = and_(mode == "email", User.email.is_not(None), User.email != "")
    people = (
        select(
            _dedupe_key("e", E.id, "|u", User.id, "|", ch.c.name),
            ch.c.name,
            E.kind,
            User.id,
            cast(null(), Integer),
            E.item_id,
            E.id,
            day,
            literal("pending", String),
            literal(0),
            at_now,
            case((ch.c.name == "inapp", at_now), else_=later),
        )
        .select_from(who)
        .join(E, E.id == who.c.event_id)
        .join(Item, Item.id == E.item_id)
        .join(User, User.id == who.c.user_id)
        .join(ch, true())
        .outerjoin(pref, and_(pref.user_id == User.id, pref.kind == E.kind))
        .where(
            User.id != E.actor_id,
            User.is_active_account.is_(True),
            permissions.item_readers(Item, User, _in_group(Item.group_id)),
            or_(and_(ch.c.name == "inapp", inapp_ok), and_(ch.c.name == "email", email_ok)),
        )
    )
    robots = (
        select(
            _dedupe_key("e", E.id, "|g", WorkGroup.id, "|webhook"),
            literal("webhook", String),
            E.kind,
            cast(null(), Integer),
            WorkGroup.id,
            E.item_id,
            E.id,
            day,
            literal("pending", String),
            literal(0),
            at_now,
            later,
        )
        .join(Item, Item.id == E.item_id)
        .join(WorkGroup, WorkGroup.id == Item.group_id)
        .where(events, WorkGroup.webhook_url.is_not(None), WorkGroup.webhook_url != "", Item.is_confidential.is_(False))
    )
    for rows in (people, robots):
        db.session.execute(
            _dialect_insert(Delivery).from_select(COLUMNS, rows).on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
    # Bundling: earlier email/chat rows about these items wait for the new ones, to go out together.
    touched = select(E.item_id).where(events)
    recent = aliased(ItemEvent)
    db.session.execute(
        update(Delivery)
        .where(
            Delivery.event_id.in_(
                select(recent.id).where(recent.item_id.in_(touched), recent.created_at >= rules.bundle_since(now))
            ),
            Delivery.status == "pending",
            Delivery.channel != "inapp",
        )
        .values(next_attempt_at=rules.send_after(now))
        .execution_options(synchronize_session=False)
    )


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
