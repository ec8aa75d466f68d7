"""Calendar feeds: what they contain, whom they show, and that a reset kills the old URL at once."""

from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from icalendar import Calendar
from sqlalchemy import select

from tests.factories import NOW, login, make_item
from tracker.auth.models import User
from tracker.calendar import services
from tracker.calendar.models import CalendarToken
from tracker.extensions import db
from tracker.items import services as item_services
from tracker.items.models import Item
from tracker.milestones.models import Milestone

TITLES = {
    "owned": "坡道整改",
    "unowned": "盲道修复",
    "confidential": "安检通道漏洞",
    "other_group": "计时设备调试",
    "other_confidential": "兴奋剂检查站保密",
    "external_item": "舞美搭建",
}


@pytest.fixture(autouse=True)
def today_is_t_minus_112():
    with time_machine.travel(NOW):
        yield


@pytest.fixture
def milestone(app, world):
    with app.app_context():
        row = Milestone(
            event_id=world.event.id, title="无障碍设施验收", title_en="Accessibility acceptance", offset_days=-30
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def url_of(app, username: str, group=None) -> str:
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if group is None:
            return services.calendar_url(user)
        return services.group_calendar_url(user, group)


def fetch(client, url: str):
    parts = urlsplit(url)
    return client.get(parts.path)


def events(response) -> dict[str, dict]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    found = {}
    for component in cal.walk("VEVENT"):
        found[str(component["UID"])] = component
    return found


def item_titles(found: dict) -> set[str]:
    titles = set()
    for uid, component in found.items():
        if uid.startswith("item-"):
            titles.add(str(component["SUMMARY"]).split(" ", 2)[2])
    return titles


def test_personal_feed_has_deadlines_as_all_day_events_and_the_milestones(app, client, world, milestone):
    url = url_of(app, "member")
    assert url.startswith("http://localhost:5000/calendar/feed/")
    response = fetch(app.test_client(), url)  # no session: the URL is the key
    found = events(response)
    owned = found[f"item-{world.items['owned'].id}@localhost"]
    assert owned["DTSTART"].dt == date(2026, 6, 30)
    assert owned["DTSTART"].params.get("VALUE") == "DATE"
    assert owned["DTEND"].dt == date(2026, 7, 1)
    assert "坡道整改" in str(owned["SUMMARY"])
    assert f"/items/{world.items['owned'].id}" in str(owned["URL"])
    assert int(owned["SEQUENCE"]) == 1
    ms = found[f"milestone-{milestone}@localhost"]
    assert ms["DTSTART"].dt == date(2026, 8, 19) and "T-30" in str(ms["SUMMARY"])


def test_feed_times_are_in_the_event_time_zone(app, world):
    response = fetch(app.test_client(), url_of(app, "member"))
    text = response.get_data(as_text=True)
    assert "X-WR-TIMEZONE:Asia/Shanghai" in text
    assert "BEGIN:VTIMEZONE" in text and "TZID:Asia/Shanghai" in text
    assert "DTSTART;TZID=Asia/Shanghai:20260918T200000" in text  # the opening ceremony, local time
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in text


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("member", {"owned"}),
        ("lead", {"owned", "unowned", "confidential", "external_item"}),
        ("othermember", {"other_group"}),
        ("otherlead", {"other_group", "other_confidential"}),
        ("external", {"external_item"}),
        ("committee", set()),
    ],
)
def test_feed_shows_own_and_led_items_and_never_another_persons(app, world, username, expected):
    found = events(fetch(app.test_client(), url_of(app, username)))
    assert item_titles(found) == {TITLES[name] for name in expected}


def test_closed_items_and_items_without_deadline_stay_out(app, world):
    with app.test_request_context():
        lead = db.session.get(User, world.lead.id)
        item = db.session.get(Item, world.items["unowned"].id)
        item_services.transition(item, "cancel", actor=db.session.get(User, world.committee.id), now=NOW, note="重复")
        make_item(lead, item.group, title="无时限事项", deadline=None)
        db.session.commit()
    titles = item_titles(events(fetch(app.test_client(), url_of(app, "lead"))))
    assert "盲道修复" not in titles and "无时限事项" not in titles


