"""The board is aggregates: its number of SQL queries does not grow with the number of items."""

from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event, insert, select, update

from tests import factories
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items.models import Item, LedgerEntry, LedgerHead

NOW = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
STATUSES = ("open", "in_progress", "submitted", "closed", "cancelled")


@contextmanager
def counted(app):
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def add_items(app, n: int, start: int = 0) -> None:
    """Bulk items with a creation and a status entry each, spread over groups, statuses and deadlines."""
    with app.app_context():
        event_id = db.session.scalar(select(factories.Event.id))
        groups = db.session.scalars(select(WorkGroup.id)).all()
        base = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
        rows, entries = [], []
        for i in range(start, start + n):
            rows.append(
                {
                    "id": 10_000 + i,
                    "event_id": event_id,
                    "title": f"item {i}",
                    "group_id": groups[i % len(groups)],
                    "status": STATUSES[i % 5],
                    "progress": (i * 7) % 100,
                    "deadline": date(2026, 6, 1) + timedelta(days=i % 40),
                    "is_confidential": i % 9 == 0,
                    "key_area": ("competition", "safety", None)[i % 3],
                    "created_at": base + timedelta(hours=i % 500),
                    "updated_at": base,
                }
            )
            entries.append(
                {"item_id": 10_000 + i, "kind": "created", "created_at": base, "prev_hash": "x", "hash": f"c{i}"}
            )
            entries.append(
                {
                    "item_id": 10_000 + i,
                    "kind": "status",
                    "before": "open",
                    "after": STATUSES[i % 5],
                    "created_at": base + timedelta(days=i % 30),
                    "prev_hash": "x",
                    "hash": f"s{i}",
                }
            )
        db.session.execute(insert(Item), rows)
        db.session.execute(insert(LedgerEntry), entries)
        # A new data version, as any write through the services would give.
        db.session.execute(update(LedgerHead).values(entries=LedgerHead.entries + len(entries)))
        db.session.commit()


def _get(app, path: str, username: str) -> list[str]:
    client = app.test_client()
    factories.login(client, username)
    with counted(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    return statements


PATHS = ["/board", "/board/live?mode=screen", "/api/v1/board"]


@pytest.mark.parametrize("username", ["committee", "member"])
def test_board_queries_do_not_grow_with_items(app, world, username):
    paths = [p for p in PATHS if p != "/api/v1/board" or "api.board" in app.view_functions]
    with time_machine.travel(NOW, tick=False):
        add_items(app, 4)  # the world's 6 items and 4 more: 10
        small = {path: len(_get(app, path, username)) for path in paths}
        for path in paths:  # a cold cache again for every path
            app.extensions["board_cache"].clear()
            small[path] = len(_get(app, path, username))
        add_items(app, 1990, start=4)  # 2,000 items
        large = {}
        for path in paths:
            app.extensions["board_cache"].clear()
            large[path] = len(_get(app, path, username))
    assert large == small


def test_a_cached_board_costs_fewer_queries(app, world):
    with time_machine.travel(NOW, tick=False):
        add_items(app, 200)
        cold = _get(app, "/board", "committee")
        warm = _get(app, "/board", "committee")
    assert len(warm) < len(cold)
    assert not any("GROUP BY" in s for s in warm)
