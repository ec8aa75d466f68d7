"""Layout on a 360 px phone and on 1366 and 1920 px desks, for every role and both languages.

One demo server and one browser; one signed-in page per role and language, reused by every test.
"""

import re

import pytest
from playwright.sync_api import expect
from werkzeug.exceptions import HTTPException

from tests.browser.axe import axe_violations, describe, horizontal_overflow
from tests.browser.conftest import DEMO_SIGN_INS, T, new_page, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 780}
DESKS = ({"width": 1366, "height": 768}, {"width": 1920, "height": 1080})
LOCALES = ("zh_CN", "en")
ROLES = ("admin", "committee", "lead", "member", "external")
LISTS = ("/problems", "/responsibilities", "/ledger")
MIN_TARGET = 44  # CSS px, WCAG 2.5.5


@pytest.fixture(scope="module")
def signed_in(browser, demo_server):
    """signed_in(role, locale): a page signed in as that demo user, made once per module."""
    pages = {}

    def get(role: str, locale: str):
        if (role, locale) not in pages:
            t = T(locale)
            page = new_page(browser, demo_server, t, viewport=PHONE, bypass_csp=True)  # axe is injected
            sign_in(page, t, *DEMO_SIGN_INS[role])
            pages[role, locale] = page
        page = pages[role, locale]
        page.set_viewport_size(PHONE)
        return page

    yield get
    for page in pages.values():
        page.context.close()


def real_pages(server, context) -> list[str]:
    """Every full HTML page this user may open: each GET route without parameters, and for each
    route with parameters the first link to it found on those pages (an item, a notice, a user...)."""
    adapter = server.app.url_map.bind("localhost")
    plain = sorted(
        rule.rule
        for rule in server.app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"
    )
    pages, linked = [], {}
    for path in plain + ["/board?mode=screen"]:
        response = context.request.get(path, max_redirects=0)
        html = response.text() if response.status == 200 else ""
        if not html.lstrip()[:15].lower() == "<!doctype html>":
            continue
        pages.append(path)
        for href in re.findall(r'href="(/[^"?#]*)', html):
            try:
                rule, arguments = adapter.match(href, method="GET", return_rule=True)
            except HTTPException:  # not a page: not found, POST only, or a redirect
                continue
            if arguments and rule.endpoint != "static":
                linked.setdefault(rule.rule, href)
    for href in linked.values():
        response = context.request.get(href, max_redirects=0)
        if response.status == 200 and response.text().lstrip()[:15].lower() == "<!doctype html>":
            pages.append(href)
    return pages


@pytest.fixture(scope="module")
def phone_rounds(signed_in, demo_server) -> tuple[dict[str, list[str]], dict[str, list[tuple[str, str]]]]:
    """The pages each role opens, and which of them it checks in which language on a phone.

    Every page in both languages and every role in both, not every page x role x language: the
    n-th role that opens a page checks it in the language after the (n-1)-th's; a page that only
    one role opens (an admin page, the item it alone links to) that role checks in both."""
    opened = {role: real_pages(demo_server, signed_in(role, "zh_CN").context) for role in ROLES}
    roles_of = {}
    for role in ROLES:
        for path in opened[role]:
            roles_of.setdefault(path, []).append(role)
    rounds = {role: [] for role in ROLES}
    for turn, (path, roles) in enumerate(sorted(roles_of.items())):
        if len(roles) == 1:
            rounds[roles[0]] += [(path, locale) for locale in LOCALES]
        else:
            for n, role in enumerate(roles):
                rounds[role].append((path, LOCALES[(turn + n) % len(LOCALES)]))
    for role in ROLES:
        rounds[role] += [("/", locale) for locale in LOCALES if locale not in {lang for _, lang in rounds[role]}]
    return opened, rounds


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_no_page_scrolls_sideways_on_a_phone(signed_in, phone_rounds, role):
    opened, rounds = phone_rounds
    assert {"/", "/board", "/problems", "/notifications"} <= set(opened[role])
    assert any(re.fullmatch(r"/items/\d+", p) for p in opened[role]) or role == "external"
    problems = []
    for path, locale in rounds[role]:
        page = signed_in(role, locale)
        page.goto(path)
        overflow = horizontal_overflow(page)
        if overflow > 0:
            problems.append(f"{role}/{locale} {path}: {overflow}px sideways")
    assert not problems, "\n".join(problems)


