"""The account menu, one's own email address, the language kept at sign-in, the 2FA QR code,
the bell and favicon, and the API reference in the reader's language."""

import re

import pytest
from sqlalchemy import select

from tests.factories import login
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.extensions import db

ACCOUNT_PAGES = ["/account", "/notifications/settings", "/calendar", "/account/tokens", "/api/docs", "/account/2fa"]


def header(page: str) -> str:
    return page[page.index('<header class="site-header">') : page.index("</header>")]


@pytest.mark.parametrize("role", ["admin", "committee", "lead", "member", "external"])
def test_every_account_page_is_in_the_header_menu(client, world, role):
    login(client, role)
    top = header(client.get("/").get_data(as_text=True))
    links = re.findall(r'href="([^"]+)"', top)
    for path in ACCOUNT_PAGES:
        assert path in links, path
    name_link = re.search(r'<a class="who" href="([^"]+)"', top)
    assert name_link and name_link.group(1) == "/account"


def test_every_menu_link_opens(client, world):
    login(client, "member")
    for path in ACCOUNT_PAGES:
        assert client.get(path).status_code == 200, path


def test_the_bell_is_an_svg_icon_with_text_and_the_app_has_a_favicon(client, world):
    login(client, "member")
    top = header(client.get("/").get_data(as_text=True))
    bell = top[top.index('class="bell') : top.index("</a>", top.index('class="bell'))]
    assert "<svg" in bell and "&#128276;" not in bell and "🔔" not in bell
    assert "Notifications" in bell or "通知" in bell
    client.post("/logout")
    icon = re.search(r'<link rel="icon" href="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert icon
    favicon = client.get(icon.group(1))
    assert favicon.status_code == 200 and b"<svg" in favicon.get_data()


def test_two_factor_setup_shows_a_qr_code(client, world):
    login(client, "lead")
    page = client.get("/account/2fa").get_data(as_text=True)
    figure = page[page.index('<figure class="qr">') : page.index("</figure>")]
    assert (
        "<svg" in figure
        and "<path" in figure
        and "http" not in figure.split("<figcaption>")[0].replace("http://www.w3.org", "")
    )


def test_no_email_is_never_shown_as_on(app, client, world):
    with app.app_context():
        db.session.get(User, world.member.id).email = None
        db.session.commit()
    login(client, "member")
    page = client.get("/notifications/settings").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="email_enabled"[^>]*>', page).group(0)
    assert "checked" not in box and "disabled" in box
    assert 'href="/account#email-heading"' in page


@pytest.mark.parametrize("address", ["wu.jing@office.local", "wu@games.internal", "wu@sports.lan"])
def test_a_person_sets_their_own_intranet_email(app, client, world, address):
    login(client, "member")
    response = client.post("/account/email", data={"email": address})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    with app.app_context():
        assert db.session.get(User, world.member.id).email == address
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "email_changed")) is not None
    assert address in client.get("/account").get_data(as_text=True)


def test_a_bad_email_is_a_field_error_and_keeps_the_old_one(app, client, world):
    with app.app_context():
        before = db.session.get(User, world.member.id).email
    login(client, "member")
    response = client.post("/account/email", data={"email": "not an address"})
    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, world.member.id).email == before


def test_clearing_the_email_stops_email(app, client, world):
    login(client, "member")
    assert client.post("/account/email", data={"email": ""}).status_code == 302
    with app.app_context():
        assert db.session.get(User, world.member.id).email is None


def test_create_user_accepts_an_intranet_address(app, runner, world):
    result = runner.invoke(
        args=["create-user", "zhou", "--password", "long-enough-1", "--role", "member", "--email", "zhou@gdpg.local"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User.email).where(User.username == "zhou")) == "zhou@gdpg.local"


def test_the_language_chosen_on_the_sign_in_page_is_kept(app, client, world):
    with app.app_context():
        db.session.get(User, world.lead.id).locale = "zh_CN"
        db.session.commit()
    client.post("/language", data={"language": "en", "next": "/login"})
    login(client, "lead")
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, world.lead.id).locale == "en"


def test_api_reference_follows_the_interface_language(client, world):
    login(client, "member")
    client.post("/language", data={"language": "zh_CN"})
    page = client.get("/api/docs").get_data(as_text=True)
    assert "新建事项" in page and "按流程推进事项" in page
    assert "<code>Authorization: Bearer &lt;token&gt;</code>" in page
    assert "`" not in page[page.index("<main") :]
    client.post("/language", data={"language": "en"})
    page = client.get("/api/docs").get_data(as_text=True)
    assert "Create an item" in page and "<code>X-CSRFToken</code>" in page
