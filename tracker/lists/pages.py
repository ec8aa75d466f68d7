"""One page of a list (problems, responsibilities, ledger, the API): its items and the exact total.

A page costs the same whatever the data size: which item ids are on it and how many
items match are cached in each process per (data version, event-local date, the
reader's visibility, the filters, the page). The data version is the ledger head and
the board's reference version (groups, milestones, the event, working days, people's
names, which the group, milestone and owner filters match), both written in the same
transaction as the change, so a total or a page is never served from before a write,
in any process. This cache holds ids only, at most ``CACHE_LIMIT`` pages, each for at
most ``LIST_CACHE_SECONDS``.

A cache miss is two indexed queries: the count, and the page read off the index that
matches the order (see ``Item.__table_args__``).

What a list shows (the HTML inside the page, the API's JSON body) is cached too, by
``rendered``: the caller's key names everything the text depends on, the board's
reference version among it (the text shows group names and milestones), and ``viewer``
the reader. That cache is bounded by entries and by size, ``RENDERED_BYTES`` per process.
"""

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker import permissions
from tracker.extensions import db
from tracker.items.models import Item
from tracker.lists.queries import ItemFilters, filtered_items

CACHE_LIMIT = 2000  # pages of at most 200 ids: well under a few MB per process
RENDERED_LIMIT = 1000  # texts of a list page: 110-140 kB for 50 HTML rows, 40 kB of JSON ...
RENDERED_BYTES = 32 * 1024 * 1024  # ... and at most this much per process (worker RSS stays under 200 MB)


class Bounded:
    """Entries that expire after a given time, the least recently used dropped first past either limit."""

    def __init__(self, entries: int, size: int | None = None):
        self.entries, self.size, self.used = entries, size, 0
        self.values: OrderedDict = OrderedDict()
        self.lock = threading.Lock()  # a threaded server (run.py) shares one per process

    def get(self, key, compute: Callable, seconds: float, weigh: Callable = lambda _value: 0):
        clock = time.monotonic()
        with self.lock:
            hit = self.values.get(key)
            if hit is not None and hit[0] > clock:
                self.values.move_to_end(key)
                return hit[1]
        value = compute()
        if value is None:  # nothing to keep
            return None
        weight = weigh(value)
        if self.size is not None and weight > self.size:
            return value
        with self.lock:
            self._drop(key)
            self.values[key] = (clock + seconds, value, weight)
            self.used += weight
            while len(self.values) > self.entries or (self.size is not None and self.used > self.size):
                self._drop(next(iter(self.values)))
        return value

    def _drop(self, key) -> None:
        old = self.values.pop(key, None)
        if old is not None:
            self.used -= old[2]

    def clear(self) -> None:
        with self.lock:
            self.values.clear()
            self.used = 0


@dataclass(frozen=True)
class PageIds:
    total: int
    ids: tuple[int, ...]

    def last_page(self, per_page: int) -> int:
        return max((self.total + per_page - 1) // per_page, 1)


def page_ids(user, filters: ItemFilters, today: date, page: int, per_page: int, *, version: tuple) -> PageIds:
    """The ids on ``page`` of the filtered list, in order, and how many items match in all.

    ``version`` is the data version the page is read at (``board.cache.data_version()``:
    the items, and the names and codes of groups, milestones and people the filters match)."""
    if not cacheable(filters):
        return _query(user, filters, today, page, per_page)
    key = (version, today, permissions.visibility_scope(user), filters, page, per_page)
    cache = current_app.extensions.setdefault("list_pages", Bounded(CACHE_LIMIT))
    return cache.get(key, lambda: _query(user, filters, today, page, per_page), _seconds())


def cacheable(filters: ItemFilters) -> bool:
    """Whether a list with these filters may be cached: not when it reads notices or the calendar."""
    return not (filters.notice or filters.day_off)


def viewer(user) -> tuple:
    """What a list's text may depend on about its reader: who they are, their role, what they may see."""
    return (user.id, user.role, permissions.visibility_scope(user))


def rendered(key: tuple, render: Callable[[], str]) -> str:
    """``render()``, kept in this process for ``key``, which must name all it depends on
    (the data version among them)."""
    cache = current_app.extensions.setdefault("list_rendered", Bounded(RENDERED_LIMIT, RENDERED_BYTES))
    return cache.get(key, render, _seconds(), weigh=sys.getsizeof)


def _seconds() -> float:
    return current_app.config["LIST_CACHE_SECONDS"]


def _query(user, filters: ItemFilters, today: date, page: int, per_page: int) -> PageIds:
    query = filtered_items(user, filters, today)
    total = db.session.scalar(query.with_only_columns(func.count(), maintain_column_froms=True).order_by(None))
    ids = db.session.scalars(query.with_only_columns(Item.id).limit(per_page).offset((page - 1) * per_page)).all()
    return PageIds(total, tuple(ids))


def load(ids: tuple[int, ...], *relations) -> list[Item]:
    """The items with these ids, in this order: one query, plus one per relation loaded alongside."""
    if not ids:
        return []
    rows = db.session.scalars(
        select(Item).where(Item.id.in_(ids)).options(*(selectinload(r) for r in relations))
    ).unique()
    by_id = {item.id: item for item in rows}
    return [by_id[i] for i in ids if i in by_id]
