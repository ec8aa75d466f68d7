"""Work-group codes follow one documented pattern; calendar file names are encoded per RFC 6266."""

from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import select

from tests.api.test_api import make_tokens
from tests.factories import NOW, login
from tracker.auth.models import User
from tracker.calendar import services
from tracker.extensions import db
from tracker.groups import rules
from tracker.groups.models import WorkGroup

BAD_CODES = ['Q"Z', "A/B", '" "', "组委", "ÄB", "1AB", "A B", "A;B", "A\\B", "A.B"]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW):
        yield


@pytest.mark.parametrize("code", [*BAD_CODES, "A" * 17, ""])
def test_the_code_pattern_refuses(code):
    assert not rules.is_valid_code(rules.normalise_code(code))


@pytest.mark.parametrize("code", ["ZH", "JS", "cg-2", "MS_01", "A", "ABCDEFGHIJKLMNOP"])
def test_the_code_pattern_accepts(code):
    assert rules.is_valid_code(rules.normalise_code(code))


@pytest.mark.parametrize("code", BAD_CODES)
def test_admin_page_refuses_a_bad_group_code_with_a_field_message(app, client, world, code):
    login(client, "admin")
    response = client.post(
        "/admin/groups/new", data={"code": code, "name": "新组", "sort_order": 0}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert "a letter followed by up to 15 letters" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(WorkGroup).where(WorkGroup.name == "新组")) is None


@pytest.mark.parametrize("code", BAD_CODES)
def test_api_refuses_a_bad_group_code_with_a_json_error(app, client, world, code):
    secret = make_tokens(app)["admin"]
    response = client.post(
        "/api/v1/groups", json={"code": code, "name": "新组"}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 422
    assert "code" in response.get_json()["error"]["fields"]


def test_a_good_code_is_upper_cased(app, client, world):
    secret = make_tokens(app)["admin"]
    response = client.post(
        "/api/v1/groups", json={"code": "xc-2", "name": "宣传二组"}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 201
    assert response.get_json()["code"] == "XC-2"


@pytest.mark.parametrize("code", ["组委", 'Q"Z', "A B"])
def test_a_stored_odd_code_still_gets_a_calendar_feed_named_per_rfc_6266(app, client, world, code):
    with app.test_request_context():
        group = db.session.get(WorkGroup, world.cs.id)
        group.code = code  # stored before codes were checked
        db.session.commit()
        user = db.session.scalar(select(User).where(User.username == "lead"))
        url = services.group_calendar_url(user, group)
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.isascii()
    assert "filename*=UTF-8''" in disposition
    assert '"' not in disposition.split('filename="', 1)[1].rsplit('"', 1)[0]
