"""The wall chart (挂图作战) as data: counts, lights and milestones from aggregate queries.

Everything here is computed with a fixed number of ``GROUP BY`` queries, whatever
the number of items, and honours the actor's visibility (confidential items count
only for those who may read them). Results are cached per (data version, event-local
date, visibility). The data version is the ledger head: every change to an item
appends to the ledger, so any write anywhere invalidates the cache in every process.
Work groups and milestones are reference data read alongside; their edits show
within ``BOARD_CACHE_SECONDS``.
"""

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, select

from tracker import permissions
from tracker.board import extension_counts, sql_dates
from tracker.event.models import Event
from tracker.event.services import current_event
from tracker.exercises.services import closure as exercise_closure
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items.ledger import data_version
from tracker.items.models import KEY_AREAS, Item, LedgerEntry
from tracker.items.queries import due_soon_clause, overdue_clause
from tracker.items.rules import ACTIVE_STATUSES, COUNTED_STATUSES, OPEN_STATUSES, LightThresholds
from tracker.items.status import thresholds
from tracker.milestones.services import all_milestones
from tracker.workdays import services as workdays

LIGHTS = ("green", "amber", "red")  # index = rank, worst last
# The key areas the preparation meeting named (竞赛组织、无障碍、接待、安全) come first.
PRIORITY_AREAS = ("competition", "accessibility", "reception", "safety")
CACHE_LIMIT = 512


# --- the aggregate queries -------------------------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


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


def _cells(actor, event: Event, today: date, now: datetime) -> list[tuple]:
    """(group_id, key_area, status, items, overdue, due_soon, worst light rank) for every non-empty cell."""
    limits = thresholds()
    rank = light_rank(today, now, event.timezone, limits, _dialect())
    query = select(
        Item.group_id,
        Item.key_area,
        Item.status,
        func.count(),
        _flag(overdue_clause(today)),
        _flag(due_soon_clause(today, limits.amber_days)),
        func.max(rank),
    ).where(Item.event_id == event.id, Item.status.in_(COUNTED_STATUSES))
    query = permissions.visible_items(query, actor, Item).group_by(Item.group_id, Item.key_area, Item.status)
    return [
        (group_id, area, status, int(n), int(overdue or 0), int(due_soon or 0), int(rank or 0))
        for group_id, area, status, n, overdue, due_soon, rank in db.session.execute(query)
    ]


def _milestone_counts(actor, event: Event, today: date) -> dict[int, tuple[int, int]]:
    """Per milestone: items not yet closed (open, in progress, awaiting verification) and overdue ones."""
    query = select(
        Item.milestone_id,
        _flag(Item.status.in_(ACTIVE_STATUSES)),
        _flag(overdue_clause(today)),
    ).where(Item.event_id == event.id, Item.milestone_id.is_not(None))
    query = permissions.visible_items(query, actor, Item).group_by(Item.milestone_id)
    return {mid: (int(active or 0), int(overdue or 0)) for mid, active, overdue in db.session.execute(query)}


def _burndown_deltas(actor, event: Event, now: datetime) -> list[tuple[date, int]]:
    """Per event-local day, how the number of items not yet closed changed, from the ledger's history."""
    dialect = _dialect()
    day = sql_dates.local_day(LedgerEntry.created_at, dialect, event.timezone, now)
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
        .where(Item.event_id == event.id, LedgerEntry.kind.in_(("created", "status")))
    )
    query = permissions.visible_items(query, actor, Item).group_by(day).order_by(day)
    return [(sql_dates.as_date(d), int(n or 0)) for d, n in db.session.execute(query)]


# --- the cache ---------------------------------------------------------------


def _cache() -> dict:
    return current_app.extensions.setdefault("board_cache", {})


def cached(key: tuple, compute):
    cache = _cache()
    hit = cache.get(key)
    clock = time.monotonic()
    if hit is not None and hit[0] > clock:
        return hit[1]
    value = compute()
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = (clock + current_app.config.get("BOARD_CACHE_SECONDS", 60), value)
    return value


def clear_cache() -> None:
    """Forget every cached board in this process (after editing milestones or groups)."""
    _cache().clear()


def scope_key(actor, event: Event, today: date) -> tuple:
    """What a cached board depends on; a write, a new day or another visibility gives a new key."""
    return (
        data_version(),
        event.id,
        event.opening_at.isoformat(),
        event.timezone,
        today.isoformat(),
        permissions.visibility_scope(actor),
        workdays.calendar(event).version,
    )


# --- the summary (the API's shape) ------------------------------------------


def _empty_counts() -> dict:
    return {"counts": dict.fromkeys(COUNTED_STATUSES, 0), "overdue": 0, "due_soon": 0, "total": 0, "rank": 0}


def _add(into: dict, status: str, items: int, overdue: int, due_soon: int, rank: int) -> None:
    into["counts"][status] += items
    into["overdue"] += overdue
    into["due_soon"] += due_soon
    into["total"] += items
    into["rank"] = max(into["rank"], rank)


