"""Deadline extensions (延期): the rules, then every rule through the API and the pages, for every role."""

from datetime import date
from types import SimpleNamespace

import pytest

from tests.api.test_api import Api, make_tokens
from tests.factories import NOW, login
from tracker import permissions
from tracker.auth.models import User
from tracker.extensions import db
from tracker.items import extensions, ledger, rules, services
from tracker.items.models import ExtensionRequest, Item, LedgerEntry

pytestmark = pytest.mark.usefixtures("frozen_now")

TODAY = date(2026, 5, 29)  # NOW in Maoming; the world's deadlines are 30 June
LATER = "2026-07-31"
USERNAMES = {
    "admin": "admin",
    "committee": "committee",
    "lead": "lead",
    "member": "member",
    "other_lead": "otherlead",
    "other_member": "othermember",
    "external": "external",
}


# --- pure rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "current", "requested", "reason", "problems"),
    [
        ("open", date(2026, 6, 30), date(2026, 7, 31), "材料延误", {}),
        ("submitted", date(2026, 6, 30), date(2026, 7, 1), "材料延误", {}),
        ("closed", date(2026, 6, 30), date(2026, 7, 31), "材料延误", {"item": "finished"}),
        ("cancelled", date(2026, 6, 30), date(2026, 7, 31), "材料延误", {"item": "finished"}),
        ("open", None, date(2026, 7, 31), "材料延误", {"item": "no_deadline"}),
        ("open", date(2026, 6, 30), None, "材料延误", {"deadline": "required"}),
        ("open", date(2026, 5, 1), date(2026, 5, 28), "材料延误", {"deadline": "before_today"}),
        ("open", date(2026, 6, 30), date(2026, 6, 30), "材料延误", {"deadline": "not_later"}),
        ("open", date(2026, 6, 30), date(2026, 6, 1), " ", {"deadline": "not_later", "reason": "required"}),
        ("open", date(2026, 5, 1), TODAY, "材料延误", {}),  # an overdue item may move to today
    ],
)
def test_extension_request_problems(status, current, requested, reason, problems):
    assert rules.extension_request_problems(status, current, requested, TODAY, reason) == problems


def test_only_a_later_move_of_a_set_deadline_counts():
    assert rules.counts_as_extension(date(2026, 6, 30), date(2026, 7, 1))
    assert not rules.counts_as_extension(None, date(2026, 7, 1))  # the first deadline
    assert not rules.counts_as_extension(date(2026, 6, 30), date(2026, 6, 1))  # brought forward
    assert not rules.counts_as_extension(date(2026, 6, 30), None)


def test_overdue_against_original():
    assert rules.overdue_against_original("in_progress", date(2026, 5, 20), date(2026, 6, 30), TODAY)
    assert not rules.overdue_against_original("submitted", date(2026, 5, 20), date(2026, 6, 30), TODAY)
    assert not rules.overdue_against_original("open", date(2026, 5, 29), date(2026, 6, 30), TODAY)
    assert not rules.overdue_against_original("open", date(2026, 5, 20), date(2026, 5, 20), TODAY)  # plain overdue


def _user(role, groups=(), uid=1):
    return SimpleNamespace(id=uid, role=role, group_ids=frozenset(groups))


def _item(deadline=date(2026, 6, 30), owner_id=None):
    return SimpleNamespace(group_id=1, owner_id=owner_id, is_confidential=False, deadline=deadline, status="open")


@pytest.mark.parametrize(
    ("user", "direct", "asks", "decide"),
    [
        (_user("admin"), True, False, True),
        (_user("committee"), True, False, True),
        (_user("lead", {1}), False, True, False),
        (_user("lead", {2}), False, False, False),
        (_user("member", {1}, uid=7), False, True, False),  # the owner
        (_user("member", {1}), False, False, False),
        (_user("external", uid=7), False, True, False),  # an external owner
    ],
)
def test_permissions(user, direct, asks, decide):
    item = _item(owner_id=7)
    assert permissions.can_change_deadline_directly(user, item) is direct
    assert permissions.can_request_extension(user, item) is asks
    assert permissions.can_decide_extension(user, item) is decide
    assert permissions.can_change_deadline_directly(user, _item(deadline=None))  # the first one: anyone who edits


