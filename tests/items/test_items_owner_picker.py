"""The 责任人 picker lists exactly whom the server accepts, and a new item's gaps are flagged before saving."""

import re
from datetime import date

import pytest

from tests import factories
from tests.factories import login
from tracker.auth.models import User
from tracker.extensions import db
from tracker.items import rules
from tracker.items.models import Item

pytestmark = pytest.mark.usefixtures("frozen_now")


def item_form(world, **overrides):
    data = {
        "kind": "problem",
        "title": "看台无障碍席位不足",
        "group_id": str(world.cs.id),
        "severity": "high",
        "deadline": "2026-07-01",
        "measures": "增设轮椅席位 20 个",
    }
    data.update(overrides)
    return data


def optgroups(page: str) -> dict[str, list[str]]:
    """<optgroup label> → the option labels in it, for the owner select."""
    select = re.search(r'<select[^>]*id="owner_id".*?</select>', page, re.S).group(0)
    return {
        label: re.findall(r"<option[^>]*>([^<]*)</option>", body)
        for label, body in re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', select, re.S)
    }


@pytest.fixture
def people(app, world):
    with app.app_context():
        cs, js = db.session.get(type(world.cs), world.cs.id), db.session.get(type(world.js), world.js.id)
        factories.make_user("wujing", "member", [js], display_name="吴静")
        factories.make_user("vendor-js", "external", [js], display_name="计时公司")
        factories.make_user("vendor-cg", "external", [cs], display_name="舞美公司")
        factories.make_user("gone", "member", [cs], display_name="离岗人员", is_active_account=False)
        db.session.commit()


def test_picker_lists_group_members_by_group_and_nobody_else(client, world, people):
    login(client, "lead")
    groups = optgroups(client.get("/items/new").get_data(as_text=True))
    cg = next(members for label, members in groups.items() if label.startswith("CG"))
    js = next(members for label, members in groups.items() if label.startswith("JS"))
    assert "lead (lead)" in cg and "member (member)" in cg
    assert any(label.startswith("舞美公司 (vendor-cg)") for label in cg)  # a vendor of CG
    assert "吴静 (wujing)" in js and "吴静 (wujing)" not in cg
    listed = " ".join(cg + js)
    assert "admin" not in listed and "committee" not in listed and "离岗人员" not in listed
    assert "(external)" not in listed  # a vendor attached to no group owns nothing


def test_each_option_carries_the_groups_the_server_accepts_it_for(client, world, people):
    login(client, "lead")
    page = client.get("/items/new").get_data(as_text=True)
    vendor = re.search(r"<option[^>]*>计时公司 \(vendor-js\)", page).group(0)
    assert f'data-responsible="{world.js.id}"' in vendor and 'data-supporting=""' in vendor
    member = re.search(r"<option[^>]*>吴静 \(wujing\)", page).group(0)
    assert f'data-supporting="{world.js.id}"' in member


def test_server_accepts_a_supporting_group_member_and_refuses_another_groups_vendor(app, client, world, people):
    login(client, "committee")
    with app.app_context():
        wujing = db.session.scalar(db.select(User).where(User.username == "wujing"))
        vendor = db.session.scalar(db.select(User).where(User.username == "vendor-js"))
    refused = client.post("/items/new", data=item_form(world, owner_id=str(wujing.id)))
    assert refused.status_code == 422 and 'id="owner_id-error"' in refused.get_data(as_text=True)
    supported = item_form(world, owner_id=str(wujing.id), supporting_group_ids=[str(world.js.id)])
    assert client.post("/items/new", data=supported).status_code == 302
    by_vendor = item_form(world, title="计时公司负责", owner_id=str(vendor.id), supporting_group_ids=[str(world.js.id)])
    assert client.post("/items/new", data=by_vendor).status_code == 422


def test_creation_warnings_are_a_pure_rule():
    today = date(2026, 5, 29)
    assert rules.creation_warnings(None, date(2026, 5, 28), today) == ["no_owner", "past_deadline"]
    assert rules.creation_warnings(3, today, today) == []
    assert rules.creation_warnings(3, None, today) == []


def test_a_new_item_without_owner_or_with_a_past_deadline_asks_first_and_keeps_the_input(app, client, world):
    login(client, "lead")
    form = item_form(world, deadline="2026-05-01", measures="保留我")
    first = client.post("/items/new", data=form, headers={"Accept-Language": "zh-CN"})
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and 'id="warnings"' in page
    assert "未指定责任人" in page and "整改时限早于今天" in page and "保留我" in page
    with app.app_context():
        assert db.session.scalar(db.select(Item).where(Item.title == "看台无障碍席位不足")) is None
    saved = client.post("/items/new", data={**form, "confirm_warnings": "1"})
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(Item).where(Item.title == "看台无障碍席位不足")).deadline == date(2026, 5, 1)


def test_an_item_with_an_owner_and_a_future_deadline_saves_at_once(client, world):
    login(client, "lead")
    assert client.post("/items/new", data=item_form(world, owner_id=str(world.member.id))).status_code == 302


def test_errors_come_before_the_warnings(client, world):
    login(client, "otherlead")
    response = client.post("/items/new", data=item_form(world))  # CG is not their group
    assert response.status_code == 422 and 'name="confirm_warnings"' not in response.get_data(as_text=True)
