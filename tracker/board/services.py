"""The wall chart (挂图作战) as data: counts, lights and milestones from aggregate queries.

Everything here is computed with a fixed number of ``GROUP BY`` queries, whatever
the number of items, and honours the actor's visibility (confidential items count
only for those who may read them). One set of aggregates per scope (data version,
event-local date, visibility; see ``cache``) gives the summary, the key areas and
the page. Services return plain data: ``api/shapes.py`` and the templates build the
wire and the page from it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, func, select

from tracker import permissions, sql_dates
from tracker.board.cache import cached, version_columns
from tracker.event.models import Event
from tracker.event.services import current_event_with
from tracker.exercises.services import closure as exercise_closure
from tracker.extensions import db
from tracker.groups import services as group_services
from tracker.items.models import KEY_AREAS, ExtensionRequest, Item, LedgerEntry
from tracker.items.rules import ACTIVE_STATUSES, COUNTED_STATUSES, OPEN_STATUSES, LightThresholds
from tracker.items.status import thresholds
from tracker.lists.queries import due_soon_clause, overdue_clause
from tracker.milestones.services import all_milestones

LIGHTS = ("green", "amber", "red")  # index = rank, worst last
# The key areas the preparation meeting named (竞赛组织、无障碍、接待、安全) come first.
PRIORITY_AREAS = ("competition", "accessibility", "reception", "safety")
BURNDOWN_WINDOW_DAYS = 120


# --- what the board holds ---------------------------------------------------


@dataclass
class Tally:
    """Counts of the items in one row of the board (a group, a key area, all groups)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED_STATUSES, 0))
    overdue: int = 0
    due_soon: int = 0
    total: int = 0
    rank: int = 0  # worst light: 0 green, 1 amber, 2 red
    extended: int = 0  # not yet closed, deadline extended (延期)
    extension_requests: int = 0  # not yet closed, an extension request waiting

    def add(self, cell: "Cell") -> None:
        self.counts[cell.status] += cell.items
        self.overdue += cell.overdue
        self.due_soon += cell.due_soon
        self.total += cell.items
        self.rank = max(self.rank, cell.rank)
        self.extended += cell.extended
        self.extension_requests += cell.extension_requests

    @property
    def rag(self) -> str:
        return LIGHTS[self.rank]

    @property
    def not_closed(self) -> int:
        return self.total - self.counts["closed"]

    @property
    def percent_closed(self) -> int:
        return round(100 * self.counts["closed"] / self.total) if self.total else 0


@dataclass
class GroupTally(Tally):
    code: str = ""
    name: str = ""
    name_en: str = ""


@dataclass
class AreaTally(Tally):
    key: str | None = None


@dataclass(frozen=True)
class UpcomingMilestone:
    id: int
    title: str
    title_en: str
    kind: str
    t_label: str
    date: date
    days_left: int
    open_items: int  # not yet closed
    overdue: int


@dataclass
class Board:
    today: date
    days_to_opening: int
    groups: list[GroupTally]  # in the groups' display order
    totals: Tally
    key_areas: list[AreaTally]  # the meeting's priorities first
    milestones: list[UpcomingMilestone]  # upcoming, soonest first


@dataclass
class BurndownDay:
    day: date
    open_items: int | None  # None after today
    ideal: float | None  # None before the chart starts


@dataclass
class BoardPage:
    """The board and what the HTML wall chart shows beside it."""

    board: Board
    burndown: list[BurndownDay] = field(default_factory=list)
    findings: dict[int, tuple[int, int]] = field(default_factory=dict)  # milestone id → exercise findings


@dataclass(frozen=True)
class Scope:
    """What one board depends on; ``key`` changes with any write, a new day or another visibility."""

    actor: object
    event: Event
    today: date
    now: datetime
    key: tuple


def scope(actor, now: datetime) -> Scope | None:
    """The actor's board scope now: the event and the data version in one statement; None without an event."""
    event, version = current_event_with(*version_columns())
    if event is None:
        return None
    today = event.today(now)
    key = (version, event.id, today.isoformat(), permissions.visibility_scope(actor))
    return Scope(actor, event, today, now, key)


