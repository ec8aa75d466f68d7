"""Supervision notices (督办单): the ladder blue → orange → red → interview through the API and the pages,
for every role; confidentiality; the ledger; the lists, start page, board and weekly briefing."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import delete, event, func, select

from tests.api.test_api import Api, make_tokens
from tests.factories import NOW, login, make_item, make_notice
from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import ledger
from tracker.items.models import LedgerEntry
from tracker.notices import queries
from tracker.notices.models import Notice
from tracker.outbox.models import Notification

REPLY_BY = "2026-06-05"  # NOW is 2026-05-29 in Maoming


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def api(app, world, client):
    """Bearer clients per role, on a world without the notices it arranges for the route matrix."""
    with app.app_context():
        db.session.execute(delete(Notice))
        db.session.commit()
    secrets = make_tokens(app)
    return {role: Api(client, secret) for role, secret in secrets.items()} | {"anon": Api(client, None)}


def _issue(api, item_id, level="blue", who="committee"):
    return api[who](
        "POST", "/notices", json={"item": item_id, "level": level, "text": "请加快整改", "reply_by": REPLY_BY}
    )


def _ledger_notice_entries(app, item_id) -> list:
    with app.app_context():
        return db.session.execute(
            select(LedgerEntry.field, LedgerEntry.before, LedgerEntry.after)
            .where(LedgerEntry.item_id == item_id, LedgerEntry.kind == "notice")
            .order_by(LedgerEntry.id)
        ).all()


def test_the_ladder_through_the_api(app, api, world):
    item = world.items["owned"]
    blue = _issue(api, item.id)
    assert blue.status_code == 201, blue.get_json()
    body = blue.get_json()
    assert set(body) == {
        "id", "number", "item", "group", "level", "status", "text", "reply_by", "issued_by", "issued_at",
        "acknowledged_by", "acknowledged_at", "reply", "replied_at", "closed_at", "previous",
    }  # fmt: skip
    assert body["number"] == "督办〔2026〕第1号"
    assert (body["item"], body["group"], body["level"], body["status"]) == (item.id, "CG", "blue", "issued")
    assert body["issued_by"] == "committee" and body["reply_by"] == REPLY_BY
    nid = body["id"]

    # Only the addressees sign for and reply; the committee only closes and escalates.
    for role in ("admin", "committee", "other_lead", "other_member"):
        assert api[role]("POST", f"/notices/{nid}/acknowledge").status_code == 403, role
    assert api["external"]("POST", f"/notices/{nid}/acknowledge").status_code == 404
    assert api["member"]("POST", f"/notices/{nid}/reply", json={"text": "已整改"}).status_code == 422  # not signed
    ack = api["lead"]("POST", f"/notices/{nid}/acknowledge")
    assert ack.status_code == 200 and ack.get_json()["acknowledged_by"] == "lead"
    assert ack.get_json()["status"] == "acknowledged"
    assert api["lead"]("POST", f"/notices/{nid}/close", json={"note": "x"}).status_code == 403
    replied = api["member"]("POST", f"/notices/{nid}/reply", json={"text": "坡道已重新浇筑一半"})
    assert replied.status_code == 200
    assert (replied.get_json()["status"], replied.get_json()["reply"]) == ("replied", "坡道已重新浇筑一半")

    # Not good enough: orange, then red, each referencing the one before.
    for role in ("lead", "member", "other_lead"):
        response = api[role]("POST", f"/notices/{nid}/escalate", json={"text": "提级", "reply_by": REPLY_BY})
        assert response.status_code == 403, role
    orange = api["committee"]("POST", f"/notices/{nid}/escalate", json={"text": "警示督办", "reply_by": REPLY_BY})
    assert orange.status_code == 201
    assert (orange.get_json()["level"], orange.get_json()["previous"]) == ("orange", nid)
    assert orange.get_json()["number"] == "督办〔2026〕第2号"
    assert api["committee"]("GET", f"/notices/{nid}").get_json()["status"] == "escalated"
    red = api["admin"](
        "POST", f"/notices/{orange.get_json()['id']}/escalate", json={"text": "挂牌", "reply_by": REPLY_BY}
    )
    assert red.status_code == 201 and red.get_json()["level"] == "red"
    rid = red.get_json()["id"]
    top = api["committee"]("POST", f"/notices/{rid}/escalate", json={"text": "x", "reply_by": REPLY_BY})
    assert top.status_code == 422  # red is the top of the ladder

    assert api["lead"]("POST", f"/notices/{rid}/acknowledge").status_code == 200
    assert api["lead"]("POST", f"/notices/{rid}/reply", json={"text": "组长亲自督战"}).status_code == 200
    closed = api["committee"]("POST", f"/notices/{rid}/close", json={"note": "整改到位，办结"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert closed.get_json()["closed_at"].startswith("2026-05-29")

    steps = [(f, b, a) for f, b, a in _ledger_notice_entries(app, item.id)]
    assert steps == [
        ("notice-blue", None, "issued"),
        ("notice-blue", "issued", "acknowledged"),
        ("notice-blue", "acknowledged", "replied"),
        ("notice-orange", None, "issued"),
        ("notice-blue", "replied", "escalated"),
        ("notice-red", None, "issued"),
        ("notice-orange", "issued", "escalated"),
        ("notice-red", "issued", "acknowledged"),
        ("notice-red", "acknowledged", "replied"),
        ("notice-red", "replied", "closed"),
    ]
    with app.app_context():
        assert ledger.verify_chain().ok

    listed = api["committee"]("GET", f"/notices?item={item.id}&level=red").get_json()
    assert [n["id"] for n in listed["items"]] == [rid]
    assert api["committee"]("GET", "/notices?status=bogus").status_code == 422


def test_only_the_committee_issues(api, world):
    item = world.items["owned"]
    for role in ("lead", "member", "other_lead", "other_member"):
        assert _issue(api, item.id, who=role).status_code == 403, role
    assert _issue(api, item.id, who="external").status_code == 404
    assert _issue(api, item.id, who="anon").status_code == 401
    assert _issue(api, item.id, who="admin").status_code == 201


def test_bad_input_is_a_clear_422_and_writes_nothing(app, api, world):
    item = world.items["owned"]
    cases = [
        {"item": item.id, "level": "purple", "text": "x", "reply_by": REPLY_BY},
        {"item": item.id, "level": "blue", "text": "", "reply_by": REPLY_BY},
        {"item": item.id, "level": "blue", "text": "x", "reply_by": "2026-05-01"},  # in the past
        {"item": item.id, "level": "blue", "text": "x", "reply_by": "tomorrow"},
        {"item": item.id, "level": "blue", "text": "x"},
    ]
    for body in cases:
        response = api["committee"]("POST", "/notices", json=body)
        assert response.status_code == 422, body
        assert response.get_json()["error"]["fields"], body
    assert _issue(api, item.id).status_code == 201
    second = _issue(api, item.id)
    assert second.status_code == 422  # one open notice per item: escalate instead
    assert set(second.get_json()["error"]["fields"]) == {"item"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notice).where(Notice.item_id == item.id)) == 1


def test_a_confidential_items_notice_is_as_confidential(api, world):
    item = world.items["confidential"]
    nid = _issue(api, item.id).get_json()["id"]
    for role, status in [("lead", 200), ("member", 200), ("other_lead", 404), ("other_member", 404), ("external", 404)]:
        assert api[role]("GET", f"/notices/{nid}").status_code == status, role
    assert nid not in {n["id"] for n in api["other_lead"]("GET", "/notices").get_json()["items"]}
    assert api["other_lead"]("POST", f"/notices/{nid}/acknowledge").status_code == 404


def test_steps_notify_the_people_who_must_act(app, api, world):
    nid = _issue(api, world.items["owned"].id).get_json()["id"]
    with app.app_context():
        told = db.session.execute(select(Notification.user_id, Notification.rule, Notification.url)).all()
    assert sorted((u, r) for u, r, _url in told) == sorted(
        [(world.lead.id, "notice_issued"), (world.member.id, "notice_issued")]
    )
    assert all(url == f"/notices/{nid}" for *_x, url in told)
    api["lead"]("POST", f"/notices/{nid}/acknowledge")
    api["lead"]("POST", f"/notices/{nid}/reply", json={"text": "已整改"})
    with app.app_context():
        replied = db.session.scalars(select(Notification.user_id).where(Notification.rule == "notice_replied")).all()
    assert replied == [world.committee.id]


# --- the pages ---------------------------------------------------------------------------------


def _signed_in(app, username):
    client = app.test_client()
    login(client, username)
    return client


def test_the_ladder_through_the_pages(app, api, world):
    item = world.items["owned"]
    committee, lead, member = (_signed_in(app, u) for u in ("committee", "lead", "member"))

    form = committee.get(f"/items/{item.id}/notices/new")
    assert form.status_code == 200 and "督办要求" in form.text
    bad = committee.post(f"/items/{item.id}/notices/new", data={"level": "blue", "text": "", "reply_by": REPLY_BY})
    assert bad.status_code == 422
    unowned = world.items["unowned"].id
    issued = committee.post(
        f"/items/{item.id}/notices/new",
        data={"level": "blue", "text": "请三日内完成坡道整改", "reply_by": REPLY_BY, "item_ids": [str(unowned)]},
    )
    assert issued.status_code == 302
    with app.app_context():
        mine = db.session.scalars(select(Notice).order_by(Notice.id)).all()
        assert [(n.item_id, n.number) for n in mine] == [(item.id, "督办〔2026〕第1号"), (unowned, "督办〔2026〕第2号")]
        nid = mine[0].id

    # The addressees see it on their start page, then on the item page.
    assert "待签收" in member.get("/").text and "督办〔2026〕第1号" in lead.get("/").text
    assert "督办〔2026〕第1号" in member.get(f"/items/{item.id}").text
    assert member.post(f"/notices/{nid}/acknowledge").status_code == 302
    assert "待回复" in member.get("/").text
    assert committee.post(f"/notices/{nid}/reply", data={"reply-text": "x"}).status_code == 403
    empty = member.post(f"/notices/{nid}/reply", data={"reply-text": ""})
    assert empty.status_code == 422
    answered = member.post(
        f"/notices/{nid}/reply",
        data={"reply-text": "已完成一半", "reply-plan": "6月3日前完工", "reply-files": []},
    )
    assert answered.status_code == 302
    page = committee.get(f"/notices/{nid}")
    assert "6月3日前完工" in page.text and "已完成一半" in page.text

    escalated = committee.post(
        f"/notices/{nid}/escalate", data={"escalate-text": "警示督办", "escalate-reply_by": REPLY_BY}
    )
    assert escalated.status_code == 302
    orange_id = int(escalated.headers["Location"].rsplit("/", 1)[1])
    red = committee.post(
        f"/notices/{orange_id}/escalate", data={"escalate-text": "挂牌督办", "escalate-reply_by": REPLY_BY}
    )
    red_id = int(red.headers["Location"].rsplit("/", 1)[1])
    assert lead.post(f"/notices/{red_id}/interview", data={"interview-on": "2026-05-29"}).status_code == 403
    future = committee.post(
        f"/notices/{red_id}/interview",
        data={"interview-on": "2026-06-30", "interview-participants": "组委会", "interview-conclusion": "限期"},
    )
    assert future.status_code == 422  # an interview is recorded once it took place
    talked = committee.post(
        f"/notices/{red_id}/interview",
        data={
            "interview-on": "2026-05-29",
            "interview-participants": "组委会副主任、场馆组组长",
            "interview-conclusion": "三日内完成",
        },
    )
    assert talked.status_code == 302
    assert "组委会副主任、场馆组组长" in committee.get(f"/notices/{red_id}").text
    closed = committee.post(f"/notices/{red_id}/close", data={"close-note": "整改到位"})
    assert closed.status_code == 302

    history = committee.get(f"/items/{item.id}").text
    assert history.count("督办〔2026〕第3号") >= 2  # the red notice in the list and in the history
    with app.app_context():
        kinds = db.session.scalars(
            select(LedgerEntry.after).where(LedgerEntry.item_id == item.id, LedgerEntry.kind == "notice")
        ).all()
        assert "interview" in kinds and kinds[-1] == "closed"
        assert ledger.verify_chain().ok


def test_lists_filter_on_notices(app, api, world):
    _issue(api, world.items["owned"].id, level="orange")
    _issue(api, world.items["unowned"].id, level="blue")
    _issue(api, world.items["other_group"].id, level="blue")
    client = _signed_in(app, "committee")
    orange = client.get("/problems?notice=orange").text
    assert "坡道整改" in orange and "盲道修复" not in orange
    blue = client.get("/problems?notice=blue").text
    assert "盲道修复" in blue and "坡道整改" not in blue
    assert "计时设备调试" in client.get("/responsibilities?notice=open").text
    assert "计时设备调试" not in client.get("/ledger?notice=red").text
    items = api["committee"]("GET", "/items?notice=orange").get_json()["items"]
    assert [i["id"] for i in items] == [world.items["owned"].id]


def test_board_shows_open_notices_by_level_and_the_red_list(app, world):
    page = _signed_in(app, "committee").get("/board").text
    # The world arranges blue notices and a red one on `unowned`.
    assert "督办" in page and "挂牌督办" in page and "盲道修复" in page
    screen = _signed_in(app, "member").get("/board?mode=screen").text
    assert "挂牌督办" in screen


def test_weekly_briefing_counts_notices(app, api, world):
    first = _issue(api, world.items["owned"].id).get_json()["id"]
    second = _issue(api, world.items["other_group"].id).get_json()["id"]
    api["lead"]("POST", f"/notices/{first}/acknowledge")
    api["committee"]("POST", f"/notices/{second}/escalate", json={"text": "提级", "reply_by": REPLY_BY})
    with app.app_context():
        committee = db.session.get(User, world.committee.id)
        week = queries.weekly(committee, date(2026, 5, 25), date(2026, 5, 31), "Asia/Shanghai", NOW)
        assert [(r.code, r.issued, r.answered_late, r.closed, r.escalated) for r in week] == [
            ("CG", 1, 0, 0, 0),
            ("JS", 2, 0, 0, 1),
        ]
    page = _signed_in(app, "committee").get("/reports/weekly?week=2026-05-29").text
    assert "本周督办情况" in page
    late = datetime(2026, 6, 8, 2, 0, tzinfo=UTC)  # three days after the reply-by date
    with time_machine.travel(late, tick=False):
        api["lead"]("POST", f"/notices/{first}/reply", json={"text": "迟复"})
        with app.app_context():
            committee = db.session.get(User, world.committee.id)
            week = queries.weekly(committee, date(2026, 6, 8), date(2026, 6, 14), "Asia/Shanghai", late)
        assert [(r.code, r.answered_late) for r in week] == [("CG", 1)]
    with app.app_context():
        other_lead = db.session.get(User, world.other_lead.id)
        assert queries.weekly(other_lead, date(2026, 5, 25), date(2026, 5, 31), "Asia/Shanghai", NOW)


def test_print_page_has_the_official_layout(app, world):
    client = _signed_in(app, "lead")
    notice_id = world.extra_ids["notice"]
    page = client.get(f"/notices/{notice_id}/print")
    assert page.status_code == 200
    for words in (
        "督办通知单",
        "督办〔2026〕第9001号",
        "主送",
        "督办事项",
        "督办要求",
        "回复时限",
        "督办单位",
        "签发日期",
        "盖章",
    ):
        assert words in page.text, words
    assert '<html lang="zh-CN">' in page.text
    assert _signed_in(app, "external").get(f"/notices/{notice_id}/print").status_code == 404


def test_suggestions_page_issues_in_one_step(app, api, world):
    assert _signed_in(app, "lead").get("/notices/suggestions").status_code == 403
    with time_machine.travel(date(2026, 7, 3), tick=False):  # world items due 2026-06-30: 3 days late
        client = _signed_in(app, "committee")
        page = client.get("/notices/suggestions")
        assert page.status_code == 200 and "坡道整改" in page.text
        assert "兴奋剂检查站保密" in page.text  # the committee sees confidential items
        owned, other = world.items["owned"].id, world.items["other_group"].id
        issued = client.post("/notices/suggestions", data={"item_ids": [str(owned), str(other)], "text": ""})
        assert issued.status_code == 302
        nothing = client.post("/notices/suggestions", data={})
        assert nothing.status_code == 422
    with app.app_context():
        made = db.session.scalars(select(Notice).order_by(Notice.id)).all()
        assert [(n.item_id, n.level, n.reply_by) for n in made] == [
            (owned, "orange", date(2026, 7, 6)),
            (other, "orange", date(2026, 7, 6)),
        ]
        assert made[0].text.startswith("该事项已逾期")  # the standard wording, in the office's language
    with time_machine.travel(date(2026, 7, 3), tick=False):
        client = _signed_in(app, "committee")
        assert "坡道整改" not in client.get("/notices/suggestions").text  # covered by its open orange notice
    with time_machine.travel(date(2026, 7, 10), tick=False):  # ten days late: red, escalating the orange one
        client = _signed_in(app, "committee")
        assert client.post("/notices/suggestions", data={"item_ids": [str(owned)]}).status_code == 302
    with app.app_context():
        chain = db.session.scalars(select(Notice).where(Notice.item_id == owned).order_by(Notice.id)).all()
        assert [(n.level, n.status) for n in chain] == [("orange", "escalated"), ("red", "issued")]
        assert chain[1].previous_id == chain[0].id


def test_rules_page_checks_every_number(app, world):
    client = _signed_in(app, "admin")
    values = {
        "blue_due_days": "3",
        "blue_lag": "10",
        "orange_overdue_days": "5",
        "red_overdue_days": "4",
        "red_after_oranges": "2",
        "reply_days": "3",
        "lead_after_days": "1",
        "committee_after_days": "3",
    }
    bad = client.post("/admin/notices", data=values)
    assert bad.status_code == 422 and "红色不能早于橙色" in bad.text
    assert client.post("/admin/notices", data=values | {"blue_lag": "abc"}).status_code == 422
    assert client.post("/admin/notices", data=values | {"red_overdue_days": "12"}).status_code == 302
    assert 'value="12"' in client.get("/admin/notices").text


def test_notice_pages_query_count_does_not_grow_with_notices(app, api, world):
    client = _signed_in(app, "committee")
    lead = _signed_in(app, "lead")
    paths = {"/notices": client, "/api/v1/notices": client, "/board": client, "/": lead}

    def queries_for(path, who):
        statements = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert who.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    def add(n_from, n_to):
        with app.app_context():
            lead_user = db.session.get(User, world.lead.id)
            group = db.session.get(WorkGroup, world.cs.id)
            for n in range(n_from, n_to):
                item = make_item(lead_user, group, title=f"督办批量 {n}", owner_id=world.member.id)
                make_notice(world, item, 100 + n, level=("blue", "orange", "red")[n % 3])
            db.session.commit()

    add(0, 3)
    few = {p: queries_for(p, who) for p, who in paths.items()}
    add(3, 30)
    many = {p: queries_for(p, who) for p, who in paths.items()}
    assert many == few
