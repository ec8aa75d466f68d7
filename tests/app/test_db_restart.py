"""The database connection dropped under a request, as a PostgreSQL restart drops every one.

Restarting the server itself would break the other test processes sharing it (CI runs
this suite with ``pytest -n 2``), so each test ends only its own request's backend with
``pg_terminate_backend`` — what a restart does to each connection. ``bench/soak.py
--restart-postgres`` restarts the real server under load. PostgreSQL only: skipped on
SQLite, whose database file cannot go away under a request.
"""

import os

import pytest
from sqlalchemy import event, text

from tracker.api.services import create_token
from tracker.auth.models import User
from tracker.clock import utcnow
from tracker.extensions import db

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("TRACKER_TEST_DATABASE_URL"), reason="needs PostgreSQL (TRACKER_TEST_DATABASE_URL)"
    ),
]


@pytest.fixture
def token(app, world):
    with app.app_context():
        secret = create_token(db.session.get(User, world.lead.id), "restart", now=utcnow())[1]
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def drop_connection(app):
    """Arm: the next statement matching ``marker`` has its backend terminated right after it ran."""
    with app.app_context():
        engine = db.engine
    armed = {}

    def after(conn, cursor, statement, *args):
        if armed.get("marker") and armed["marker"] in statement:
            del armed["marker"]
            pid = conn.connection.dbapi_connection.info.backend_pid
            with engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                other.commit()

    event.listen(engine, "after_cursor_execute", after)
    yield armed
    event.remove(engine, "after_cursor_execute", after)


def test_an_api_error_answered_on_a_dropped_connection_is_still_that_error(client, token, drop_connection):
    # The lookup found nothing; the connection died while the answer was being put together.
    drop_connection["marker"] = "FROM event"
    response = client.get("/api/v1/items/999999", headers=token)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_a_query_on_a_dropped_connection_answers_503_and_the_next_request_recovers(client, token, drop_connection):
    drop_connection["marker"] = "FROM api_token"
    first = client.get("/api/v1/items", headers=token)  # the next statement finds its connection gone
    assert first.status_code == 503
    assert first.json["error"]["code"] == "unavailable" and "数据库" in first.json["error"]["message"]
    again = client.get("/api/v1/items", headers=token)
    assert again.status_code == 200, "the pool did not replace the dropped connection"
