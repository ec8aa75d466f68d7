"""An event's dates stay within ten years of today, whichever door sets them (issue 20: an
opening day in 2998 made /board take ten seconds)."""

import pytest

from tests.factories import NOW, login
from tracker.event import rules

BODY = {"name": "残运会", "timezone": "Asia/Shanghai"}


def _json(client, method, path, body):
    return client.open(path, method=method, json=body)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"opening_at": "2998-09-18T20:00:00+08:00"}, "opening_at"),
        ({"opening_at": "1900-09-18T20:00:00+08:00"}, "opening_at"),
        ({"opening_at": "2026-09-18T20:00:00+08:00", "closing_at": "9999-12-31T00:00:00+08:00"}, "closing_at"),
    ],
)
def test_api_refuses_event_dates_beyond_ten_years(app, client, world, time_machine, payload, field):
    time_machine.move_to(NOW, tick=False)
    login(client, "admin")
    response = _json(client, "PUT", "/api/v1/event", {**BODY, **payload})
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert client.get("/api/v1/event").get_json()["opening_at"] == "2026-09-18T12:00:00Z"  # unchanged


def test_api_accepts_dates_within_the_span(client, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    login(client, "admin")
    response = _json(client, "PUT", "/api/v1/event", {**BODY, "opening_at": "2035-09-18T20:00:00+08:00"})
    assert response.status_code == 200


def test_admin_form_refuses_a_far_opening_day(client, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    login(client, "admin")
    form = {
        "name": "残运会",
        "name_en": "",
        "host_city": "茂名",
        "opening_at": "2998-09-18T20:00",
        "closing_at": "",
        "timezone": "Asia/Shanghai",
        "default_locale": "zh_CN",
    }
    response = client.post("/admin/event", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "10" in page and "2998-09-18T20:00" in page  # the message, and what was typed is kept
    assert client.get("/board").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"title": "远期节点", "kind": "rehearsal", "date": "2998-01-01"},
        {"title": "远期节点", "kind": "rehearsal", "date": "0001-01-01"},
    ],
)
def test_milestone_dates_are_bounded_too(client, world, time_machine, body):
    time_machine.move_to(NOW, tick=False)
    login(client, "committee")
    response = _json(client, "POST", "/api/v1/milestones", body)
    assert response.status_code == 422
    assert client.get("/board").status_code == 200


def test_span_rule():
    assert rules.within_span(NOW.date(), NOW)
    assert rules.within_span(NOW.replace(year=2036), NOW)
    assert not rules.within_span(NOW.replace(year=2037), NOW)
    assert not rules.within_span(NOW.replace(year=2015), NOW)
    assert rules.offset_within_span(-3650) and not rules.offset_within_span(4000)
