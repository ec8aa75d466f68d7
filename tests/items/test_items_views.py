"""Item pages: forms keep input on errors, conflicts are shown, evidence is checked."""

import io
import re

import pytest
from sqlalchemy import event

from tests.factories import login
from tracker.extensions import db
from tracker.items.models import Evidence, Item, LedgerEntry

pytestmark = pytest.mark.usefixtures("frozen_now")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def count(app, model):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(model.id)))


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


def test_lead_adds_an_item(app, client, world):
    login(client, "lead")
    response = client.post("/items/new", data=item_form(world, owner_id=str(world.member.id)))
    assert response.status_code == 302
    with app.app_context():
        item = db.session.scalar(db.select(Item).where(Item.title == "看台无障碍席位不足"))
        assert item.owner_id == world.member.id and item.group_id == world.cs.id


def test_invalid_form_keeps_input_and_writes_nothing(app, client, world):
    login(client, "lead")
    before = count(app, Item)
    response = client.post("/items/new", data=item_form(world, title="", deadline="2026-13-45", measures="保留我"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "保留我" in page
    assert 'aria-describedby="title-error"' in page and 'id="error-summary"' in page
    assert count(app, Item) == before


def test_supporting_groups_are_check_boxes_that_keep_their_choice(app, client, world):
    login(client, "lead")
    form = client.get("/items/new").get_data(as_text=True)
    boxes = re.findall(r'<input type="checkbox" id="([^"]+)" name="supporting_group_ids" value="(\d+)"', form)
    assert {int(value) for _, value in boxes} >= {world.cs.id, world.js.id}
    assert all(f'<label for="{box}">' in form for box, _ in boxes)
    assert boxes[0][0] == "supporting_group_ids"  # the error summary's link lands on the first box
    response = client.post("/items/new", data=item_form(world, title="", supporting_group_ids=[str(world.js.id)]))
    assert response.status_code == 422
    checked = re.findall(r'name="supporting_group_ids" value="(\d+)" checked', response.get_data(as_text=True))
    assert checked == [str(world.js.id)]
    client.post("/items/new", data=item_form(world, supporting_group_ids=[str(world.js.id)], confirm_warnings="1"))
    with app.app_context():
        item = db.session.scalar(db.select(Item).where(Item.title == "看台无障碍席位不足"))
        assert [g.id for g in item.supporting_groups] == [world.js.id]


def test_unknown_owner_gets_a_field_message(app, client, world):
    login(client, "lead")
    response = client.post("/items/new", data=item_form(world, owner_id=str(world.other_member.id)))
    assert response.status_code == 422
    assert 'id="owner_id-error"' in response.get_data(as_text=True)


def test_past_deadline_is_accepted_with_a_warning(client, world):
    login(client, "lead")
    response = client.post(
        "/items/new", data=item_form(world, deadline="2020-01-01", title=""), headers={"Accept-Language": "en"}
    )
    assert "in the past" in response.get_data(as_text=True)


def test_stale_edit_shows_the_other_change_and_overwrites_nothing(app, client, world):
    item_id = world.items["unowned"].id
    other = app.test_client()
    login(other, "committee")
    login(client, "lead")
    form = item_form(world, title="委员会改的标题", deadline="2026-06-30", version="1")
    assert other.post(f"/items/{item_id}/edit", data=form).status_code == 302
    response = client.post(
        f"/items/{item_id}/edit", data=item_form(world, title="组长改的标题", deadline="2026-06-30", version="1")
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "委员会改的标题" in page and "组长改的标题" in page  # theirs shown, mine kept
    with app.app_context():
        assert db.session.get(Item, item_id).title == "委员会改的标题"


def test_transition_with_missing_reason_is_explained(client, world):
    login(client, "committee")
    response = client.post(f"/items/{world.items['owned'].id}/transition", data={"action": "cancel", "note": ""})
    assert response.status_code == 422


def test_detail_offers_only_allowed_actions(client, world):
    login(client, "member")
    page = client.get(f"/items/{world.items['owned'].id}").get_data(as_text=True)
    assert 'value="start"' in page and 'value="verify"' not in page and 'value="cancel"' not in page


def test_evidence_upload_and_download(app, client, world):
    item_id = world.items["owned"].id
    login(client, "member")
    response = client.post(
        f"/items/{item_id}/progress",
        data={"note": "坡道已浇筑", "progress": "60", "files": [(io.BytesIO(PNG), "ramp.png")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        record = db.session.scalar(db.select(Evidence))
        assert record.content_type == "image/png" and record.filename == "ramp.png"
        token = record.storage_name
    download = client.get(f"/items/{item_id}/evidence/{token}")
    assert download.status_code == 200 and download.data == PNG
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    outsider = app.test_client()
    login(outsider, "external")
    assert outsider.get(f"/items/{item_id}/evidence/{token}").status_code == 404


def test_evidence_type_is_checked_by_content(app, client, world):
    login(client, "member")
    before = count(app, LedgerEntry)
    response = client.post(
        f"/items/{world.items['owned'].id}/progress",
        data={"note": "伪装的图片", "files": [(io.BytesIO(b"<script>alert(1)</script>"), "photo.png")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert count(app, LedgerEntry) == before


def test_oversized_evidence_is_refused(app, client, world):
    app.config["EVIDENCE_MAX_BYTES"] = 100
    login(client, "member")
    response = client.post(
        f"/items/{world.items['owned'].id}/progress",
        data={"note": "大文件", "files": [(io.BytesIO(PNG + b"\x00" * 200), "big.png")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422


def test_lists_filter_by_group_and_overdue(client, world):
    login(client, "committee")
    page = client.get("/problems?group=JS").get_data(as_text=True)
    assert "计时设备调试" in page and "坡道整改" not in page
    overdue = client.get("/ledger?overdue=1").get_data(as_text=True)
    assert "坡道整改" not in overdue


def test_lists_hide_confidential_items_from_other_groups(client, world):
    login(client, "otherlead")
    page = client.get("/problems").get_data(as_text=True)
    assert "安检通道漏洞" not in page and "兴奋剂检查站保密" in page


def test_external_lists_only_their_items(client, world):
    login(client, "external")
    page = client.get("/responsibilities").get_data(as_text=True)
    assert "舞美搭建" in page and "坡道整改" not in page


def test_bad_filter_values_never_fail(client, world):
    login(client, "lead")
    response = client.get("/problems?milestone=abc&due_before=notadate&page=-3&sort=';drop")
    assert response.status_code == 200


def test_list_query_count_does_not_grow_with_items(app, client, world):
    login(client, "committee")

    def queries_for(path):
        statements = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    few = {p: queries_for(p) for p in ("/problems", "/responsibilities", "/ledger")}
    from tests.factories import make_item
    from tracker.auth.models import User
    from tracker.groups.models import WorkGroup

    with app.app_context():
        lead = db.session.get(User, world.lead.id)
        group = db.session.get(WorkGroup, world.cs.id)
        for n in range(30):
            make_item(lead, group, title=f"批量 {n}", owner_id=world.member.id, supporting_group_ids=[world.js.id])
        db.session.commit()
    many = {p: queries_for(p) for p in few}
    assert many == few


def test_language_switch_is_remembered(client, world):
    login(client, "lead")
    client.post("/language", data={"language": "en", "next": "/problems"})
    page = client.get("/problems").get_data(as_text=True)
    assert re.search(r'<html lang="en"', page)


def test_due_soon_filter_matches_the_board_count(app, client, world):
    from datetime import date

    from tests.factories import make_item
    from tracker.auth.models import User
    from tracker.groups.models import WorkGroup

    with app.app_context():
        lead = db.session.get(User, world.lead.id)
        group = db.session.get(WorkGroup, world.cs.id)
        make_item(lead, group, title="三天内到期", deadline=date(2026, 5, 31))
        make_item(lead, group, title="下月到期", deadline=date(2026, 6, 20))
        db.session.commit()
    login(client, "committee")
    page = client.get("/problems?due_soon=1").get_data(as_text=True)
    assert "三天内到期" in page and "下月到期" not in page