def test_nobody_decides_their_own_request():
    reviewer = _user("committee", uid=3)
    assert not permissions.can_decide_extension(reviewer, _item(), SimpleNamespace(requested_by_id=3))
    assert permissions.can_decide_extension(reviewer, _item(), SimpleNamespace(requested_by_id=4))


# --- through the API, for every role ------------------------------------------------


@pytest.fixture
def api(app, world, client):
    secrets = make_tokens(app)
    return {role: Api(client, secret) for role, secret in secrets.items()} | {"anon": Api(client, None)}


def _request(api, world, role="member", item="owned", **body):
    body = {"deadline": LATER, "reason": "材料延误"} | body
    return api[role]("POST", f"/items/{world.items[item].id}/extension-requests", json=body)


def _item_row(app, item_id) -> Item:
    with app.app_context():
        item = db.session.get(Item, item_id)
        db.session.expunge(item)
        return item


def _entries(app, item_id, kind_prefix="extension_") -> list[LedgerEntry]:
    with app.app_context():
        rows = db.session.scalars(
            db.select(LedgerEntry).where(LedgerEntry.item_id == item_id).order_by(LedgerEntry.id)
        ).all()
        db.session.expunge_all()
        return [e for e in rows if e.kind.startswith(kind_prefix)]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 403),
        ("committee", 403),
        ("lead", 201),
        ("member", 201),
        ("other_lead", 403),
        ("other_member", 403),
        ("external", 404),
        ("anon", 401),
    ],
)
def test_who_may_request_an_extension(api, world, app, role, status):
    response = _request(api, world, role)
    assert response.status_code == status, response.get_json()
    item = _item_row(app, world.items["owned"].id)
    assert item.deadline == date(2026, 6, 30)  # nothing moves before the decision
    if status == 201:
        body = response.get_json()
        assert body == {
            "id": body["id"],
            "item": world.items["owned"].id,
            "requested_by": USERNAMES[role],
            "from": "2026-06-30",
            "to": LATER,
            "reason": "材料延误",
            "status": "pending",
            "direct": False,
            "created_at": "2026-05-29T02:00:00Z",
            "decided_by": None,
            "decided_at": None,
            "note": "",
        }
        (entry,) = _entries(app, item.id)
        assert (entry.kind, entry.before, entry.after, entry.note) == (
            "extension_requested",
            "2026-06-30",
            LATER,
            "材料延误",
        )
    else:
        assert _entries(app, item.id) == []


def test_an_external_owner_requests_on_their_item(api, world):
    assert _request(api, world, "external", item="external_item").status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"deadline": "2026-05-20"}, "deadline"),  # before today
        ({"deadline": "2026-06-15"}, "deadline"),  # before the current deadline
        ({"deadline": "2026-06-30"}, "deadline"),  # the same day
        ({"deadline": "2026-02-30"}, "deadline"),
        ({"deadline": None}, "deadline"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 2001}, "reason"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_bad_request_is_a_field_error_and_writes_nothing(api, world, app, body, field):
    response = _request(api, world, **body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert _entries(app, world.items["owned"].id) == []


def test_a_missing_field_is_named(api, world):
    response = api["member"]("POST", f"/items/{world.items['owned'].id}/extension-requests", json={})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"deadline", "reason"}


def test_one_pending_request_per_item(api, world, app):
    assert _request(api, world, "member").status_code == 201
    second = _request(api, world, "lead", deadline="2026-08-31")
    assert second.status_code == 409
    assert "already" in second.get_json()["error"]["message"] or "已" in second.get_json()["error"]["message"]
    assert len(_entries(app, world.items["owned"].id)) == 1


