"""The command centre's big screen (/board?mode=screen): one viewport, panels that take turns, a pause button."""

import pytest
from playwright.sync_api import expect

from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import DEMO_SIGN_INS, T, new_page, sign_in

pytestmark = pytest.mark.browser

AT_A_GLANCE = ("Work groups", "Red listed supervision (挂牌督办)", "Upcoming milestones")


def _screen(browser, server, t: T, width: int, height: int, path: str = "/board?mode=screen"):
    page = new_page(browser, server, t, viewport={"width": width, "height": height}, bypass_csp=True)
    sign_in(page, t, *DEMO_SIGN_INS["committee"])
    page.goto(path)
    return page


def _in_view(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] + 0.5


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_everything_at_a_glance_fits_the_screen_without_scrolling(browser, demo_server, locale, width, height):
    t = T(locale)
    page = _screen(browser, demo_server, t, width, height)
    scroll = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight, innerWidth, innerHeight]"
    )
    assert scroll[0] <= scroll[2] and scroll[1] <= scroll[3], f"the page scrolls: {scroll}"
    assert _in_view(page, page.locator(".board-countdown"))
    for name in AT_A_GLANCE:
        heading = page.get_by_role("heading", name=t(name), level=2)
        section = page.locator("section").filter(has=heading)
        assert _in_view(page, section), f"{name} is below the fold at {width}×{height}"
    groups = page.get_by_role("table", name=t("Items per work group and status; every number opens the list behind it"))
    assert _in_view(page, groups.get_by_role("row").last), "the last work group is cut off"
    expect(page.get_by_role("button", name=t("Pause rotation"))).to_be_visible()
    problems = describe(axe_violations(page), f"big screen {width}×{height} ({locale})")
    assert not problems, "\n".join(problems)


def _shown(page, t: T) -> list[str]:
    return [
        name
        for name in ("Key areas", "Progress", "Supervision notices", "Deadline extensions")
        if page.get_by_role("heading", name=t(name), level=2, exact=True).is_visible()
    ]


def test_panels_take_turns_until_paused(browser, demo_server):
    t = T("zh_CN")
    page = new_page(browser, demo_server, t, viewport={"width": 1920, "height": 1080})
    page.clock.install()
    sign_in(page, t, *DEMO_SIGN_INS["committee"])
    page.goto("/board?mode=screen&rotate=15")
    expect(page.get_by_text(t("Panels change every %(n)s seconds.", n=15))).to_be_visible()
    assert _shown(page, t) == ["Key areas"]
    page.clock.run_for(15_000)
    assert _shown(page, t) == ["Progress"]
    page.clock.run_for(15_000)
    assert _shown(page, t) == ["Supervision notices"]

    pause = page.get_by_role("button", name=t("Pause rotation"))
    pause.focus()
    page.keyboard.press("Space")  # a keyboard user stops it as well as a mouse user
    expect(pause).to_have_attribute("aria-pressed", "true")
    page.clock.run_for(120_000)  # two refreshes of the board later, still the same panel
    assert _shown(page, t) == ["Supervision notices"]

    page.keyboard.press("Enter")
    expect(pause).to_have_attribute("aria-pressed", "false")
    page.clock.run_for(15_000)
    assert _shown(page, t) == ["Deadline extensions"]
    page.clock.run_for(15_000)
    assert _shown(page, t) == ["Key areas"]


def test_the_rotation_setting_is_used_without_a_query_parameter(browser, demo_server):
    t = T("en")
    page = _screen(browser, demo_server, t, 1920, 1080)
    seconds = demo_server.app.config["SCREEN_ROTATE_SECONDS"]
    expect(page.get_by_text(t("Panels change every %(n)s seconds.", n=seconds))).to_be_visible()
    assert page.locator("#board").get_attribute("data-rotate-seconds") == str(seconds)
