"""Every API error answers {"error": {code, message, fields}} with its status; bad input never a 500."""

import pytest

from tests.api.test_api import make_tokens
from tracker.extensions import db
from tracker.items.models import Item, LedgerEntry


@pytest.fixture
def lead(app, world):
    return make_tokens(app)["lead"]


def send(client, secret, method, path, body=None, content_type="application/json", **headers):
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    return client.open(
        "/api/v1" + path,
        method=method,
        data=body,
        headers=headers,
        content_type=content_type if body is not None else None,
    )


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) >= {"code", "message", "fields"}
    assert isinstance(error["message"], str) and error["message"]
    if code:
        assert error["code"] == code
    return error


def _counts(app):
    with app.app_context():
        return db.session.query(Item).count(), db.session.query(LedgerEntry).count()


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"title": NaN, "group": "CG"}',
        b'{"title": "x", "group": "CG", "progress": Infinity}',
        b'{"title": "a", "title": "b", "group": "CG"}',
        b'["title", "group"]',
        b'"just a string"',
        b"null",
        b"[" * 2000 + b"]" * 2000,
        b'{"a":' * 30 + b"1" + b"}" * 30,
        b'{"title": "x", "group": "CG", "n": ' + b"9" * 5000 + b"}",
        b"\xff\xfe not utf-8",
        b"",
    ],
    ids=[
        "malformed",
        "nan",
        "infinity",
        "duplicate-keys",
        "array",
        "string",
        "null",
        "deep-array",
        "deep-object",
        "huge-int",
        "not-utf8",
        "empty",
    ],
)
def test_malformed_bodies_are_400_and_write_nothing(app, client, lead, body):
    before = _counts(app)
    assert_error(send(client, lead, "POST", "/items", body), 400, "bad_request")
    assert _counts(app) == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_wrong_content_type_is_415(client, lead, content_type):
    response = send(client, lead, "POST", "/items", b'{"title": "x", "group": "CG"}', content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")


def test_json_suffix_types_are_accepted(client, lead):
    response = send(client, lead, "POST", "/items", b'{"title": "x", "group": "CG"}', "application/merge-patch+json")
    assert response.status_code == 201


def test_oversized_body_is_413(client, lead):
    body = b'{"title": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    assert_error(send(client, lead, "POST", "/items", body), 413, "too_large")


def test_missing_credentials_are_401(client, world):
    error = assert_error(client.get("/api/v1/items"), 401, "unauthorized")
    assert error["fields"] == {}
    assert client.get("/api/v1/items").headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer", "Bearer wct_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer x y"])
def test_bad_credentials_are_401(client, world, header):
    assert_error(client.get("/api/v1/users/me", headers={"Authorization": header}), 401, "unauthorized")


def test_forbidden_is_403(app, client, world):
    member = make_tokens(app)["member"]
    assert_error(send(client, member, "POST", "/items", b'{"title": "x", "group": "CG"}'), 403, "forbidden")


def test_missing_is_404(client, lead):
    assert_error(send(client, lead, "GET", "/items/424242"), 404, "not_found")
    assert_error(send(client, lead, "GET", "/no/such/thing"), 404, "not_found")
    assert_error(send(client, lead, "GET", "/items/99999999999999999999"), 404, "not_found")
    assert_error(send(client, lead, "GET", "/items/1%0A2/ledger"), 404, "not_found")  # no route matches a new line


def test_wrong_method_is_405_with_allow(client, lead):
    response = send(client, lead, "DELETE", "/items")
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST"}


def test_conflict_is_409(client, lead, world):
    path = f"/items/{world.items['owned'].id}"
    send(client, lead, "PATCH", path, b'{"version": 1, "title": "one"}')
    error = assert_error(send(client, lead, "PATCH", path, b'{"version": 1, "title": "two"}'), 409, "conflict")
    assert error["current_version"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"title": 5, "group": "CG"}', "title"),
        (b'{"title": "x", "group": "CG", "deadline": "30/06/2026"}', "deadline"),
        (b'{"title": "x", "group": "CG", "deadline": "9999-12-31"}', "deadline"),
        (b'{"title": "x", "group": "CG", "confidential": "yes"}', "confidential"),
        (b'{"title": "x", "group": "CG", "milestone": 99999999999}', "milestone"),
        (b'{"title": "x", "group": "CG", "milestone": true}', "milestone"),
        (b'{"title": "x", "group": "CG", "severity": "urgent"}', "severity"),
        (b'{"title": "x", "group": "CG", "supporting_groups": "JS"}', "supporting_groups"),
        (b'{"title": "x", "group": "CG", "supporting_groups": ["ZZ"]}', "supporting_groups"),
        (b'{"title": "nul \\u0000 byte", "group": "CG"}', "title"),
        (b'{"title": "lone \\ud800 surrogate", "group": "CG"}', "title"),
        (b'{"title": "' + b"x" * 301 + b'", "group": "CG"}', "title"),
        (b'{"group": "CG"}', "title"),
        (b'{"title": "x", "group": "CG", "version": 3}', "version"),
        (b'{"title": "x", "group": "CG", "\\ud800": 1}', "\ud800"),
    ],
)
def test_invalid_fields_are_422_by_name(app, client, lead, body, field):
    before = _counts(app)
    error = assert_error(send(client, lead, "POST", "/items", body), 422, "validation_failed")
    assert field in error["fields"]
    assert _counts(app) == before


def test_nul_in_a_query_parameter_is_422(client, lead):
    assert_error(send(client, lead, "GET", "/items?q=%00"), 422)


def test_html_pages_keep_html_errors(client, world):
    from tests.factories import login

    login(client, "lead")
    response = client.get("/items/424242")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