@pytest.mark.parametrize("action", ["cancel", "close"])
def test_no_request_on_a_closed_or_cancelled_item(api, world, app, action):
    path = f"/items/{world.items['owned'].id}/transitions"
    if action == "cancel":
        assert api["committee"]("POST", path, json={"action": "cancel", "note": "重复"}).status_code == 200
    else:
        for role, step in (("member", "start"), ("member", "submit"), ("committee", "verify")):
            assert api[role]("POST", path, json={"action": step}).status_code == 200
    response = _request(api, world, "lead")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "deadline" in error["fields"] and error["message"] == error["fields"]["deadline"]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("committee", 200),
        ("lead", 403),
        ("member", 403),
        ("other_lead", 403),
        ("other_member", 403),
        ("external", 404),
        ("anon", 401),
    ],
)
def test_who_may_decide(api, world, app, role, status):
    request_id = _request(api, world, "member").get_json()["id"]
    response = api[role]("POST", f"/extension-requests/{request_id}/decision", json={"decision": "approve"})
    assert response.status_code == status, response.get_json()
    item = _item_row(app, world.items["owned"].id)
    if status == 200:
        body = response.get_json()
        assert (body["status"], body["decided_by"], body["decided_at"]) == (
            "approved",
            USERNAMES[role],
            "2026-05-29T02:00:00Z",
        )
        assert (item.deadline, item.original_deadline, item.extensions) == (
            date(2026, 7, 31),
            date(2026, 6, 30),
            1,
        )
        kinds = [(e.kind, e.before, e.after) for e in _entries(app, item.id)]
        assert kinds == [
            ("extension_requested", "2026-06-30", LATER),
            ("extension_approved", "2026-06-30", LATER),
        ]
    else:
        assert (item.deadline, item.extensions) == (date(2026, 6, 30), 0)
        assert len(_entries(app, item.id)) == 1


def test_refusal_needs_a_note_and_keeps_the_deadline(api, world, app):
    request_id = _request(api, world, "lead").get_json()["id"]
    path = f"/extension-requests/{request_id}/decision"
    without = api["committee"]("POST", path, json={"decision": "refuse"})
    assert without.status_code == 422 and "note" in without.get_json()["error"]["fields"]
    refused = api["committee"]("POST", path, json={"decision": "refuse", "note": "材料延误不是理由"})
    assert refused.status_code == 200 and refused.get_json()["status"] == "refused"
    item = _item_row(app, world.items["owned"].id)
    assert (item.deadline, item.extensions) == (date(2026, 6, 30), 0)
    last = _entries(app, item.id)[-1]
    assert (last.kind, last.note) == ("extension_refused", "材料延误不是理由")
    # decided once: a second decision is a conflict and writes nothing
    again = api["admin"]("POST", path, json={"decision": "approve"})
    assert again.status_code == 409
    assert len(_entries(app, item.id)) == 2
    # and a new request may follow
    assert _request(api, world, "member", deadline="2026-07-10").status_code == 201


def test_unknown_decision_and_unknown_request(api, world):
    request_id = _request(api, world, "member").get_json()["id"]
    bad = api["committee"]("POST", f"/extension-requests/{request_id}/decision", json={"decision": "maybe"})
    assert bad.status_code == 422 and "decision" in bad.get_json()["error"]["fields"]
    missing = api["committee"]("POST", "/extension-requests/9999/decision", json={"decision": "approve"})
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_the_reviewer_who_owns_the_item_cannot_decide_their_own_request(api, world, app):
    with app.app_context():
        item = db.session.get(Item, world.items["unowned"].id)
        item.owner_id = world.committee.id
        db.session.commit()
    request_id = _request(api, world, "committee", item="unowned").get_json()["id"]
    own = api["committee"]("POST", f"/extension-requests/{request_id}/decision", json={"decision": "approve"})
    assert own.status_code == 403
    other = api["admin"]("POST", f"/extension-requests/{request_id}/decision", json={"decision": "approve"})
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("committee", 200),
        ("lead", 422),
        ("member", 403),  # members do not edit items at all
        ("other_lead", 403),
    ],
)
def test_patching_a_set_deadline(api, world, app, role, status):
    item_id = world.items["owned"].id
    response = api[role]("PATCH", f"/items/{item_id}", json={"version": 1, "deadline": LATER, "reason": "材料延误"})
    assert response.status_code == status
    item = _item_row(app, item_id)
    if status == 422:
        message = response.get_json()["error"]["fields"]["deadline"]
        assert f"/api/v1/items/{item_id}/extension-requests" in message
        assert item.deadline == date(2026, 6, 30)
    if status == 200:
        body = response.get_json()
        assert (body["deadline"], body["original_deadline"], body["extensions"]) == (LATER, "2026-06-30", 1)
        listed = api[role]("GET", f"/extension-requests?item={item_id}").get_json()["items"]
        assert [(r["status"], r["direct"], r["from"], r["to"]) for r in listed] == [
            ("approved", True, "2026-06-30", LATER)
        ]


