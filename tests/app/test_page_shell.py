"""The signed-in page shell reads little, and every read is fresh on the very next request.

The user, their groups and the two-factor rule come in one statement; the event with the
data version and the header's unread count in another. None of these values is kept between
requests, so a change made by another worker shows on this one's next page. The header's
to-do count is kept per data version (any change to an item moves it), and its HTML and a
list page's layout are kept, keyed by all of these.
"""

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.board.test_board_queries import NOW as BOARD_NOW
from tests.board.test_board_queries import add_milestone, counted
from tests.factories import NOW, login
from tracker import create_app
from tracker.auth import two_factor
from tracker.auth.models import User
from tracker.board import services as board
from tracker.event.models import Event
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import services as item_services
from tracker.items.models import Item
from tracker.lists.queries import milestone_readiness
from tracker.notify import inbox
from tracker.outbox.models import Notification


@contextmanager
def elsewhere(config):
    """Another worker: its own app and caches, the same database."""
    other = create_app(dict(config))
    with other.app_context():
        yield
        db.session.commit()
        db.engine.dispose()


def signed_in(app, username: str):
    client = app.test_client()
    login(client, username)
    assert client.get("/board").status_code == 200
    return client


def header(client) -> tuple[int, int]:
    page = client.get("/board", headers={"Accept-Language": "en"}).get_data(as_text=True)
    to_do = re.search(r'<span class="nav-count">(\d+) to do</span>', page).group(1)
    unread = re.search(r'<span class="bell-count">(\d+) unread</span>', page).group(1)
    return int(to_do), int(unread)


def test_a_user_disabled_elsewhere_is_signed_out_on_the_next_request(app, world, config):
    client = signed_in(app, "member")
    with elsewhere(config):
        db.session.get(User, world.member.id).is_active_account = False
    response = client.get("/board")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_signing_out_elsewhere_ends_this_session_on_the_next_request(app, world, config):
    client = signed_in(app, "member")
    with elsewhere(config):
        db.session.get(User, world.member.id).end_sessions()
    response = client.get("/board")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_two_factor_required_elsewhere_applies_on_the_next_request(app, world, config):
    client = signed_in(app, "committee")
    with elsewhere(config):
        two_factor.set_required(True)
    response = client.get("/board")
    assert response.status_code == 302 and "/account/2fa" in response.headers["Location"]
    assert client.get("/api/v1/board").status_code == 403


def test_joining_a_group_elsewhere_shows_its_confidential_items_on_the_next_board(app, world, config, frozen_now):
    client = signed_in(app, "member")
    before = client.get("/api/v1/board").get_json()["totals"]["total"]
    with elsewhere(config):
        group = db.session.get(WorkGroup, world.js.id)
        group.members.append(db.session.get(User, world.member.id))
    after = client.get("/api/v1/board").get_json()["totals"]["total"]
    assert after == before + 1  # the other group's confidential item


def test_an_event_renamed_elsewhere_shows_on_the_next_board(app, world, config):
    client = signed_in(app, "member")
    with elsewhere(config):
        db.session.scalars(select(Event)).one().name = "第十二届残运会"
    assert "第十二届残运会" in client.get("/board").get_data(as_text=True)


def test_a_new_notification_rings_the_bell_on_the_next_page(app, world, config):
    client = signed_in(app, "member")
    assert header(client)[1] == 0
    with elsewhere(config):
        db.session.add(Notification(user_id=world.member.id, rule="before-3", subject="提醒", body="", url="/"))
    assert header(client)[1] == 1


def test_a_new_to_do_counts_in_the_navigation_on_the_next_page(app, world, config, frozen_now):
    """The to-do count is kept per data version: a change to an item, in any process, moves it."""
    client = signed_in(app, "committee")
    waiting = header(client)[0]
    with elsewhere(config):
        item, owner = db.session.get(Item, world.items["owned"].id), db.session.get(User, world.member.id)
        for action in ("start", "submit"):
            item_services.transition(item, action, actor=owner, now=frozen_now)
    assert header(client)[0] == waiting + 1


