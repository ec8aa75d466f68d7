"""axe-core in Chromium over every page, role and language; reflow; non-text contrast; skip link; focus; live region.

Bounded to keep the suite short: every page for the admin in both languages, the main
pages for the other roles in both languages, the sign-in page, forms showing their
errors, and an install with empty lists.
"""

import pytest

from tests import factories
from tests.browser.axe import axe_violations, describe, horizontal_overflow, low_contrast_controls
from tests.browser.conftest import DEMO_SIGN_INS, T, live_server, new_page, sign_in
from tracker.clock import utcnow

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"width": 1280, "height": 800}
# 360 px: a small phone. 640 px: a 1280 px window zoomed to 200 %.
REFLOW_WIDTHS = (360, 640)
MAIN_PAGES = {
    "committee": ["/", "/board", "/board?mode=screen", "/problems", "/reports/weekly"],
    "lead": ["/", "/problems", "/responsibilities", "/items/new"],
    "member": ["/", "/board", "/ledger", "/notifications", "/notifications/settings"],
    "external": ["/", "/problems", "/notifications"],
}


def get_pages(server, context) -> list[str]:
    """Every GET page without URL parameters that answers this user with a full HTML document."""
    paths = sorted(
        {
            rule.rule
            for rule in server.app.url_map.iter_rules()
            if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"
        }
    )
    pages = []
    for path in paths:
        response = context.request.get(path, max_redirects=0)
        if response.status != 200 or not response.headers.get("content-type", "").startswith("text/html"):
            continue
        if response.text().lstrip()[:15].lower() == "<!doctype html>":
            pages.append(path)
    return pages


class Audit:
    """Visits pages and collects every problem, so one run reports them all."""

    def __init__(self, page, label: str):
        self.page = page
        self.label = label
        self.problems: list[str] = []
        self.visited: list[str] = []

    def visit(self, path: str) -> None:
        self.page.goto(path)
        self.check(path)

    def check(self, where: str) -> None:
        page = self.page
        where = f"{self.label} {where}"
        self.visited.append(where)
        assert page.locator("html").get_attribute("lang") in ("zh-CN", "en"), where
        self.problems += describe(axe_violations(page), where)
        faint = low_contrast_controls(page)
        self.problems += [f"{where}: control below 3:1 against its surroundings: {c}" for c in faint]
        for width in REFLOW_WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            overflow = horizontal_overflow(page)
            if overflow > 0:
                self.problems.append(f"{where}: scrolls sideways by {overflow}px at {width}px wide")
        page.set_viewport_size(DESKTOP)

    def assert_clean(self) -> None:
        assert self.visited
        assert not self.problems, f"{len(self.problems)} problems:\n" + "\n".join(self.problems)


def audit_for(browser, server, role: str, locale: str) -> Audit:
    t = T(locale)
    page = new_page(browser, server, t, viewport=DESKTOP, bypass_csp=True)
    if role != "anon":
        sign_in(page, t, *DEMO_SIGN_INS[role])
    return Audit(page, f"[{role}/{locale}]")


def open_first_item(audit: Audit, t: T) -> None:
    """An item page, reached as a person would: the first item in the problem list."""
    page = audit.page
    page.goto("/problems")
    table = page.get_by_role("table", name=t("Problem list: what is wrong, where it came from, how serious"))
    table.get_by_role("row").nth(1).get_by_role("link").first.click()
    page.wait_for_load_state()
    audit.check(f"item page {page.url}")


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_admin_page_passes_axe_and_reflows(browser, demo_server, locale):
    t = T(locale)
    audit = audit_for(browser, demo_server, "admin", locale)
    pages = get_pages(demo_server, audit.page.context)
    assert {"/", "/board", "/problems", "/ledger", "/admin/users", "/accessibility"} <= set(pages)
    for path in pages + ["/board?mode=screen"]:
        audit.visit(path)
    open_first_item(audit, t)
    audit.assert_clean()


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("role", sorted(MAIN_PAGES))
def test_main_pages_pass_axe_and_reflow_for_every_role(browser, demo_server, role, locale):
    audit = audit_for(browser, demo_server, role, locale)
    for path in MAIN_PAGES[role]:
        audit.visit(path)
    open_first_item(audit, T(locale))
    audit.assert_clean()


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_sign_in_and_statement_pass_axe_also_with_errors(browser, demo_server, locale):
    t = T(locale)
    audit = audit_for(browser, demo_server, "anon", locale)
    audit.visit("/accessibility")
    audit.visit("/login")
    audit.page.get_by_role("button", name=t("Sign in")).click()
    audit.check("/login with errors")
    audit.page.get_by_label(t("Username")).fill("nobody")
    audit.page.get_by_label(t("Password"), exact=True).fill("wrong-password")
    audit.page.get_by_role("button", name=t("Sign in")).click()
    audit.check("/login with a wrong password")
    audit.assert_clean()


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_forms_with_errors_pass_axe(browser, demo_server, locale):
    t = T(locale)
    audit = audit_for(browser, demo_server, "admin", locale)
    page = audit.page

    page.goto("/items/new")
    page.get_by_role("button", name=t("Save")).click()
    expect_error_summary(page, t)
    audit.check("/items/new with errors")

    page.goto("/admin/users/new")
    page.get_by_role("button", name=t("Save")).click()
    expect_error_summary(page, t)
    audit.check("/admin/users/new with errors")

    page.goto("/admin/event")
    page.get_by_label(t("Time zone")).fill("Mars/Olympus")
    page.get_by_role("button", name=t("Save")).click()
    expect_error_summary(page, t)
    audit.check("/admin/event with errors")

    page.goto("/problems?q=no-such-item-anywhere")
    audit.check("an empty problem list")
    audit.assert_clean()


def expect_error_summary(page, t: T) -> None:
    summary = page.get_by_role("alert").filter(has_text=t("Please correct the following"))
    assert summary.count() == 1
    # Every error in the summary links to its field, and the field points back to its message.
    for link in summary.get_by_role("link").all():
        target = page.locator(link.get_attribute("href"))
        described = (target.get_attribute("aria-describedby") or "").split()
        assert any(page.locator(f"#{d}").inner_text() for d in described if d.endswith("-error")), link


def make_empty_install() -> None:
    """An event with its groups and people but not a single item yet."""
    factories.make_event(opening_at=utcnow().replace(year=utcnow().year + 1))
    group = factories.make_group("CG", "场馆建设与无障碍环境组", name_en="Venues & Accessible Environment")
    factories.make_user("admin", "admin")
    factories.make_user("member", "member", [group])


@pytest.mark.parametrize(("username", "locale"), [("admin", "zh_CN"), ("member", "en")])
def test_empty_lists_pass_axe(browser, tmp_path, username, locale):
    t = T(locale)
    with live_server(tmp_path, make_empty_install) as server:
        page = new_page(browser, server, t, viewport=DESKTOP, bypass_csp=True)
        sign_in(page, t, username)
        audit = Audit(page, f"[empty install {username}/{locale}]")
        for path in ("/", "/board", "/problems", "/responsibilities", "/ledger", "/milestones", "/notifications"):
            audit.visit(path)
        audit.assert_clean()
