"""The board is aggregates: a fixed, small number of SQL statements, whatever the number of items.

Statements are counted without transaction control (SQLite's BEGIN, which PostgreSQL
does not send as a statement), so both databases count the same. Everything a request
sends is counted, the page around the board too: the signed-in user (with their groups
and the sign-in rule), the event with the data version, and the header's to-do and
unread counts.
"""

from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event, insert, select, update

from tests import factories
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items.models import Item, LedgerEntry, LedgerHead
from tracker.milestones.models import Milestone

NOW = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
STATUSES = ("open", "in_progress", "submitted", "closed", "cancelled")
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}
COLD_LIMIT = 12  # the whole request, the board computed from scratch
WARM_LIMIT = 3  # the whole request, the board from the cache (and once a minute the last activity)


@contextmanager
def counted(app):
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.split(None, 1)[0].upper() not in TRANSACTION_CONTROL:
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
        for path in paths:  # cold caches again for every path (the board, the header's to-do count)
            _forget(app)
            small[path] = len(_get(app, path, username))
        add_items(app, 1990, start=4)  # 2,000 items
        large = {}
        for path in paths:
            _forget(app)
            large[path] = len(_get(app, path, username))
    assert large == small


def _forget(app) -> None:
    for kept in ("board_cache", "nav_to_do"):
        app.extensions.setdefault(kept, {}).clear()


def add_milestone(app) -> None:
    """An upcoming milestone with items, so the milestone and exercise-finding queries run too."""
    with app.app_context():
        event_id = db.session.scalar(select(factories.Event.id))
        milestone = Milestone(event_id=event_id, title="T-7 测试赛", kind="test_event", fixed_date=date(2026, 7, 1))
        db.session.add(milestone)
        db.session.flush()
        db.session.execute(update(Item).where(Item.id % 3 == 0).values(milestone_id=milestone.id))
        db.session.commit()


@pytest.mark.parametrize("username", ["committee", "member"])
@pytest.mark.parametrize("path", PATHS)
def test_a_board_request_stays_within_an_absolute_number_of_statements(app, world, path, username):
    add_milestone(app)
    with time_machine.travel(NOW, tick=False):
        add_items(app, 200)
        cold = _get(app, path, username)
        warm = _get(app, path, username)
    assert len(cold) <= COLD_LIMIT, cold
    assert len(warm) <= WARM_LIMIT, warm
    assert not any("GROUP BY" in s for s in warm)


def test_the_request_that_records_the_users_activity_stays_within_the_limit(app, world):
    """Once a minute a request also writes the account's last activity: after the page, so nothing is read twice."""
    with time_machine.travel(NOW, tick=False) as clock:
        _get(app, "/board", "member")  # the board cached
        client = app.test_client()
        factories.login(client, "member")
        clock.shift(timedelta(minutes=2))
        with counted(app) as statements:
            assert client.get("/board").status_code == 200
    assert sum(s.startswith("UPDATE user") or s.startswith('UPDATE "user"') for s in statements) == 1, statements
    assert len(statements) <= WARM_LIMIT, statements


@pytest.mark.parametrize("path", ["/board", "/api/v1/board"])
def test_the_cold_board_reads_each_source_once(app, world, path):
    add_milestone(app)
    with time_machine.travel(NOW, tick=False):
        cold = _get(app, path, "committee")
    sources = ("FROM setting", "FROM event ORDER BY", "ledger_head", "FROM work_group ORDER BY", "FROM milestone")
    for table in (*sources, "GROUP BY item.group_id"):
        assert sum(table in s for s in cold) == 1, (table, cold)