def test_a_lead_still_edits_other_fields_and_sets_a_first_deadline(api, world, app):
    item_id = world.items["owned"].id
    same = api["lead"]("PATCH", f"/items/{item_id}", json={"version": 1, "deadline": "2026-06-30", "title": "坡道"})
    assert same.status_code == 200
    with app.app_context():
        item = db.session.get(Item, item_id)
        item.deadline = item.original_deadline = None
        db.session.commit()
        version = item.version
    first = api["lead"]("PATCH", f"/items/{item_id}", json={"version": version, "deadline": LATER, "reason": "定时限"})
    assert first.status_code == 200
    assert (first.get_json()["original_deadline"], first.get_json()["extensions"]) == (LATER, 0)


def test_committee_bringing_a_deadline_forward_is_not_an_extension(api, world):
    body = {"version": 1, "deadline": "2026-06-10", "reason": "提前到测试赛前"}
    moved = api["committee"]("PATCH", f"/items/{world.items['owned'].id}", json=body).get_json()
    assert (moved["deadline"], moved["original_deadline"], moved["extensions"]) == ("2026-06-10", "2026-06-30", 0)


def test_list_shows_what_the_caller_may_see(api, world):
    _request(api, world, "lead", item="confidential")
    _request(api, world, "member", item="owned")
    _request(api, world, "external", item="external_item")
    seen = {
        role: {r["item"] for r in api[role]("GET", "/extension-requests?status=pending").get_json()["items"]}
        for role in USERNAMES
    }
    ids = {name: world.items[name].id for name in ("confidential", "owned", "external_item")}
    assert seen["committee"] == set(ids.values())
    assert seen["other_lead"] == {ids["owned"], ids["external_item"]}
    assert seen["external"] == {ids["external_item"]}
    assert api["committee"]("GET", "/extension-requests?status=approved").get_json()["items"] == []
    bad = api["committee"]("GET", "/extension-requests?status=maybe")
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["fields"]


def test_pending_list_is_oldest_first(api, world, time_machine):
    _request(api, world, "member", item="owned")
    time_machine.move_to("2026-05-29T03:00:00Z", tick=False)
    _request(api, world, "lead", item="unowned")
    listed = api["committee"]("GET", "/extension-requests?status=pending").get_json()
    assert [r["item"] for r in listed["items"]] == [world.items["owned"].id, world.items["unowned"].id]
    assert listed["total"] == 2


def test_items_filter_on_extended(api, world):
    request_id = _request(api, world, "member").get_json()["id"]
    api["committee"]("POST", f"/extension-requests/{request_id}/decision", json={"decision": "approve"})
    extended = api["lead"]("GET", "/items?extended=true").get_json()
    assert [i["id"] for i in extended["items"]] == [world.items["owned"].id]
    not_extended = api["lead"]("GET", "/items?extended=false").get_json()
    assert world.items["owned"].id not in {i["id"] for i in not_extended["items"]}


def test_approval_of_a_request_overtaken_by_a_direct_change_is_refused(api, world, app):
    request_id = _request(api, world, "member", deadline="2026-07-10").get_json()["id"]
    item_id = world.items["owned"].id
    version = _item_row(app, item_id).version
    body = {"version": version, "deadline": "2026-07-20", "reason": "组委会统一调整"}
    assert api["committee"]("PATCH", f"/items/{item_id}", json=body).status_code == 200
    late = api["admin"]("POST", f"/extension-requests/{request_id}/decision", json={"decision": "approve"})
    assert late.status_code == 422 and "decision" in late.get_json()["error"]["fields"]
    refusal = {"decision": "refuse", "note": "已调整"}
    assert api["admin"]("POST", f"/extension-requests/{request_id}/decision", json=refusal).status_code == 200


