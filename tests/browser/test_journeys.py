"""The main journeys, in a real browser, finding things the way a person does: by role, label and text."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import T, new_page, sign_in, tiny_png

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_admin_sets_up_the_event_groups_and_people(browser, server, t: T):
    page = new_page(browser, server, t)
    sign_in(page, t, "admin")
    page.get_by_role("navigation", name=t("Main")).get_by_role("link", name=t("Admin")).click()

    # The event.
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Event settings"))
    page.get_by_label(t("Event name (Chinese)")).fill("广东省第十届残疾人运动会")
    page.get_by_label(t("Event name (English)")).fill("10th Guangdong Provincial Games for Persons with Disabilities")
    page.get_by_label(t("Host city")).fill("茂名")
    page.get_by_label(t("Opening (local time)")).fill("2027-03-20T20:00")
    page.get_by_label(t("Closing (local time)")).fill("2027-03-26T20:00")
    page.get_by_label(t("Time zone")).fill("Asia/Shanghai")
    page.get_by_role("button", name=t("Save")).click()
    expect(page.get_by_role("status")).to_contain_text(t("Event saved."))

    # Two work groups.
    tabs = page.get_by_role("navigation", name=t("Administration"))
    for code, name, name_en in (
        ("CG", "场馆建设与无障碍环境组", "Venues & Accessible Environment"),
        ("JS", "竞赛组织组", "Competition Organisation"),
    ):
        tabs.get_by_role("link", name=t("Work groups")).click()
        page.get_by_role("link", name=t("Add work group")).click()
        page.get_by_label(t("Code")).fill(code)
        page.get_by_label(t("Name (Chinese)")).fill(name)
        page.get_by_label(t("Name (English)")).fill(name_en)
        page.get_by_role("button", name=t("Save")).click()
        expect(page.get_by_role("status")).to_contain_text(t("Work group saved."))

    # Their people: a lead and a member each.
    groups = {"CG": "CG · 场馆建设与无障碍环境组", "JS": "JS · 竞赛组织组"}
    people = [
        ("chen", "陈组长", "lead", "CG"),
        ("li", "李责任人", "member", "CG"),
        ("wang", "王组长", "lead", "JS"),
        ("zhao", "赵责任人", "member", "JS"),
    ]
    role_names = {"lead": t("Work-group lead"), "member": t("Member (responsible person)")}
    for username, name, role, code in people:
        tabs.get_by_role("link", name=t("Users")).click()
        page.get_by_role("link", name=t("Add user")).click()
        page.get_by_label(t("Username")).fill(username)
        page.get_by_label(t("Display name")).fill(name)
        page.get_by_label(t("Role")).select_option(label=role_names[role])
        page.get_by_role("group", name=t("Work groups")).get_by_label(groups[code], exact=True).check()
        page.get_by_label(t("New password (leave empty to keep)")).fill("a-long-password-1")
        page.get_by_role("button", name=t("Save")).click()
        expect(page.get_by_role("status")).to_contain_text(t("User saved."))

    tabs.get_by_role("link", name=t("Work groups")).click()
    table = page.get_by_role("table", name=t("Work groups, their leads and members"))
    expect(table.get_by_role("row", name=re.compile("^CG"))).to_contain_text("陈组长")
    expect(table.get_by_role("row", name=re.compile("^JS"))).to_contain_text("王组长")

    # The new lead can sign in and add items to their own group.
    lead = new_page(browser, server, t)
    sign_in(lead, t, "chen", "a-long-password-1")
    lead.goto("/items/new")
    expect(lead.get_by_label(t("Responsible group"))).to_contain_text("CG")
    expect(lead.get_by_label(t("Responsible group"))).not_to_contain_text("JS ·")


def message_pattern(t: T, msgid: str, *names: str) -> re.Pattern:
    """The translated message with its placeholders matching any word."""
    marked = t(msgid, **{name: f"<{name}>" for name in names})
    pattern = re.escape(marked)
    for name in names:
        pattern = pattern.replace(re.escape(f"<{name}>"), r"\S+")
    return re.compile(pattern)


def expect_status(page, t: T, status: str) -> None:
    """The item's status, shown as a word next to its title."""
    expect(page.get_by_role("main").get_by_text(t(status), exact=True).first).to_be_visible()