def test_a_lead_who_joins_a_group_elsewhere_counts_its_items_on_the_next_page(app, world, config, frozen_now):
    client = signed_in(app, "lead")
    before = header(client)[0]
    with elsewhere(config):
        group = db.session.get(WorkGroup, world.js.id)
        group.members.append(db.session.get(User, world.lead.id))
    after = header(client)[0]
    assert after > before  # the other group's item without a responsible person
    with app.app_context():
        lead = db.session.get(User, world.lead.id)
        assert after == db.session.scalar(select(inbox.waiting(lead, frozen_now.date())))


def test_an_item_falling_due_the_next_day_counts_that_day(app, world, config, time_machine, frozen_now):
    with elsewhere(config):
        item = db.session.get(Item, world.items["owned"].id)
        item.status, item.deadline = "open", frozen_now.date() + timedelta(days=inbox.DUE_SOON_DAYS + 1)
    today = header(signed_in(app, "member"))[0]
    time_machine.move_to(frozen_now + timedelta(days=1), tick=False)
    assert header(signed_in(app, "member"))[0] == today + 1


def test_an_event_moved_to_another_time_zone_counts_the_header_in_its_day(app, world, config, frozen_now):
    """The to-do count is kept per day in the event's zone: a new zone is a new day to count."""
    with elsewhere(config):
        item = db.session.get(Item, world.items["owned"].id)
        item.status, item.deadline = "open", frozen_now.date() + timedelta(days=inbox.DUE_SOON_DAYS)
    client = signed_in(app, "member")
    before = header(client)[0]
    with elsewhere(config):
        db.session.scalars(select(Event)).one().timezone = "America/Sao_Paulo"  # still the day before there
    assert header(client)[0] == before - 1  # due in four days, not three


def test_the_header_reads_its_unread_count_with_the_event_and_keeps_its_to_do_count(app, world):
    client = signed_in(app, "member")
    with counted(app) as statements:
        client.get("/board")
    assert sum("FROM notification" in s for s in statements) == 1
    assert "FROM event" in [s for s in statements if "FROM notification" in s][0]
    assert not any(s.count("FROM item") >= 3 for s in statements)  # the to-do sections: kept from the last page


@pytest.mark.parametrize("username", ["admin", "committee", "lead", "member", "otherlead", "external"])
def test_the_navigation_count_is_the_sum_of_the_inbox_sections(app, world, username):
    with app.test_request_context():
        user = db.session.scalars(select(User).where(User.username == username)).one()
        today = NOW.date()
        sections = inbox.sections(user, today, limit=0)
        assert db.session.scalar(select(inbox.waiting(user, today))) == sum(s.count for s in sections)


@pytest.mark.parametrize("username", ["committee", "member", "external"])
def test_the_boards_milestones_count_as_the_milestone_page_does(app, world, username):
    add_milestone(app)
    with time_machine.travel(BOARD_NOW, tick=False), app.test_request_context():
        user = db.session.scalars(select(User).where(User.username == username)).one()
        scope = board.scope(user, BOARD_NOW)
        readiness = milestone_readiness(user, scope.event.id, scope.today)
        shown = {m.id: (m.open_items, m.overdue) for m in board.board(scope).milestones}
    assert shown and shown == {m: readiness.get(m, (0, 0)) for m in shown}


def test_header_links_are_made_once_yet_follow_the_base_path_and_the_language(app, world):
    """The menus' addresses and labels are kept per process: a page served under a base path
    still links under it, and each language still reads its own labels."""
    client = app.test_client()
    login(client, "committee")

    def page(language, base=""):
        response = client.get("/problems", base_url=f"http://localhost{base}", headers={"Accept-Language": language})
        assert response.status_code == 200
        return response.get_data(as_text=True)

    english = page("en")
    assert '<a href="/problems" aria-current="page">Problem list</a>' in english
    assert re.search(r'href="/static/css/app\.css\?v=\w+"', english)
    assert '<a href="/reports/weekly">Weekly briefing</a>' in english
    under = page("en", "/wallchart")
    assert '<a href="/wallchart/problems" aria-current="page">Problem list</a>' in under
    assert re.search(r'href="/wallchart/static/css/app\.css\?v=\w+"', under)
    assert 'href="/problems"' not in under and 'href="/static/' not in under
    chinese = page("zh-CN")
    assert '<a href="/problems" aria-current="page">问题清单</a>' in chinese and "Problem list" not in chinese

    member = app.test_client()
    login(member, "member")
    assert "/reports/weekly" not in member.get("/problems").get_data(as_text=True)  # the menu is the reader's own


