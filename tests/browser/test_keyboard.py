"""Keyboard only: Tab to move, Enter or Space to act, typing into fields, arrow keys in lists.

Every Tab stop on the way must show where the focus is.
"""

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import T, new_page, tiny_png

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAX_TABS = 90
FOCUS_STATE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const outlined = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const rect = el.getBoundingClientRect();
  // The calendar button inside a date field takes a Tab stop of its own; Chromium draws its focus ring.
  const pickerButton = el.type === 'date' && !el.matches(':focus');
  return {
    visible: outlined || style.boxShadow !== 'none' || pickerButton,
    onScreen: rect.width > 0 && rect.height > 0,
    what: el.tagName + (el.id ? '#' + el.id : '') + ' ' + (el.innerText || el.value || '').slice(0, 30),
  };
}"""


def tab_to(page, target, *, backwards: bool = False) -> None:
    """Press Tab until ``target`` has the focus, checking each stop shows a visible focus."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        state = page.evaluate(FOCUS_STATE)
        assert state["visible"] and state["onScreen"], f"focus not visible on {state['what']}"
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{target} is not reachable with Tab")


def press_and_load(page, key: str = "Enter") -> None:
    """Press a key that follows a link or sends a form, and wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press(key)


def choose(page, select, label: str) -> None:
    """Pick an option of a focused list with the arrow keys."""
    options = select.evaluate("s => Array.from(s.options).map(o => o.label)")
    steps = options.index(label) - select.evaluate("s => s.selectedIndex")
    for _ in range(abs(steps)):
        page.keyboard.press("ArrowDown" if steps > 0 else "ArrowUp")
    assert select.evaluate("s => s.options[s.selectedIndex].label") == label


def keyboard_sign_in(page, t: T, username: str, password: str = factories.PASSWORD) -> None:
    page.goto("/login")
    tab_to(page, page.get_by_label(t("Username")))
    page.keyboard.type(username)
    tab_to(page, page.get_by_label(t("Password"), exact=True))
    page.keyboard.type(password)
    press_and_load(page, "Enter")
    expect(page.get_by_role("navigation", name=t("Main"))).to_be_visible()


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_the_content(browser, world_server, t: T):
    page = new_page(browser, world_server, t)
    keyboard_sign_in(page, t, "member")
    for path in ("/", "/problems", f"/items/{world_server.world['overdue']}", "/accessibility"):
        page.goto(path)
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name=t("Skip to content"))
        assert skip.evaluate("el => el === document.activeElement"), path
        expect(skip).to_be_in_viewport()
        press_and_load(page, "Enter")
        assert page.evaluate("() => document.activeElement.id") == "content", path


def test_problem_journey_by_keyboard_alone(browser, world_server, t: T):
    title = "田径场检录处无盲文标识"
    lead = new_page(browser, world_server, t)
    keyboard_sign_in(lead, t, "lead")
    tab_to(lead, lead.get_by_role("navigation", name=t("Main")).get_by_role("link", name=t("Problem list")))
    press_and_load(lead, "Enter")
    tab_to(lead, lead.get_by_role("link", name=t("Add item")))
    press_and_load(lead, "Enter")

    fields = [
        (t("Title"), title),
        (t("Description"), "检录处指引牌只有汉字，视障运动员无法识别。"),
    ]
    for label, text in fields:
        tab_to(lead, lead.get_by_label(label))
        lead.keyboard.type(text)
    for label, option in (
        (t("Severity"), t("High")),
        (t("Responsible group"), "CG · 场馆建设与无障碍环境组"),
        (t("Responsible person"), "李责任人 (member)"),
    ):
        select = lead.get_by_label(label)
        tab_to(lead, select)
        choose(lead, select, option)
    tab_to(lead, lead.get_by_label(t("Measures")))
    lead.keyboard.type("增设盲文及大字标识，配备引导志愿者。")
    tab_to(lead, lead.get_by_label(t("Deadline")))
    lead.keyboard.type("06302030")
    assert lead.get_by_label(t("Deadline")).input_value() == "2030-06-30"
    tab_to(lead, lead.get_by_label(t("Acceptance criteria")))
    lead.keyboard.type("盲文标识覆盖检录全流程，经视障运动员试用确认。")
    tab_to(lead, lead.get_by_role("button", name=t("Save")))
    press_and_load(lead, "Enter")
    expect(lead.get_by_role("heading", level=1)).to_contain_text(title)

    owner = new_page(browser, world_server, t)
    keyboard_sign_in(owner, t, "member")
    tab_to(owner, owner.get_by_role("link", name=title))
    press_and_load(owner, "Enter")
    expect(owner.get_by_role("heading", level=1)).to_contain_text(title)

    tab_to(owner, owner.get_by_role("button", name=t("Start rectification"), exact=True))
    press_and_load(owner, "Space")
    expect(owner.get_by_role("status")).to_contain_text(t("Start rectification"))

    tab_to(owner, owner.get_by_label(t("Progress note")))
    owner.keyboard.type("盲文标识已制作，正在安装。")
    tab_to(owner, owner.get_by_label(t("Progress (%)")))
    owner.keyboard.type("60")
    tab_to(owner, owner.get_by_label(t("Evidence files (photos, PDF, Office)")))
    with owner.expect_file_chooser() as chooser:
        owner.keyboard.press("Space")
    chooser.value.set_files({"name": "braille-sign.png", "mimeType": "image/png", "buffer": tiny_png()})
    tab_to(owner, owner.get_by_role("button", name=t("Record progress")))
    press_and_load(owner, "Enter")
    expect(owner.get_by_role("status")).to_contain_text(t("Progress recorded."))

    tab_to(owner, owner.get_by_role("button", name=t("Submit for verification"), exact=True))
    press_and_load(owner, "Enter")
    expect(owner.get_by_role("status")).to_contain_text(t("Submit for verification"))
    history = owner.get_by_role("region", name=t("History (rectification ledger)"))
    expect(history).to_contain_text("braille-sign.png")
    expect(history).to_contain_text(f"{t('In progress')} → {t('Awaiting verification')}")


def test_form_errors_take_the_focus_and_lead_to_their_fields(browser, world_server, t: T):
    page = new_page(browser, world_server, t)
    keyboard_sign_in(page, t, "lead")
    page.goto("/items/new")
    tab_to(page, page.get_by_role("button", name=t("Save")))
    press_and_load(page, "Enter")

    summary = page.get_by_role("alert").filter(has_text=t("Please correct the following"))
    expect(summary).to_be_focused()
    first_error = summary.get_by_role("link").first
    page.keyboard.press("Tab")
    expect(first_error).to_be_focused()
    page.keyboard.press("Enter")
    title = page.get_by_label(t("Title"))
    expect(title).to_be_focused()
    assert "title-error" in title.get_attribute("aria-describedby")


def test_messages_after_an_action_are_in_a_live_region(browser, world_server, t: T):
    page = new_page(browser, world_server, t)
    keyboard_sign_in(page, t, "member")
    page.goto(f"/items/{world_server.world['overdue']}")
    tab_to(page, page.get_by_label(t("Progress note")))
    page.keyboard.type("看台轮椅席位已增设 12 个。")
    tab_to(page, page.get_by_role("button", name=t("Record progress")))
    press_and_load(page, "Enter")
    region = page.locator("[aria-live=polite]")
    expect(region).to_have_attribute("role", "status")
    expect(region).to_contain_text(t("Progress recorded."))


def test_the_big_screen_refresh_keeps_the_keyboard_focus_where_it_was(browser, world_server, t: T):
    page = new_page(browser, world_server, t)
    keyboard_sign_in(page, t, "committee")
    page.clock.install()
    page.goto("/board?mode=screen")
    links = page.locator("#board a.count")
    target = links.nth(3)
    tab_to(page, target)
    href = target.get_attribute("href")
    page.evaluate("() => document.querySelectorAll('#board a').forEach(a => a.dataset.before = '1')")

    page.clock.run_for(61_000)  # the minute's refresh swaps in a new board
    expect(page.locator("#board a[data-before]")).to_have_count(0)
    focused = page.evaluate("() => [document.activeElement.closest('#board') !== null, document.activeElement.href]")
    assert focused[0] and focused[1].endswith(href)
    page.keyboard.press("Tab")  # and Tab goes on from there, not from the top of the page
    assert page.evaluate("() => document.activeElement.closest('#board') !== null")
