"""Milestones: relative dates follow opening day; the timeline shows readiness; only the committee edits."""

from datetime import UTC, date, datetime

import time_machine
from sqlalchemy import select

from tests import factories
from tracker.api.shapes import board_json
from tracker.board import services as board
from tracker.extensions import db
from tracker.items.models import Item
from tracker.milestones import services
from tracker.milestones.models import Milestone

NOW = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)


def summary_of(actor, now) -> dict:
    """The board as ``GET /api/v1/board`` answers it."""
    return board_json(board.board(board.scope(actor, now)))


def test_a_relative_milestone_moves_with_the_opening_date(ctx):
    event = factories.make_event()
    boss = factories.make_user("boss", "committee")
    relative = services.create_milestone(
        {"title": "T-30", "kind": "countdown", "offset_days": -30, "date_mode": "relative"},
        actor=boss,
        event=event,
        now=NOW,
    )
    fixed = services.create_milestone(
        {"title": "测试赛", "kind": "test_event", "fixed_date": date(2026, 8, 1), "date_mode": "fixed"},
        actor=boss,
        event=event,
        now=NOW,
    )
    db.session.commit()
    assert relative.date == date(2026, 8, 19) and relative.t_label == "T-30"
    event.opening_at = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    db.session.commit()
    assert relative.date == date(2026, 9, 1) and relative.t_label == "T-30"
    assert fixed.date == date(2026, 8, 1) and fixed.t_label == "T-61"


def test_the_board_lists_relative_milestones_at_their_moved_date(ctx):
    event = factories.make_event()
    boss = factories.make_user("boss", "committee")
    services.create_milestone(
        {"title": "T-100", "kind": "countdown", "offset_days": -100, "date_mode": "relative"},
        actor=boss,
        event=event,
        now=NOW,
    )
    db.session.commit()
    assert summary_of(boss, NOW)["milestones"][0]["date"] == "2026-06-10"
    event.opening_at = datetime(2026, 9, 28, 12, 0, tzinfo=UTC)
    db.session.commit()
    moved = summary_of(boss, NOW)["milestones"][0]
    assert (moved["date"], moved["days_left"]) == ("2026-06-20", 10)


def test_a_milestone_needs_its_date(ctx):
    event = factories.make_event()
    boss = factories.make_user("boss", "committee")
    try:
        services.create_milestone(
            {"title": "x", "kind": "countdown", "date_mode": "fixed"}, actor=boss, event=event, now=NOW
        )
    except services.ValidationFailed as error:
        assert "fixed_date" in error.fields
    else:
        raise AssertionError("a fixed milestone without a date was accepted")


def test_committee_adds_a_relative_rehearsal_and_the_timeline_marks_it(client, world):
    with time_machine.travel(NOW, tick=False):
        factories.login(client, "committee")
        response = client.post(
            "/milestones/new",
            data={
                "title": "全要素演练",
                "title_en": "Full rehearsal",
                "kind": "rehearsal",
                "date_mode": "relative",
                "offset_days": "-30",
            },
        )
        assert response.status_code == 302
        html = client.get("/milestones", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "T-30" in html and "Full rehearsal" in html
    assert "timeline-item rehearsal" in html and "moves with opening day" in html


def test_editing_a_milestone_to_a_fixed_date(client, app, world):
    with app.app_context():
        milestone = Milestone(event_id=world.event.id, title="转段", kind="handover", offset_days=-60)
        db.session.add(milestone)
        db.session.commit()
        milestone_id = milestone.id
    factories.login(client, "admin")
    response = client.post(
        f"/milestones/{milestone_id}/edit",
        data={"title": "转段", "kind": "handover", "date_mode": "fixed", "fixed_date": "2026-07-15"},
    )
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.get(Milestone, milestone_id)
        assert (saved.offset_days, saved.fixed_date) == (None, date(2026, 7, 15))


def test_a_lead_cannot_add_milestones(client, app, world):
    factories.login(client, "lead")
    response = client.post(
        "/milestones/new", data={"title": "x", "kind": "countdown", "date_mode": "relative", "offset_days": "-5"}
    )
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalars(select(Milestone)).all() == []


def test_timeline_shows_open_and_overdue_items_per_milestone(client, app, world):
    with app.app_context():
        milestone = Milestone(event_id=world.event.id, title="T-90", kind="countdown", offset_days=-90)
        db.session.add(milestone)
        db.session.flush()
        for name in ("owned", "confidential"):
            db.session.get(Item, world.items[name].id).milestone_id = milestone.id
        db.session.commit()
    with time_machine.travel(datetime(2026, 7, 5, 2, 0, tzinfo=UTC), tick=False):  # deadline 30 June passed
        factories.login(client, "othermember")  # cannot see CG's confidential item
        html = client.get("/milestones", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "1 open item<" in html and "1 overdue" in html
        client.post("/logout")
        factories.login(client, "committee")
        html = client.get("/milestones", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "2 open items" in html and "2 overdue" in html