def _public(row: dict, **extra) -> dict:
    return {
        **extra,
        "counts": dict(row["counts"]),
        "overdue": row["overdue"],
        "due_soon": row["due_soon"],
        "total": row["total"],
        "rag": LIGHTS[row["rank"]],
    }


def _build_summary(actor, event: Event, today: date, now: datetime) -> dict:
    cells = _cells(actor, event, today, now)
    by_group: dict[int, dict] = {}
    totals = _empty_counts()
    for group_id, _area, status, items, overdue, due_soon, rank in cells:
        _add(by_group.setdefault(group_id, _empty_counts()), status, items, overdue, due_soon, rank)
        _add(totals, status, items, overdue, due_soon, rank)
    groups = db.session.scalars(select(WorkGroup).order_by(WorkGroup.sort_order, WorkGroup.code)).all()
    open_by_milestone = _milestone_counts(actor, event, today)
    milestones = [m for m in all_milestones(event) if m.date >= today]
    return {
        "days_to_opening": (event.opening_date - today).days,
        "groups": [_public(by_group.get(g.id, _empty_counts()), code=g.code, name=g.name) for g in groups],
        "totals": _public(totals),
        "milestones": [
            {
                "id": m.id,
                "title": m.title,
                "date": m.date.isoformat(),
                "days_left": (m.date - today).days,
                "open_items": open_by_milestone.get(m.id, (0, 0))[0],
            }
            for m in milestones
        ],
    }


def board_summary(actor, now: datetime) -> dict:
    """The wall chart as data, in exactly the shape of ``GET /api/v1/board`` (PRODUCT.md)."""
    event = current_event()
    if event is None:
        return {"days_to_opening": None, "groups": [], "totals": _public(_empty_counts()), "milestones": []}
    today = event.today(now)
    key = ("summary", *scope_key(actor, event, today))
    return cached(key, lambda: _build_summary(actor, event, today, now))


# --- the page: the summary plus what the HTML wall chart shows beside it -----


@dataclass
class BurndownDay:
    day: date
    open_items: int | None  # None after today
    ideal: float | None  # None before the chart starts


@dataclass
class BoardPage:
    summary: dict
    today: date
    names_en: dict[str, str]
    key_areas: list[dict] = field(default_factory=list)
    milestones: list[dict] = field(default_factory=list)  # upcoming, with kind and overdue
    burndown: list[BurndownDay] = field(default_factory=list)
    extensions: list[dict] = field(default_factory=list)  # per group: extended open items, requests waiting


def _key_areas(cells: list[tuple]) -> list[dict]:
    by_area: dict[str, dict] = {}
    for _group, area, status, items, overdue, due_soon, rank in cells:
        _add(by_area.setdefault(area or "", _empty_counts()), status, items, overdue, due_soon, rank)
    others = [a for a in KEY_AREAS if a not in PRIORITY_AREAS and a in by_area]
    return [_public(by_area.get(a, _empty_counts()), key=a) for a in (*PRIORITY_AREAS, *others)]


BURNDOWN_WINDOW_DAYS = 120


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


def _build_page(actor, event: Event, today: date, now: datetime) -> BoardPage:
    summary = board_summary(actor, now)
    cells = _cells(actor, event, today, now)
    counts = _milestone_counts(actor, event, today)
    upcoming = {m["id"] for m in summary["milestones"]}
    findings = exercise_closure(actor, milestone_ids=upcoming)  # "closed X of Y" exercise findings
    milestones = [
        {
            "id": m.id,
            "title": m.title,
            "title_en": m.title_en,
            "kind": m.kind,
            "t_label": m.t_label,
            "date": m.date,
            "days_left": (m.date - today).days,
            "open_items": counts.get(m.id, (0, 0))[0],
            "overdue": counts.get(m.id, (0, 0))[1],
            "findings": findings.get(m.id),
        }
        for m in all_milestones(event)
        if m.id in upcoming
    ]
    names_en = dict(db.session.execute(select(WorkGroup.code, WorkGroup.name_en)).all())
    deltas = _burndown_deltas(actor, event, now)
    return BoardPage(
        summary=summary,
        today=today,
        names_en=names_en,
        key_areas=_key_areas(cells),
        milestones=milestones,
        burndown=burndown(deltas, today, event.opening_date),
        extensions=extension_counts.per_group(actor, event, summary["groups"]),
    )


def board_page(actor, now: datetime) -> BoardPage | None:
    event = current_event()
    if event is None:
        return None
    today = event.today(now)
    key = ("page", *scope_key(actor, event, today))
    return cached(key, lambda: _build_page(actor, event, today, now))


def milestone_readiness(actor, event: Event, today: date) -> dict[int, tuple[int, int]]:
    """Per milestone id: (items not yet closed, overdue items) the actor may see."""
    key = ("milestones", *scope_key(actor, event, today))
    return cached(key, lambda: _milestone_counts(actor, event, today))
