"""The JSON API's contract: shapes, roles (incl. cross-group and external), filters, paging, locking."""

import re
from datetime import date

import pytest
import time_machine

from tests.app.test_route_matrix import USERNAMES
from tests.factories import NOW, login
from tracker.api import services as tokens
from tracker.auth.models import User
from tracker.extensions import db
from tracker.items.models import Item, LedgerEntry

ITEM_KEYS = {
    "id",
    "code",
    "kind",
    "title",
    "description",
    "source",
    "key_area",
    "severity",
    "group",
    "supporting_groups",
    "owner",
    "measures",
    "deadline",
    "original_deadline",
    "extensions",
    "acceptance_criteria",
    "found_on",
    "venue",
    "remarks",
    "milestone",
    "confidential",
    "status",
    "overdue",
    "progress",
    "version",
    "created_at",
    "updated_at",
    "warnings",
}


def make_tokens(app) -> dict:
    """A bearer token per role of the world fixture."""
    secrets = {}
    with app.app_context():
        for role, username in USERNAMES.items():
            user = db.session.query(User).filter_by(username=username).one()
            _token, secrets[role] = tokens.create_token(user, f"{role} script", now=NOW)
        db.session.commit()
    return secrets


class Api:
    """A test client speaking as one role with its bearer token."""

    def __init__(self, client, secret: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def __call__(self, method: str, path: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open("/api/v1" + path, method=method, headers=headers, **kwargs)


@pytest.fixture
def api(app, world, client):
    secrets = make_tokens(app)
    return {role: Api(client, secret) for role, secret in secrets.items()} | {"anon": Api(client, None)}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _ids(response) -> set:
    return {row["id"] for row in response.get_json()["items"]}


# --- items: reading ------------------------------------------------------------------------


def test_item_is_the_flat_shape(api, world):
    response = api["lead"]("GET", f"/items/{world.items['owned'].id}")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == ITEM_KEYS
    assert body["group"] == "CG"
    assert body["owner"] == "member"
    assert body["deadline"] == "2026-06-30"
    assert body["status"] == "open" and body["overdue"] is False
    assert body["created_at"].endswith("Z")
    assert response.headers["ETag"] == f'"{body["version"]}"'


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("admin", {"owned", "unowned", "confidential", "other_group", "other_confidential", "external_item"}),
        ("committee", {"owned", "unowned", "confidential", "other_group", "other_confidential", "external_item"}),
        ("lead", {"owned", "unowned", "confidential", "other_group", "external_item"}),
        ("member", {"owned", "unowned", "confidential", "other_group", "external_item"}),
        ("other_lead", {"owned", "unowned", "other_group", "other_confidential", "external_item"}),
        ("other_member", {"owned", "unowned", "other_group", "other_confidential", "external_item"}),
        ("external", {"external_item"}),
    ],
)
def test_list_and_detail_agree_with_visibility(api, world, role, visible):
    listed = _ids(api[role]("GET", "/items"))
    assert listed == {world.items[name].id for name in visible}
    for name, item in world.items.items():
        status = api[role]("GET", f"/items/{item.id}").status_code
        assert status == (200 if name in visible else 404), (role, name)


