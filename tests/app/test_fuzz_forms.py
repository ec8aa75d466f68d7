"""Hostile input on every page: form fields and query parameters: never a 500, never a traceback."""

from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.app.test_route_matrix import TABLE, _fill, _ids
from tests.factories import login
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.items.models import Item, LedgerEntry

pytestmark = pytest.mark.slow  # fuzzing

FORM_ROWS = [row for row in TABLE if row.method == "POST" and row.json is None and not row.path.startswith("/api/")]
GET_ROWS = [row for row in TABLE if row.method == "GET"]
FORM_NAMES = (
    "title group_id owner_id deadline note progress version action username password role code name opening_at "
    "timezone kind severity language next current new confirm email group_ids supporting_group_ids webhook_url "
    "webhook_format webhook_secret"
).split()
QUERY_NAMES = (
    "page per_page q group status kind severity owner milestone overdue due_soon due_before week mode action next "
    "lang format sort since"
).split()
# fmt: off
EDGE_VALUES = ["", " ", "\x00", "-1", "0", "99999999999999999999", "-99999999999999999999", "2026-02-30", "0001-01-01",
               "9999-12-31", "9999-W52", "2026-W53", "1e309", "NaN", "<script>alert(1)</script>", "=cmd|' /C calc'!A0",
               "../../etc/passwd", "🚀" * 50, "a" * 20000, "None", "null", "[]", "{}"]
# fmt: on
NASTY = st.one_of(st.text(max_size=300), st.sampled_from(EDGE_VALUES))


@pytest.mark.parametrize("row", FORM_ROWS, ids=[f"{r.endpoint}:{r.path}" for r in FORM_ROWS])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.dictionaries(st.sampled_from(FORM_NAMES), NASTY, max_size=8))
def test_form_routes_never_fail_on_hostile_input(app, world, row, values):
    client = app.test_client()
    login(client, "admin")
    data = _fill(dict(row.data), _ids(world)) | values
    response = client.open(_fill(row.path, _ids(world)), method="POST", data=data)
    assert response.status_code < 500, (row.path, data, response.status_code)


@pytest.mark.parametrize("row", GET_ROWS, ids=[f"{r.endpoint}:{r.path}" for r in GET_ROWS])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(values={"page": "99999999999999999999", "milestone": "99999999999999999999", "week": "9999-W52"})
@example(values={"page": "-99999999999999999999", "per_page": "0", "week": "0001-W01", "due_before": "0001-01-01"})
@given(values=st.dictionaries(st.sampled_from(QUERY_NAMES), NASTY.filter(lambda v: "\x00" not in v), max_size=5))
def test_pages_never_fail_on_hostile_query_parameters(app, world, row, values):
    client = app.test_client()
    login(client, "admin")
    path, _, query = _fill(row.path, _ids(world)).partition("?")
    response = client.get(path, query_string=dict(parse_qsl(query)) | values)
    assert response.status_code < 500, (row.path, values, response.status_code)


@pytest.mark.parametrize("row", FORM_ROWS, ids=[f"{r.endpoint}:{r.path}" for r in FORM_ROWS])
def test_nul_in_a_form_field_is_refused_before_anything_is_written(app, world, row):
    # PostgreSQL cannot store or compare NUL; every text field of every form gets one.
    client = app.test_client()
    login(client, "admin")
    data = _fill(dict(row.data), _ids(world))
    data = {name: f"a\x00{value}" for name, value in data.items() if isinstance(value, str) and name != "csrf_token"}
    data["note"] = "\x00"
    before = _counts(app)
    response = client.open(_fill(row.path, _ids(world)), method="POST", data=data)
    assert response.status_code == 422, (row.path, response.status_code)
    assert "NUL" in response.get_data(as_text=True)
    assert _counts(app) == before


@pytest.mark.parametrize("row", GET_ROWS, ids=[f"{r.endpoint}:{r.path}" for r in GET_ROWS])
def test_nul_in_a_query_parameter_is_refused(app, world, row):
    client = app.test_client()
    login(client, "admin")
    path = _fill(row.path, _ids(world))
    response = client.get(path + ("&" if "?" in path else "?") + "q=%00&group=cs")
    assert response.status_code == 422, (path, response.status_code)
    if path.startswith("/api/v1/"):
        assert response.json["error"]["fields"] == {"q": response.json["error"]["message"]}


def _counts(app) -> tuple:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Item, LedgerEntry, AuditEvent))
