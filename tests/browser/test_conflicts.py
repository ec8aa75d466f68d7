"""Two people edit one item: the second sees the first one's change, keeps what they typed,
and saves on the next try — in both languages."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import T, new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("t", ["zh_CN", "en"], indirect=True)
def test_a_conflict_keeps_my_text_and_the_second_save_goes_through(browser, world_server, t: T):
    item = world_server.world["overdue"]
    mine = new_page(browser, world_server, t)
    sign_in(mine, t, "lead")
    mine.goto(f"/items/{item}/edit")
    expect(mine.get_by_role("alert")).to_have_count(0)  # no alert before anything happened
    mine.get_by_label(t("Measures")).fill("增设轮椅席位 20 个，并配陪同席")

    # Meanwhile the committee renames the item.
    theirs = new_page(browser, world_server, t)
    sign_in(theirs, t, "committee")
    theirs.goto(f"/items/{item}/edit")
    theirs.get_by_label(t("Title")).fill("看台轮椅席位不足（东区）")
    theirs.get_by_role("button", name=t("Save")).click()
    expect(theirs.get_by_role("status")).to_contain_text(t("Saved."))

    mine.get_by_role("button", name=t("Save")).click()
    alert = mine.get_by_role("alert")
    expect(alert).to_contain_text(t("Someone else changed this item while you were editing"))
    expect(alert).to_contain_text("看台轮椅席位不足（东区）")  # their change, by name
    expect(alert).to_contain_text(t("Title"))
    expect(mine.get_by_label(t("Measures"))).to_have_value("增设轮椅席位 20 个，并配陪同席")

    # Check, take their title, save again: this time it goes through.
    mine.get_by_label(t("Title")).fill("看台轮椅席位不足（东区）")
    mine.get_by_role("button", name=t("Save")).click()
    expect(mine.get_by_role("status")).to_contain_text(t("Saved."))
    facts = mine.get_by_role("region", name=t("Problem and measures"))
    expect(facts).to_contain_text("增设轮椅席位 20 个，并配陪同席")
    expect(mine.get_by_role("heading", level=1)).to_contain_text("看台轮椅席位不足（东区）")
