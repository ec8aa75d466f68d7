"""The wall chart's numbers: a hand-built data set, confidentiality, SQL lights = Python lights, the cache."""

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from tests import factories
from tracker.api.shapes import board_json
from tracker.board import services as board
from tracker.event.services import event_timezone
from tracker.extensions import db
from tracker.items import services as items
from tracker.items.models import Item
from tracker.items.status import item_light, thresholds
from tracker.milestones.models import Milestone

NOW = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)  # 10:00 on 10 June in Maoming
TODAY = date(2026, 6, 10)
CREATED = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


class Data:
    pass


def summary_of(actor, now) -> dict:
    """The board as ``GET /api/v1/board`` answers it."""
    return board_json(board.board(board.scope(actor, now)))


def _item(actor, group, *, deadline, status="open", progress=0, created=CREATED, **extra):
    item = factories.make_item(actor, group, now=created, deadline=deadline, **extra)
    item.status, item.progress = status, progress
    return item


@pytest.fixture
def data(ctx):
    """Four groups; AA and BB red for different reasons, CC red only through a confidential item, DD empty."""
    d = Data()
    d.event = factories.make_event()
    d.aa, d.bb, d.cc, d.dd = (factories.make_group(code) for code in ("AA", "BB", "CC", "DD"))
    d.committee = factories.make_user("boss", "committee")
    d.aa_member = factories.make_user("amember", "member", [d.aa])
    d.cc_member = factories.make_user("cmember", "member", [d.cc])
    d.milestone = Milestone(event_id=d.event.id, title="T-90 节点", offset_days=-90)
    db.session.add(d.milestone)
    db.session.flush()
    c = d.committee
    _item(c, d.aa, deadline=date(2026, 6, 8), key_area="competition", milestone_id=d.milestone.id)  # overdue
    _item(c, d.aa, deadline=date(2026, 6, 12), status="in_progress", progress=90, key_area="competition")  # due soon
    _item(c, d.aa, deadline=date(2026, 6, 5), status="submitted", milestone_id=d.milestone.id)  # late but handed in
    _item(c, d.aa, deadline=date(2026, 6, 5), status="closed", progress=100, key_area="safety")
    _item(c, d.aa, deadline=date(2026, 6, 5), status="cancelled")  # out of every count
    _item(c, d.aa, deadline=None)
    _item(c, d.bb, deadline=date(2026, 6, 21), progress=10)  # 45 % expected: lag 35, red
    _item(c, d.bb, deadline=date(2026, 6, 21), status="in_progress", progress=30)  # lag 15, amber
    _item(c, d.cc, deadline=date(2026, 6, 21), progress=40)  # lag 5, green
    _item(c, d.cc, deadline=date(2026, 6, 8), is_confidential=True, milestone_id=d.milestone.id)  # overdue, secret
    db.session.commit()
    return d


def _group(summary, code):
    return next(g for g in summary["groups"] if g["code"] == code)


def test_summary_has_exactly_the_api_shape(data):
    summary = summary_of(data.committee, NOW)
    assert set(summary) == {"days_to_opening", "groups", "totals", "milestones"}
    assert summary["days_to_opening"] == (date(2026, 9, 18) - TODAY).days
    for row in summary["groups"]:
        assert set(row) == {"code", "name", "counts", "overdue", "due_soon", "total", "rag"}
        assert set(row["counts"]) == {"open", "in_progress", "submitted", "closed"}
    assert set(summary["totals"]) == {"counts", "overdue", "due_soon", "total", "rag"}
    assert summary["milestones"] == [
        {"id": data.milestone.id, "title": "T-90 节点", "date": "2026-06-20", "days_left": 10, "open_items": 3}
    ]


