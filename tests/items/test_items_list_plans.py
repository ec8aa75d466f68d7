"""The lists' default order, sorts and common filters are served by indexes, not a full scan of ``item``.

SQLite: EXPLAIN QUERY PLAN must not show ``SCAN item`` without an index. PostgreSQL:
with sequential scans priced out (``enable_seqscan = off``) the planner still picks a
sequential scan when no index can answer, so a ``Seq Scan on item`` means none can;
the plan must name the index meant for the order.
"""

import re

import pytest
from sqlalchemy import select, text

from tests.board.test_board_queries import add_items
from tests.factories import NOW
from tracker.auth.models import User
from tracker.extensions import db
from tracker.lists.queries import ItemFilters, filtered_items

TODAY = NOW.date()
CASES = [
    ({}, "ix_item_list_order"),
    ({"group": "CG"}, "ix_item_group_list_order"),
    ({"sort": "deadline"}, "ix_item_deadline_order"),
    ({"sort": "updated"}, "ix_item_updated"),
    ({"sort": "group"}, "ix_item_group_list_order"),
    ({"overdue": True}, None),
    ({"due_soon": True}, None),
    ({"status": "open"}, None),
    ({"q": "无障碍 卫生间"}, None),
    ({"q": "ramp", "group": "CG"}, None),
]


def plan(username: str, filters: dict) -> str:
    user = db.session.scalar(select(User).where(User.username == username))
    query = filtered_items(user, ItemFilters(**filters), TODAY).limit(50)
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "sqlite":
        return "\n".join(row[-1] for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    return "\n".join(row[0] for row in db.session.execute(text("EXPLAIN " + sql)))


@pytest.mark.parametrize("username", ["committee", "member"])
@pytest.mark.parametrize(("filters", "index"), CASES)
def test_list_query_uses_an_index(app, world, username, filters, index):
    add_items(app, 100)
    with app.app_context():
        db.session.execute(text("ANALYZE"))
        shown = plan(username, filters)
    assert not re.search(r"^\s*SCAN item\b(?! USING)", shown, re.MULTILINE), shown
    assert "Seq Scan on item " not in shown + " ", shown
    if index:
        assert index in shown, shown
