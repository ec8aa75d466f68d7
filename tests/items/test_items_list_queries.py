"""A list page costs a fixed number of SQL statements whatever its size and the data's; its total is exact."""

from datetime import date

import pytest
import time_machine
from sqlalchemy import select

from tests import factories
from tests.api.test_api import make_tokens
from tests.board.test_board_queries import add_items, counted
from tests.factories import NOW
from tracker.auth.models import User
from tracker.extensions import db
from tracker.items import services
from tracker.lists.queries import ItemFilters, filtered_items

PAGES = ["/problems", "/responsibilities", "/ledger", "/problems?group=CG", "/problems?q=item&sort=updated"]
# The session and user, the event, the nav's counts and the data version; a cold cache adds the
# count, the page's ids, its items and what they show (milestones, supporting groups), the filter choices.
MOST_STATEMENTS = 16
# A cached list page reads what the page around it reads and nothing more: the user, and the event
# with the data version and the header's counts (one statement).
CACHED_PAGE_STATEMENTS = 2


def _html(app, path: str, username: str) -> int:
    client = app.test_client()
    factories.login(client, username)
    with counted(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    return len(statements)


def _api(app, path: str, secret: str) -> tuple[int, dict]:
    with counted(app) as statements:
        response = app.test_client().get("/api/v1" + path, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.get_json()
    return len(statements), response.get_json()


def _forget_pages(app) -> None:
    for name in ("list_pages", "list_rendered"):
        app.extensions.get(name, {}).clear()


def _measure(app, username: str, secret: str, per_page: int) -> dict:
    app.config["ITEMS_PER_PAGE"] = per_page
    _api(app, "/items", secret)  # the token's last use and the working-day calendar: once per process
    sizes = {}
    for path in PAGES:
        _forget_pages(app)
        sizes[path, "cold"] = _html(app, path, username)
        sizes[path, "cached"] = _html(app, path, username)
    _forget_pages(app)
    for state in ("cold", "cached"):
        sizes["api", state] = _api(app, f"/items?per_page={per_page}&page=2", secret)[0]
    return sizes


@pytest.mark.parametrize("username", ["committee", "member"])
def test_list_statements_do_not_grow_with_items_or_page_size(app, world, username):
    secret = make_tokens(app)[username]
    with time_machine.travel(NOW, tick=False):
        add_items(app, 4)
        small = _measure(app, username, secret, per_page=5)
        add_items(app, 1990, start=4)
        large = _measure(app, username, secret, per_page=200)
    assert large == small
    assert max(small.values()) <= MOST_STATEMENTS, small
    assert all(small[key, "cached"] < small[key, "cold"] for key in [*PAGES, "api"]), small  # no count when cached
    assert all(small[path, "cached"] <= CACHED_PAGE_STATEMENTS for path in PAGES), small


def _all_pages(app, secret: str, query: str = "") -> tuple[int, list[int]]:
    ids, page, total = [], 1, None
    while True:
        _n, body = _api(app, f"/items?per_page=7&page={page}{query}", secret)
        total = body["total"]
        ids += [row["id"] for row in body["items"]]
        if page * 7 >= total:
            return total, ids
        page += 1


@pytest.mark.parametrize("username", ["committee", "member", "external"])
def test_total_is_exactly_what_the_pages_hold(app, world, username):
    secret = make_tokens(app)[username]
    with time_machine.travel(NOW, tick=False):
        add_items(app, 40)
        for query in ("", "&group=CG", "&overdue=true", "&q=item 1"):
            total, ids = _all_pages(app, secret, query)
            assert total == len(ids) == len(set(ids)), query
            assert sorted(ids) == sorted(_readable_ids(app, username, query)), query


def _readable_ids(app, username: str, query: str) -> list[int]:
    """Every item the list's own query finds, unpaged (02:00 UTC is the same day in the event's zone)."""
    args = dict(pair.split("=") for pair in query.strip("&").split("&") if pair)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        rows = db.session.scalars(filtered_items(user, ItemFilters.from_args(args), NOW.date())).unique()
        return [item.id for item in rows]


def test_total_follows_a_write_at_once(app, world):
    secrets = make_tokens(app)
    with time_machine.travel(NOW, tick=False):
        before = _api(app, "/items", secrets["member"])[1]["total"]
        assert _api(app, "/items", secrets["member"])[1]["total"] == before  # now from the cache
        with app.app_context():
            committee = db.session.get(User, world.committee.id)
            group = world.js.id
            services.create_item(
                {"title": "新增事项", "group_id": group, "deadline": date(2026, 6, 30)}, actor=committee, now=NOW
            )
            services.create_item(
                {"title": "保密事项", "group_id": group, "deadline": date(2026, 6, 30), "is_confidential": True},
                actor=committee,
                now=NOW,
            )
            db.session.commit()
        assert _api(app, "/items", secrets["member"])[1]["total"] == before + 1  # not the other group's secret
        assert _api(app, "/items?q=新增事项", secrets["member"])[1]["total"] == 1
