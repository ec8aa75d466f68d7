"""Sign-in, sign-out, redirects and CSRF."""

import pytest

from tests.conftest import make_config
from tests.factories import PASSWORD, login
from tracker import create_app
from tracker.auth.views import safe_next


def test_login_with_the_right_password(client, world):
    response = login(client, "lead")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_username_is_case_insensitive(client, world):
    assert login(client, "LEAD").status_code == 302


def test_wrong_password_gets_a_generic_message(client, world):
    response = login(client, "lead", "wrong")
    assert response.status_code == 200
    assert client.get("/").status_code == 302
    unknown = login(client, "nobody", "wrong")
    assert unknown.get_data().count(b"flash-error") == response.get_data().count(b"flash-error") == 1


def test_pages_need_a_sign_in(client, world):
    response = client.get("/problems")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_login_clears_the_previous_session(client, world):
    with client.session_transaction() as session:
        session["planted"] = "attacker"
    login(client, "lead")
    with client.session_transaction() as session:
        assert "planted" not in session


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/problems?group=CG", "/problems?group=CG"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
def test_next_redirects_stay_on_site(target, expected):
    assert safe_next(target, "/") == expected


def test_login_follows_a_safe_next(client, world):
    response = client.post("/login", data={"username": "lead", "password": PASSWORD, "next": "/ledger"})
    assert response.headers["Location"] == "/ledger"


def test_logout_kills_copied_session_cookies(app, client, world):
    login(client, "lead")
    cookie = client.get_cookie("session").value
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/").status_code == 302


def test_logout_kills_remember_me_cookies(app, client, world):
    client.post("/login", data={"username": "lead", "password": PASSWORD, "remember": "y"})
    remember = client.get_cookie("remember_token").value
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("remember_token", remember)
    assert thief.get("/").status_code == 302


def test_deactivated_user_cannot_sign_in(app, client, world):
    from tracker.auth.models import User
    from tracker.extensions import db

    with app.app_context():
        db.session.get(User, world.member.id).is_active_account = False
        db.session.commit()
    login(client, "member")
    assert client.get("/").status_code == 302


@pytest.fixture
def csrf_app(database_url, tmp_path):
    config = make_config(database_url, tmp_path) | {"WTF_CSRF_ENABLED": True}
    app = create_app(config)
    with app.app_context():
        from tracker.extensions import db

        if database_url.startswith("sqlite"):
            db.create_all()
    return app


def test_forms_without_a_csrf_token_are_refused(csrf_app, world):
    client = csrf_app.test_client()
    response = client.post("/login", data={"username": "lead", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_forms_with_the_csrf_token_work(csrf_app, world):
    import re

    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    response = client.post("/login", data={"username": "lead", "password": PASSWORD, "csrf_token": token.group(1)})
    assert response.status_code == 302
