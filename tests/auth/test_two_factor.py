"""Optional TOTP sign-in with recovery codes, and its enforcement for oversight roles."""

import re
from datetime import timedelta

import pyotp

from tests.factories import NOW, PASSWORD, login
from tracker.auth.models import User
from tracker.extensions import db


def enrol(client, now):
    """Set up 2FA with the previous time step's code (still accepted), leaving ``now``'s code unused."""
    page = client.get("/account/2fa").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    response = client.post("/account/2fa", data={"code": pyotp.TOTP(secret).at(now - timedelta(seconds=30))})
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", response.get_data(as_text=True))
    return secret, codes


def test_enrol_then_sign_in_needs_the_code(app, client, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    login(client, "lead")
    secret, codes = enrol(client, NOW)
    assert len(codes) == 10
    fresh = app.test_client()
    response = login(fresh, "lead")
    assert "/login/verify" in response.headers["Location"]
    assert fresh.get("/").status_code == 302  # not signed in yet
    assert fresh.post("/login/verify", data={"code": "000000"}).status_code == 422
    assert fresh.post("/login/verify", data={"code": pyotp.TOTP(secret).at(NOW)}).status_code == 302
    assert fresh.get("/").status_code == 200


def test_recovery_code_works_once(app, client, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    login(client, "lead")
    _, codes = enrol(client, NOW)
    for expected in (302, 422):
        other = app.test_client()
        login(other, "lead")
        assert other.post("/login/verify", data={"code": codes[0]}).status_code == expected


def test_pending_second_step_expires(app, client, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    login(client, "lead")
    secret, _ = enrol(client, NOW)
    other = app.test_client()
    login(other, "lead")
    later = NOW + timedelta(minutes=6)
    time_machine.move_to(later, tick=False)
    response = other.post("/login/verify", data={"code": pyotp.TOTP(secret).at(later)})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert other.get("/").status_code == 302


def test_required_for_committee_when_admin_turns_it_on(app, client, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    login(client, "admin")
    assert client.post("/admin/security", data={"require_totp": "y"}).status_code == 302
    reviewer = app.test_client()
    login(reviewer, "committee")
    response = reviewer.get("/problems")
    assert response.status_code == 302 and "/account/2fa" in response.headers["Location"]
    enrol(reviewer, NOW)
    assert reviewer.get("/problems").status_code == 200  # this session carries on; others ended
    member = app.test_client()
    login(member, "member")
    assert member.get("/problems").status_code == 200  # members are not forced


def test_turning_off_needs_a_valid_code(app, client, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    login(client, "lead")
    secret, _ = enrol(client, NOW)
    login(client, "lead")
    client.post("/login/verify", data={"code": pyotp.TOTP(secret).at(NOW)})
    assert client.post("/account/2fa", data={"disable": "1", "code": "000000"}).status_code == 200
    with app.app_context():
        assert db.session.get(User, world.lead.id).totp_secret == secret
    client.post("/account/2fa", data={"disable": "1", "code": pyotp.TOTP(secret).at(NOW)})
    with app.app_context():
        assert db.session.get(User, world.lead.id).totp_secret is None
    assert PASSWORD