def test_counts_per_group_for_the_committee(data):
    summary = summary_of(data.committee, NOW)
    assert _group(summary, "AA") == {
        "code": "AA",
        "name": "AA组",
        "counts": {"open": 2, "in_progress": 1, "submitted": 1, "closed": 1},
        "overdue": 1,
        "due_soon": 1,
        "total": 5,
        "rag": "red",
    }
    bb = _group(summary, "BB")
    assert (bb["counts"], bb["overdue"], bb["due_soon"], bb["total"], bb["rag"]) == (
        {"open": 1, "in_progress": 1, "submitted": 0, "closed": 0},
        0,
        0,
        2,
        "red",
    )
    cc = _group(summary, "CC")
    assert (cc["counts"]["open"], cc["overdue"], cc["rag"]) == (2, 1, "red")
    assert _group(summary, "DD") == {
        "code": "DD",
        "name": "DD组",
        "counts": {"open": 0, "in_progress": 0, "submitted": 0, "closed": 0},
        "overdue": 0,
        "due_soon": 0,
        "total": 0,
        "rag": "green",
    }
    assert summary["totals"] == {
        "counts": {"open": 5, "in_progress": 2, "submitted": 1, "closed": 1},
        "overdue": 2,
        "due_soon": 1,
        "total": 9,
        "rag": "red",
    }


def test_confidential_items_count_only_for_those_who_may_see_them(data):
    outsider = summary_of(data.aa_member, NOW)
    cc = _group(outsider, "CC")
    assert (cc["counts"]["open"], cc["overdue"], cc["total"], cc["rag"]) == (1, 0, 1, "green")
    assert outsider["totals"]["total"] == 8
    assert outsider["milestones"][0]["open_items"] == 2

    insider = summary_of(data.cc_member, NOW)
    cc = _group(insider, "CC")
    assert (cc["counts"]["open"], cc["overdue"], cc["rag"]) == (2, 1, "red")
    assert insider["milestones"][0]["open_items"] == 3


def test_an_external_member_counts_only_their_own_items(data):
    external = factories.make_user("ext", "external", [data.bb])  # a vendor working for BB
    _item(data.committee, data.bb, deadline=date(2026, 6, 30), owner_id=external.id)
    db.session.commit()
    summary = summary_of(external, NOW)
    assert summary["totals"]["total"] == 1
    assert _group(summary, "BB")["counts"]["open"] == 1


def test_key_areas_put_the_meeting_priorities_first(data):
    page = board.board_page(board.scope(data.committee, NOW))
    areas = page.board.key_areas
    assert [a.key for a in areas][:4] == ["competition", "accessibility", "reception", "safety"]
    competition = areas[0]
    assert (competition.total, competition.overdue, competition.due_soon, competition.rag) == (
        2,
        1,
        1,
        "red",
    )
    assert areas[1].total == 0 and areas[1].rag == "green"
    assert areas[3].counts["closed"] == 1


def test_a_write_invalidates_the_cached_board_at_once(data):
    member = data.aa_member
    before = summary_of(data.committee, NOW)
    item = db.session.scalars(select(Item).where(Item.group_id == data.aa.id, Item.status == "open")).first()
    items.transition(item, "cancel", actor=data.committee, now=NOW, note="重复")
    db.session.commit()
    after = summary_of(data.committee, NOW)
    assert after["totals"]["total"] == before["totals"]["total"] - 1
    # The member cannot see CC's confidential item.
    assert summary_of(member, NOW)["totals"]["total"] == after["totals"]["total"] - 1


def test_the_board_moves_to_the_next_day_by_itself(data):
    summary = summary_of(data.committee, NOW + timedelta(days=1))
    assert summary["days_to_opening"] == (date(2026, 9, 18) - TODAY).days - 1
    assert _group(summary, "AA")["due_soon"] == 1


@pytest.fixture
def light_grid(app, ctx, prebuilt):
    """Items across the boundaries: creation near local midnight, short and long spans, every lag band."""
    prebuilt(app, "light grid", _light_grid)