def test_the_ledger_chain_stays_whole(api, world, app):
    request_id = _request(api, world, "member").get_json()["id"]
    api["committee"]("POST", f"/extension-requests/{request_id}/decision", json={"decision": "approve"})
    with app.app_context():
        assert ledger.verify_chain().ok


# --- the service: notifications' single call site ------------------------------------


def test_each_step_announces_itself_to_the_people_concerned(app, world):
    heard = []

    def listener(request, kind, actor, now):
        heard.append((kind, actor.username, sorted(u.username for u in extensions.recipients(kind, request))))

    with app.test_request_context("/", method="POST"), extensions.extension_event.connected_to(listener):
        member = db.session.get(User, world.member.id)
        committee = db.session.get(User, world.committee.id)
        item = services.get_visible_item(world.items["owned"].id, actor=member)
        request = extensions.request_extension(item, actor=member, now=NOW, deadline=date(2026, 7, 31), reason="延误")
        extensions.decide(request, actor=committee, now=NOW, decision="approve")
        db.session.commit()
    assert heard == [
        ("extension_requested", "member", ["admin", "committee", "lead"]),
        ("extension_approved", "committee", ["lead", "member"]),
    ]


def test_the_importer_can_ask_whether_a_deadline_may_be_set(app, world):
    with app.app_context():
        lead = db.session.get(User, world.lead.id)
        committee = db.session.get(User, world.committee.id)
        item = db.session.get(Item, world.items["owned"].id)
        problem = extensions.direct_change_problem(lead, item, date(2026, 7, 31))
        assert f"/api/v1/items/{item.id}/extension-requests" in problem
        assert extensions.direct_change_problem(lead, item, date(2026, 6, 30)) is None  # unchanged
        assert extensions.direct_change_problem(lead, None, date(2026, 7, 31)) is None  # a new item
        assert extensions.direct_change_problem(committee, item, date(2026, 7, 31)) is None
        assert db.session.scalars(db.select(ExtensionRequest)).all() == []


# --- the pages, for every role ----------------------------------------------------------


def _client(app, role):
    client = app.test_client()
    if role != "anon":
        login(client, USERNAMES[role])
    return client


def _page_request(client, item_id, deadline=LATER, reason="材料延误"):
    return client.post(
        f"/items/{item_id}/extension-requests",
        data={"extension-deadline": deadline, "extension-reason": reason},
    )


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 403),
        ("committee", 403),
        ("lead", 302),
        ("member", 302),
        ("other_lead", 403),
        ("other_member", 403),
        ("external", 404),
        ("anon", 302),
    ],
)
def test_who_may_request_on_the_item_page(app, world, role, status):
    response = _page_request(_client(app, role), world.items["owned"].id)
    assert response.status_code == status
    pending = len(_entries(app, world.items["owned"].id))
    assert pending == (1 if role in ("lead", "member") else 0)


def test_item_page_offers_the_request_form_to_owner_and_lead_only(app, world):
    path = f"/items/{world.items['owned'].id}"
    for role in USERNAMES:
        html = _client(app, role).get(path).get_data(as_text=True)
        offered = 'name="extension-reason"' in html
        assert offered is (role in ("lead", "member")), role


def test_a_bad_request_form_keeps_what_was_typed(app, world):
    client = _client(app, "member")
    response = _page_request(client, world.items["owned"].id, deadline="2026-05-01", reason="供应商停产，需重新招标")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "供应商停产，需重新招标" in html and 'value="2026-05-01"' in html
    assert "不能早于今天" in html
    assert _entries(app, world.items["owned"].id) == []