CLIPPED_CELLS = """() => {
  const problems = [];
  for (const wrap of document.querySelectorAll('.table-wrap')) {
    if (!wrap.checkVisibility()) continue;  // e.g. a chart's data table in a closed <details>
    const name = wrap.getAttribute('aria-labelledby');
    if (wrap.scrollWidth > wrap.clientWidth + 1)
      problems.push(`table ${name} is ${wrap.scrollWidth - wrap.clientWidth}px wider than its box`);
    for (const cell of wrap.querySelectorAll('th, td')) {
      const nowrap = getComputedStyle(cell).whiteSpace === 'nowrap' || cell.querySelector('.nowrap, .badge, .light');
      const over = cell.scrollWidth - cell.clientWidth;
      if (nowrap && over > 1) problems.push(`cell "${cell.innerText.trim().slice(0, 30)}" clipped by ${over}px`);
    }
    const box = wrap.getBoundingClientRect();
    for (const th of wrap.querySelectorAll('thead th')) {
      if (th.getBoundingClientRect().right > box.right + 1)
        problems.push(`column "${th.innerText.trim()}" cut off at the right`);
    }
  }
  return problems;
}"""

BROKEN_INSIDE = """() => {
  // Codes, dates, names and numbers (nowrap cells and spans in tables) sit on one line.
  const problems = [];
  for (const el of document.querySelectorAll('.table-wrap td.nowrap, .table-wrap .nowrap, .table-wrap .num')) {
    if (!el.checkVisibility() || !el.innerText.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(el);
    const rects = [...range.getClientRects()].filter((r) => r.height > 0);
    const top = Math.min(...rects.map((r) => r.top)), bottom = Math.max(...rects.map((r) => r.bottom));
    if (bottom - top > 1.8 * parseFloat(getComputedStyle(el).fontSize) * 1.55)
      problems.push(`"${el.innerText.trim().slice(0, 30)}" breaks over more than one line`);
  }
  return problems;
}"""


@pytest.mark.parametrize("locale", LOCALES)
def test_no_table_clips_a_column_on_a_desk(signed_in, locale):
    page = signed_in("committee", locale)
    problems = []
    for viewport in DESKS:
        page.set_viewport_size(viewport)
        for path in ("/", "/board", *LISTS):
            page.goto(path)
            where = f"{locale} {viewport['width']}px {path}"
            assert horizontal_overflow(page) <= 0, where
            problems += [f"{where}: {p}" for p in page.evaluate(CLIPPED_CELLS) + page.evaluate(BROKEN_INSIDE)]
    assert not problems, "\n".join(problems)


def test_long_lists_keep_their_header_row_in_sight(signed_in):
    page = signed_in("committee", "en")
    page.set_viewport_size(DESKS[0])
    page.goto("/ledger")
    header = page.locator("table.list thead th").first
    page.mouse.wheel(0, 1500)
    page.wait_for_function("() => window.scrollY > 1000")
    assert -1 <= header.bounding_box()["y"] <= 1


@pytest.mark.parametrize("locale", LOCALES)
def test_lists_and_my_work_are_cards_on_a_phone(signed_in, locale):
    t = T(locale)
    page = signed_in("lead", locale)
    for path in (*LISTS, "/"):
        page.goto(path)
        expect(page.get_by_role("table").first).to_be_hidden()
        card = page.locator(".item-card").first
        expect(card).to_be_visible()
        text = card.inner_text()
        assert re.search(r"[A-Z]{2}-\d{3}", card.get_by_role("heading").inner_text()), path
        for label in ("Deadline", "Responsible person", "Responsible group"):
            assert t(label) in text, (path, label)
        assert card.locator(".light, .badge.finished").count() == 1, path
        assert card.locator(".item-card-state > .badge[class*='status-']:not(.finished)").count() == 1, path
    page.set_viewport_size(DESKS[0])
    page.goto("/problems")
    expect(page.get_by_role("table")).to_be_visible()
    expect(page.locator(".item-card").first).to_be_hidden()


