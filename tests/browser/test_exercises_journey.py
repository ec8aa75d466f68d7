"""A 使用者验收 as people do it: the lead plans it, a member goes through the checklist on a phone
while the connection drops, the lead turns the failures into items; every page passes axe and reflows."""

import os
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import T, new_page, sign_in
from tests.browser.test_accessibility import Audit
from tracker.exercises.models import ExerciseCheck
from tracker.extensions import db
from tracker.items.models import Item

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 360, "height": 740}
SHOTS = os.environ.get("WALLCHART_SHOTS")  # a folder to keep screenshots in, for looking at the pages


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=not name.startswith("checklist"))


def choice(card, label):
    """The result radio whose label is exactly ``label`` (after its ✓ ✗ – sign): 通过 is inside 不通过."""
    return card.get_by_label(re.compile(rf"^\s*[✓✗–]?\s*{re.escape(label)}\s*$"))


def _answers(server):
    def read():
        rows = db.session.scalars(select(ExerciseCheck).order_by(ExerciseCheck.position)).all()
        return {c.position: (c.result, c.value, c.note) for c in rows}

    return server.run(read)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_user_acceptance_on_a_phone_with_a_dropped_connection(browser, world_server, locale):
    t = T(locale)
    lead = new_page(browser, world_server, t, viewport=PHONE, bypass_csp=True)
    sign_in(lead, t, "lead")
    audit = Audit(lead, f"[lead/{locale}]")
    audit.visit("/exercises/new")
    lead.set_viewport_size(PHONE)
    lead.get_by_label(t("Kind")).select_option("user_acceptance")
    lead.get_by_label(t("Title")).fill("体育馆使用者验收")
    lead.get_by_label(t("Date")).fill("2030-06-20")
    lead.get_by_label(t("Venue")).fill("茂名市体育馆")
    lead.get_by_label(t("Checklist")).select_option(index=1)
    lead.get_by_label(t("Participants")).fill("张三, 轮椅使用者")
    shot(lead, f"plan-{locale}")
    lead.get_by_role("button", name=t("Save")).click()
    lead.wait_for_load_state()
    expect(lead.get_by_role("status")).to_contain_text(t("Exercise planned."))
    exercise_url = lead.url
    audit.check("exercise page")

    member = new_page(browser, world_server, t, viewport=PHONE, bypass_csp=True)
    sign_in(member, t, "member")
    member.goto(exercise_url + "/checklist")
    Audit(member, f"[member/{locale}]").check("checklist")
    member.set_viewport_size(PHONE)
    cards = member.locator(".check-card")
    first, second, third = cards.nth(0), cards.nth(1), cards.nth(2)
    first.get_by_label(t("Measured value")).fill("1:10")
    first.get_by_label(t("Note")).fill("坡度过陡")
    first.get_by_role("button", name=t("Save answer")).click()
    expect(first.locator(".check-state")).to_have_text(t("Saved"))
    assert _answers(world_server)[0] == ("fail", "1:10", "坡度过陡")  # the rule judged it

    member.context.set_offline(True)  # the network drops mid-checklist
    choice(second, t("Pass")).check()
    choice(third, t("Fail")).check()
    third.get_by_label(t("Note")).fill("盲道被占用")
    third.get_by_role("button", name=t("Save answer")).click()
    expect(third.locator(".check-state")).to_have_text(t("Kept on this device, not sent yet"))
    expect(member.locator("#checklist-status")).to_contain_text(
        t("%(n)s answers not sent yet: they are kept on this device.", n="2")
    )
    shot(member, f"checklist-offline-{locale}")
    assert _answers(world_server)[1] == (None, "", "")
    member.context.set_offline(False)  # back online: the page sends what it kept
    expect(third.locator(".check-state")).to_have_text(t("Saved"))
    expect(second.locator(".check-state")).to_have_text(t("Saved"))
    answers = _answers(world_server)
    assert answers[1][0] == "pass" and answers[2] == ("fail", "", "盲道被占用")

    # Offline again and the page is closed: the answer waits on the device until the next visit.
    member.context.set_offline(True)
    choice(cards.nth(3), t("Not applicable")).check()
    expect(cards.nth(3).locator(".check-state")).to_have_text(t("Kept on this device, not sent yet"))
    context = member.context
    member.close()
    assert _answers(world_server)[3][0] is None
    context.set_offline(False)
    again = context.new_page()
    again.goto(exercise_url + "/checklist")
    expect(again.locator(".check-card").nth(3).locator(".check-state")).to_have_text(t("Saved"))
    assert _answers(world_server)[3][0] == "na"

    lead.goto(exercise_url)
    one, many = "Turn %(num)s failed check into items", "Turn %(num)s failed checks into items"
    plural = t._translations.ngettext(one, many, 2)
    lead.get_by_role("link", name=plural % {"num": 2}).click()
    lead.wait_for_load_state()
    audit.check("findings review")
    lead.set_viewport_size(PHONE)
    for row in lead.locator("table.findings-review tbody tr").all():
        row.get_by_label(t("Owner")).select_option(label="李责任人")
        row.get_by_label(t("Deadline")).fill("2030-07-10")
    shot(lead, f"findings-{locale}")
    lead.get_by_role("button", name=t("Create the items")).click()
    lead.wait_for_load_state()
    expect(lead.get_by_role("status")).to_contain_text(t("%(n)s problem-list items created.", n=2))
    audit.check("exercise page with findings")
    shot(lead, f"exercise-{locale}")
    found = world_server.run(
        lambda: [i.title for i in db.session.scalars(select(Item).where(Item.source == "exercise_debrief"))]
    )
    assert len(found) == 2
    audit.visit(exercise_url + "/report")
    audit.visit("/exercises")
    lead.set_viewport_size(PHONE)
    shot(lead, f"index-phone-{locale}")
    audit.assert_clean()
