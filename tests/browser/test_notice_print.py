"""The printable supervision notice (督办通知单): accessible, and one A4 portrait page in Chromium's PDF."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import T, new_page, sign_in
from tracker.auth.models import User
from tracker.clock import utcnow
from tracker.event.services import local_today
from tracker.extensions import db
from tracker.items.models import Item
from tracker.notices import services

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# A realistic requirement: several sentences, as an office writes them.
REQUIREMENT = (
    "经查，看台轮椅席位数量不足、部分席位视线被遮挡，且整改已逾期五天。请你组：一、立即组织施工单位按无障碍设计规范"
    "补足轮椅席位并调整遮挡设施；二、在回复时限前完成整改并报送整改照片、验收记录；三、明确整改责任人和完成时间，"
    "由组长亲自督战。逾期未完成的，将提级挂牌督办并约谈工作组主要负责人。"
)


def _issue(world):
    committee = db.session.scalar(db.select(User).where(User.username == world["committee"]))
    item = db.session.get(Item, world["overdue"])
    now = utcnow()
    (notice,) = services.issue(
        [item],
        level="orange",
        text=REQUIREMENT,
        reply_by=local_today(now) + timedelta(days=3),
        actor=committee,
        now=now,
    )
    return notice.id


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_print_page_passes_axe_and_fits_one_a4_page(browser, world_server, locale):
    t = T(locale)
    notice_id = world_server.run(_issue, world_server.world)
    page = new_page(browser, world_server, t, viewport={"width": 1366, "height": 900}, bypass_csp=True)
    sign_in(page, t, world_server.world["lead"])
    page.goto(f"/notices/{notice_id}/print")
    expect(page.get_by_role("heading", level=1)).to_have_text("督办通知单")
    expect(page.locator("p.number")).to_have_text(re.compile(r"^督办〔\d{4}〕第\d+号$"))
    problems = describe(axe_violations(page), f"print ({locale})")
    assert not problems, "\n".join(problems)
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF-")
    assert pdf_pages(pdf) == 1
    expect(page.get_by_role("navigation")).to_be_hidden()  # the tool bar stays off the paper


def test_a_notice_is_issued_signed_for_and_answered_in_the_browser(browser, world_server):
    """The committee issues from the item page; the lead finds it on the start page, signs and replies."""
    t = T("zh_CN")
    world = world_server.world
    reviewer = new_page(browser, world_server, t, bypass_csp=True)
    sign_in(reviewer, t, world["committee"])
    reviewer.goto(f"/items/{world['overdue']}")
    reviewer.get_by_role("link", name=t("Issue a supervision notice")).click()
    reviewer.get_by_label(t("Orange: warning (警示督办)")).check()
    reviewer.get_by_label(t("Requirement (督办要求)")).fill("逾期五天，请三日内补足轮椅席位并回复。")
    reviewer.get_by_role("button", name=t("Issue"), exact=True).click()
    expect(reviewer.get_by_role("status")).to_contain_text("督办〔")
    problems = describe(axe_violations(reviewer), "notice page (committee)")

    lead = new_page(browser, world_server, t, bypass_csp=True)
    sign_in(lead, t, world["lead"])
    waiting = lead.get_by_role("region", name=re.compile(t("Supervision notices waiting for me")))
    expect(waiting).to_contain_text(t("To sign for"))
    problems += describe(axe_violations(lead), "start page with a notice (lead)")
    waiting.get_by_role("link", name=re.compile("督办〔")).click()
    lead.get_by_role("button", name=t("Sign for it (签收)")).click()
    expect(lead.get_by_role("status")).to_contain_text("督办〔")
    lead.get_by_label(t("Reply: what was done (回复)")).fill("已调集施工队，席位本周补足。")
    lead.get_by_role("button", name=t("Reply (回复)")).click()
    expect(lead.get_by_role("status")).to_contain_text(t("Reply (回复)"))
    expect(lead.get_by_text(t("Replied"), exact=True).first).to_be_visible()
    problems += describe(axe_violations(lead), "notice page (lead, replied)")
    assert not problems, "\n".join(problems)
