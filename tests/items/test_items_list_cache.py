"""A list's rendered text and the API list's body are cached, and never shown stale or to the wrong reader."""

import pytest
from sqlalchemy import select

from tests.api.test_api import make_tokens
from tests.factories import NOW, login
from tracker.auth.models import User
from tracker.auth.users import save_user
from tracker.board import cache as board_cache
from tracker.extensions import db
from tracker.groups import services as group_services
from tracker.groups.models import WorkGroup
from tracker.items import services
from tracker.items.models import Item
from tracker.lists.pages import Bounded

pytestmark = pytest.mark.usefixtures("frozen_now")
LISTS = ["/problems", "/responsibilities", "/ledger", "/problems?group=CG"]


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _api(app, secret: str, path: str = "/items") -> dict:
    response = app.test_client().get("/api/v1" + path, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _cached_texts(app) -> int:
    """Lists kept as text (the printed header's filter words are kept beside them)."""
    return sum(key[0] != "filter text" for key in app.extensions["list_rendered"].values)


def test_a_second_visit_is_served_from_the_cache(app, client, world):
    login(client, "committee")
    first = _page(client, "/problems")
    assert _cached_texts(app) == 1
    assert _page(client, "/problems") == first
    assert _cached_texts(app) == 1


@pytest.mark.parametrize("path", LISTS)
def test_an_item_change_shows_at_once(app, client, world, path):
    login(client, "committee")
    assert "盲道修复" in _page(client, path)
    with app.app_context():
        item = db.session.get(Item, world.items["unowned"].id)
        committee = db.session.get(User, world.committee.id)
        services.update_item(item, {"title": "盲道全部重铺"}, actor=committee, now=NOW, version=item.version)
        db.session.commit()
    page = _page(client, path)
    assert "盲道全部重铺" in page
    assert "盲道修复" not in page


def test_an_item_change_shows_at_once_in_the_api(app, world):
    secret = make_tokens(app)["committee"]
    titles = {row["title"] for row in _api(app, secret)["items"]}
    assert "盲道修复" in titles
    with app.app_context():
        item = db.session.get(Item, world.items["unowned"].id)
        committee = db.session.get(User, world.committee.id)
        services.update_item(item, {"title": "盲道全部重铺"}, actor=committee, now=NOW, version=item.version)
        db.session.commit()
    titles = {row["title"] for row in _api(app, secret)["items"]}
    assert "盲道全部重铺" in titles
    assert "盲道修复" not in titles


@pytest.mark.parametrize("path", LISTS)
def test_a_group_rename_shows_at_once(app, client, world, path):
    login(client, "committee")
    assert "场馆建设与无障碍环境组" in _page(client, path)
    with app.app_context():
        group = db.session.get(WorkGroup, world.cs.id)
        admin = db.session.get(User, world.admin.id)
        group_services.update_group(group, {"code": "CG", "name": "场馆与无障碍组"}, actor=admin, now=NOW)
        db.session.commit()
    page = _page(client, path)
    assert "场馆与无障碍组" in page
    assert "场馆建设与无障碍环境组" not in page


def test_a_renamed_person_shows_and_is_found_at_once(app, client, world):
    login(client, "committee")
    assert "坡道整改" not in _page(client, "/responsibilities?owner=吴静新")  # nobody has that name yet
    with app.app_context():
        member = db.session.get(User, world.member.id)
        admin = db.session.get(User, world.admin.id)
        data = {
            "username": member.username,
            "display_name": "吴静新",
            "role": member.role,
            "email": member.email,
            "is_active_account": True,
            "group_ids": [g.id for g in member.groups],
        }
        save_user(member, data, actor=admin, now=NOW)
        db.session.commit()
    assert "吴静新" in _page(client, "/responsibilities")
    assert "坡道整改" in _page(client, "/responsibilities?owner=吴静新")


def test_a_persons_activity_keeps_the_cached_lists(app, client, world):
    login(client, "committee")
    _page(client, "/problems")
    with app.app_context():
        version = board_cache.data_version()
        member = db.session.get(User, world.member.id)
        member.seen_at = NOW  # what every signed-in request writes once a minute
        member.failed_logins = 1
        db.session.commit()
        assert board_cache.data_version() == version


def _join_group(app, username: str, group_id: int) -> None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        user.groups.append(db.session.get(WorkGroup, group_id))
        db.session.commit()


def test_a_member_added_to_a_group_sees_its_items_at_once(app, client, world):
    secret = make_tokens(app)["member"]
    login(client, "member")
    assert "兴奋剂检查站保密" not in _page(client, "/problems")
    assert "兴奋剂检查站保密" not in {row["title"] for row in _api(app, secret)["items"]}
    _join_group(app, "member", world.js.id)
    assert "兴奋剂检查站保密" in _page(client, "/problems")
    assert "兴奋剂检查站保密" in {row["title"] for row in _api(app, secret)["items"]}


@pytest.mark.parametrize("path", ["/problems", "/ledger", "/problems?q=检"])
def test_readers_who_see_different_items_never_share_a_cached_list(app, world, path):
    pages = {}
    for username in ("member", "othermember", "member", "external"):  # the first member's page is cached first
        client = app.test_client()
        login(client, username)
        pages[username] = _page(client, path)
    assert "安检通道漏洞" in pages["member"]  # the member's own group's confidential item
    assert "安检通道漏洞" not in pages["othermember"]
    assert "兴奋剂检查站保密" in pages["othermember"]
    assert "兴奋剂检查站保密" not in pages["member"]
    assert "安检通道漏洞" not in pages["external"]
    assert "盲道修复" not in pages["external"]


def test_readers_who_see_different_items_never_share_a_cached_api_body(app, world):
    secrets = make_tokens(app)
    bodies = {role: _api(app, secrets[role]) for role in ("member", "external", "member", "committee")}
    titles = {role: {row["title"] for row in body["items"]} for role, body in bodies.items()}
    assert "安检通道漏洞" in titles["member"]
    assert "安检通道漏洞" not in titles["external"]
    assert titles["external"] == {"舞美搭建"}
    assert bodies["committee"]["total"] > bodies["member"]["total"] > bodies["external"]["total"]


def test_each_reader_has_their_own_cached_list(app, world):
    for username in ("committee", "admin"):  # both see every item and may do the same on a list
        client = app.test_client()
        login(client, username)
        assert "/items/new" in _page(client, "/problems")
    assert _cached_texts(app) == 2


def test_the_cache_is_bounded_by_entries_and_by_size():
    by_count = Bounded(entries=3)
    for n in range(5):
        by_count.get(n, lambda n=n: str(n), seconds=60)
    assert list(by_count.values) == [2, 3, 4]
    by_size = Bounded(entries=100, size=3000)
    for n in range(5):
        by_size.get(n, lambda: "x" * 1000, seconds=60, weigh=len)
    assert list(by_size.values) == [2, 3, 4]
    assert by_size.used == 3000
    assert by_size.get("huge", lambda: "x" * 5000, seconds=60, weigh=len) == "x" * 5000  # served, not kept
    assert "huge" not in by_size.values
    assert by_size.used == 3000


def test_an_entry_expires():
    cache = Bounded(entries=3)
    assert cache.get("k", lambda: "old", seconds=-1) == "old"
    assert cache.get("k", lambda: "new", seconds=60) == "new"
    assert cache.get("k", lambda: "newer", seconds=60) == "new"