GROUP_LABELS = {"zh_CN": "CG · 场馆建设与无障碍环境组", "en": "CG · Venues & Accessible Environment"}


def add_problem(page, t: T, title: str) -> None:
    page.get_by_role("navigation", name=t("Main")).get_by_role("link", name=t("Problem list")).click()
    page.get_by_role("link", name=t("Add item")).click()
    page.get_by_label(t("Kind")).select_option(label=t("Problem"))
    page.get_by_label(t("Title")).fill(title)
    page.get_by_label(t("Description")).fill("主入口坡道坡度约 1:8，轮椅使用者无法独立通行。")
    page.get_by_label(t("Severity")).select_option(label=t("High"))
    page.get_by_label(t("Responsible group")).select_option(label=GROUP_LABELS[t.locale])
    page.get_by_label(t("Responsible person")).select_option(label="李责任人 (member)")
    page.get_by_label(t("Measures")).fill("按 1:12 坡度重新浇筑坡道，两侧加装扶手。")
    page.get_by_label(t("Deadline")).fill("2030-06-30")
    page.get_by_label(t("Acceptance criteria")).fill("坡度不大于 1:12，扶手高度 0.85 米，经无障碍督导员验收。")
    page.get_by_role("button", name=t("Save")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)


def test_lead_adds_a_problem_and_the_owner_works_it_to_submission(browser, world_server, t: T):
    title = "体育馆主入口无障碍坡道过陡"
    lead = new_page(browser, world_server, t)
    sign_in(lead, t, "lead")
    add_problem(lead, t, title)
    expect(lead.get_by_role("status")).to_have_text(message_pattern(t, "Item %(ref)s added.", "ref"))
    facts = lead.get_by_role("region", name=t("Responsibility"))
    expect(facts).to_contain_text("李责任人")
    expect(facts).to_contain_text("2030")

    # The owner finds it under their own work and takes it through to submission.
    owner = new_page(browser, world_server, t)
    sign_in(owner, t, "member")
    owner.get_by_role("table", name=t("Items I am responsible for, soonest deadline first")).get_by_role(
        "link", name=title
    ).click()
    owner.get_by_role("button", name=t("Start rectification"), exact=True).click()
    expect(owner.get_by_role("status")).to_contain_text(t("Start rectification"))
    owner.get_by_label(t("Progress note")).fill("坡道已破除，新坡道浇筑完成，扶手安装中。")
    owner.get_by_label(t("Progress (%)")).fill("80")
    owner.get_by_label(t("Evidence files (photos, PDF, Office)")).set_input_files(
        {"name": "ramp.png", "mimeType": "image/png", "buffer": tiny_png()}
    )
    owner.get_by_role("button", name=t("Record progress")).click()
    expect(owner.get_by_role("status")).to_contain_text(t("Progress recorded."))
    owner.get_by_role("button", name=t("Submit for verification"), exact=True).click()
    expect(owner.get_by_role("status")).to_contain_text(t("Submit for verification"))
    expect_status(owner, t, "Awaiting verification")

    history = owner.get_by_role("region", name=t("History (rectification ledger)"))
    expect(history).to_contain_text("坡道已破除")
    expect(history).to_contain_text(f"{t('Awaiting verification')}")
    with owner.expect_download() as download:
        history.get_by_role("link", name="ramp.png").click()
    assert Path(download.value.path()).read_bytes() == tiny_png()
    # Whoever submits never verifies: the owner is offered no way to close it.
    expect(owner.get_by_role("button", name=t("Verify and close (销号)"))).to_have_count(0)


def _cell_under(table, row, header: str):
    """The cell of ``row`` in the column headed ``header``, as a person reads a table."""
    headers = table.get_by_role("columnheader").all_inner_texts()
    return row.get_by_role("cell").nth(headers.index(header) - 1)  # the first column is the row header