def test_a_second_request_on_the_page_is_a_conflict_with_a_message(app, world):
    client = _client(app, "member")
    assert _page_request(client, world.items["owned"].id).status_code == 302
    lead = _client(app, "lead")
    html = lead.get(f"/items/{world.items['owned'].id}").get_data(as_text=True)
    assert "等待组委会审批" in html and 'name="extension-reason"' not in html
    second = _page_request(lead, world.items["owned"].id, deadline="2026-08-31")  # a form opened before
    assert second.status_code == 409 and "该事项已有一条延期申请在等待审批" in second.get_data(as_text=True)
    assert len(_entries(app, world.items["owned"].id)) == 1


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 302),
        ("committee", 302),
        ("lead", 403),
        ("member", 403),
        ("other_lead", 403),
        ("other_member", 403),
        ("external", 404),
    ],
)
def test_who_may_decide_on_the_item_page(app, world, role, status):
    _page_request(_client(app, "member"), world.items["owned"].id)
    request_id = _pending_id(app)
    client = _client(app, role)
    html = client.get(f"/items/{world.items['owned'].id}").get_data(as_text=True) if role != "external" else ""
    assert ('value="approve"' in html) is (status == 302)
    response = client.post(f"/extension-requests/{request_id}/decision", data={"decision-decision": "approve"})
    assert response.status_code == status
    item = _item_row(app, world.items["owned"].id)
    assert item.extensions == (1 if status == 302 else 0)


def _pending_id(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(ExtensionRequest.id).where(ExtensionRequest.status == "pending"))


def test_refusing_on_the_page_needs_a_note_and_keeps_it(app, world):
    _page_request(_client(app, "lead"), world.items["owned"].id)
    request_id = _pending_id(app)
    client = _client(app, "committee")
    response = client.post(f"/extension-requests/{request_id}/decision", data={"decision-decision": "refuse"})
    assert response.status_code == 422 and "请说明不同意的理由" in response.get_data(as_text=True)
    ok = client.post(
        f"/extension-requests/{request_id}/decision",
        data={"decision-decision": "refuse", "decision-note": "理由不充分"},
    )
    assert ok.status_code == 302
    page = client.get(f"/items/{world.items['owned'].id}").get_data(as_text=True)
    assert "理由不充分" in page and "不同意" in page


def test_the_edit_form_tells_a_lead_to_request_instead(app, world):
    client = _client(app, "lead")
    item_id = world.items["owned"].id
    form = {
        "title": "坡道整改",
        "group_id": str(world.cs.id),
        "kind": "problem",
        "severity": "medium",
        "version": "1",
        "deadline": LATER,
        "reason": "材料延误",
    }
    response = client.post(f"/items/{item_id}/edit", data=form)
    assert response.status_code == 422
    assert "申请延期" in response.get_data(as_text=True)
    assert _item_row(app, item_id).deadline == date(2026, 6, 30)


def test_lists_and_item_page_show_the_count_and_the_original_date(app, world):
    _page_request(_client(app, "member"), world.items["owned"].id)
    committee = _client(app, "committee")
    committee.post(f"/extension-requests/{_pending_id(app)}/decision", data={"decision-decision": "approve"})
    for path in ("/responsibilities", "/ledger", f"/items/{world.items['owned'].id}", "/"):
        html = _client(app, "member").get(path).get_data(as_text=True)
        assert "已延期 1 次" in html and "原定 2026年6月30日" in html, path
    problems = committee.get("/problems?extended=1").get_data(as_text=True)
    assert "坡道整改" in problems and "盲道修复" not in problems and "已延期 1 次" in problems
    english = committee.get("/responsibilities?extended=1", headers={"Accept-Language": "en"})
    assert "Extensions: 1" in english.get_data(as_text=True)


def test_committee_start_page_lists_pending_requests_oldest_first(app, world, time_machine):
    _page_request(_client(app, "lead"), world.items["unowned"].id, reason="第一件")
    time_machine.move_to("2026-05-29T05:00:00Z", tick=False)
    _page_request(_client(app, "member"), world.items["owned"].id, reason="第二件")
    html = _client(app, "committee").get("/").get_data(as_text=True)
    assert "等待您审批的延期申请" in html
    assert html.index("第一件") < html.index("第二件")
    assert "等待您审批的延期申请" not in _client(app, "lead").get("/").get_data(as_text=True)


