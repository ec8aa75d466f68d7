"""The weekly briefing's numbers for a hand-built week, reconstructed from the ledger afterwards."""

from datetime import UTC, date, datetime
from io import BytesIO

import pytest
import time_machine
from openpyxl import load_workbook

from tests import factories
from tracker.errors import PermissionDenied
from tracker.extensions import db
from tracker.items import services as items
from tracker.reports.services import Week, parse_week, weekly_report


def at(day: int, hour: int = 10) -> datetime:
    """``hour`` o'clock local time (UTC+8) on ``day`` June 2026."""
    return datetime(2026, 6, day, hour - 8, 0, tzinfo=UTC)


LATER = at(20)  # the report is read a week after the week it covers
WEEK = Week(2026, 24)  # Monday 8 to Sunday 14 June


class Data:
    pass


@pytest.fixture
def week(ctx):
    d = Data()
    d.event = factories.make_event()
    aa, bb = factories.make_group("AA"), factories.make_group("BB")
    d.boss = factories.make_user("boss", "committee")
    d.lead = factories.make_user("alead", "lead", [aa])
    d.bb_lead = factories.make_user("blead", "lead", [bb])
    owner = factories.make_user("zhang", "member", [bb], display_name="张三")

    def item(group, created, deadline, **extra):
        return factories.make_item(d.boss, group, now=created, deadline=deadline, **extra)

    def move(thing, when, *actions):
        for action in actions:
            actor = d.boss if action in ("verify", "cancel") else d.lead
            items.transition(thing, action, actor=actor, now=when, note="重复" if action == "cancel" else "")

    a1 = item(aa, at(1), date(2026, 6, 10), title="a1")  # falls overdue during the week
    item(aa, at(9), date(2026, 6, 30), title="a2")  # new this week
    a3 = item(aa, at(1), date(2026, 6, 30), title="a3")
    move(a3, at(2), "start")
    move(a3, at(10), "submit")
    move(a3, at(11), "verify")  # closed this week
    a4 = item(aa, at(1), date(2026, 6, 5), title="a4")
    move(a4, at(2), "start")
    move(a4, at(15), "submit")
    move(a4, at(16), "verify")  # overdue all week, closed only after it
    a5 = item(aa, at(1), date(2026, 6, 12), title="a5")
    items.update_item(a5, {"deadline": date(2026, 6, 30)}, actor=d.boss, now=at(15), version=a5.version, reason="延期")
    item(aa, at(16), date(2026, 6, 18), title="a6")  # after the week: not in it
    item(aa, at(1), date(2026, 6, 9), title="c1", is_confidential=True)
    item(bb, at(1), date(2026, 6, 3), title="b1", owner_id=owner.id)  # overdue both weeks
    b2 = item(bb, at(10), date(2026, 6, 30), title="b2")
    move(b2, at(12), "cancel")
    assert a1.id
    db.session.commit()
    return d


def _row(report, code):
    return next(g for g in report.groups if g.code == code)


def test_weekly_numbers_per_group(week):
    report = weekly_report(week.boss, week.event, WEEK, now=LATER)
    aa, bb = _row(report, "AA"), _row(report, "BB")
    assert (aa.new, aa.closed, aa.overdue, aa.still_open) == (1, 1, 4, 5)
    assert (bb.new, bb.closed, bb.overdue, bb.still_open) == (1, 0, 1, 1)
    assert (aa.overdue_change, aa.open_change) == (3, 0)
    assert (bb.overdue_change, bb.open_change) == (0, 0)
    t = report.totals
    assert (t.new, t.closed, t.overdue, t.still_open, t.overdue_change) == (2, 1, 5, 6, 3)
    assert report.as_of == date(2026, 6, 14)


def test_red_list_has_owner_days_overdue_and_what_is_new(week):
    report = weekly_report(week.boss, week.event, WEEK, now=LATER)
    assert [(r.title, r.days_overdue, r.is_new) for r in report.red_list] == [
        ("b1", 11, False),
        ("a4", 9, False),
        ("c1", 5, True),
        ("a1", 4, True),
        ("a5", 2, True),  # its deadline was 12 June then; the extension came after the week
    ]
    assert report.red_list[0].owner == "张三 (zhang)" and report.red_list[0].group == "BB"
    assert report.newly_overdue == 3


def test_a_lead_of_another_group_does_not_count_confidential_items(week):
    report = weekly_report(week.bb_lead, week.event, WEEK, now=LATER)
    aa = _row(report, "AA")
    assert (aa.overdue, aa.still_open) == (3, 4)
    assert "c1" not in [r.title for r in report.red_list]
    assert report.newly_overdue == 2


def test_the_running_week_is_reported_as_of_now(week):
    report = weekly_report(week.boss, week.event, WEEK, now=at(11, 12))
    aa = _row(report, "AA")
    assert report.as_of == date(2026, 6, 11)
    assert (aa.new, aa.closed, aa.overdue) == (1, 1, 3)  # a4, c1 and a1 (since the 11th)


def test_members_may_not_read_the_briefing(week):
    member = factories.make_user("m", "member")
    with pytest.raises(PermissionDenied):
        weekly_report(member, week.event, WEEK, now=LATER)


def test_week_parsing():
    today = date(2026, 6, 10)
    assert parse_week("2026-W24", today) == WEEK
    assert parse_week("2026-06-14", today) == WEEK
    assert parse_week("nonsense", today) == WEEK
    assert parse_week("2026-W99", today) == WEEK
    assert WEEK.shifted(-1).label == "2026-W23"


def test_page_and_workbook_show_the_same_numbers(app, client, week):
    with time_machine.travel(LATER, tick=False):
        factories.login(client, "boss")
        html = client.get("/reports/weekly?week=2026-W24", headers={"Accept-Language": "en"}).get_data(as_text=True)
        response = client.get("/reports/weekly.xlsx?week=2026-06-10")
    assert "Red list" in html and "张三 (zhang)" in html and "New this week" in html
    assert "<td>BB · " in html  # the group by code and name, like the ledger
    assert response.status_code == 200
    assert "weekly-2026-W24.xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(BytesIO(response.data))
    summary, red, extended, late = book.worksheets  # then the week's extensions (延期)
    assert [extended.max_row, late.max_row] == [1, 1]  # headers only: nothing was extended
    rows = {row[0]: row for row in summary.iter_rows(min_row=2, values_only=True)}
    assert rows["AA"][2:8] == (1, 1, 4, 5, 3, 0)
    red_rows = list(red.iter_rows(min_row=2, values_only=True))
    assert [row[1] for row in red_rows] == ["b1", "a4", "c1", "a1", "a5"]
    assert red_rows[0][2].startswith("BB · ") and red_rows[0][3] == "张三 (zhang)"
    db.session.remove()