def _form_fields(page: str, action: str) -> dict[str, str]:
    form = page[page.index(f'action="{action}"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))


def test_a_kept_header_carries_each_pages_own_form_token_and_return_address(app, world):
    """The header is rendered once per reader, page and counts; the form token and the address
    to return to after switching language are still each request's own."""
    first, second = signed_in(app, "committee"), signed_in(app, "committee")  # two sessions, one reader
    app.config["WTF_CSRF_ENABLED"] = True
    page = first.get("/problems").get_data(as_text=True)
    again = second.get("/problems?page=1&q=%22%3E%3Cb%3E").get_data(as_text=True)
    assert sum(key[2] == "items.problems" for key in app.extensions["page_headers"]) == 1  # one header, kept once

    mine, theirs = _form_fields(page, "/language"), _form_fields(again, "/language")
    assert mine["next"] == "/problems?" and theirs["next"] == "/problems?page=1&amp;q=%22%3E%3Cb%3E"
    assert mine["csrf_token"] != theirs["csrf_token"]
    assert _form_fields(again, "/logout")["csrf_token"] == theirs["csrf_token"]
    assert first.post("/language", data={"language": "en", "next": "/board", **_token(theirs)}).status_code == 400
    switched = second.post("/language", data={"language": "en", "next": "/board", **_token(theirs)})
    assert switched.status_code == 302 and switched.headers["Location"] == "/board"
    assert "Problem list" in second.get("/problems").get_data(as_text=True)


def _token(fields: dict[str, str]) -> dict[str, str]:
    return {"csrf_token": fields["csrf_token"]}


def test_a_kept_header_follows_the_readers_name_and_page(app, world, config):
    client = signed_in(app, "member")
    assert '<a href="/" aria-current="page">我的工作' in client.get("/").get_data(as_text=True)
    assert '<a href="/">我的工作' in client.get("/problems").get_data(as_text=True)
    with elsewhere(config):
        db.session.get(User, world.member.id).display_name = "联络员改名"
    assert '<a class="who" href="/account">联络员改名</a>' in client.get("/problems").get_data(as_text=True)


def test_a_kept_list_layout_is_the_page_a_fresh_render_makes(app, world, frozen_now):
    client = signed_in(app, "member")
    first = client.get("/problems?group=CG").get_data(as_text=True)
    assert client.get("/problems?group=CG").get_data(as_text=True) == first  # the layout kept
    for kept in ("page_layouts", "page_headers", "list_rendered"):
        app.extensions[kept].clear()
    assert client.get("/problems?group=CG").get_data(as_text=True) == first  # rendered afresh


def test_a_kept_list_layout_prints_the_time_of_the_moment(app, world, time_machine, frozen_now):
    client = signed_in(app, "member")
    assert "打印时间: 2026年5月29日 10:00" in client.get("/problems").get_data(as_text=True)
    time_machine.move_to(frozen_now + timedelta(minutes=7), tick=False)
    assert "打印时间: 2026年5月29日 10:07" in client.get("/problems").get_data(as_text=True)
    assert sum(key[0] == "items/list.html" for key in app.extensions["page_layouts"]) == 1


def test_a_message_to_show_once_shows_on_a_list_and_is_not_kept(app, world):
    client = signed_in(app, "member")
    client.get("/problems")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "整改措施已保存")]
    assert "整改措施已保存" in client.get("/problems").get_data(as_text=True)
    assert "整改措施已保存" not in client.get("/problems").get_data(as_text=True)
