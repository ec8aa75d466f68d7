"""Paper: Chromium's PDF of the wall chart (one A3 landscape sheet), the lists (A4 landscape, header row
on every page), the weekly briefing (A4 portrait) and an item's closure form (one A4 page)."""

import io
import unicodedata
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests import factories
from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import DEMO_SIGN_INS, T, live_server, new_page, sign_in
from tracker.auth.models import User
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.groups.models import WorkGroup

pytestmark = pytest.mark.browser

A3_LANDSCAPE, A4_LANDSCAPE, A4_PORTRAIT = (420, 297), (297, 210), (210, 297)


def printed(page) -> PdfReader:
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    page.emulate_media(media="screen")
    return PdfReader(io.BytesIO(pdf))


def paper(reader: PdfReader) -> set[tuple[int, int]]:
    """Each page's size in whole millimetres."""
    return {
        (round(float(p.mediabox.width) / 72 * 25.4), round(float(p.mediabox.height) / 72 * 25.4)) for p in reader.pages
    }


def committee_page(browser, server, t: T):
    page = new_page(browser, server, t, viewport={"width": 1366, "height": 900}, bypass_csp=True)
    sign_in(page, t, *DEMO_SIGN_INS["committee"])
    return page


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_wall_chart_prints_on_one_a3_landscape_sheet(browser, demo_server, locale):
    page = committee_page(browser, demo_server, T(locale))
    page.goto("/board")
    reader = printed(page)
    assert paper(reader) == {A3_LANDSCAPE}
    assert len(reader.pages) == 1


def _demo_with_thirty_groups():
    from tracker.demo.seed import load_demo

    now = utcnow()
    load_demo(now=now)
    admin = db.session.scalars(db.select(User).where(User.username == "admin")).one()
    have = db.session.scalar(db.select(db.func.count()).select_from(WorkGroup))
    for number in range(have, 30):
        group = factories.make_group(
            f"G{number:02d}", f"第{number}临时保障工作组", name_en=f"Temporary support group {number}"
        )
        for index in range(3):
            factories.make_item(
                admin,
                group,
                now=now,
                title=f"保障事项{number}-{index}",
                deadline=now.date() + timedelta(days=index * 20 - 5),
            )


@pytest.fixture(scope="module")
def thirty_groups_server(tmp_path_factory):
    """Built once for both languages: the tests only read it."""
    with live_server(tmp_path_factory.mktemp("thirty"), _demo_with_thirty_groups) as server:
        yield server


@pytest.mark.slow
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_wall_chart_of_thirty_groups_still_prints_on_one_sheet(browser, thirty_groups_server, locale):
    t = T(locale)
    page = committee_page(browser, thirty_groups_server, t)
    page.goto("/board")
    groups = page.get_by_role("table", name=t("Items per work group and status; every number opens the list behind it"))
    expect(groups.locator("tbody tr")).to_have_count(30)
    reader = printed(page)
    assert paper(reader) == {A3_LANDSCAPE}
    assert len(reader.pages) == 1


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_a_list_prints_on_a4_landscape_with_its_header_row_on_every_page(browser, demo_server, locale):
    t = T(locale)
    page = committee_page(browser, demo_server, t)
    page.goto("/problems?status=counted")
    reader = printed(page)
    assert paper(reader) == {A4_LANDSCAPE}
    assert len(reader.pages) >= 2
    # NFKC: the PDF's text layer may spell some Chinese characters as Kangxi radicals (⾊ for 色).
    first, second = (unicodedata.normalize("NFKC", p.extract_text()) for p in reader.pages[:2])
    assert t("Problem list") in first and t("Printed") in first
    assert t("Filter") in first and t("All but cancelled") in first
    for header in (t("Title"), t("Responsible group"), t("Light")):
        assert header in second, f"{header} is not repeated on page 2"


def test_the_weekly_briefing_prints_on_a4_portrait(browser, demo_server):
    page = committee_page(browser, demo_server, T("zh_CN"))
    page.goto("/reports/weekly")
    assert paper(printed(page)) == {A4_PORTRAIT}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_an_item_prints_as_a_one_page_closure_form(browser, demo_server, locale):
    t = T(locale)
    page = committee_page(browser, demo_server, t)
    page.goto("/problems?status=submitted")
    page.get_by_role("table").get_by_role("row").nth(1).get_by_role("link").first.click()
    page.get_by_role("link", name=t("Closure form (销号审批表)")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Closure approval form"))
    expect(page.get_by_text(t("Committee reviewer"))).to_be_visible()
    problems = describe(axe_violations(page), f"closure form ({locale})")
    assert not problems, "\n".join(problems)
    reader = printed(page)
    assert paper(reader) == {A4_PORTRAIT}
    assert len(reader.pages) == 1
    expect(page.get_by_role("navigation")).to_be_visible()  # the tool bar is back on screen
