"""The to-do inbox (待办): "what needs me now", as a list of section providers.

A provider is a function ``(user, now, today, limit) -> Section | None`` (None: the
section does not apply to the user). ``limit=0`` asks only for the count. Other features
add their own sections with ``register`` (e.g. supervision notices to sign for, pending
deadline-extension requests); the page, the nav count and ``GET /api/v1/inbox`` pick them up.
Every section lists oldest first, with when the wait began.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from tracker import permissions
from tracker.clock import end_of_day
from tracker.event.services import event_timezone
from tracker.extensions import db
from tracker.items.models import Item
from tracker.items.rules import ACTIVE_STATUSES, OPEN_STATUSES, Status
from tracker.lists.queries import overdue_clause
from tracker.outbox import rules
from tracker.outbox.models import ItemEvent

DUE_SOON_DAYS = 3


@dataclass
class Entry:
    title: str
    url: str
    since: datetime  # when the wait began
    detail: str = ""
    item: Item | None = None
    overdue: bool = False  # the wait is past a deadline: "overdue for …" rather than "waiting …"


@dataclass
class Section:
    key: str
    title: str
    count: int
    entries: list[Entry] = field(default_factory=list)


Provider = Callable[..., Section | None]
PROVIDERS: list[Provider] = []


def register(provider: Provider) -> Provider:
    """Add a section provider (usable as a decorator); sections show in registration order."""
    PROVIDERS.append(provider)
    return provider


def sections(user, now: datetime, today: date, limit: int = 20) -> list[Section]:
    found = (provider(user, now, today, limit) for provider in PROVIDERS)
    return [s for s in found if s is not None]


def total(user, now: datetime, today: date) -> int:
    return sum(s.count for s in sections(user, now, today, limit=0))


def _submitted_at():
    latest = (
        select(func.max(ItemEvent.created_at))
        .where(ItemEvent.item_id == Item.id, ItemEvent.kind == rules.SUBMITTED)
        .scalar_subquery()
    )
    return func.coalesce(latest, Item.updated_at)


def _item_section(
    key: str, title, user, query: Select, order, limit: int, *, since=None, detail=None, overdue: bool = False
) -> Section:
    """``order`` (oldest first) is also when the wait began; ``since`` turns its value into a moment."""
    query = permissions.visible_items(query, user, Item)
    count = db.session.scalar(select(func.count()).select_from(query.with_only_columns(Item.id).subquery()))
    entries = []
    if limit and count:
        query = query.add_columns(order).options(selectinload(Item.supporting_groups))  # the API shows them
        rows = db.session.execute(query.order_by(order, Item.id).limit(limit)).unique().all()
        notes = detail([item.id for item, _ in rows]) if detail else {}
        entries = [
            Entry(
                title=f"{item.code + ' ' if item.code else ''}{item.title}",
                url=f"/items/{item.id}",
                since=since(value) if since else value,
                detail=notes.get(item.id, ""),
                item=item,
                overdue=overdue,
            )
            for item, value in rows
        ]
    return Section(key=key, title=str(title), count=count, entries=entries)


def return_reasons(item_ids: list[int]) -> dict[int, str]:
    """The reason of each item's latest rejection."""
    if not item_ids:
        return {}
    latest = (
        select(func.max(ItemEvent.id))
        .where(ItemEvent.item_id.in_(item_ids), ItemEvent.kind == rules.REJECTED)
        .group_by(ItemEvent.item_id)
    )
    return dict(db.session.execute(select(ItemEvent.item_id, ItemEvent.note).where(ItemEvent.id.in_(latest))).all())


def _deadline_passed(deadline: date) -> datetime:
    return end_of_day(deadline, event_timezone())


def _as_moment(value) -> datetime:
    """A moment from a column value (SQLite hands back naive UTC, or text, for an aggregate)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _scope(user):
    """Leads see their groups' items; members and external teams their own."""
    if user.role == permissions.LEAD:
        return Item.group_id.in_(user.group_ids) if user.group_ids else Item.id.is_(None)
    return Item.owner_id == user.id


def _owners_roles(user) -> bool:
    return user.role in (permissions.LEAD, permissions.MEMBER, permissions.EXTERNAL)


@register
def to_verify(user, now, today, limit):
    if user.role not in permissions.OVERSIGHT:
        return None
    waited = _submitted_at()
    query = select(Item).where(Item.status == Status.SUBMITTED)
    title = _l("Waiting for my verification (待我验收)")
    return _item_section("to_verify", title, user, query, waited, limit, since=_as_moment)


@register
def returned(user, now, today, limit):
    if not _owners_roles(user):
        return None
    query = select(Item).where(_scope(user), Item.returned_at.is_not(None), Item.status.in_(OPEN_STATUSES))
    title = _l("Returned in my groups (已退回)") if user.role == permissions.LEAD else _l("Returned to me (已退回)")
    return _item_section("returned", title, user, query, Item.returned_at, limit, detail=return_reasons)


@register
def overdue(user, now, today, limit):
    if not _owners_roles(user):
        return None
    query = select(Item).where(_scope(user), overdue_clause(today))
    title = _l("Overdue in my groups") if user.role == permissions.LEAD else _l("My overdue items")
    return _item_section("overdue", title, user, query, Item.deadline, limit, since=_deadline_passed, overdue=True)


@register
def due_soon(user, now, today, limit):
    if user.role not in (permissions.MEMBER, permissions.EXTERNAL):
        return None
    query = select(Item).where(
        _scope(user),
        Item.status.in_(OPEN_STATUSES),
        Item.deadline >= today,
        Item.deadline <= today + timedelta(days=DUE_SOON_DAYS),
    )
    return _item_section("due_soon", _l("My items due within 3 days"), user, query, Item.deadline, limit)


@register
def unassigned(user, now, today, limit):
    if user.role != permissions.LEAD:
        return None
    query = select(Item).where(_scope(user), Item.owner_id.is_(None), Item.status.in_(ACTIVE_STATUSES))
    title = _l("Without a responsible person")
    return _item_section("unassigned", title, user, query, Item.created_at, limit)


ITEM_SECTIONS = ("to_verify", "returned", "overdue", "due_soon", "unassigned")
