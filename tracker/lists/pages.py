"""One page of a list (problems, responsibilities, ledger, the API): its items and the exact total.

A page costs the same whatever the data size: which item ids are on it and how many
items match are cached in each process per (data version, event-local date, the
reader's visibility, the filters, the page). The data version is the ledger head,
and every change to an item appends to the ledger in the same transaction, so a total
or a page is never served from before a write, in any process. Names of people, groups
and milestones (which the search and the owner filter also read) show within
``LIST_CACHE_SECONDS``. The cache holds ids only, at most ``CACHE_LIMIT`` pages.

A cache miss is two indexed queries: the count, and the page read off the index that
matches the order (see ``Item.__table_args__``).
"""

import time
from collections import OrderedDict
from dataclasses import astuple, dataclass
from datetime import date

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker import permissions
from tracker.extensions import db
from tracker.items.ledger import data_version
from tracker.items.models import Item
from tracker.lists.queries import ItemFilters, filtered_items

CACHE_LIMIT = 2000  # pages of at most 200 ids: well under a few MB per process


@dataclass(frozen=True)
class PageIds:
    total: int
    ids: tuple[int, ...]

    def last_page(self, per_page: int) -> int:
        return max((self.total + per_page - 1) // per_page, 1)


def page_ids(user, filters: ItemFilters, today: date, page: int, per_page: int) -> PageIds:
    """The ids on ``page`` of the filtered list, in order, and how many items match in all."""
    if filters.notice or filters.day_off:  # they read notices and the calendar, not only items
        return _query(user, filters, today, page, per_page)
    key = (data_version(), today, permissions.visibility_scope(user), astuple(filters), page, per_page)
    cache = current_app.extensions.setdefault("list_pages", OrderedDict())
    clock = time.monotonic()
    hit = cache.get(key)
    if hit is not None and hit[0] > clock:
        cache.move_to_end(key)
        return hit[1]
    value = _query(user, filters, today, page, per_page)
    cache[key] = (clock + current_app.config["LIST_CACHE_SECONDS"], value)
    cache.move_to_end(key)
    while len(cache) > CACHE_LIMIT:
        cache.popitem(last=False)
    return value


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