def test_hidden_item_answers_like_a_missing_one(api, world):
    hidden = api["other_lead"]("GET", f"/items/{world.items['confidential'].id}")
    missing = api["other_lead"]("GET", "/items/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()


def test_huge_item_id_is_just_missing(api):
    assert api["admin"]("GET", "/items/99999999999999999999").status_code == 404


def test_filters(api, world):
    admin = api["admin"]
    assert _ids(admin("GET", "/items?group=JS")) == {
        world.items["other_group"].id,
        world.items["other_confidential"].id,
    }
    assert _ids(admin("GET", "/items?owner=member")) == {world.items["owned"].id}
    assert _ids(admin("GET", "/items?kind=task")) == set()
    assert len(_ids(admin("GET", "/items?status=open"))) == 6
    assert _ids(admin("GET", "/items?due_before=2026-06-01")) == set()
    assert len(_ids(admin("GET", "/items?due_before=2026-06-30"))) == 6
    assert _ids(admin("GET", "/items?overdue=true")) == set()


def test_status_groups_filter_several_statuses(api, world, app):
    with app.app_context():
        db.session.get(Item, world.items["owned"].id).status = "cancelled"
        db.session.get(Item, world.items["other_group"].id).status = "closed"
        db.session.commit()
    admin = api["admin"]
    everything = _ids(admin("GET", "/items?per_page=100"))
    assert _ids(admin("GET", "/items?status=counted")) == everything - {world.items["owned"].id}
    assert _ids(admin("GET", "/items?status=active")) == everything - {
        world.items[k].id for k in ("owned", "other_group")
    }


def test_overdue_filter_follows_the_clock(api, world):
    with time_machine.travel(date(2026, 7, 2), tick=False):
        body = api["admin"]("GET", "/items?overdue=true").get_json()
    assert body["total"] == 6
    assert all(row["overdue"] for row in body["items"])


def test_milestone_filter(api, world, app):
    created = api["committee"]("POST", "/milestones", json={"title": "T-30 全要素演练", "offset_days": -30})
    milestone = created.get_json()["id"]
    owned = world.items["owned"].id
    api["lead"]("PATCH", f"/items/{owned}", json={"version": 1, "milestone": milestone})
    assert _ids(api["admin"]("GET", f"/items?milestone={milestone}")) == {owned}


def test_pagination(api, world):
    first = api["admin"]("GET", "/items?per_page=4&page=1").get_json()
    second = api["admin"]("GET", "/items?per_page=4&page=2").get_json()
    assert (first["total"], first["page"], first["per_page"]) == (6, 1, 4)
    assert len(first["items"]) == 4 and len(second["items"]) == 2
    assert not _ids_of(first) & _ids_of(second)
    too_many = api["admin"]("GET", "/items?per_page=1000")
    assert too_many.status_code == 422 and "per_page" in too_many.get_json()["error"]["fields"]


def test_item_list_queries_do_not_grow_with_rows(api, app, world):
    from sqlalchemy import event

    def queries_for(path: str) -> int:
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert api["admin"]("GET", path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    for n in range(20):
        api["lead"]("POST", "/items", json={"title": f"批量{n}", "group": "CG", "supporting_groups": ["JS"]})
    queries_for("/items?per_page=1")  # the token's first use is recorded once
    assert queries_for("/items?per_page=26") == queries_for("/items?per_page=2")


def _ids_of(body) -> set:
    return {row["id"] for row in body["items"]}


@pytest.mark.parametrize("query", ["page=0", "page=x", "overdue=maybe", "due_before=2026-13-01", "status=lost"])
def test_bad_query_parameters_are_named(api, query):
    response = api["admin"]("GET", f"/items?{query}")
    assert response.status_code == 422
    assert query.split("=")[0] in response.get_json()["error"]["fields"]


# --- items: writing ------------------------------------------------------------------------


def test_lead_creates_an_item_in_their_group(api, world, app):
    response = api["lead"](
        "POST",
        "/items",
        json={
            "title": "检录处无障碍坡道",
            "group": "CG",
            "supporting_groups": ["JS"],
            "owner": "member",
            "deadline": "2026-07-15",
            "severity": "high",
            "kind": "task",
            "confidential": False,
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert (body["group"], body["supporting_groups"], body["owner"], body["status"]) == ("CG", ["JS"], "member", "open")
    with app.app_context():
        entries = db.session.query(LedgerEntry).filter_by(item_id=body["id"]).all()
        assert [e.kind for e in entries] == ["created"]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 201),
        ("committee", 201),
        ("lead", 201),
        ("other_lead", 422),
        ("member", 403),
        ("other_member", 403),
        ("external", 403),
        ("anon", 401),
    ],
)
def test_who_may_create_items_in_cg(api, role, status):
    assert api[role]("POST", "/items", json={"title": "新问题", "group": "CG"}).status_code == status


def test_create_names_unknown_and_read_only_fields(api):
    response = api["lead"]("POST", "/items", json={"title": "x", "group": "CG", "status": "closed", "colour": "red"})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"status", "colour"}