def _light_grid():
    event = factories.make_event()
    group = factories.make_group("GR")
    boss = factories.make_user("boss", "committee")
    created_times = [
        datetime(2026, 6, 1, 2, 0, tzinfo=UTC),
        datetime(2026, 5, 31, 17, 30, tzinfo=UTC),  # 01:30 on 1 June local, still 31 May in UTC
        datetime(2026, 6, 1, 15, 59, tzinfo=UTC),  # 23:59 local
    ]
    spans = [0, 1, 3, 10, 20, 40]
    for created in created_times:
        for span in spans:
            for progress in (0, 10, 20, 30, 40, 60, 90):
                issued = created.astimezone(ZoneInfo(event.timezone)).date()
                _item(boss, group, created=created, deadline=issued + timedelta(days=span), progress=progress)
    _item(boss, group, created=created_times[0], deadline=None)
    _item(boss, group, created=created_times[0], deadline=date(2026, 6, 2), status="submitted")


@pytest.mark.parametrize("offset", [0, 1, 2, 5, 10, 11, 15, 20, 30, 41])
def test_sql_lights_match_the_pure_rule(light_grid, offset):
    today = date(2026, 6, 1) + timedelta(days=offset)
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=4)
    dialect = db.session.get_bind().dialect.name
    rank = board.light_rank(today, now, event_timezone(), thresholds(), dialect)
    sql = dict(db.session.execute(select(Item.id, rank)).all())
    mismatches = []
    for item in db.session.scalars(select(Item)).unique():
        expected = item_light(item, today)
        if board.LIGHTS[int(sql[item.id])] != expected:
            mismatches.append((item.id, item.created_at, item.deadline, item.progress, expected, sql[item.id]))
    assert not mismatches


def test_burndown_follows_the_ledger_and_the_ideal_line_reaches_zero_on_opening_day(ctx):
    event = factories.make_event()
    group = factories.make_group("GR")
    boss = factories.make_user("boss", "committee")
    lead = factories.make_user("gl", "lead", [group])
    day1 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    made = [factories.make_item(boss, group, now=day1, deadline=date(2026, 7, 1)) for _ in range(4)]
    made[0].owner_id = None
    for item in made[:2]:
        items.transition(item, "start", actor=lead, now=day1 + timedelta(days=1))
        items.transition(item, "submit", actor=lead, now=day1 + timedelta(days=2))
        items.transition(item, "verify", actor=boss, now=day1 + timedelta(days=3))
    items.transition(made[2], "cancel", actor=boss, now=day1 + timedelta(days=3), note="重复")
    db.session.commit()
    now = datetime(2026, 6, 5, 2, 0, tzinfo=UTC)
    page = board.board_page(board.scope(boss, now))
    by_day = {d.day: d for d in page.burndown}
    assert by_day[date(2026, 6, 1)].open_items == 4
    assert by_day[date(2026, 6, 3)].open_items == 4
    assert by_day[date(2026, 6, 4)].open_items == 1
    assert by_day[date(2026, 6, 5)].open_items == 1
    assert by_day[date(2026, 6, 6)].open_items is None
    assert by_day[date(2026, 6, 1)].ideal == 4
    assert by_day[event.opening_date].ideal == 0
    assert page.burndown[-1].day == event.opening_date


def test_board_page_renders_numbers_that_link_to_their_lists(client, data):
    with time_machine.travel(NOW, tick=False):
        factories.login(client, "boss")
        html = client.get("/board", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "/problems?group=AA&amp;overdue=1" in html
    assert "/problems?group=AA&amp;status=in_progress" in html
    assert 'class="light light-red"' in html and "Red" in html
    assert "days to opening" in html
    assert "<script" not in html.split("</main>")[0]


@pytest.mark.parametrize("who", ["boss", "amember"])
def test_every_number_on_the_board_is_the_length_of_the_list_it_links_to(client, data, who):
    with time_machine.travel(NOW, tick=False):
        factories.login(client, who)
        html = client.get("/board", headers={"Accept-Language": "en"}).get_data(as_text=True)
        links = re.findall(r'<a class="count[^"]*" href="([^"]+)">(\d+)</a>', html)
        assert len(links) > 20
        for href, shown in links:
            page = client.get(unescape(href), headers={"Accept-Language": "en"}).get_data(as_text=True)
            listed = re.search(r"(\d+) items · page", page)
            assert listed and listed.group(1) == shown, (href, shown, listed and listed.group(1))
