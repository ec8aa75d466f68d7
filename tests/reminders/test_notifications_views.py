"""The bell, /notifications, preferences, and the admin pages for rules, robots and deliveries."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import login
from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups import robots
from tracker.groups.models import WorkGroup
from tracker.outbox.models import Delivery, Notification
from tracker.reminders import services, webhook
from tracker.reminders.models import NotificationPreference

NOW = datetime(2026, 6, 27, 2, 0, tzinfo=UTC)
TOKEN = "0123456789abcdef0123456789abcdef"


def notify(user_id: int, subject: str, minutes: int = 0, read: bool = False, url: str = "/items/1") -> int:
    note = Notification(
        user_id=user_id,
        rule="before-3",
        subject=subject,
        body=f"{subject} body",
        url=url,
        created_at=NOW + timedelta(minutes=minutes),
        read_at=NOW if read else None,
    )
    db.session.add(note)
    db.session.commit()
    return note.id


def test_bell_shows_the_unread_count_as_text(app, client, world):
    with app.app_context():
        notify(world.member.id, "一", read=True)
        notify(world.member.id, "二")
        notify(world.lead.id, "别人的")
    login(client, "member")
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    bell = re.search(r'<a class="bell[^"]*" href="/notifications"[^>]*>(.*?)</a>', page, re.S).group(1)
    assert "Notifications" in bell and "1 unread" in bell  # words and number, not a coloured dot


def test_notifications_page_lists_mine_newest_first(app, client, world):
    with app.app_context():
        notify(world.member.id, "较早的提醒", minutes=0)
        notify(world.member.id, "最新的提醒", minutes=5)
        notify(world.lead.id, "组长的提醒")
    login(client, "member")
    page = client.get("/notifications").get_data(as_text=True)
    assert page.index("最新的提醒") < page.index("较早的提醒")
    assert "组长的提醒" not in page


def test_mark_read_and_mark_all_read(app, client, world):
    with app.app_context():
        first = notify(world.member.id, "一")
        notify(world.member.id, "二")
    login(client, "member")
    assert client.post(f"/notifications/{first}/read").status_code == 302
    with app.app_context():
        assert db.session.get(Notification, first).read_at is not None
        assert services.unread_count(db.session.get(User, world.member.id)) == 1
    client.post("/notifications/read-all")
    with app.app_context():
        assert services.unread_count(db.session.get(User, world.member.id)) == 0


def test_someone_elses_notification_cannot_be_marked(app, client, world):
    with app.app_context():
        theirs = notify(world.lead.id, "组长的")
    login(client, "member")
    assert client.post(f"/notifications/{theirs}/read").status_code == 404
    with app.app_context():
        assert db.session.get(Notification, theirs).read_at is None


def test_mark_read_needs_the_csrf_token(app, client, world):
    with app.app_context():
        mine = notify(world.member.id, "一")
    login(client, "member")
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/notifications/{mine}/read").status_code == 400
    with app.app_context():
        assert db.session.get(Notification, mine).read_at is None


def test_user_notifications_service_pages_newest_first(app, world):
    with app.app_context():
        for n in range(25):
            notify(world.member.id, f"提醒{n}", minutes=n)
        notify(world.lead.id, "别人的")
        member = db.session.get(User, world.member.id)
        page1, total = services.user_notifications(member, 1, 10)
        page3, _ = services.user_notifications(member, 3, 10)
        assert total == 25
        assert [n["subject"] for n in page1][:2] == ["提醒24", "提醒23"]
        assert len(page3) == 5 and page3[-1]["subject"] == "提醒0"
        assert set(page1[0]) >= {"id", "subject", "body", "url", "created_at", "read", "item_id", "rule"}
        assert page1[0]["read"] is False and page1[0]["created_at"].startswith("2026-06-27T")


def test_preferences_are_saved_per_user(app, client, world):
    login(client, "member")
    assert client.get("/notifications/settings").status_code == 200
    response = client.post("/notifications/settings", data={"digest_mode": "digest"})
    assert response.status_code == 302
    with app.app_context():
        pref = db.session.get(NotificationPreference, world.member.id)
        assert (pref.email_enabled, pref.digest_mode) == (False, "digest")
    client.post("/notifications/settings", data={"email_enabled": "y", "digest_mode": "nonsense"})
    with app.app_context():
        assert db.session.get(NotificationPreference, world.member.id).digest_mode == "digest"


SETTINGS = {
    "owner_days": "5, 2,0",
    "lead_overdue_days": "2",
    "committee_overdue_days": "4",
    "milestone_days": "10,1",
    "digest_time": "09:15",
    "digest_window_days": "5",
    "webhook_hosts": "oapi.dingtalk.com\nrobots.example.org",
    "max_attempts": "5",
    "retry_base_seconds": "30",
}


def test_admin_changes_the_reminder_rules(app, client, world):
    login(client, "admin")
    assert client.post("/admin/reminders", data=SETTINGS).status_code == 302
    with app.app_context():
        policy = services.policy()
        assert policy.owner_days == (5, 2, 0)
        assert (policy.lead_overdue_days, policy.committee_overdue_days) == (2, 4)
        assert policy.milestone_days == (10, 1) and str(policy.digest_at) == "09:15:00"
        assert services.webhook_hosts() == ["oapi.dingtalk.com", "robots.example.org"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("owner_days", "7,a"), ("owner_days", "-1"), ("digest_time", "25:00"), ("webhook_hosts", "https://x.example/")],
)
def test_bad_reminder_rules_are_refused(app, client, world, field, value):
    login(client, "admin")
    response = client.post("/admin/reminders", data={**SETTINGS, field: value})
    assert response.status_code == 422
    with app.app_context():
        assert services.policy().owner_days == (7, 3, 1, 0)


def test_only_admins_see_the_reminder_admin_pages(client, world):
    login(client, "committee")
    assert client.get("/admin/reminders").status_code == 403
    assert client.get("/admin/deliveries").status_code == 403
    assert client.get(f"/admin/groups/{world.cs.id}/webhook").status_code == 403


def test_robot_url_is_saved_then_shown_masked(app, client, world):
    login(client, "admin")
    url = f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}"
    response = client.post(
        f"/admin/groups/{world.cs.id}/webhook", data={"webhook_url": url, "webhook_format": "dingtalk"}
    )
    assert response.status_code == 302
    page = client.get(f"/admin/groups/{world.cs.id}/webhook").get_data(as_text=True)
    assert TOKEN not in page and "oapi.dingtalk.com/robot/send?access_token=" in page and TOKEN[-4:] in page
    # Saving without a new URL keeps the old one; "remove" clears it.
    client.post(f"/admin/groups/{world.cs.id}/webhook", data={"webhook_url": "", "webhook_format": "wecom"})
    with app.app_context():
        group = db.session.get(WorkGroup, world.cs.id)
        assert (group.webhook_url, group.webhook_format) == (url, "wecom")
    client.post(f"/admin/groups/{world.cs.id}/webhook", data={"remove": "y", "webhook_format": "wecom"})
    with app.app_context():
        assert db.session.get(WorkGroup, world.cs.id).webhook_url is None


def test_robot_signing_secret_is_kept_never_shown_and_dropped_where_it_cannot_sign(app, client, world):
    login(client, "admin")
    page = f"/admin/groups/{world.cs.id}/webhook"
    url = f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}"
    secret = "SECa1b2c3d4e5f60718293a4b5c6d7e8f9"
    client.post(page, data={"webhook_url": url, "webhook_format": "dingtalk", "webhook_secret": secret})
    shown = client.get(page, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert secret not in shown and "Messages are signed." in shown
    client.post(page, data={"webhook_url": "", "webhook_format": "dingtalk", "webhook_secret": ""})
    with app.app_context():
        assert db.session.get(WorkGroup, world.cs.id).webhook_secret == secret  # empty keeps it
    data = {"webhook_url": "", "webhook_format": "wecom", "webhook_secret": "SECx"}
    response = client.post(page, data=data, headers={"Accept-Language": "en"})
    assert response.status_code == 422 and "WeCom robots do not sign" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(WorkGroup, world.cs.id).webhook_secret == secret  # nothing half-saved
    client.post(page, data={"webhook_url": "", "webhook_format": "wecom"})
    with app.app_context():
        assert db.session.get(WorkGroup, world.cs.id).webhook_secret is None  # WeCom cannot sign


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/robot?key=1",
        "ftp://oapi.dingtalk.com/robot",
        "https://user:pw@oapi.dingtalk.com/robot",
        "https://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:5000/admin",
        "https://oapi.dingtalk.com.evil.example/robot",
        "javascript:alert(1)",
    ],
)
def test_robot_urls_off_the_allowlist_are_refused(app, client, world, url):
    login(client, "admin")
    response = client.post(
        f"/admin/groups/{world.cs.id}/webhook", data={"webhook_url": url, "webhook_format": "generic"}
    )
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(WorkGroup, world.cs.id).webhook_url is None


def test_mask_url_hides_query_values_and_path_tokens():
    assert robots.mask_url(f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={TOKEN}") == (
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=•••cdef"
    )
    masked = robots.mask_url(f"https://open.feishu.cn/open-apis/bot/v2/hook/{TOKEN}")
    assert TOKEN not in masked and masked.startswith("https://open.feishu.cn/open-apis/bot/v2/hook/•••")
    assert (
        webhook.scrub(f"failed for /send?key={TOKEN}", f"https://h/send?key={TOKEN}") == "failed for /send?key=•••cdef"
    )


def _failed_delivery(world) -> int:
    row = Delivery(
        dedupe_key=f"u{world.member.id}|i1|before-3|2026-06-30|email",
        channel="email",
        rule="before-3",
        user_id=world.member.id,
        item_id=world.items["owned"].id,
        local_date=date(2026, 6, 30),
        status="dead",
        attempts=8,
        last_error="ConnectionRefusedError: [Errno 111] Connection refused",
        created_at=NOW,
        next_attempt_at=NOW,
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def test_deliveries_page_lists_failures_and_resends(app, client, world):
    with app.app_context():
        row_id = _failed_delivery(world)
    login(client, "admin")
    page = client.get("/admin/deliveries?status=dead").get_data(as_text=True)
    assert "Connection refused" in page and "坡道整改" in page and "dead" in page
    assert f"/admin/deliveries/{row_id}/resend" in page
    assert client.post(f"/admin/deliveries/{row_id}/resend").status_code == 302
    with app.app_context():
        row = db.session.get(Delivery, row_id)
        assert (row.status, row.attempts) == ("pending", 0)
        assert row.last_error  # kept for the record until the next attempt
    # A pending row cannot be "resent" again.
    assert client.post(f"/admin/deliveries/{row_id}/resend").status_code == 422


def test_deliveries_page_does_not_query_per_row(app, client, world):
    from sqlalchemy import event

    with app.app_context():
        for n in range(30):
            db.session.add(
                Delivery(
                    dedupe_key=f"k{n}",
                    channel="inapp",
                    rule="overdue",
                    user_id=world.member.id,
                    item_id=world.items["owned"].id,
                    local_date=date(2026, 7, 1),
                    status="sent",
                    created_at=NOW,
                    next_attempt_at=NOW,
                )
            )
        db.session.commit()
        engine = db.engine
    login(client, "admin")
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/admin/deliveries").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) < 15


def test_notification_rows_vanish_with_their_user(app, world):
    with app.app_context():
        notify(world.member.id, "一")
        db.session.delete(db.session.get(User, world.member.id))
        db.session.commit()
        assert db.session.scalars(select(Notification)).all() == []
