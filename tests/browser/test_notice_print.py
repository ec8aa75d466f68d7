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

pytestmark = pytest.mark.browser

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