def test_board_counts_extended_items_and_waiting_requests_per_group(app, world):
    _page_request(_client(app, "member"), world.items["owned"].id)
    committee = _client(app, "committee")
    committee.post(f"/extension-requests/{_pending_id(app)}/decision", data={"decision-decision": "approve"})
    _page_request(_client(app, "lead"), world.items["unowned"].id)
    html = committee.get("/board").get_data(as_text=True)
    section = html[html.index('id="ext-board-h"') :]
    section = section[: section.index("</section>")]
    row = section[section.index("CG") :]
    row = row[: row.index("</tr>")]
    assert "extended=1" in row and ">1</a>" in row and '<td class="num">1</td>' in row
    assert "JS" not in section.split("<tfoot>")[0]


def test_weekly_briefing_lists_the_weeks_extensions_and_late_items(app, world, time_machine):
    _page_request(_client(app, "member"), world.items["owned"].id, reason="设备延误")
    _page_request(_client(app, "lead"), world.items["unowned"].id, reason="人手不足")
    committee = _client(app, "committee")
    with app.app_context():
        ids = db.session.scalars(db.select(ExtensionRequest.id).order_by(ExtensionRequest.id)).all()
    committee.post(f"/extension-requests/{ids[0]}/decision", data={"decision-decision": "approve"})
    committee.post(
        f"/extension-requests/{ids[1]}/decision", data={"decision-decision": "refuse", "decision-note": "不同意"}
    )
    time_machine.move_to("2026-05-29T02:10:00Z", tick=False)  # the briefing reports up to now
    html = committee.get("/reports/weekly?week=2026-W22").get_data(as_text=True)
    section = html[html.index('id="ext-week-h"') :]
    assert "申请：2 · 批准：1 · 不同意：1" in section
    assert "设备延误" in section and "人手不足" in section
    # Five weeks on, the extended item is past its original deadline but not its new one.
    time_machine.move_to("2026-07-03T02:00:00Z", tick=False)
    later = _client(app, "committee").get("/reports/weekly?week=2026-W27").get_data(as_text=True)
    late = later[later.index('id="late-original-h"') :]
    assert "坡道整改" in late and "2026年6月30日" in late and "2026年7月31日" in late
    assert "盲道修复" not in late  # plainly overdue: it is on the red list instead


def test_weekly_workbook_has_the_extensions(app, world, time_machine):
    from io import BytesIO

    from openpyxl import load_workbook

    _page_request(_client(app, "member"), world.items["owned"].id, reason="设备延误")
    time_machine.move_to("2026-05-29T02:10:00Z", tick=False)
    response = _client(app, "committee").get("/reports/weekly.xlsx?week=2026-W22")
    book = load_workbook(BytesIO(response.data))
    rows = list(book["延期情况"].values)
    assert rows[1][0] == "申请" and rows[1][2] == "坡道整改" and rows[1][7] == "设备延误"
    assert list(book["按原定时限逾期"].values)[1:] == []


def test_a_second_decision_on_the_page_is_a_conflict_and_changes_nothing(app, world):
    _page_request(_client(app, "member"), world.items["owned"].id)
    request_id = _pending_id(app)
    first, second = _client(app, "committee"), _client(app, "admin")
    assert second.get(f"/items/{world.items['owned'].id}").status_code == 200  # the admin has the form open
    assert (
        first.post(f"/extension-requests/{request_id}/decision", data={"decision-decision": "approve"}).status_code
        == 302
    )
    late = second.post(
        f"/extension-requests/{request_id}/decision", data={"decision-decision": "refuse", "decision-note": "不同意"}
    )
    assert late.status_code == 409 and "这条申请已经审批过了" in late.get_data(as_text=True)
    item = _item_row(app, world.items["owned"].id)
    assert (item.deadline, item.extensions) == (date(2026, 7, 31), 1)
    assert [e.kind for e in _entries(app, item.id)] == ["extension_requested", "extension_approved"]


def test_a_request_on_a_cancelled_item_is_refused_on_the_page(app, world):
    committee = _client(app, "committee")
    item_id = world.items["owned"].id
    committee.post(f"/items/{item_id}/transition", data={"action": "cancel", "note": "重复事项"})
    response = _page_request(_client(app, "member"), item_id)
    assert response.status_code == 422
    assert "已销号或已撤销，不能延期" in response.get_data(as_text=True)
