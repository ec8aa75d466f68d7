"""The one filtered, permission-checked item query behind every list, export and API page."""

from dataclasses import dataclass, fields
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import Select, and_, asc, case, desc, func, select

from tracker import permissions
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import search
from tracker.items.models import FINISHED_LAST, NO_DEADLINE_LAST, STATUSES, Item, LedgerEntry
from tracker.items.rules import ACTIVE_STATUSES, OPEN_STATUSES, STATUS_GROUPS
from tracker.notices.queries import ITEM_FILTER_VALUES, item_notice_clause
from tracker.routing import parse_id
from tracker.workdays.rules import MAX_SPAN_DAYS
from tracker.workdays.services import calendar

SORTS = {
    "deadline": Item.deadline,
    "severity": case({"high": 0, "medium": 1, "low": 2}, value=Item.severity, else_=3),
    "status": case({s: n for n, s in enumerate(STATUSES)}, value=Item.status, else_=len(STATUSES)),
    "code": Item.code,
    "found": Item.found_on,
    "updated": Item.updated_at,
    "group": Item.group_id,
    "title": Item.title,
    "progress": Item.progress,
    "id": Item.id,
}


@dataclass(frozen=True)  # hashable: part of the list caches' keys
class ItemFilters:
    group: str | None = None  # work-group code
    status: str | None = None
    key_area: str | None = None
    severity: str | None = None
    owner: str | None = None  # username, or display name
    kind: str | None = None
    milestone: int | None = None
    overdue: bool | None = None
    due_soon: bool | None = None  # open or in progress, due within the amber window
    due_before: date | None = None
    notice: str | None = None  # blue|orange|red|open: items with such an open supervision notice
    extended: bool | None = None  # deadline extended at least once (延期)
    day_off: bool | None = None  # deadline on a weekend or holiday (by the working-day calendar)
    q: str | None = None  # every word must match (title, number, text, venue, responsible person)
    batch: int | None = None  # items an import created or changed
    sort: str = ""  # empty: the default order, closed and cancelled last

    @classmethod
    def from_args(cls, args) -> "ItemFilters":
        """Parse query-string filters; unparseable values are dropped, never a 500."""
        values = {}
        for f in fields(cls):
            if f.name not in args:  # a miss in Werkzeug's MultiDict raises and catches an HTTP error
                continue
            raw = (args.get(f.name) or "").strip()
            if not raw:
                continue
            if f.name in ("milestone", "batch"):
                if raw.isdigit():
                    values[f.name] = parse_id(raw)  # 0, found nowhere, when beyond any id
            elif f.name in ("overdue", "due_soon", "extended", "day_off"):
                values[f.name] = raw.lower() in ("1", "true", "yes", "on")
            elif f.name == "due_before":
                try:
                    values[f.name] = date.fromisoformat(raw)
                except ValueError:
                    pass
            else:
                values[f.name] = raw[:100]
        return cls(**values)

    def as_args(self, **overrides) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(overrides)
        return {k: _arg(v) for k, v in data.items() if v not in (None, "")}


def _arg(value):
    return int(value) if isinstance(value, bool) else value


def overdue_clause(today: date):
    return and_(Item.status.in_(OPEN_STATUSES), Item.deadline < today)


def due_soon_clause(today: date, days: int):
    return and_(
        Item.status.in_(OPEN_STATUSES),
        Item.deadline >= today,
        Item.deadline <= today + timedelta(days=days),
    )


def filtered_items(user, filters: ItemFilters, today: date) -> Select:
    query = permissions.visible_items(select(Item), user, Item)
    if filters.group:
        # The group's id, not a join: the item indexes that start with group_id then apply.
        group_id = select(WorkGroup.id).where(WorkGroup.code == filters.group).scalar_subquery()
        query = query.where(Item.group_id == group_id)
    if filters.status in STATUS_GROUPS:
        query = query.where(Item.status.in_(STATUS_GROUPS[filters.status]))
    elif filters.status:
        query = query.where(Item.status == filters.status)
    if filters.key_area:
        query = query.where(Item.key_area == filters.key_area)
    if filters.severity:
        query = query.where(Item.severity == filters.severity)
    if filters.kind:
        query = query.where(Item.kind == filters.kind)
    if filters.owner:
        query = query.where(search.owner_clause(filters.owner))
    if filters.milestone is not None:
        query = query.where(Item.milestone_id == filters.milestone)
    if filters.overdue is True:
        query = query.where(overdue_clause(today))
    elif filters.overdue is False:
        query = query.where(~overdue_clause(today) | Item.deadline.is_(None))
    if filters.due_soon:
        query = query.where(due_soon_clause(today, current_app.config["LIGHT_AMBER_DAYS"]))
    if filters.batch is not None:
        query = query.where(
            Item.id.in_(select(LedgerEntry.item_id).where(LedgerEntry.import_batch_id == filters.batch))
        )
    if filters.due_before:
        query = query.where(Item.deadline <= filters.due_before)
    if filters.notice in ITEM_FILTER_VALUES:
        query = query.where(item_notice_clause(filters.notice))
    if filters.extended is not None:
        query = query.where(Item.extensions > 0 if filters.extended else Item.extensions == 0)
    if filters.day_off:
        query = query.where(Item.deadline.in_(_days_off_of_deadlines()))
    if filters.q:
        query = query.where(*search.words_clauses(filters.q))
    key = filters.sort.lstrip("-")
    default_order = (FINISHED_LAST, NO_DEADLINE_LAST, Item.deadline, Item.id)
    if key not in SORTS:  # work still to do first, soonest deadline first (ix_item_list_order)
        return query.order_by(*default_order)
    order = desc if filters.sort.startswith("-") else asc
    column = SORTS[key]
    if key == "group":  # then the default order within each group (ix_item_group_list_order)
        return query.order_by(order(column), *default_order)
    if key == "deadline":  # no deadline last either way (ix_item_deadline_order)
        return query.order_by(NO_DEADLINE_LAST, order(column), order(Item.id))
    return query.order_by(order(column).nulls_last() if key in ("deadline", "code") else order(column), Item.id)


def _days_off_of_deadlines() -> list[date]:
    """Every day off between the earliest and the latest deadline (a few hundred dates at most)."""

    first, last = db.session.execute(select(func.min(Item.deadline), func.max(Item.deadline))).one()
    if first is None:
        return []
    cal = calendar()
    span = min((last - first).days, MAX_SPAN_DAYS * 3)
    return [d for d in (first + timedelta(days=n) for n in range(span + 1)) if not cal.is_working(d)]


def count(query: Select) -> int:

    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def milestone_readiness(actor, event_id: int, today: date) -> dict[int, tuple[int, int]]:
    """Per milestone id: (items not yet closed, overdue items) the actor may see; one GROUP BY."""
    query = select(
        Item.milestone_id,
        func.sum(case((Item.status.in_(ACTIVE_STATUSES), 1), else_=0)),
        func.sum(case((overdue_clause(today), 1), else_=0)),
    ).where(Item.event_id == event_id, Item.milestone_id.is_not(None))
    query = permissions.visible_items(query, actor, Item).group_by(Item.milestone_id)
    return {mid: (int(active or 0), int(overdue or 0)) for mid, active, overdue in db.session.execute(query)}