# --- the aggregate queries -------------------------------------------------


@dataclass(frozen=True)
class Cell:
    group_id: int
    key_area: str | None
    milestone_id: int | None
    status: str
    items: int
    overdue: int
    due_soon: int
    rank: int
    extended: int
    extension_requests: int


def light_rank(today: date, now: datetime, tz: str, limits: LightThresholds, dialect: str):
    """SQL for ``rules.light`` of each item as 0 green, 1 amber, 2 red (same arithmetic, same boundaries)."""
    issued = sql_dates.local_day(Item.created_at, dialect, tz, now)
    total = sql_dates.days_between(Item.deadline, issued, dialect)
    elapsed = sql_dates.days_between(sql_dates.day(today), issued, dialect)
    expected = case(
        (total <= 0, case((Item.deadline <= sql_dates.day(today), 100.0), else_=0.0)),
        (elapsed <= 0, 0.0),
        (elapsed >= total, 100.0),
        else_=elapsed * 100.0 / total,  # multiply first, as rules.expected_progress does
    )
    lag = expected - Item.progress
    return case(
        (Item.status.not_in(OPEN_STATUSES) | Item.deadline.is_(None), 0),
        (Item.deadline < sql_dates.day(today), 2),
        (lag > limits.red_lag, 2),
        (
            (Item.deadline <= sql_dates.day(today + timedelta(days=limits.amber_days))) | (lag >= limits.amber_lag),
            1,
        ),
        else_=0,
    )


def _flag(condition):
    return func.sum(case((condition, 1), else_=0))


def _cells(scope: Scope) -> list[Cell]:
    """Every non-empty (group, key area, milestone, status) cell: one GROUP BY for all the board's counts."""
    limits = thresholds()
    dialect = db.session.get_bind().dialect.name
    rank = light_rank(scope.today, scope.now, scope.event.timezone, limits, dialect)
    active = Item.status.in_(ACTIVE_STATUSES)
    pending = exists().where(ExtensionRequest.item_id == Item.id, ExtensionRequest.status == "pending")
    query = select(
        Item.group_id,
        Item.key_area,
        Item.milestone_id,
        Item.status,
        func.count(),
        _flag(overdue_clause(scope.today)),
        _flag(due_soon_clause(scope.today, limits.amber_days)),
        func.max(rank),
        _flag(and_(active, Item.extensions > 0)),
        _flag(and_(active, pending)),
    ).where(Item.event_id == scope.event.id, Item.status.in_(COUNTED_STATUSES))
    query = permissions.visible_items(query, scope.actor, Item)
    query = query.group_by(Item.group_id, Item.key_area, Item.milestone_id, Item.status)
    return [Cell(*row[:4], *(int(n or 0) for n in row[4:])) for row in db.session.execute(query)]


def _burndown_deltas(scope: Scope) -> list[tuple[date, int]]:
    """Per event-local day, how the number of items not yet closed changed, from the ledger's history."""
    dialect = db.session.get_bind().dialect.name
    day = sql_dates.local_day(LedgerEntry.created_at, dialect, scope.event.timezone, scope.now)
    done = ("closed", "cancelled")
    delta = case(
        (LedgerEntry.kind == "created", 1),
        (and_(LedgerEntry.after.in_(done), LedgerEntry.before.not_in(done)), -1),
        (and_(LedgerEntry.before.in_(done), LedgerEntry.after.not_in(done)), 1),
        else_=0,
    )
    query = (
        select(day.label("day"), func.sum(delta))
        .select_from(LedgerEntry)
        .join(Item, Item.id == LedgerEntry.item_id)
        .where(Item.event_id == scope.event.id, LedgerEntry.kind.in_(("created", "status")))
    )
    query = permissions.visible_items(query, scope.actor, Item).group_by(day).order_by(day)
    return [(sql_dates.as_date(d), int(n or 0)) for d, n in db.session.execute(query)]


# --- the board ---------------------------------------------------------------


