"""Session lifetime, per-user session version, throttling and the audit trail."""

import uuid
from datetime import timedelta

from tests.factories import NOW, PASSWORD, login
from tracker.audit.labels import action_label
from tracker.audit.models import AuditEvent
from tracker.auth import rules
from tracker.auth.models import User
from tracker.extensions import db


def actions(app):
    with app.app_context():
        return [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]


def test_cooldown_grows_and_is_capped():
    assert rules.cooldown_after(4) == timedelta(0)
    assert rules.cooldown_after(5) == timedelta(minutes=1)
    assert rules.cooldown_after(7) == timedelta(minutes=4)
    assert rules.cooldown_after(50) == timedelta(minutes=15)


def test_active_session_survives_past_thirty_minutes(client, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    login(client, "lead")
    time_machine.move_to(NOW + timedelta(minutes=29), tick=False)
    assert client.get("/").status_code == 200
    time_machine.move_to(NOW + timedelta(minutes=58), tick=False)
    assert client.get("/").status_code == 200


def test_session_ends_after_idle_gap(client, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    login(client, "lead")
    time_machine.move_to(NOW + timedelta(minutes=31), tick=False)
    response = client.get("/problems")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_session_ends_after_twelve_hours_even_when_active(client, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    login(client, "lead")
    for step in range(1, 26):
        time_machine.move_to(NOW + timedelta(minutes=29 * step), tick=False)
        status = client.get("/").status_code
        if step * 29 <= 12 * 60:
            assert status == 200
    assert client.get("/").status_code == 302


def test_role_change_ends_the_users_sessions(app, client, world):
    login(client, "member")
    admin = app.test_client()
    login(admin, "admin")
    response = admin.post(
        f"/admin/users/{world.member.id}",
        data={"username": "member", "role": "lead", "group_ids": [str(world.cs.id)], "is_active_account": "y"},
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_deactivation_ends_the_users_sessions(app, client, world):
    login(client, "member")
    admin = app.test_client()
    login(admin, "admin")
    admin.post(f"/admin/users/{world.member.id}", data={"username": "member", "role": "member"})
    assert client.get("/").status_code == 302


def test_repeated_failures_cool_down_then_recover(app, client, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    for _ in range(5):
        login(client, "lead", "wrong")
    login(client, "lead")  # right password, but cooling down
    assert client.get("/").status_code == 302
    time_machine.move_to(NOW + timedelta(minutes=2), tick=False)
    login(client, "lead")
    assert client.get("/").status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(User).where(User.username == "lead")).failed_logins == 0


def test_sign_ins_failures_and_refusals_are_audited(app, client, world):
    login(client, "lead", "wrong\r\nFAKE login admin")
    login(client, "lead")
    client.get("/admin/users")
    assert actions(app) == ["login_failed", "login", "permission_denied"]
    with app.app_context():
        refusal = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "permission_denied")).one()
        assert refusal.username == "lead" and refusal.target == "GET /admin/users" and refusal.ip


def test_audit_values_cannot_forge_lines(app, client, world):
    login(client, "ghost\nadmin login ok", PASSWORD)
    with app.app_context():
        event = db.session.scalars(db.select(AuditEvent)).one()
    assert "\n" not in event.username and event.action == "login_failed"


def test_admin_actions_are_audited_and_readable(app, client, world):
    login(client, "admin")
    client.post("/admin/groups/new", data={"code": "YL", "name": "医疗卫生组"})
    assert "group_saved" in actions(app)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "group_saved" in page and "YL" in page


def test_password_change_ends_other_sessions_but_keeps_this_one(app, client, world):
    other_device = app.test_client()
    login(other_device, "member")
    login(client, "member")
    response = client.post(
        "/account/password", data={"current": PASSWORD, "new": "brand-new-pass", "confirm": "brand-new-pass"}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other_device.get("/").status_code == 302
    assert "password_changed" in actions(app)


def test_wrong_current_password_changes_nothing(app, client, world):
    login(client, "member")
    response = client.post(
        "/account/password", data={"current": "nope", "new": "brand-new-pass", "confirm": "brand-new-pass"}
    )
    assert response.status_code == 422
    fresh = app.test_client()
    assert login(fresh, "member").status_code == 302


def test_role_change_needs_a_recent_sign_in(app, client, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    login(client, "admin")
    time_machine.move_to(NOW + timedelta(minutes=20), tick=False)
    client.get("/")
    time_machine.move_to(NOW + timedelta(minutes=25), tick=False)
    response = client.post(f"/admin/users/{world.member.id}", data={"username": "member", "role": "committee"})
    assert response.status_code == 302 and "/reauth" in response.headers["Location"]
    with app.app_context():
        assert db.session.get(User, world.member.id).role == "member"
    client.post("/reauth", data={"password": PASSWORD})
    response = client.post(
        f"/admin/users/{world.member.id}", data={"username": "member", "role": "committee", "is_active_account": "y"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, world.member.id).role == "committee"


def test_per_ip_login_limit_is_shared_between_workers(database_url, tmp_path, world):
    """Two app instances (two workers) count against the same Redis-backed limit."""
    import redis

    from tests.conftest import make_config
    from tracker import create_app

    prefix = f"wallchart-test-{uuid.uuid4().hex}"  # unique: runs in parallel share this Redis
    config = make_config(database_url, tmp_path) | {
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
        "RATELIMIT_KEY_PREFIX": prefix,
        "LOGIN_RATE_LIMIT": "3 per minute",
        "RATELIMIT_ENABLED": True,
    }
    workers = [create_app(config).test_client(), create_app(config).test_client()]
    connection = redis.Redis(host="127.0.0.1", port=6379)
    try:
        statuses = [
            workers[n % 2].post("/login", data={"username": "x", "password": "y"}).status_code for n in range(5)
        ]
    finally:
        for key in connection.scan_iter(f"*{prefix}*"):
            connection.delete(key)
    assert statuses == [200, 200, 200, 429, 429]


def test_exports_and_calendar_resets_are_audited(app, client, world):
    login(client, "lead")
    assert client.get("/export.csv?group=CG").status_code == 200
    client.post("/calendar/reset")
    assert actions(app)[-2:] == ["ledger_exported", "calendar_reset"]


def test_audit_log_filters_by_action(app, client, world):
    login(client, "lead", "wrong")
    login(client, "admin")
    page = client.get("/admin/audit?action=login_failed").get_data(as_text=True)
    assert '<option value="login_failed" selected>' in page and "failures=1" in page
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        failed, signed_in = action_label("login_failed"), action_label("login")  # shown in words
    assert f"<td>{signed_in}</td>" not in page and f"<td>{failed}</td>" in page