def test_reviewer_follows_a_red_group_rejects_one_and_verifies_another(browser, world_server, t: T):
    page = new_page(browser, world_server, t)
    sign_in(page, t, "committee")
    page.get_by_role("navigation", name=t("Main")).get_by_role("link", name=t("Wall chart")).click()

    board = page.get_by_role("table", name=t("Items per work group and status; every number opens the list behind it"))
    red_row = board.get_by_role("row").filter(has_text=t("Red")).filter(has_text="CG")
    expect(red_row).to_have_count(1)
    _cell_under(board, red_row, t("Overdue")).get_by_role("link").click()

    overdue_list = page.get_by_role("table", name=t("Problem list: what is wrong, where it came from, how serious"))
    expect(overdue_list.get_by_role("row")).to_have_count(2)  # header + the one overdue item
    expect(overdue_list).to_contain_text("看台轮椅席位不足")
    expect(overdue_list).to_contain_text(t("Overdue %(days)s d", days=5))

    page.go_back()
    _cell_under(board, red_row, t("Awaiting verification")).get_by_role("link").click()
    waiting = page.get_by_role("table", name=t("Problem list: what is wrong, where it came from, how serious"))

    # Reject one, with a reason.
    waiting.get_by_role("link", name="无障碍卫生间扶手缺失").click()
    reason = "扶手高度不符合 0.85 米要求，请整改后重新提交。"
    page.get_by_label(t("%(action)s: reason (required)", action=t("Reject"))).fill(reason)
    page.get_by_role("button", name=t("Reject"), exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(t("Reject"))
    expect_status(page, t, "In progress")
    history = page.get_by_role("region", name=t("History (rectification ledger)"))
    expect(history).to_contain_text(reason)
    expect(history).to_contain_text(f"{t('Awaiting verification')} → {t('In progress')}")

    # Verify and close (销号) the other.
    page.go_back()
    page.go_back()
    page.reload()
    page.get_by_role("link", name="盲道被临时设施占用").click()
    page.get_by_role("button", name=t("Verify and close (销号)"), exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(t("Verify and close (销号)"))
    expect_status(page, t, "Closed")
    history = page.get_by_role("region", name=t("History (rectification ledger)"))
    expect(history).to_contain_text(f"{t('Awaiting verification')} → {t('Closed')}")
    expect(history).to_contain_text(f"{t('Not started')} → {t('In progress')}")

    # The rectification ledger shows both outcomes.
    page.get_by_role("navigation", name=t("Main")).get_by_role("link", name=t("Rectification ledger")).click()
    ledger = page.get_by_role("table", name=t("Rectification ledger: state of every item and its progress"))
    expect(ledger.get_by_role("row").filter(has_text="盲道被临时设施占用")).to_contain_text(t("Closed"))
    expect(ledger.get_by_role("row").filter(has_text="无障碍卫生间扶手缺失")).to_contain_text(t("In progress"))


def test_member_opens_an_item_from_a_reminder_in_the_bell(browser, world_server, t: T):
    from tracker.clock import utcnow
    from tracker.jobs.run import run_reminders

    world_server.run(lambda: run_reminders(utcnow()))
    page = new_page(browser, world_server, t)
    sign_in(page, t, "member")

    bell = page.get_by_role("banner").get_by_role("link", name=re.compile(t("Notifications")))
    expect(bell).to_contain_text(message_pattern(t, "%(num)s unread", "num"))
    expect(bell).not_to_contain_text(t("%(num)s unread", num=0))
    bell.click()

    expect(page.get_by_role("heading", level=1)).to_have_text(t("Notifications"))
    # The overdue reminder (the item's assignment to the member is a notification of its own).
    links = page.get_by_role("main").get_by_role("link", name=re.compile("看台轮椅席位不足"))
    expect(links.first).to_be_visible()
    overdue = [n for n in range(links.count()) if t("Overdue").split()[0] in (links.nth(n).inner_text() or "")]
    reminder = links.nth(overdue[0]) if overdue else links.first
    reminder.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("看台轮椅席位不足")
    expect(page).to_have_url(re.compile(f"/items/{world_server.world['overdue']}$"))
