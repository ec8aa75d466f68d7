"""The to-do inbox (待办): "what needs me now", as a list of section providers.

A provider is a function ``(user, today) -> Source | None`` (None: the section does not
apply to the user): the section's items as a query, so that every section's count can be
read in one statement (the navigation's count is a SQL value read with the bell's). Other
features add their own sections with ``register``; the page, the navigation's count and
``GET /api/v1/inbox`` pick them up. Every section lists oldest first, with when the wait began.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, literal, select
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


@dataclass(frozen=True)
class Source:
    """Where a section's items come from, and how its entries read."""

    key: str
    title: object
    query: Select  # the section's items, before the reader's visibility
    order: object  # oldest first; also when the wait began
    since: Callable | None = None  # turns ``order``'s value into a moment
    detail: Callable | None = None  # item ids → a note per item
    overdue: bool = False

    def items(self, user) -> Select:
        return permissions.visible_items(self.query, user, Item)

    def count(self, user):
        """How many of the section's items the user may see, as a SQL value."""
        ids = self.items(user).with_only_columns(Item.id).subquery()
        return select(func.count()).select_from(ids).scalar_subquery()


Provider = Callable[..., Source | None]
PROVIDERS: list[Provider] = []


def register(provider: Provider) -> Provider:
    """Add a section provider (usable as a decorator); sections show in registration order."""
    PROVIDERS.append(provider)
    return provider


def sources(user, today: date) -> list[Source]:
    found = (provider(user, today) for provider in PROVIDERS)
    return [s for s in found if s is not None]


def sections(user, today: date, limit: int = 20) -> list[Section]:
    """The user's sections, their counts read in one statement and up to ``limit`` entries each."""
    applying = sources(user, today)
    if not applying:
        return []
    counts = db.session.execute(select(*(source.count(user) for source in applying))).one()
    return [_section(source, user, count, limit) for source, count in zip(applying, counts, strict=True)]


def waiting(user, today: date):
    """The number of items waiting on the user, over all sections, as a SQL value (the navigation reads it)."""
    return sum((source.count(user) for source in sources(user, today)), literal(0))


def _submitted_at():
    latest = (
        select(func.max(ItemEvent.created_at))
        .where(ItemEvent.item_id == Item.id, ItemEvent.kind == rules.SUBMITTED)
        .scalar_subquery()
    )
    return func.coalesce(latest, Item.updated_at)


def _section(source: Source, user, count: int, limit: int) -> Section:
    entries = []
    if limit and count:
        query = source.items(user).add_columns(source.order)
        query = query.options(selectinload(Item.supporting_groups))  # the API shows them
        rows = db.session.execute(query.order_by(source.order, Item.id).limit(limit)).unique().all()
        notes = source.detail([item.id for item, _ in rows]) if source.detail else {}
        entries = [
            Entry(
                title=f"{item.code + ' ' if item.code else ''}{item.title}",
                url=f"/items/{item.id}",
                since=source.since(value) if source.since else value,
                detail=notes.get(item.id, ""),
                item=item,
                overdue=source.overdue,
            )
            for item, value in rows
        ]
    return Section(key=source.key, title=str(source.title), count=count, entries=entries)


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
def to_verify(user, today):
    if user.role not in permissions.OVERSIGHT:
        return None
    query = select(Item).where(Item.status == Status.SUBMITTED)
    title = _l("Waiting for my verification (待我验收)")
    return Source("to_verify", title, query, _submitted_at(), since=_as_moment)


@register
def returned(user, today):
    if not _owners_roles(user):
        return None
    query = select(Item).where(_scope(user), Item.returned_at.is_not(None), Item.status.in_(OPEN_STATUSES))
    title = _l("Returned in my groups (已退回)") if user.role == permissions.LEAD else _l("Returned to me (已退回)")
    return Source("returned", title, query, Item.returned_at, detail=return_reasons)


@register
def overdue(user, today):
    if not _owners_roles(user):
        return None
    query = select(Item).where(_scope(user), overdue_clause(today))
    title = _l("Overdue in my groups") if user.role == permissions.LEAD else _l("My overdue items")
    return Source("overdue", title, query, Item.deadline, since=_deadline_passed, overdue=True)


@register
def due_soon(user, today):
    if user.role not in (permissions.MEMBER, permissions.EXTERNAL):
        return None
    query = select(Item).where(
        _scope(user),
        Item.status.in_(OPEN_STATUSES),
        Item.deadline >= today,
        Item.deadline <= today + timedelta(days=DUE_SOON_DAYS),
    )
    return Source("due_soon", _l("My items due within 3 days"), query, Item.deadline)


@register
def unassigned(user, today):
    if user.role != permissions.LEAD:
        return None
    query = select(Item).where(_scope(user), Item.owner_id.is_(None), Item.status.in_(ACTIVE_STATUSES))
    title = _l("Without a responsible person")
    return Source("unassigned", title, query, Item.created_at)


ITEM_SECTIONS = ("to_verify", "returned", "overdue", "due_soon", "unassigned")
