"""Read models over notices: the filtered list, the item-list filter, the inbox, the board and the week."""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from tracker import permissions
from tracker.clock import end_of_day, start_of_day
from tracker.extensions import db
from tracker.groups import services as group_services
from tracker.groups.models import WorkGroup
from tracker.items.models import Item
from tracker.notices.models import LEVELS, STATUSES, Notice
from tracker.notices.rules import AWAITING_REPLY, OPEN_STATUSES

ITEM_FILTER_VALUES = (*LEVELS, "open")


def row_options() -> tuple:
    """What every notice row shows (item, addressee, people): loaded per page, never per row.

    Built on call: loader options configure the mappers, which must wait until every model is imported.
    """
    return (
        selectinload(Notice.item),
        selectinload(Notice.group),
        selectinload(Notice.issued_by),
        selectinload(Notice.acknowledged_by),
    )


@dataclass
class NoticeFilters:
    item: int | None = None
    group: str | None = None  # work-group code
    level: str | None = None
    status: str | None = None  # a status, or "open" for issued, acknowledged and replied

    @classmethod
    def from_args(cls, args) -> "NoticeFilters":
        """Query-string filters; unusable values are dropped, never a 500."""
        item = (args.get("item") or "").strip()
        level = args.get("level") or None
        status = args.get("status") or None
        return cls(
            item=int(item) if item.isdigit() and 0 < int(item) < 2**31 else None,
            group=(args.get("group") or "").strip()[:16] or None,
            level=level if level in LEVELS else None,
            status=status if status in (*STATUSES, "open") else None,
        )


def filtered_notices(actor, filters: NoticeFilters):
    query = select(Notice).join(Item, Item.id == Notice.item_id)
    query = permissions.visible_notices(query, actor, Item)
    if filters.item:
        query = query.where(Notice.item_id == filters.item)
    if filters.group:
        query = query.where(Notice.group.has(WorkGroup.code == filters.group))
    if filters.level:
        query = query.where(Notice.level == filters.level)
    if filters.status == "open":
        query = query.where(Notice.status.in_(OPEN_STATUSES))
    elif filters.status:
        query = query.where(Notice.status == filters.status)
    return query.options(*row_options()).order_by(Notice.id.desc())


def item_notice_clause(value: str):
    """For the item lists' ``notice=blue|orange|red|open``: items with such an open notice."""
    where = [Notice.item_id == Item.id, Notice.status.in_(OPEN_STATUSES)]
    if value in LEVELS:
        where.append(Notice.level == value)
    return exists().where(*where)


def awaiting_me(actor, limit: int = 50) -> list[Notice]:
    """Notices the actor must sign for (待签收) or reply to (待回复): as a lead of the group, or as owner."""
    mine = [Item.owner_id == actor.id]
    if actor.role == permissions.LEAD and actor.group_ids:
        mine.append(Notice.group_id.in_(actor.group_ids))
    query = (
        select(Notice)
        .join(Item, Item.id == Notice.item_id)
        .where(Notice.status.in_(AWAITING_REPLY), or_(*mine))
        .options(*row_options())
        .order_by(Notice.reply_by, Notice.id)
        .limit(limit)
    )
    return db.session.scalars(permissions.visible_notices(query, actor, Item)).all()


@dataclass
class GroupNotices:
    code: str
    name: str
    name_en: str
    counts: dict = field(default_factory=dict)  # level → open notices

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def board_notices(actor) -> list[GroupNotices]:
    """Open notices per group and level: one GROUP BY, honouring the actor's visibility."""
    query = (
        select(WorkGroup.code, WorkGroup.name, WorkGroup.name_en, Notice.level, func.count())
        .join(Item, Item.id == Notice.item_id)
        .join(WorkGroup, WorkGroup.id == Notice.group_id)
        .where(Notice.status.in_(OPEN_STATUSES))
        .group_by(WorkGroup.id, WorkGroup.code, WorkGroup.name, WorkGroup.name_en, WorkGroup.sort_order, Notice.level)
        .order_by(WorkGroup.sort_order, WorkGroup.code)
    )
    groups: dict[str, GroupNotices] = {}
    for code, name, name_en, level, n in db.session.execute(permissions.visible_notices(query, actor, Item)):
        groups.setdefault(code, GroupNotices(code, name, name_en, dict.fromkeys(LEVELS, 0))).counts[level] = n
    return list(groups.values())


def red_listed(actor, limit: int = 20) -> list[Notice]:
    """The items under red listed supervision (挂牌督办), for the board and the big screen."""
    query = (
        select(Notice)
        .join(Item, Item.id == Notice.item_id)
        .where(Notice.level == "red", Notice.status.in_(OPEN_STATUSES))
        .options(contains_eager(Notice.item), joinedload(Notice.group, innerjoin=True))
        .order_by(Notice.reply_by, Notice.id)
        .limit(limit)
    )
    return db.session.scalars(permissions.visible_notices(query, actor, Item)).all()


@dataclass
class WeekRow:
    code: str
    name: str
    name_en: str
    issued: int = 0
    answered_late: int = 0
    closed: int = 0
    escalated: int = 0


def weekly(actor, monday: date, sunday: date, tz: str, now: datetime) -> list[WeekRow]:
    """Per group: notices issued, answered late, closed and escalated in the week (one GROUP BY)."""
    start, end = start_of_day(monday, tz), min(end_of_day(sunday, tz), now)

    def within(column):
        return and_(column >= start, column <= end)

    def flag(condition):
        return func.sum(case((condition, 1), else_=0))

    query = (
        select(
            Notice.group_id,
            flag(within(Notice.issued_at)),
            flag(and_(Notice.status == "closed", within(Notice.closed_at))),
            flag(and_(Notice.status == "escalated", within(Notice.closed_at))),
        )
        .join(Item, Item.id == Notice.item_id)
        .group_by(Notice.group_id)
    )
    rows = {gid: list(values) for gid, *values in db.session.execute(permissions.visible_notices(query, actor, Item))}
    # Late: replied after the end of the reply-by day in the event's zone; a week's replies are few.
    replies = select(Notice.group_id, Notice.reply_by, Notice.replied_at).join(Item, Item.id == Notice.item_id)
    replies = replies.where(within(Notice.replied_at))
    late: dict = {}
    for group_id, reply_by, replied_at in db.session.execute(permissions.visible_notices(replies, actor, Item)):
        if replied_at > end_of_day(reply_by, tz):
            late[group_id] = late.get(group_id, 0) + 1
    ids = set(rows) | set(late)
    if not ids:
        return []
    result = []
    for g in group_services.ordered_groups(ids):
        issued, closed, escalated = (int(v or 0) for v in rows.get(g.id, (0, 0, 0)))
        row = WeekRow(g.code, g.name, g.name_en, issued, late.get(g.id, 0), closed, escalated)
        if row.issued or row.answered_late or row.closed or row.escalated:
            result.append(row)
    return result
