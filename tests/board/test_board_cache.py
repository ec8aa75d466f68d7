"""The cached board follows every write at once, in every process, without anyone clearing it."""

import time_machine
from sqlalchemy import select

from tests.api.test_api import make_tokens
from tests.factories import NOW
from tracker import create_app
from tracker.extensions import db
from tracker.groups.models import WorkGroup


def _board(client, secret: str) -> dict:
    response = client.get("/api/v1/board", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    return response.get_json()


def test_a_milestone_created_through_the_api_shows_on_the_board_at_once(app, world):
    secrets = make_tokens(app)
    client = app.test_client()
    with time_machine.travel(NOW, tick=False):
        assert _board(client, secrets["member"])["milestones"] == []  # now cached
        created = client.post(
            "/api/v1/milestones",
            json={"title": "T-30 全要素演练", "offset_days": -30},
            headers={"Authorization": f"Bearer {secrets['committee']}"},
        )
        assert created.status_code == 201
        board = _board(client, secrets["member"])
    assert [m["title"] for m in board["milestones"]] == ["T-30 全要素演练"]


def test_a_group_renamed_in_another_process_shows_on_this_ones_board(app, world, config):
    secrets = make_tokens(app)
    client = app.test_client()
    other = create_app(dict(config))  # a second worker: its own process-local cache, the same database
    with time_machine.travel(NOW, tick=False):
        assert "现场与无障碍组" not in {g["name"] for g in _board(client, secrets["committee"])["groups"]}
        with other.app_context():
            group = db.session.scalars(select(WorkGroup).where(WorkGroup.code == world.cs.code)).one()
            group.name = "现场与无障碍组"
            db.session.commit()
            db.engine.dispose()
        names = {g["name"] for g in _board(client, secrets["committee"])["groups"]}
    assert "现场与无障碍组" in names


def test_an_unrelated_read_keeps_the_cached_board(app, world):
    secrets = make_tokens(app)
    client = app.test_client()
    with time_machine.travel(NOW, tick=False):
        _board(client, secrets["committee"])
        cached = len(app.extensions["board_cache"])
        client.get("/api/v1/milestones", headers={"Authorization": f"Bearer {secrets['committee']}"})
        _board(client, secrets["committee"])
    assert len(app.extensions["board_cache"]) == cached