def test_a_changed_deadline_shows_on_the_next_refresh(app, world):
    url = url_of(app, "member")
    uid = f"item-{world.items['owned'].id}@localhost"
    before = events(fetch(app.test_client(), url))[uid]
    with app.test_request_context():
        item = db.session.get(Item, world.items["owned"].id)
        committee = db.session.get(User, world.committee.id)  # leads now request extensions
        item_services.update_item(
            item, {"deadline": date(2026, 7, 10)}, actor=committee, now=NOW, version=item.version, reason="材料延期"
        )
        db.session.commit()
    after = events(fetch(app.test_client(), url))[uid]
    assert after["DTSTART"].dt == date(2026, 7, 10)
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])


def test_overdue_items_say_so_in_the_users_language(app, world):
    with app.test_request_context():
        db.session.get(Item, world.items["unowned"].id).deadline = NOW.date() - timedelta(days=1)
        db.session.get(User, world.lead.id).locale = "en"
        db.session.commit()
    found = events(fetch(app.test_client(), url_of(app, "lead")))
    late, due = world.items["unowned"].id, world.items["owned"].id
    with app.app_context():  # every item has its 编号 now
        codes = {i.id: i.code for i in db.session.scalars(select(Item))}
    assert str(found[f"item-{late}@localhost"]["SUMMARY"]) == f"[Overdue] {codes[late]} 盲道修复"
    assert str(found[f"item-{due}@localhost"]["SUMMARY"]) == f"[Due] {codes[due]} 坡道整改"


def test_reset_kills_the_old_url_at_once(app, client, world):
    old = url_of(app, "member")
    login(client, "member")
    response = client.post("/calendar/reset")
    assert response.status_code == 302
    assert fetch(app.test_client(), old).status_code == 404
    new = url_of(app, "member")
    assert new != old
    assert fetch(app.test_client(), new).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(CalendarToken))
        assert row.user_id == world.member.id and row.salt not in new  # the URL is signed, not stored


def test_the_page_shows_the_current_url_and_the_group_feeds_a_lead_may_use(app, client, world):
    login(client, "lead")
    page = client.get("/calendar").get_data(as_text=True)
    assert url_of(app, "lead") in page
    assert "/CG.ics" in page and "/JS.ics" not in page
    assert 'action="/calendar/reset"' in page


def test_group_feed_for_its_lead_and_the_committee_only(app, world):
    with app.app_context():
        from tracker.groups.models import WorkGroup

        cs = db.session.get(WorkGroup, world.cs.id)
        js = db.session.get(WorkGroup, world.js.id)
        urls = {
            "lead_cs": url_of(app, "lead", cs),
            "lead_js": url_of(app, "lead", js),
            "committee_js": url_of(app, "committee", js),
            "member_cs": url_of(app, "member", cs),
        }
    found = events(fetch(app.test_client(), urls["lead_cs"]))
    assert item_titles(found) == {TITLES[n] for n in ("owned", "unowned", "confidential", "external_item")}
    assert fetch(app.test_client(), urls["lead_js"]).status_code == 404
    assert fetch(app.test_client(), urls["member_cs"]).status_code == 404
    found = events(fetch(app.test_client(), urls["committee_js"]))
    assert item_titles(found) == {TITLES[n] for n in ("other_group", "other_confidential")}


def test_forged_or_foreign_tokens_get_404(app, world):
    member_url = url_of(app, "member")
    token = urlsplit(member_url).path.rsplit("/", 1)[1].removesuffix(".ics")
    user_id, signature = token.split("-", 1)
    client = app.test_client()
    assert fetch(client, member_url.replace(signature, signature[::-1])).status_code == 404
    assert client.get(f"/calendar/feed/{world.lead.id}-{signature}.ics").status_code == 404
    assert client.get("/calendar/feed/99999999999999999999-x.ics").status_code == 404
    assert client.get("/calendar/feed/not-a-token.ics").status_code == 404


def test_a_deactivated_user_feed_stops(app, world):
    url = url_of(app, "member")
    with app.app_context():
        db.session.get(User, world.member.id).is_active_account = False
        db.session.commit()
    assert fetch(app.test_client(), url).status_code == 404


def test_api_me_gives_the_same_calendar_url(app, client, world):
    login(client, "member")
    body = client.get("/api/v1/users/me").get_json()
    assert body["calendar_url"] == url_of(app, "member")
