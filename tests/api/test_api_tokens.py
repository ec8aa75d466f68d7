"""Personal API tokens: shown once, stored as hashes, revocable on the page, refused at once after."""

import hashlib
import re

from tests.factories import login
from tracker.api.models import ApiToken
from tracker.extensions import db


def _me(client, secret):
    return client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"})


def test_cli_prints_a_token_that_works(runner, client, world, app):
    result = runner.invoke(args=["api-token", "lead"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert _me(client, secret).get_json()["username"] == "lead"
    with app.app_context():
        stored = db.session.query(ApiToken).one()
        assert stored.hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in (stored.name, stored.hash)
        assert stored.last_used_at is not None


def test_cli_refuses_an_unknown_user(runner, world):
    result = runner.invoke(args=["api-token", "nobody"])
    assert result.exit_code != 0
    assert "nobody" in result.output


def _create_on_page(client, name="表格同步") -> str:
    page = client.post("/account/tokens", data={"name": name})
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    return re.search(r'id="new-token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_page_creates_lists_and_revokes(client, world, app):
    login(client, "member")
    secret = _create_on_page(client)
    assert _me(client.application.test_client(), secret).status_code == 200
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "表格同步" in listing and secret not in listing
    with app.app_context():
        token_id = db.session.query(ApiToken).one().id
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    response = _me(app.test_client(), secret)
    assert response.status_code == 401
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_revocation_takes_effect_on_the_next_call(client, world, app, runner):
    secret = runner.invoke(args=["api-token", "committee"]).output.strip()
    api = app.test_client()
    assert _me(api, secret).status_code == 200
    login(client, "committee")
    with app.app_context():
        token_id = db.session.query(ApiToken).one().id
    client.post(f"/account/tokens/{token_id}/revoke")
    assert _me(api, secret).status_code == 401


def test_nobody_revokes_someone_elses_token(client, world, app, runner):
    secret = runner.invoke(args=["api-token", "lead"]).output.strip()
    with app.app_context():
        token_id = db.session.query(ApiToken).one().id
    login(client, "admin")
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert "lead" not in client.get("/account/tokens").get_data(as_text=True).split("<main", 1)[1]
    assert _me(app.test_client(), secret).status_code == 200


def test_a_deactivated_user_loses_api_access(runner, world, app):
    from tracker.auth.models import User

    secret = runner.invoke(args=["api-token", "member"]).output.strip()
    with app.app_context():
        db.session.get(User, world.member.id).is_active_account = False
        db.session.commit()
    assert _me(app.test_client(), secret).status_code == 401


def test_a_token_name_is_required(client, world):
    login(client, "lead")
    assert client.post("/account/tokens", data={"name": ""}).status_code == 422


def test_a_read_records_the_token_use_even_when_another_writer_commits_meanwhile(runner, client, world, app):
    """On SQLite a read transaction turned writer would fail at once with "database is locked"."""
    from sqlalchemy import event, text

    secret = runner.invoke(args=["api-token", "lead"]).output.strip()
    with app.app_context():
        engine = db.engine

    def commit_elsewhere(conn, cursor, statement, *args):
        if statement.lstrip().startswith("SELECT") and "FROM api_token" in statement:
            with engine.begin() as other:
                other.execute(text("UPDATE work_group SET sort_order = sort_order + 1"))

    event.listen(engine, "after_cursor_execute", commit_elsewhere)
    try:
        response = _me(client, secret)
    finally:
        event.remove(engine, "after_cursor_execute", commit_elsewhere)
    assert response.status_code == 200
    with app.app_context():
        assert db.session.query(ApiToken).one().last_used_at is not None
