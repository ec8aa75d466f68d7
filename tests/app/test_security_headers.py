from tests.factories import PASSWORD, login


def test_pages_carry_a_strict_csp_and_no_store(client, world):
    login(client, "lead")
    response = client.get("/problems")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_templates_have_no_inline_scripts_or_styles():
    import pathlib
    import re

    offenders = []
    for path in pathlib.Path("templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\sstyle=\"", text) or "<style" in text:
            offenders.append(str(path))
        if re.search(r"\son[a-z]+=\"", text):
            offenders.append(str(path) + " (event handler attribute)")
    assert offenders == []


def test_cookies_are_secure_and_hsts_is_sent_over_https(client, world):
    response = client.post(
        "/login", data={"username": "lead", "password": PASSWORD, "remember": "y"}, base_url="https://localhost"
    )
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c and "HttpOnly" in c and "SameSite=Lax" in c for c in cookies)
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_cookies_over_plain_http_are_httponly_and_lax(client, world):
    cookies = login(client, "lead").headers.getlist("Set-Cookie")
    assert cookies and all("HttpOnly" in c and "SameSite=Lax" in c and "Secure" not in c for c in cookies)


def test_hostile_titles_are_inert_in_pages(app, client, world):
    from tracker.extensions import db
    from tracker.items.models import Item

    with app.app_context():
        db.session.get(Item, world.items["owned"].id).title = '<script>alert("x")</script><img src=x onerror=alert(1)>'
        db.session.commit()
    login(client, "committee")
    for path in ("/problems", "/ledger", f"/items/{world.items['owned'].id}"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page, path


def test_production_refuses_a_default_or_missing_secret_key_and_debug():
    import pytest

    from tracker import create_app

    for key in (None, "dev-only-not-secret", "short"):
        with pytest.raises(RuntimeError):
            create_app({"PRODUCTION": True, "SECRET_KEY": key, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with pytest.raises(RuntimeError):
        create_app({"PRODUCTION": True, "SECRET_KEY": "x" * 40, "DEBUG": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert create_app({"PRODUCTION": True, "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_behind_a_tls_proxy_cookies_are_secure(database_url, tmp_path, world):
    from tests.conftest import make_config
    from tracker import create_app

    app = create_app(make_config(database_url, tmp_path) | {"PROXY_COUNT": 1})
    response = app.test_client().post(
        "/login", data={"username": "lead", "password": PASSWORD}, headers={"X-Forwarded-Proto": "https"}
    )
    assert all("Secure" in c for c in response.headers.getlist("Set-Cookie"))
