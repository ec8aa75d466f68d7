"""Sign-in hardening: second factor, remember-me, re-authentication, counters, timing, tokens, names.

Each test reproduces one finding of the second adversarial review (issue 20) and the cases
around it.
"""

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import event, select, update

from tests.factories import NOW, PASSWORD, login
from tracker.api.models import ApiToken
from tracker.audit.models import AuditEvent
from tracker.auth import services as auth_services
from tracker.auth import two_factor, users
from tracker.auth.models import User
from tracker.errors import ValidationFailed
from tracker.extensions import db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _with_totp(app, username: str) -> None:
    with app.app_context():
        db.session.execute(update(User).where(User.username == username).values(totp_secret=SECRET))
        db.session.commit()


def _user(app, username: str) -> User:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == username)).one()
        db.session.expunge(user)
        return user


def _actions(app) -> list[str]:
    with app.app_context():
        return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def _code(moment) -> str:
    return pyotp.TOTP(SECRET).at(moment)


# --- #4 second-factor failures are counted per account, across sign-ins ---------------------


def test_second_factor_cool_down_survives_a_right_password(app, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    _with_totp(app, "lead")
    for wrong in (2, 2, 1):  # three sign-ins, five wrong codes in all
        client = app.test_client()
        assert "/login/verify" in login(client, "lead").headers["Location"]
        for _ in range(wrong):
            assert client.post("/login/verify", data={"code": "000000"}).status_code == 422
    assert _user(app, "lead").totp_failures == 5
    # The fifth failure started a cool-down: the right password and the right code are refused.
    client = app.test_client()
    response = login(client, "lead")
    assert response.status_code == 200  # back on the form, not on to the code step
    assert client.get("/").status_code == 302
    time_machine.move_to(NOW + timedelta(minutes=3), tick=False)
    client = app.test_client()
    login(client, "lead")
    assert client.post("/login/verify", data={"code": _code(NOW + timedelta(minutes=3))}).status_code == 302
    assert _user(app, "lead").totp_failures == 0


def test_first_few_wrong_codes_are_free(app, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    _with_totp(app, "lead")
    client = app.test_client()
    login(client, "lead")
    for _ in range(4):
        client.post("/login/verify", data={"code": "111111"})
    assert client.post("/login/verify", data={"code": _code(NOW)}).status_code == 302


# --- #9 a code is good once -------------------------------------------------------------------


def test_a_totp_code_is_accepted_only_once(app, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    _with_totp(app, "lead")
    first, second = app.test_client(), app.test_client()
    login(first, "lead")
    login(second, "lead")
    code = _code(NOW)
    assert first.post("/login/verify", data={"code": code}).status_code == 302
    assert second.post("/login/verify", data={"code": code}).status_code == 422  # replayed
    # An older step than the last one used is refused too; the next step works.
    assert second.post("/login/verify", data={"code": _code(NOW - timedelta(seconds=30))}).status_code == 422
    time_machine.move_to(NOW + timedelta(seconds=30), tick=False)
    assert second.post("/login/verify", data={"code": _code(NOW + timedelta(seconds=30))}).status_code == 302


def test_matched_step_accepts_one_step_of_drift_only():
    assert two_factor.matched_step(SECRET, _code(NOW), NOW) is not None
    assert two_factor.matched_step(SECRET, _code(NOW - timedelta(seconds=30)), NOW) is not None
    assert two_factor.matched_step(SECRET, _code(NOW - timedelta(seconds=90)), NOW) is None
    for junk in ("", "12345", "1234567", "abcdef", None):
        assert two_factor.matched_step(SECRET, junk, NOW) is None


# --- #5 remember-me: a session, never a fresh one; idle timeout; server-side expiry ----------------


def _remembered(app, time_machine, at=NOW) -> str:
    time_machine.move_to(at, tick=False)
    client = app.test_client()
    client.post("/login", data={"username": "lead", "password": PASSWORD, "remember": "y"})
    cookie = client.get_cookie("remember_token")
    assert cookie is not None
    return cookie.value


def _with_only(app, token: str):
    client = app.test_client()
    client.set_cookie("remember_token", token, domain="localhost")
    return client


def test_remember_me_restores_a_session_that_is_not_fresh(app, world, time_machine):
    token = _remembered(app, time_machine)
    time_machine.move_to(NOW + timedelta(minutes=10), tick=False)
    client = _with_only(app, token)
    assert client.get("/").status_code == 200  # restored
    response = client.post("/account/tokens", data={"name": "from a cookie"})
    assert response.status_code == 302 and "/reauth" in response.headers["Location"]
    with app.app_context():
        assert db.session.scalars(select(ApiToken)).all() == []
    # Confirming the password makes it fresh, and a session of its own: it outlives the
    # remember-me period like any signed-in session.
    assert client.post("/reauth", data={"password": PASSWORD}).status_code == 302
    assert client.post("/account/tokens", data={"name": "now fresh"}).status_code == 200
    with app.app_context():
        db.session.execute(update(User).where(User.username == "lead").values(remember_until=NOW))
        db.session.commit()
    assert client.get("/").status_code == 200


def test_remember_me_obeys_the_idle_timeout(app, world, time_machine):
    token = _remembered(app, time_machine)
    time_machine.move_to(NOW + timedelta(minutes=31), tick=False)
    client = _with_only(app, token)
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/users/me").status_code == 401


def test_remember_me_keeps_working_while_the_account_is_active(app, world, time_machine):
    token = _remembered(app, time_machine)
    browser = _with_only(app, token)
    for minutes in (20, 40, 60):
        time_machine.move_to(NOW + timedelta(minutes=minutes), tick=False)
        assert browser.get("/").status_code == 200
    time_machine.move_to(NOW + timedelta(minutes=75), tick=False)
    assert _with_only(app, token).get("/").status_code == 200


def test_remember_me_expires_on_the_server(app, world, time_machine):
    token = _remembered(app, time_machine)
    with app.app_context():
        # The cookie is still good as far as the browser knows; the server says the period is over.
        db.session.execute(update(User).where(User.username == "lead").values(remember_until=NOW))
        db.session.commit()
    time_machine.move_to(NOW + timedelta(minutes=1), tick=False)
    assert _with_only(app, token).get("/").status_code == 302


def test_without_remember_me_a_cookie_restores_nothing(app, world, time_machine):
    token = _remembered(app, time_machine)
    client = app.test_client()
    login(client, "lead")  # a later sign-in without remember-me keeps the earlier period …
    assert _with_only(app, token).get("/").status_code == 200
    client.post("/logout")  # … and signing out ends it
    assert _with_only(app, token).get("/").status_code == 302
    assert _user(app, "lead").remember_until is None


# --- #7 2FA required: no API for the unenrolled -------------------------------------------------


def test_unenrolled_reviewer_gets_no_json_api_when_2fa_is_required(app, world, runner, time_machine):
    time_machine.move_to(NOW, tick=False)
    secret = runner.invoke(args=["api-token", "committee"]).output.strip()
    admin = app.test_client()
    login(admin, "admin")
    assert admin.post("/admin/security", data={"require_totp": "y"}).status_code == 302
    reviewer = app.test_client()
    login(reviewer, "committee")
    bearer = {"Authorization": f"Bearer {secret}"}
    for client, headers in ((reviewer, {}), (app.test_client(), bearer)):
        for path in ("/api/v1/items", "/api/v1/users/me", f"/api/v1/items/{world.items['owned'].id}"):
            response = client.get(path, headers=headers)
            assert response.status_code == 403, path
            assert response.get_json()["error"]["code"] == "two_factor_required"
        response = client.post("/api/v1/items", json={"title": "x"}, headers=headers)
        assert response.status_code == 403
    # Members are not concerned; the admin herself must enrol too.
    member = app.test_client()
    login(member, "member")
    assert member.get("/api/v1/items").status_code == 200
    assert admin.get("/api/v1/items").status_code == 403


def test_enrolled_reviewer_keeps_the_api(app, world, runner, time_machine):
    time_machine.move_to(NOW, tick=False)
    _with_totp(app, "committee")
    secret = runner.invoke(args=["api-token", "committee"]).output.strip()
    with app.app_context():
        two_factor.set_required(True)
        db.session.commit()
    assert app.test_client().get("/api/v1/items", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


# --- #8 /reauth and /account/password: counted, cooled down, audited ---------------------------


def test_reauth_guesses_cool_down_and_are_audited(app, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    client = app.test_client()
    login(client, "lead")
    for _ in range(5):
        assert client.post("/reauth", data={"password": "wrong-guess"}).status_code == 422
    assert _actions(app).count("reauth_failed") == 5
    # Cooling down: even the right password is refused, on this page and at sign-in.
    assert client.post("/reauth", data={"password": PASSWORD}).status_code == 422
    assert "login_throttled" in _actions(app)
    assert login(app.test_client(), "lead").status_code == 200
    time_machine.move_to(NOW + timedelta(minutes=2), tick=False)
    assert client.post("/reauth", data={"password": PASSWORD}).status_code == 302


def test_password_change_guesses_cool_down(app, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    client = app.test_client()
    login(client, "member")
    form = {"new": "another-pass-9", "confirm": "another-pass-9"}
    for _ in range(5):
        assert client.post("/account/password", data={"current": "nope-nope", **form}).status_code == 422
    assert client.post("/account/password", data={"current": PASSWORD, **form}).status_code == 422
    assert _user(app, "member").check_password(PASSWORD)  # unchanged
    assert _actions(app).count("login_failed") == 5


def test_reauth_and_password_pages_are_rate_limited(database_url, tmp_path, world):
    from tests.conftest import make_config
    from tracker import create_app

    config = make_config(database_url, tmp_path)
    config.update(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    app = create_app(config)
    client = app.test_client()
    login(client, "lead")  # the first of the login limit's three
    codes = [client.post("/reauth", data={"password": "x"}).status_code for _ in range(4)]
    assert codes[-1] == 429
    codes = [client.post("/account/password", data={"current": "x"}).status_code for _ in range(4)]
    assert codes[-1] == 429


# --- #10 the failure counter is one atomic UPDATE ------------------------------------------------


def test_failed_sign_in_counter_is_incremented_in_the_database(app, world):
    """``failed_logins + 1`` computed by the database, so two workers' failures both count."""
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            for _ in range(2):
                assert auth_services.sign_in("lead", "wrong", now=NOW) is None
                db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        assert db.session.scalar(select(User.failed_logins).where(User.username == "lead")) == 2
    increments = [s for s in statements if s.startswith("UPDATE") and re.search(r"failed_logins\s*\+\s*", s)]
    assert len(increments) == 2, statements
    assert not [s for s in statements if re.search(r"SET failed_logins\s*=\s*[?%]", s)]


# --- #11 unknown usernames cost the same hash work -----------------------------------------------


def test_unknown_usernames_do_the_same_password_hash_work(app, world, monkeypatch):
    checked = []
    real = auth_services.check_password_hash

    def spy(stored, password):
        checked.append(stored.split("$", 1)[0])
        return real(stored, password)

    monkeypatch.setattr(auth_services, "check_password_hash", spy)
    with app.app_context():
        assert auth_services.sign_in("nobody-here", "whatever", now=NOW) is None
        assert auth_services.sign_in("lead", "whatever", now=NOW) is None
        db.session.rollback()
    assert len(checked) == 2
    assert checked[0].startswith("scrypt")  # Werkzeug's default, what real passwords use


# --- Info: API tokens die with the password; the page says so --------------------------------


def test_password_change_revokes_api_tokens_and_says_so(app, world, runner):
    secret = runner.invoke(args=["api-token", "member"]).output.strip()
    me = {"Authorization": f"Bearer {secret}"}
    assert app.test_client().get("/api/v1/users/me", headers=me).status_code == 200
    client = app.test_client()
    login(client, "member")
    page = client.get("/account/password").get_data(as_text=True)
    assert "API" in page and ("revoke" in page or "吊销" in page or "作废" in page)
    new = "brand-new-pass-1"
    response = client.post("/account/password", data={"current": PASSWORD, "new": new, "confirm": new})
    assert response.status_code == 302
    assert app.test_client().get("/api/v1/users/me", headers=me).status_code == 401
    with app.app_context():
        assert all(t.revoked_at is not None for t in db.session.scalars(select(ApiToken)))


def test_admin_password_reset_revokes_the_users_tokens(app, world, runner):
    secret = runner.invoke(args=["api-token", "member"]).output.strip()
    with app.app_context():
        member = db.session.scalars(select(User).where(User.username == "member")).one()
        admin = db.session.scalars(select(User).where(User.username == "admin")).one()
        data = {
            "username": "member",
            "password": "reset-by-admin-1",
            "role": "member",
            "email": "",
            "display_name": "",
            "is_active_account": True,
            "group_ids": [world.cs.id],
        }
        users.save_user(member, data, actor=admin, now=NOW)
        db.session.commit()
    assert app.test_client().get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


# --- Info: bearer answers are never cached ------------------------------------------------------


def test_bearer_answers_carry_no_store(app, world, runner):
    secret = runner.invoke(args=["api-token", "lead"]).output.strip()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    for path in ("/api/v1/users/me", "/api/v1/items", "/api/v1/board", "/api/v1/items/999999", "/api/v1/nope"):
        response = client.get(path, headers=headers)
        assert response.headers.get("Cache-Control") == "no-store", (path, response.status_code)
    bad = client.get("/api/v1/items", headers={"Authorization": "Bearer wct_unknown"})
    assert bad.status_code == 401 and bad.headers.get("Cache-Control") == "no-store"


# --- Info: links from TRACKER_BASE_URL, never from Host -----------------------------------------


def test_calendar_url_ignores_the_host_header(app, world, runner):
    app.config["BASE_URL"] = "https://wallchart.example.org"
    secret = runner.invoke(args=["api-token", "member"]).output.strip()
    client = app.test_client()
    me = client.get(
        "/api/v1/users/me",
        headers={"Authorization": f"Bearer {secret}", "Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    ).get_json()
    assert me["calendar_url"].startswith("https://wallchart.example.org/calendar/feed/")
    login(client, "member")
    page = client.get("/calendar", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in page
    feed = client.get(
        me["calendar_url"].removeprefix("https://wallchart.example.org"), headers={"Host": "evil.example"}
    )
    assert feed.status_code == 200
    text = feed.get_data(as_text=True)
    assert "evil.example" not in text and "https://wallchart.example.org/items/" in text


# --- Info: confusable usernames --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["\u0430dmin", "p\u0430ypal", "l\u0435ad2", "\u03b1dmin"],  # Cyrillic а/е, Greek α among Latin letters
)
def test_mixed_script_usernames_are_refused(app, world, name):
    with app.app_context(), pytest.raises(ValidationFailed) as refused:
        users.create_user(username=name, password="long-enough-1", role="member", group_codes=[])
    assert "username" in refused.value.fields


def test_usernames_are_nfkc_normalised(app, world):
    with app.app_context():
        user = users.create_user(username="ｗａｎｇ２", password="long-enough-1", role="member", group_codes=[])
        assert user.username == "wang2"
        db.session.commit()
        with pytest.raises(ValidationFailed):  # full-width "lead" is "lead", which is taken
            users.create_user(username="ｌｅａｄ", password="long-enough-1", role="member", group_codes=[])
        for fine in ("张伟", "zhang.wei", "wei张"):
            users.create_user(username=fine, password="long-enough-1", role="member", group_codes=[])
    client = app.test_client()
    response = client.post("/login", data={"username": "ｗａｎｇ２", "password": "long-enough-1"})
    assert response.status_code == 302


def test_admin_user_form_refuses_a_confusable_name(app, world):
    client = app.test_client()
    login(client, "admin")
    page = client.get("/admin/users/new")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', page.get_data(as_text=True))
    data = {"username": "\u0430dmin", "password": "long-enough-1", "role": "member", "is_active_account": "y"}
    if token:
        data["csrf_token"] = token.group(1)
    response = client.post("/admin/users/new", data=data)
    assert response.status_code in (200, 422)
    with app.app_context():
        assert db.session.scalars(select(User).where(User.username == "\u0430dmin")).first() is None
