"""The account menu: every page about oneself is two clicks away, by mouse and by keyboard."""

import pytest
from playwright.sync_api import expect

from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import T, new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("t", ["zh_CN", "en"], indirect=True)
def test_account_menu_reaches_every_account_page(browser, world_server, t: T):
    page = new_page(browser, world_server, t, bypass_csp=True)
    sign_in(page, t, world_server.world["member"])
    menu = page.get_by_text(t("Account menu"))
    for label, heading in (
        ("Reminder channels and daily digest", "How you are reminded"),
        ("Calendar feed for your phone", "Calendar subscription"),
        ("My API tokens", "My API tokens"),
        ("Two-factor sign-in", "Two-factor sign-in"),
        ("Change password", "Change password"),
    ):
        menu.click()
        page.get_by_role("link", name=t(label), exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(t(heading))
    menu.click()
    page.get_by_role("link", name=t("API reference"), exact=True).click()
    expect(page).to_have_url(f"{world_server.url}/api/docs")

    # The name opens the account page, where the email address is kept.
    page.get_by_role("link", name="李责任人").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("My account"))
    page.get_by_role("textbox", name=t("Email")).fill("li@gdpg.local")
    page.get_by_role("button", name=t("Save email address")).click()
    expect(page.get_by_role("status")).to_contain_text(t("Your email address is saved."))
    assert not axe_violations(page), describe(axe_violations(page), "/account")

    # Keyboard: open with Enter, Escape closes and returns focus to the menu button.
    summary = page.locator("details.account-menu summary")
    in_menu = page.locator("details.account-menu").get_by_role("link", name=t("My API tokens"), exact=True)
    summary.focus()
    page.keyboard.press("Enter")
    expect(in_menu).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(in_menu).to_be_hidden()
    expect(summary).to_be_focused()
