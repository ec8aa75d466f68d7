"""The 责任人 picker in a real browser: it offers only the people the server accepts, grouped and searchable."""

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import T, new_page, sign_in
from tracker.extensions import db
from tracker.groups.models import WorkGroup

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GROUP_LABELS = {
    "zh_CN": {"CG": "CG · 场馆建设与无障碍环境组", "JS": "JS · 竞赛组织组"},
    "en": {"CG": "CG · Venues & Accessible Environment", "JS": "JS · Competition Organisation"},
}


def _js_people():
    js = db.session.scalar(db.select(WorkGroup).where(WorkGroup.code == "JS"))
    factories.make_user("wujing", "member", [js], display_name="吴静")
    factories.make_user("vendor-js", "external", [js], display_name="计时公司")


def option_labels(select) -> list[str]:
    return [text.strip() for text in select.locator("option").all_inner_texts()]


@pytest.mark.parametrize("t", ["zh_CN", "en"], indirect=True)
def test_lead_picks_an_owner_from_the_groups_and_finds_them_by_name(browser, world_server, t: T):
    world_server.run(_js_people)
    page = new_page(browser, world_server, t)
    sign_in(page, t, "lead")
    page.goto("/items/new")
    page.get_by_label(t("Title")).fill("无障碍卫生间呼叫按钮失灵")
    page.get_by_label(t("Responsible group")).select_option(label=GROUP_LABELS[t.locale]["CG"])
    owner = page.get_by_label(t("Responsible person"))
    status = page.locator("#owner-search-status")  # the picker's live region (role=status)

    # Only people of the chosen group: its lead and member, not another group's people or vendor.
    expect(status).to_have_text(t("People who can be responsible for the chosen groups: %(n)s.", n=2))
    labels = option_labels(owner)
    assert "李责任人 (member)" in labels and "陈组长 (lead)" in labels
    assert not any("吴静" in label or "王组长" in label or "计时公司" in label for label in labels)

    # JS supports the item: its member may own it, its vendor still not.
    page.get_by_role("group", name=t("Supporting groups")).get_by_label(GROUP_LABELS[t.locale]["JS"]).check()
    labels = option_labels(owner)
    assert "吴静 (wujing)" in labels and "王组长 (otherlead)" in labels
    assert not any("计时公司" in label for label in labels)

    # Search by display name, from the keyboard.
    search = page.get_by_label(t("Find a person by name"))
    search.focus()
    page.keyboard.type("吴静")
    expect(status).to_have_text(t("People who can be responsible for the chosen groups: %(n)s.", n=1))
    assert [label for label in option_labels(owner) if label != "—"] == ["吴静 (wujing)"]
    page.keyboard.press("Tab")
    expect(owner).to_be_focused()
    owner.select_option(label="吴静 (wujing)")

    # Taking JS off the supporting groups clears a choice the server would refuse, and says so.
    page.get_by_role("group", name=t("Supporting groups")).get_by_label(GROUP_LABELS[t.locale]["JS"]).uncheck()
    expect(status).to_have_text(t("The responsible person was cleared: they do not belong to the chosen groups."))
    expect(owner).to_have_value("None")
    page.get_by_role("group", name=t("Supporting groups")).get_by_label(GROUP_LABELS[t.locale]["JS"]).check()
    search.fill("")
    owner.select_option(label="吴静 (wujing)")

    page.get_by_label(t("Deadline")).fill("2030-06-30")
    page.get_by_role("button", name=t("Save"), exact=True).click()
    facts = page.get_by_role("region", name=t("Responsibility"))
    expect(facts).to_contain_text("吴静")


@pytest.mark.parametrize("t", ["zh_CN", "en"], indirect=True)
def test_a_new_item_without_owner_asks_before_saving(browser, world_server, t: T):
    page = new_page(browser, world_server, t)
    sign_in(page, t, "lead")
    page.goto("/items/new")
    page.get_by_label(t("Title")).fill("看台遮阳棚待加固")
    page.get_by_label(t("Responsible group")).select_option(label=GROUP_LABELS[t.locale]["CG"])
    page.get_by_label(t("Deadline")).fill("2030-06-30")
    page.get_by_role("button", name=t("Save"), exact=True).click()
    warning = page.get_by_role("alert").filter(has_text=t("Check before saving"))
    expect(warning).to_contain_text(t("No responsible person is chosen: nobody will be reminded of this item."))
    expect(page.get_by_label(t("Title"))).to_have_value("看台遮阳棚待加固")
    warning.get_by_role("button", name=t("Save anyway")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("看台遮阳棚待加固")
