"""The weekly briefing (周通报): per group what was new, closed, overdue and still open, for any week.

A past week is reconstructed from the ledger: an item's status (and deadline) at
the end of the week is the ``before`` of its first status (deadline) change after
that moment, or its current value when nothing changed since. So a report for
last month reads the same today as it did then.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, and_, case, cast, exists, func, select, type_coerce

from tracker import permissions
from tracker.auth.models import User
from tracker.clock import start_of_day
from tracker.errors import PermissionDenied
from tracker.event.models import Event
from tracker.extensions import db
from tracker.groups import services as group_services
from tracker.groups.models import WorkGroup
from tracker.items.ledger import DEADLINE_MOVES
from tracker.items.models import Item, LedgerEntry
from tracker.items.rules import ACTIVE_STATUSES, OPEN_STATUSES
from tracker.reports.extensions import ExtensionWeek, extension_week
from tracker.sql_dates import as_date

RED_LIST_LIMIT = 500


@dataclass(frozen=True)
class Week:
    year: int
    number: int

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    def shifted(self, weeks: int) -> "Week":
        return week_of(self.monday + timedelta(weeks=weeks))


def week_of(day: date) -> Week:
    year, number, _ = day.isocalendar()
    return Week(year, number)


def parse_week(value: str | None, today: date) -> Week:
    """``2026-W22`` or any date in the week (``2026-05-29``); anything else, or a week far from
    today (where the previous week or the week's end would fall off the calendar), means this week."""
    value = (value or "").strip()
    try:
        if "W" in value.upper():
            year, number = value.upper().split("-W")
            week = week_of(date.fromisocalendar(int(year), int(number), 1))
        else:
            week = week_of(date.fromisoformat(value))
    except ValueError:
        return week_of(today)
    return week if abs(week.year - today.year) <= 100 else week_of(today)


@dataclass
class GroupWeek:
    code: str
    name: str
    name_en: str
    new: int = 0
    closed: int = 0
    overdue: int = 0
    still_open: int = 0
    overdue_change: int = 0  # against the week before
    open_change: int = 0


@dataclass
class RedItem:
    id: int
    code: str | None
    title: str
    group: str
    owner: str | None
    deadline: date
    days_overdue: int
    is_new: bool  # was not overdue at the end of the week before
    group_name: str = ""
    group_name_en: str = ""

    def group_label(self, english: bool) -> str:
        """The group's code and name, as the ledger shows it."""
        name = self.group_name_en if english and self.group_name_en else self.group_name
        return f"{self.group} · {name}" if name else self.group


def _person(display_name: str | None, username: str | None) -> str | None:
    """Display name and username, as the ledger names people."""
    if username is None:
        return None
    name = (display_name or "").strip()
    return f"{name} ({username})" if name and name != username else username


@dataclass
class WeeklyReport:
    week: Week
    as_of: date
    groups: list[GroupWeek]
    totals: GroupWeek
    red_list: list[RedItem] = field(default_factory=list)
    red_total: int = 0
    newly_overdue: int = 0
    previous: Week | None = None
    extensions: ExtensionWeek = field(default_factory=ExtensionWeek)


def _as_of(actor, event: Event, start: datetime, cut: datetime, dialect: str):
    """One row per item that existed at ``cut``: its status and deadline then, and what the week did to it."""
    later = and_(LedgerEntry.item_id == Item.id, LedgerEntry.created_at >= cut)
    first_status = (
        select(LedgerEntry.before)
        .where(later, LedgerEntry.kind == "status")
        .order_by(LedgerEntry.id)
        .limit(1)
        .scalar_subquery()
    )
    deadline_before = LedgerEntry.before if dialect == "sqlite" else cast(LedgerEntry.before, Date)
    first_deadline = (
        select(deadline_before)
        .where(later, LedgerEntry.kind.in_(DEADLINE_MOVES))
        .order_by(LedgerEntry.id)
        .limit(1)
        .scalar_subquery()
    )
    deadline_changed_since = exists().where(later, LedgerEntry.kind.in_(DEADLINE_MOVES))
    closed_this_week = exists().where(
        LedgerEntry.item_id == Item.id,
        LedgerEntry.kind == "status",
        LedgerEntry.after == "closed",
        LedgerEntry.created_at >= start,
        LedgerEntry.created_at < cut,
    )
    query = select(
        Item.id.label("id"),
        Item.group_id.label("group_id"),
        func.coalesce(first_status, Item.status).label("status"),
        type_coerce(case((deadline_changed_since, first_deadline), else_=Item.deadline), Date).label("deadline"),
        case((Item.created_at >= start, 1), else_=0).label("is_new"),
        case((closed_this_week, 1), else_=0).label("closed"),
    ).where(Item.event_id == event.id, Item.created_at < cut)
    return permissions.visible_items(query, actor, Item).subquery()


def _overdue(rows, as_of: date):
    return and_(rows.c.status.in_(OPEN_STATUSES), rows.c.deadline < as_of)


def _per_group(actor, event: Event, week: Week, now: datetime, dialect: str):
    start, cut, as_of = _bounds(event, week, now)
    rows = _as_of(actor, event, start, cut, dialect)
    query = select(
        rows.c.group_id,
        func.sum(rows.c.is_new),
        func.sum(rows.c.closed),
        func.sum(case((_overdue(rows, as_of), 1), else_=0)),
        func.sum(case((rows.c.status.in_(ACTIVE_STATUSES), 1), else_=0)),
    ).group_by(rows.c.group_id)
    return {gid: tuple(int(v or 0) for v in values) for gid, *values in db.session.execute(query)}, rows, as_of


def _bounds(event: Event, week: Week, now: datetime) -> tuple[datetime, datetime, date]:
    """The week's start, the moment it is reported at (its end, or now for the running week) and that day."""
    start = start_of_day(week.monday, event.timezone)
    cut = min(start_of_day(week.monday + timedelta(days=7), event.timezone), now)
    return start, cut, min(week.sunday, event.today(now))


def weekly_report(actor, event: Event, week: Week, *, now: datetime) -> WeeklyReport:
    if not permissions.can_view_reports(actor):
        raise PermissionDenied(_l("You may not see the reports."))
    dialect = db.session.get_bind().dialect.name
    this, rows, as_of = _per_group(actor, event, week, now, dialect)
    previous = week.shifted(-1)
    before, prev_rows, prev_as_of = _per_group(actor, event, previous, now, dialect)

    groups = group_services.ordered_groups()
    report_groups = []
    totals = GroupWeek("", "", "")
    for group in groups:
        new, closed, overdue, still_open = this.get(group.id, (0, 0, 0, 0))
        _p_new, _p_closed, p_overdue, p_open = before.get(group.id, (0, 0, 0, 0))
        row = GroupWeek(group.code, group.name, group.name_en, new, closed, overdue, still_open)
        row.overdue_change, row.open_change = overdue - p_overdue, still_open - p_open
        report_groups.append(row)
        for name in ("new", "closed", "overdue", "still_open", "overdue_change", "open_change"):
            setattr(totals, name, getattr(totals, name) + getattr(row, name))

    previously_overdue = select(prev_rows.c.id).where(_overdue(prev_rows, prev_as_of))
    red_query = (
        select(
            rows.c.id,
            Item.code,
            Item.title,
            WorkGroup.code,
            User.display_name,
            User.username,
            rows.c.deadline,
            rows.c.id.in_(previously_overdue),
            WorkGroup.name,
            WorkGroup.name_en,
        )
        .join(Item, Item.id == rows.c.id)
        .join(WorkGroup, WorkGroup.id == Item.group_id)
        .outerjoin(User, User.id == Item.owner_id)
        .where(_overdue(rows, as_of))
        .order_by(rows.c.deadline, rows.c.id)
        .limit(RED_LIST_LIMIT)
    )
    red_list = []
    for (
        item_id,
        code,
        title,
        group_code,
        display_name,
        username,
        deadline,
        was_overdue,
        name,
        name_en,
    ) in db.session.execute(red_query):
        deadline = as_date(deadline)
        red_list.append(
            RedItem(
                item_id,
                code,
                title,
                group_code,
                _person(display_name, username),
                deadline,
                (as_of - deadline).days,
                not was_overdue,
                name,
                name_en,
            )
        )
    newly = db.session.scalar(
        select(func.count()).select_from(rows).where(_overdue(rows, as_of), rows.c.id.not_in(previously_overdue))
    )
    return WeeklyReport(
        week=week,
        as_of=as_of,
        groups=report_groups,
        totals=totals,
        red_list=red_list,
        red_total=totals.overdue,
        newly_overdue=int(newly or 0),
        previous=previous,
        extensions=extension_week(actor, event, *_bounds(event, week, now)[:2], rows, as_of),
    )
