"""Screenshots of the wall chart, the big screen, an item page, a list and its phone cards, for the README.

Always taken (so this runs in every test run); written to docs/screenshots/ only when
WALLCHART_SCREENSHOTS=1, so an ordinary run leaves the work tree clean:
    WALLCHART_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_screenshots.py
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_SIGN_INS, T, launch, new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def keep(name: str, png: bytes) -> None:
    assert png.startswith(PNG_MAGIC) and len(png) > 10_000, name
    if os.environ.get("WALLCHART_SCREENSHOTS") == "1":
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / name).write_bytes(png)


@pytest.fixture
def chinese_browser(browser):
    """Chromium whose own controls (file pickers, date fields) are in Chinese, as a Chinese user's are."""
    chromium = launch(browser.browser_type, "zh_CN")
    yield chromium
    chromium.close()


def test_screenshots_of_the_board_an_item_and_a_list(chinese_browser, demo_server):
    browser = chinese_browser
    t = T("zh_CN")
    page = new_page(browser, demo_server, t, viewport={"width": 1280, "height": 900})
    sign_in(page, t, *DEMO_SIGN_INS["committee"])

    page.goto("/board")
    expect(page.get_by_role("heading", level=1)).to_contain_text(t("Wall chart"))
    keep("board.png", page.screenshot(full_page=True))

    page.goto("/problems?overdue=1")
    table = page.get_by_role("table", name=t("Problem list: what is wrong, where it came from, how serious"))
    expect(table).to_be_visible()
    keep("problem-list.png", page.screenshot(full_page=True))

    table.get_by_role("row").nth(1).get_by_role("link").first.click()
    expect(page.get_by_role("region", name=t("History (rectification ledger)"))).to_be_visible()
    keep("item.png", page.screenshot(full_page=True))

    screen = new_page(browser, demo_server, t, viewport={"width": 1920, "height": 1080})
    sign_in(screen, t, *DEMO_SIGN_INS["committee"])
    screen.goto("/board?mode=screen")
    expect(screen.get_by_role("button", name=t("Pause rotation"))).to_be_visible()
    keep("big-screen.png", screen.screenshot())

    phone = new_page(browser, demo_server, t, viewport={"width": 360, "height": 780}, device_scale_factor=2)
    sign_in(phone, t, *DEMO_SIGN_INS["member"])
    phone.goto("/problems?status=active")
    expect(phone.get_by_role("table")).to_be_hidden()
    cards = phone.locator(".item-card")
    expect(cards.first).to_be_visible()
    phone.get_by_role("heading", level=1).evaluate("h => window.scrollTo(0, h.offsetTop - 8)")
    keep("phone-problem-list.png", phone.screenshot())