def test_open_work_on_a_card_says_how_many_days_are_left(signed_in):
    t = T("en")
    page = signed_in("lead", "en")
    page.goto("/responsibilities?status=active&sort=-deadline")
    days = page.locator(".item-card .days-left").first
    expect(days).to_be_visible()
    assert re.fullmatch(r"\d+ days? left|" + re.escape(t("Due today")), days.inner_text())


def test_filters_fold_away_on_a_phone_and_each_chip_removes_one_filter(signed_in):
    t = T("zh_CN")
    page = signed_in("committee", "zh_CN")
    page.goto("/problems?status=active&overdue=1&sort=deadline")
    summary = page.locator("summary", has_text=t("Filters"))
    expect(summary).to_contain_text("(2)")
    expect(page.get_by_label(t("Search"))).to_be_hidden()
    chips = page.get_by_role("list", name=t("Active filters")).get_by_role("link")
    expect(chips).to_have_count(2)
    chips.filter(has_text=t("Overdue only")).click()
    page.wait_for_load_state()
    assert "overdue" not in page.url and "status=active" in page.url and "sort=deadline" in page.url
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text(t("Not yet closed"))
    summary.click()
    expect(page.get_by_label(t("Search"))).to_be_visible()

    page.set_viewport_size(DESKS[0])
    page.goto("/problems")
    expect(page.get_by_label(t("Search"))).to_be_visible()  # a desk has room: the filters start open


def test_board_links_move_the_focus_to_each_section(signed_in):
    t = T("en")
    page = signed_in("committee", "en")
    page.set_viewport_size(DESKS[0])
    page.goto("/board")
    nav = page.get_by_role("navigation", name=t("Parts of the wall chart"))
    first = nav.get_by_role("link").first
    stops = 0  # from the top of the page, a few Tab stops reach the section links
    while not first.evaluate("el => el === document.activeElement"):
        stops += 1
        assert stops < 30, "the section links are not near the top"
        page.keyboard.press("Tab")
    for label, heading in (
        ("Work groups", "groups-h"),
        ("Key areas", "areas-h"),
        ("Upcoming milestones", "ms-board-h"),
        ("Progress", "charts-h"),
    ):
        nav.get_by_role("link", name=t(label)).focus()
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == heading, label
        page.keyboard.press("Tab")  # and Tab goes on from there, into that section
        in_section = f"() => document.getElementById('{heading}').parentElement.contains(document.activeElement)"
        assert page.evaluate(in_section), label
        page.goto("/board")


TARGETS = """selector => [...document.querySelectorAll(selector)]
  .filter((el) => el.offsetParent)
  .map((el) => { const r = el.getBoundingClientRect(); return [el.innerText.trim().slice(0, 20), r.width, r.height]; })
  .filter(([, w, h]) => w < 43.5 || h < 43.5)"""


def test_main_actions_are_big_enough_to_tap(signed_in):
    page = signed_in("lead", "zh_CN")
    page.goto("/problems?status=active")
    main_actions = "main .button, .filters-disclosure > summary, .chip, .item-card-title a, .pager a, .nav a"
    small = page.evaluate(TARGETS, main_actions)
    page.goto("/board")
    small += page.evaluate(TARGETS, ".board-table a, .board-jump a")
    assert not small, small


# The pages whose markup or narrow-screen layout changed, each as a role that sees it filled in.
CHANGED_PAGES = (
    ("committee", "/board"),
    ("committee", "/ledger"),
    ("lead", "/"),
    ("lead", "/problems?status=active&overdue=1"),
    ("lead", "/responsibilities"),
    ("member", "/"),
    ("member", "/notifications"),
)


@pytest.mark.slow
@pytest.mark.parametrize("locale", LOCALES)
def test_changed_pages_pass_axe_on_a_phone_and_a_desk(signed_in, locale):
    """On a phone every changed page; on a desk the board and the lists (every page at 1280 px is
    in test_accessibility)."""
    problems = []
    for role, path in CHANGED_PAGES:
        page = signed_in(role, locale)
        page.goto(path)
        problems += describe(axe_violations(page), f"{role}/{locale} 360px {path}")
        if role == "committee" or path.startswith("/problems"):
            page.set_viewport_size(DESKS[0])
            problems += describe(axe_violations(page), f"{role}/{locale} 1366px {path}")
    assert not problems, "\n".join(problems)