def _key_areas(cells: list[Cell]) -> list[AreaTally]:
    by_area: dict[str, AreaTally] = {}
    for cell in cells:
        by_area.setdefault(cell.key_area or "", AreaTally(key=cell.key_area)).add(cell)
    others = [a for a in KEY_AREAS if a not in PRIORITY_AREAS and a in by_area]
    return [by_area.get(a) or AreaTally(key=a) for a in (*PRIORITY_AREAS, *others)]


def _readiness(cells: list[Cell]) -> dict[int, tuple[int, int]]:
    """Per milestone id: (items not yet closed, overdue items), as ``milestone_readiness`` counts them."""
    found: dict[int, tuple[int, int]] = {}
    for cell in cells:
        if cell.milestone_id is not None:
            active, overdue = found.get(cell.milestone_id, (0, 0))
            found[cell.milestone_id] = (active + cell.items * (cell.status in ACTIVE_STATUSES), overdue + cell.overdue)
    return found


def _build_board(scope: Scope) -> Board:
    today = scope.today
    cells = _cells(scope)
    groups = group_services.ordered_groups()
    by_group = {g.id: GroupTally(code=g.code, name=g.name, name_en=g.name_en or "") for g in groups}
    totals = Tally()
    for cell in cells:
        if cell.group_id in by_group:
            by_group[cell.group_id].add(cell)
        totals.add(cell)
    readiness = _readiness(cells)
    milestones = [
        UpcomingMilestone(
            id=m.id,
            title=m.title,
            title_en=m.title_en,
            kind=m.kind,
            t_label=m.t_label,
            date=m.date,
            days_left=(m.date - today).days,
            open_items=readiness.get(m.id, (0, 0))[0],
            overdue=readiness.get(m.id, (0, 0))[1],
        )
        for m in all_milestones(scope.event)
        if m.date >= today
    ]
    return Board(
        today=today,
        days_to_opening=(scope.event.opening_date - today).days,
        groups=list(by_group.values()),
        totals=totals,
        key_areas=_key_areas(cells),
        milestones=milestones,
    )


def board(scope: Scope) -> Board:
    """The wall chart's aggregates for this scope, computed once per scope and process."""
    return cached(("board", *scope.key), lambda: _build_board(scope))


# --- the page: the board plus the burndown and the exercise findings ---------


def burndown(deltas: list[tuple[date, int]], today: date, opening: date) -> list[BurndownDay]:
    """Open items at the end of each day since the chart starts, and the straight line to zero at opening.

    The chart starts at the first day with history, at most ``BURNDOWN_WINDOW_DAYS`` ago.
    The ideal line starts at the peak: the first day, up to today, with the most items
    not yet closed (``ideal_start``). Starting it on the first day of history instead
    (often one item) would run it flat along zero while the real work piles up.
    """
    if not deltas:
        return []
    start = max(deltas[0][0], today - timedelta(days=BURNDOWN_WINDOW_DAYS))
    end = max(opening, today)
    running = sum(n for d, n in deltas if d < start)
    changes = {d: n for d, n in deltas if d >= start}
    days: list[BurndownDay] = []
    day = start
    while day <= end:
        open_items = None
        if day <= today:
            running += changes.get(day, 0)
            open_items = running
        days.append(BurndownDay(day, open_items, None))
        day += timedelta(days=1)
    peak = ideal_start(days)
    span = (opening - peak.day).days if peak else 0
    for row in days:
        if span > 0 and peak.day <= row.day <= opening:
            row.ideal = peak.open_items * (1 - (row.day - peak.day).days / span)
    return days


def ideal_start(days: list[BurndownDay]) -> BurndownDay | None:
    """Where the ideal line starts: the first day with the highest count of items not yet closed."""
    counted = [d for d in days if d.open_items is not None]
    return max(counted, key=lambda d: d.open_items) if counted else None


def _build_page(scope: Scope) -> BoardPage:
    chart = board(scope)
    upcoming = [m.id for m in chart.milestones]
    return BoardPage(
        board=chart,
        burndown=burndown(_burndown_deltas(scope), scope.today, scope.event.opening_date),
        findings=exercise_closure(scope.actor, milestone_ids=upcoming) if upcoming else {},
    )


def board_page(scope: Scope) -> BoardPage:
    return cached(("page", *scope.key), lambda: _build_page(scope))