def test_create_translates_references(api):
    response = api["lead"]("POST", "/items", json={"title": "x", "group": "NOPE", "owner": "nobody"})
    assert response.status_code == 422
    assert "group" in response.get_json()["error"]["fields"]


def test_patch_changes_fields_and_bumps_the_version(api, world, app):
    item_id = world.items["owned"].id
    response = api["lead"]("PATCH", f"/items/{item_id}", json={"version": 1, "title": "坡道整改（二期）"})
    assert response.status_code == 200
    assert response.get_json()["title"] == "坡道整改（二期）"
    assert response.get_json()["version"] == 2
    with app.app_context():
        assert db.session.get(Item, item_id).title == "坡道整改（二期）"


def test_patch_takes_if_match(api, world):
    item_id = world.items["owned"].id
    response = api["lead"]("PATCH", f"/items/{item_id}", json={"measures": "加装扶手"}, headers={"If-Match": '"1"'})
    assert response.status_code == 200


def test_stale_version_is_a_conflict_and_changes_nothing(api, world, app):
    item_id = world.items["owned"].id
    assert api["lead"]("PATCH", f"/items/{item_id}", json={"version": 1, "title": "先改"}).status_code == 200
    stale = api["committee"]("PATCH", f"/items/{item_id}", json={"version": 1, "title": "后改"})
    assert stale.status_code == 409
    error = stale.get_json()["error"]
    assert error["code"] == "conflict" and error["current_version"] == 2
    stale_header = api["committee"]("PATCH", f"/items/{item_id}", json={"title": "后改"}, headers={"If-Match": '"1"'})
    assert stale_header.status_code == 409
    with app.app_context():
        assert db.session.get(Item, item_id).title == "先改"


def test_patch_without_a_version_is_refused(api, world):
    response = api["lead"]("PATCH", f"/items/{world.items['owned'].id}", json={"title": "x"})
    assert response.status_code == 422
    assert "version" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("field", ["status", "id", "progress", "created_at", "updated_at", "overdue"])
def test_read_only_fields_are_named(api, world, field):
    response = api["admin"]("PATCH", f"/items/{world.items['owned'].id}", json={"version": 1, field: "x"})
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_lead_may_not_move_an_item_to_another_group(api, world, app):
    item_id = world.items["unowned"].id
    response = api["lead"]("PATCH", f"/items/{item_id}", json={"version": 1, "group": "JS"})
    assert response.status_code == 422
    assert "group" in response.get_json()["error"]["fields"]
    assert api["lead"]("PATCH", f"/items/{item_id}", json={"version": 1, "group": "CG"}).status_code == 200
    moved = api["committee"]("PATCH", f"/items/{item_id}", json={"version": 1, "group": "JS"})
    assert moved.status_code == 200 and moved.get_json()["group"] == "JS"


def test_deadline_change_needs_a_reason(api, world):
    path = f"/items/{world.items['owned'].id}"
    without = api["committee"]("PATCH", path, json={"version": 1, "deadline": "2026-07-31"})
    assert without.status_code == 422 and "reason" in without.get_json()["error"]["fields"]
    with_reason = api["committee"]("PATCH", path, json={"version": 1, "deadline": "2026-07-31", "reason": "材料延误"})
    assert with_reason.status_code == 200 and with_reason.get_json()["deadline"] == "2026-07-31"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("committee", 200),
        ("lead", 200),
        ("member", 403),
        ("other_lead", 403),
        ("other_member", 403),
        ("external", 404),
        ("anon", 401),
    ],
)
def test_who_may_patch_a_cg_item(api, world, role, status):
    response = api[role]("PATCH", f"/items/{world.items['owned'].id}", json={"version": 1, "measures": "新措施"})
    assert response.status_code == status


