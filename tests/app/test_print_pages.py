"""The big screen's rotation setting, the printed page header and the closure form (销号审批表), as HTML."""

import re

import pytest

from tests.factories import login


def _signed_in(app, username):
    client = app.test_client()
    login(client, username)
    return client


def _rotate_seconds(html: str) -> str | None:
    found = re.search(r'data-rotate-seconds="(\d+)"', html)
    return found.group(1) if found else None


@pytest.mark.parametrize(
    ("query", "seconds"),
    [
        ("", "20"),
        ("&rotate=7", "7"),
        ("&rotate=0", "0"),
        ("&rotate=abc", "20"),
        ("&rotate=-5", "20"),
        ("&rotate=99999", "20"),
    ],
)
def test_the_big_screen_turns_as_the_setting_or_a_sensible_query_says(app, world, query, seconds):
    page = _signed_in(app, "member").get(f"/board?mode=screen{query}")
    assert page.status_code == 200
    assert _rotate_seconds(page.text) == seconds


def test_the_rotation_setting_comes_from_the_config(app, world):
    app.config["SCREEN_ROTATE_SECONDS"] = 45
    assert _rotate_seconds(_signed_in(app, "member").get("/board?mode=screen").text) == "45"


def test_the_ordinary_board_does_not_rotate(app, world):
    page = _signed_in(app, "member").get("/board").text
    assert _rotate_seconds(page) is None and "rotate-pause" not in page


def test_a_printed_list_names_its_filter_and_the_time(app, world):
    page = _signed_in(app, "committee").get("/problems?group=CG&overdue=1").text
    head = page[page.index('class="print-head"') : page.index('id="content"')]
    assert "筛选条件" in head and "CG · 场馆建设与无障碍环境组" in head and "打印时间" in head
    assert "(Asia/Shanghai)" in head


def test_a_page_without_item_filters_prints_no_filter_line(app, world):
    page = _signed_in(app, "committee").get("/notices").text
    head = page[page.index('class="print-head"') : page.index('id="content"')]
    assert "筛选条件" not in head and "打印时间" in head


def test_the_closure_form_has_the_item_and_places_to_sign(app, world):
    item = world.items["owned"]
    lead = _signed_in(app, "lead")
    assert f"/items/{item.id}/closure-form" in lead.get(f"/items/{item.id}").text
    form = lead.get(f"/items/{item.id}/closure-form")
    assert form.status_code == 200
    text = form.text
    assert "销号审批表" in text and item.title in text
    for words in ("整改措施", "佐证材料", "整改过程", "工作组组长", "组委会审核人", "签字", "日期"):
        assert words in text, words
    assert "新建" in text  # the history summary starts with the item's creation


def test_the_closure_form_of_a_confidential_item_is_as_hidden_as_the_item(app, world):
    item = world.items["other_confidential"]
    assert _signed_in(app, "lead").get(f"/items/{item.id}/closure-form").status_code == 404
    assert _signed_in(app, "committee").get(f"/items/{item.id}/closure-form").status_code == 200
