"""The lists: search by person and by several words, the default order, column sorting, paging,
finished items' badges, empty groups on the board, new groups' place, and landing after an import."""

import re
from datetime import date
from io import BytesIO
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from tests import factories
from tests.factories import NOW, login
from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import services
from tracker.items.models import Item

pytestmark = pytest.mark.usefixtures("frozen_now")


def titles(page: str) -> list[str]:
    """The item titles of a list page, top to bottom."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return re.findall(r'<a href="/items/\d+">([^<]+)</a>', body)


def _get(app, model, id_):
    return db.session.get(model, id_)


@pytest.fixture
def wujing(app, world):
    """吴静, a CG member who owns one item; "无障碍 卫生间" appear together in one item only."""
    with app.app_context():
        cs = db.session.get(WorkGroup, world.cs.id)
        lead = db.session.get(User, world.lead.id)
        person = factories.make_user("wujing", "member", [cs], display_name="吴静")
        factories.make_item(lead, cs, title="看台扶手松动", owner_id=person.id)
        factories.make_item(lead, cs, title="无障碍卫生间呼叫按钮失灵")
        factories.make_item(lead, cs, title="无障碍坡道", description="不涉及洗手间")
        factories.make_item(lead, cs, title="卫生间指示牌缺失")
        db.session.commit()
        return person.id


def test_searching_a_persons_name_finds_the_items_they_own(client, world, wujing):
    login(client, "committee")
    assert titles(client.get("/problems?q=吴静").get_data(as_text=True)) == ["看台扶手松动"]


@pytest.mark.parametrize("owner", ["吴静", "wujing"])
def test_owner_filter_takes_a_display_name_or_a_username(client, world, wujing, owner):
    login(client, "committee")
    assert titles(client.get(f"/responsibilities?owner={owner}").get_data(as_text=True)) == ["看台扶手松动"]


def test_a_username_wins_over_someone_elses_display_name(app, client, world, wujing):
    with app.app_context():
        factories.make_user("impostor", "member", display_name="wujing")
        db.session.commit()
    login(client, "committee")
    assert titles(client.get("/problems?owner=wujing").get_data(as_text=True)) == ["看台扶手松动"]


def test_two_words_find_items_containing_both(client, world, wujing):
    login(client, "committee")
    assert titles(client.get("/problems?q=无障碍 卫生间").get_data(as_text=True)) == ["无障碍卫生间呼叫按钮失灵"]
    assert titles(client.get("/problems?q=无障碍　卫生间").get_data(as_text=True)) == ["无障碍卫生间呼叫按钮失灵"]


def test_search_words_are_text_not_wildcards(client, world, wujing):
    login(client, "committee")
    assert titles(client.get("/problems?q=%25").get_data(as_text=True)) == []


def test_api_owner_filter_and_words_search_the_same_way(client, world, wujing):
    login(client, "committee")
    by_name = client.get("/api/v1/items?owner=吴静").get_json()
    assert [i["title"] for i in by_name["items"]] == ["看台扶手松动"]
    both = client.get("/api/v1/items?q=无障碍 卫生间").get_json()
    assert [i["title"] for i in both["items"]] == ["无障碍卫生间呼叫按钮失灵"]


def _finish(app, world):
    with app.app_context():
        committee = db.session.get(User, world.committee.id)
        lead = db.session.get(User, world.lead.id)
        cs = db.session.get(WorkGroup, world.cs.id)
        early = factories.make_item(lead, cs, title="最早到期但已撤销", deadline=date(2026, 6, 1))
        services.transition(early, "cancel", actor=committee, now=NOW, note="重复事项")
        done = factories.make_item(lead, cs, title="已销号事项", deadline=date(2026, 6, 2))
        services.transition(done, "start", actor=lead, now=NOW)
        services.transition(done, "submit", actor=lead, now=NOW)
        services.transition(done, "verify", actor=committee, now=NOW)
        db.session.commit()


def test_default_order_puts_closed_and_cancelled_last(app, client, world):
    _finish(app, world)
    login(client, "committee")
    listed = titles(client.get("/problems").get_data(as_text=True))
    assert set(listed[-2:]) == {"最早到期但已撤销", "已销号事项"}
    # Sorting by deadline on purpose still sorts by deadline only.
    assert titles(client.get("/problems?sort=deadline").get_data(as_text=True))[0] == "最早到期但已撤销"


def test_finished_items_show_their_status_not_a_green_light(app, client, world):
    _finish(app, world)
    login(client, "committee")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for path in ("/problems", "/ledger"):
        page = client.get(path).get_data(as_text=True)
        body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        rows = {t: r for r in body.split("<tr>") for t in titles(f"<tbody>{r}</tbody>")}
        cards = page.split('<ul class="item-cards"', 1)[1].split("</ul>", 1)[0].split('<li class="item-card">')
        for title, status in (("已销号事项", "Closed"), ("最早到期但已撤销", "Cancelled")):
            (card,) = [c for c in cards if f"</span> {title}</a>" in c]  # the same item as a card on a phone
            for shown in (rows[title], card):
                assert "light-green" not in shown and "Green" not in shown
                assert 'class="badge finished status-' in shown and status in shown


def test_a_column_header_is_a_button_that_sorts_and_says_so(client, world):
    login(client, "committee")
    page = client.get("/problems?sort=title&group=CG").get_data(as_text=True)
    header = re.search(r'<th scope="col" aria-sort="ascending">(.*?)</th>', page, re.S).group(1)
    assert '<button type="submit" class="sort-button">' in header
    assert 'name="sort" value="-title"' in header and 'name="group" value="CG"' in header
    listed = titles(page)
    assert listed == sorted(listed)
    descending = client.get("/problems?sort=-title&group=CG").get_data(as_text=True)
    assert 'aria-sort="descending"' in descending and titles(descending) == sorted(listed, reverse=True)
    # The default order marks no column: it is not any single column's order.
    assert "aria-sort" not in client.get("/problems").get_data(as_text=True)


def test_severity_sorts_by_seriousness_not_alphabetically(app, client, world):
    with app.app_context():
        lead = db.session.get(User, world.lead.id)
        cs = db.session.get(WorkGroup, world.cs.id)
        for severity in ("low", "high", "medium"):
            factories.make_item(lead, cs, title=f"严重程度 {severity}", severity=severity)
        db.session.commit()
    login(client, "committee")
    listed = [t for t in titles(client.get("/problems?sort=severity&q=严重程度").get_data(as_text=True))]
    assert listed == ["严重程度 high", "严重程度 medium", "严重程度 low"]


def test_a_page_past_the_end_lands_on_the_last_page(app, client, world):
    app.config["ITEMS_PER_PAGE"] = 2
    login(client, "committee")
    response = client.get("/ledger?page=999&group=CG")
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/ledger" and parse_qs(target.query) == {"page": ["2"], "group": ["CG"]}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "999" not in page and len(titles(page)) >= 1


def test_an_empty_list_past_page_one_lands_on_page_one(client, world):
    login(client, "committee")
    response = client.get("/problems?page=5&q=nothing-like-this")
    assert response.status_code == 302 and "page=1" in response.headers["Location"]


def test_a_group_without_items_reads_no_items_on_the_board(app, client, world):
    with app.app_context():
        factories.make_group("XC", "宣传组", name_en="Publicity")
        db.session.commit()
    login(client, "committee")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/board").get_data(as_text=True)
    row = re.search(r'<tr class="rag-none">(.*?)</tr>', page, re.S).group(1)
    assert "XC" in row and "No items" in row
    assert "light-green" not in row and "0%" not in row


def test_a_new_group_takes_its_place_after_the_configured_ones(app, client, world):
    with app.app_context():
        for group in db.session.scalars(select(WorkGroup)):
            group.sort_order = 5 if group.code == "CG" else 7
        db.session.commit()
    login(client, "admin")
    response = client.post("/admin/groups/new", data={"code": "AA", "name": "安保组", "name_en": "Security"})
    assert response.status_code == 302
    listed = client.get("/api/v1/groups").get_json()["items"]
    assert [g["code"] for g in listed] == ["CG", "JS", "AA"]
    # An explicit place is kept.
    client.post("/admin/groups/new", data={"code": "BB", "name": "保障组", "sort_order": "1"})
    assert [g["code"] for g in client.get("/api/v1/groups").get_json()["items"]][0] == "BB"


def _sheet(*titles_: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["序号", "问题描述", "问题来源", "整改措施", "责任单位", "配合单位", "责任人", "整改时限", "备注"])
    for n, title in enumerate(titles_, 1):
        sheet.append([n, title, "", "重新浇筑", "CG", "", "member", "2026-06-30", ""])
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_after_an_import_the_user_lands_on_the_list_of_the_imported_items(app, client, world, tmp_path):
    app.config["IMPORT_DIR"] = str(tmp_path / "imports")
    login(client, "lead")
    client.post("/import", data={"file": (BytesIO(_sheet("导入一", "导入二")), "台账.xlsx")})
    (token,) = factories.kept_uploads(app)
    response = client.post("/import/confirm", data={"token": token})
    location = urlsplit(response.headers["Location"])
    assert response.status_code == 302 and location.path == "/ledger" and "batch=" in location.query
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert sorted(titles(page)) == ["导入一", "导入二"]


def test_a_supporting_group_member_is_offered_the_progress_form(app, client, world):
    with app.app_context():
        item = db.session.get(Item, world.items["other_group"].id)
        item.supporting_groups = [db.session.get(WorkGroup, world.cs.id)]
        db.session.commit()
    login(client, "member")
    page = client.get(f"/items/{world.items['other_group'].id}").get_data(as_text=True)
    assert f'action="/items/{world.items["other_group"].id}/progress"' in page
    response = client.post(f"/items/{world.items['other_group'].id}/progress", data={"note": "配合单位已完成标识"})
    assert response.status_code == 302


def test_whoever_recorded_progress_is_not_offered_verification(app, client, world):
    item_id = world.items["unowned"].id
    with app.app_context():
        item = db.session.get(Item, item_id)
        committee = db.session.get(User, world.committee.id)
        lead = db.session.get(User, world.lead.id)
        services.add_progress(item, actor=committee, now=NOW, note="已复核一半", progress=50)
        services.transition(item, "start", actor=lead, now=NOW)
        services.transition(item, "submit", actor=lead, now=NOW)
        db.session.commit()
    login(client, "committee")
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert 'value="verify"' not in page and 'value="reject"' in page
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get(f"/items/{item_id}").get_data(as_text=True)
    assert 'value="verify"' in page and 'id="override-note"' not in page  # the admin had no part in it


def test_an_admin_who_had_a_part_is_told_the_verification_is_an_override(app, client, world):
    item_id = world.items["unowned"].id
    with app.app_context():
        item = db.session.get(Item, item_id)
        admin = db.session.get(User, world.admin.id)
        services.transition(item, "start", actor=admin, now=NOW)
        services.transition(item, "submit", actor=admin, now=NOW)
        db.session.commit()
    login(client, "admin")
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert 'id="override-note"' in page
    assert re.search(r'<textarea id="note-verify" name="note" rows="2" required>', page)
    refused = client.post(f"/items/{item_id}/transition", data={"action": "verify", "note": ""})
    assert refused.status_code == 422
    done = client.post(f"/items/{item_id}/transition", data={"action": "verify", "note": "验收组缺员，代验"})
    assert done.status_code == 302