def test_workflow_through_transitions(api, world):
    path = f"/items/{world.items['owned'].id}/transitions"
    assert api["member"]("POST", path, json={"action": "start"}).get_json()["status"] == "in_progress"
    assert api["member"]("POST", path, json={"action": "submit"}).get_json()["status"] == "submitted"
    assert api["lead"]("POST", path, json={"action": "verify"}).status_code == 403
    reject = api["committee"]("POST", path, json={"action": "reject"})
    assert reject.status_code == 422 and "note" in reject.get_json()["error"]["fields"]
    closed = api["committee"]("POST", path, json={"action": "verify", "note": "现场复核合格"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert closed.get_json()["progress"] == 100


def test_submitter_may_not_verify(api, world):
    path = f"/items/{world.items['unowned'].id}/transitions"
    api["admin"]("POST", path, json={"action": "start"})
    api["admin"]("POST", path, json={"action": "submit"})
    # An admin may override 谁整改不验收 only with a reason, which the audit log keeps.
    assert api["admin"]("POST", path, json={"action": "verify"}).status_code == 422
    assert api["admin"]("GET", path.rsplit("/", 1)[0]).get_json()["status"] == "submitted"
    assert api["committee"]("POST", path, json={"action": "verify"}).status_code == 200


def test_transition_not_possible_now(api, world):
    response = api["committee"]("POST", f"/items/{world.items['owned'].id}/transitions", json={"action": "verify"})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"action"}


@pytest.mark.parametrize(
    ("role", "status"),
    [("external", 200), ("member", 403), ("other_lead", 403), ("lead", 200), ("committee", 403)],
)
def test_who_may_start_the_external_item(api, world, role, status):
    path = f"/items/{world.items['external_item'].id}/transitions"
    assert api[role]("POST", path, json={"action": "start"}).status_code == status


def test_external_cannot_reach_other_items(api, world):
    path = f"/items/{world.items['owned'].id}"
    assert api["external"]("GET", path).status_code == 404
    assert api["external"]("POST", path + "/transitions", json={"action": "start"}).status_code == 404
    assert api["external"]("GET", path + "/ledger").status_code == 404
    assert api["external"]("POST", path + "/ledger", json={"note": "x"}).status_code == 404


# --- ledger --------------------------------------------------------------------------------


def test_progress_note_lands_in_the_ledger(api, world):
    path = f"/items/{world.items['owned'].id}/ledger"
    created = api["member"]("POST", path, json={"note": "已完成基础浇筑", "progress": 40})
    assert created.status_code == 201
    entry = created.get_json()
    assert (entry["kind"], entry["author"], entry["before"], entry["after"]) == ("progress", "member", "0", "40")
    ledger = api["lead"]("GET", path).get_json()
    assert [e["kind"] for e in ledger["items"]] == ["created", "progress"]
    assert ledger["total"] == 2
    assert api["lead"]("GET", f"/items/{world.items['owned'].id}").get_json()["progress"] == 40


def test_progress_validation(api, world):
    path = f"/items/{world.items['owned'].id}/ledger"
    assert api["member"]("POST", path, json={}).status_code == 422
    assert api["member"]("POST", path, json={"progress": 101}).status_code == 422
    assert api["member"]("POST", path, json={"progress": 0}).status_code == 422  # nothing would change
    assert api["other_member"]("POST", path, json={"note": "x"}).status_code == 403


# --- event, groups, milestones, me ---------------------------------------------------------


def test_event(api):
    body = api["member"]("GET", "/event").get_json()
    assert body["name"] == "广东省第十届残疾人运动会"
    assert body["opening_at"] == "2026-09-18T12:00:00Z"
    assert body["days_to_opening"] == 112


def test_admin_puts_the_event(api):
    payload = {"name": "残运会", "opening_at": "2026-09-20T20:00:00+08:00", "timezone": "Asia/Shanghai"}
    assert api["committee"]("PUT", "/event", json=payload).status_code == 403
    response = api["admin"]("PUT", "/event", json=payload)
    assert response.status_code == 200
    assert response.get_json()["opening_at"] == "2026-09-20T12:00:00Z"
    assert response.get_json()["days_to_opening"] == 114


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"closing_at": "2026-09-01T00:00:00+08:00"}, "closing_at"),
        ({"opening_at": "2026-09-20T20:00:00"}, "opening_at"),
    ],
)
def test_event_rules(api, payload, field):
    body = {"name": "残运会", "opening_at": "2026-09-20T20:00:00+08:00", "timezone": "Asia/Shanghai", **payload}
    response = api["admin"]("PUT", "/event", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_groups(api):
    listed = api["external"]("GET", "/groups").get_json()
    assert [g["code"] for g in listed["items"]] == ["CG", "JS"]
    assert api["lead"]("POST", "/groups", json={"code": "JD", "name": "接待组"}).status_code == 403
    created = api["admin"]("POST", "/groups", json={"code": "jd", "name": "接待组"})
    assert created.status_code == 201 and created.get_json()["code"] == "JD"
    taken = api["admin"]("POST", "/groups", json={"code": "JD", "name": "又一个"})
    assert taken.status_code == 422 and "code" in taken.get_json()["error"]["fields"]


@pytest.mark.parametrize(
    ("role", "status"), [("admin", 201), ("committee", 201), ("lead", 403), ("member", 403), ("external", 403)]
)
def test_who_may_add_milestones(api, role, status):
    assert api[role]("POST", "/milestones", json={"title": "T-7 测试赛", "offset_days": -7}).status_code == status


def test_milestones(api):
    created = api["committee"](
        "POST", "/milestones", json={"title": "开幕式彩排", "date": "2026-09-10", "kind": "ceremony", "group": "JS"}
    )
    assert created.status_code == 201
    body = created.get_json()
    assert (body["date"], body["t_label"], body["group"], body["days_left"]) == ("2026-09-10", "T-8", "JS", 104)
    both = api["committee"]("POST", "/milestones", json={"title": "x", "date": "2026-09-10", "offset_days": -3})
    assert both.status_code == 422 and "date" in both.get_json()["error"]["fields"]
    assert [m["id"] for m in api["member"]("GET", "/milestones").get_json()["items"]] == [body["id"]]


def test_users_me(api):
    body = api["lead"]("GET", "/users/me").get_json()
    assert (body["username"], body["role"], body["groups"]) == ("lead", "lead", ["CG"])
    assert body["calendar_url"].startswith("http")


# --- sessions ------------------------------------------------------------------------------


def test_a_signed_in_browser_may_read(client, world):
    login(client, "member")
    assert client.get("/api/v1/users/me").get_json()["username"] == "member"


def test_session_writes_need_the_csrf_token(app, world):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/login")
    token = _csrf_from(page.get_data(as_text=True))
    client.post("/login", data={"username": "lead", "password": "correct-horse-1", "csrf_token": token})
    path = f"/api/v1/items/{world.items['owned'].id}/ledger"
    refused = client.post(path, json={"note": "无令牌"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_failed"
    fresh = _csrf_from(client.get("/account/tokens").get_data(as_text=True))
    assert client.post(path, json={"note": "有令牌"}, headers={"X-CSRFToken": fresh}).status_code == 201


def test_bearer_writes_need_no_csrf_token(app, world):
    app.config["WTF_CSRF_ENABLED"] = True
    secret = make_tokens(app)["lead"]
    response = app.test_client().post(
        f"/api/v1/items/{world.items['owned'].id}/ledger",
        json={"note": "脚本写入"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201


def _csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
