"""A deadline extension (延期) as people do it: a lead asks on the item page, the committee finds it
on the start page and approves; every page on the way passes axe and reflows."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_SIGN_INS, T, new_page, sign_in
from tests.browser.test_accessibility import Audit

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"width": 1280, "height": 800}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_lead_requests_and_committee_approves(browser, demo_server, locale):
    t = T(locale)
    lead = new_page(browser, demo_server, t, viewport=DESKTOP, bypass_csp=True)
    sign_in(lead, t, *DEMO_SIGN_INS["lead"])
    lead.goto("/responsibilities?group=CG&status=active")
    table = lead.get_by_role("table", name=t("Responsibility list: who does what by when"))
    # The demo server is shared by both languages: each takes its own item.
    table.get_by_role("row").nth(1 if locale == "zh_CN" else 2).get_by_role("link").first.click()
    lead.wait_for_load_state()
    item_url = lead.url
    audit = Audit(lead, f"[lead/{locale}]")

    form = lead.get_by_role("form", name=t("Request a later deadline"))
    form.get_by_label(t("Reason for the extension")).fill("材料延误到货")
    form.get_by_role("button", name=t("Request the extension")).click()  # no date yet: an error, text kept
    lead.wait_for_load_state()
    assert lead.get_by_label(t("Reason for the extension")).input_value() == "材料延误到货"
    audit.check("item page, request without a date")
    lead.get_by_label(t("New deadline")).fill("2030-06-30")
    lead.get_by_role("button", name=t("Request the extension")).click()
    lead.wait_for_load_state()
    expect(lead.get_by_role("status")).to_contain_text(
        t("Extension requested. The deadline moves when the committee approves.")
    )
    assert lead.get_by_text(t("Extension requested, waiting for the committee's decision")).is_visible()
    audit.check("item page with a pending request")
    audit.assert_clean()

    committee = new_page(browser, demo_server, t, viewport=DESKTOP, bypass_csp=True)
    sign_in(committee, t, *DEMO_SIGN_INS["committee"])
    review = Audit(committee, f"[committee/{locale}]")
    review.visit("/")
    waiting = committee.get_by_role("table", name=t("Requested deadline extensions, oldest first"))
    waiting.get_by_role("link").last.click()
    committee.wait_for_load_state()
    assert committee.url.split("#")[0] == item_url
    review.check("item page, deciding")
    committee.get_by_role("button", name=t("Approve the extension"), exact=True).click()
    committee.wait_for_load_state()
    expect(committee.get_by_role("status")).to_contain_text(t("Extension approved: the deadline has moved."))
    assert committee.get_by_text(t("Extensions: %(n)s", n=1)).first.is_visible()
    review.visit("/board")
    review.assert_clean()
