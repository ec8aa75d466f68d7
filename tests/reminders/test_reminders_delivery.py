"""The sweep and the sender against a real SMTP server (aiosmtpd) and a real HTTP receiver on loopback.

The clock is moved with time_machine; ``flask reminders run`` and the services read it
through tracker.clock.utcnow. World items are due on 2026-06-30 (Asia/Shanghai).
"""

import base64
import hashlib
import hmac
import json
import socket
import threading
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from tests import factories
from tracker.auth.models import User
from tracker.clock import utcnow
from tracker.event.models import Event
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import services as items
from tracker.items.models import Item
from tracker.jobs.run import run_reminders
from tracker.milestones.models import Milestone
from tracker.outbox.models import Delivery, Notification
from tracker.outbox.rules import OUTBOX_RULES
from tracker.reminders import sender, services, smtp, sweep
from tracker.reminders.models import NotificationPreference, ReminderSettings

SECRET = "f00dfeedcafe1234deadbeef5678abcd"


def local(day: date, hour: int = 8, minute: int = 0) -> datetime:
    """A moment in Maoming (UTC+8) as aware UTC; by default before the 08:30 digest."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


DEADLINE = date(2026, 6, 30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailSink:
    """An aiosmtpd handler keeping every envelope it accepted."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self):
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


class SmtpServer:
    def __init__(self):
        self.port = free_port()
        self.sink = MailSink()
        self.controller = None

    def start(self):
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None


class Receiver:
    """A loopback HTTP server standing in for a chat robot."""

    def __init__(self):
        self.bodies: list[bytes] = []
        self.paths: list[str] = []
        self.headers: list[dict] = []
        self.status = 200
        self.answer = b'{"errcode": 0, "errmsg": "ok"}'
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                receiver.bodies.append(self.rfile.read(length))
                receiver.paths.append(self.path)
                receiver.headers.append(dict(self.headers))
                self.send_response(receiver.status)
                if receiver.status in (301, 302):
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        # Polled every 10 ms, not the default 500: closing waits for the next poll.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def url(self, path="/robot/send"):
        return f"http://127.0.0.1:{self.port}{path}?access_token={SECRET}"

    def payloads(self):
        return [json.loads(b) for b in self.bodies]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mail():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def robot():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def config(config, mail):
    config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=mail.port, BASE_URL="https://wallchart.example")
    return config


def prepare(world, robot=None, fmt="wecom", secret=None):
    """Email addresses for everyone (English, so the words are stable); CG's robot on loopback (allowlisted)."""
    for user in (world.admin, world.committee, world.lead, world.member, world.other_lead, world.other_member):
        db.session.execute(
            update(User).where(User.id == user.id).values(email=f"{user.username}@example.org", locale="en")
        )
    db.session.execute(update(User).where(User.id == world.external.id).values(email="ext@example.org", locale="en"))
    db.session.execute(update(Event).values(default_locale="en"))
    settings = services.get_settings()
    settings.webhook_hosts += "\n127.0.0.1"
    db.session.add(settings)
    if robot is not None:
        db.session.execute(
            update(WorkGroup)
            .where(WorkGroup.id == world.cs.id)
            .values(webhook_url=robot.url(), webhook_format=fmt, webhook_secret=secret)
        )
    db.session.commit()


def run_at(moment: datetime) -> dict:
    with time_machine.travel(moment, tick=False):
        return run_reminders(utcnow())


def rows(**where):
    """The deadline reminders' outbox rows (workflow notifications have their own tests)."""
    query = select(Delivery).where(Delivery.rule.not_in(OUTBOX_RULES)).order_by(Delivery.id)
    for name, value in where.items():
        query = query.where(getattr(Delivery, name) == value)
    return db.session.scalars(query).all()


def subject(msg) -> str:
    return str(make_header(decode_header(msg["Subject"])))


def test_owner_reminded_by_bell_email_and_group_robot(app, world, mail, robot):
    with app.app_context():
        prepare(world, robot)
        result = run_at(local(DEADLINE - timedelta(days=3)))
        assert result["queued"]["before"] > 0

        notes = db.session.scalars(
            select(Notification).where(Notification.user_id == world.member.id, Notification.rule.not_in(OUTBOX_RULES))
        ).all()
        assert [n.subject for n in notes] == ["Due in 3 days: 坡道整改"]
        assert notes[0].url == f"/items/{world.items['owned'].id}"
        assert "30" in notes[0].body and "due in 3 days" in notes[0].body

        to_member = [m for m in mail.sink.messages() if m["To"].addresses[0].addr_spec == "member@example.org"]
        assert len(to_member) == 1
        msg = to_member[0]
        assert subject(msg) == "[Wallchart] Due in 3 days: 坡道整改"
        assert "=?utf-8?" in mail.sink.envelopes[0].content.decode("ascii").lower()  # RFC 2047, not raw bytes
        key = rows(user_id=world.member.id, channel="email")[0].dedupe_key
        assert msg["Message-ID"] == smtp.message_id(key, "wallchart@localhost")
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        link = f"https://wallchart.example/items/{world.items['owned'].id}"
        assert link in text and f'href="{link}"' in html
        assert "坡道整改" in html

        # One robot message for the CG group, listing its non-confidential items, secrets never stored.
        assert len(robot.bodies) == 1
        content = robot.payloads()[0]["markdown"]["content"]
        assert "坡道整改" in content and "盲道修复" in content and "舞美搭建" in content
        assert "安检通道漏洞" not in content  # confidential items never go to a chat
        assert SECRET not in json.dumps([d.last_error for d in rows()])


def test_rerun_and_later_runs_the_same_day_send_nothing(app, world, mail, robot):
    def sent():
        return len(mail.sink.envelopes), len(robot.bodies), db.session.scalar(select(func.count(Notification.id)))

    with app.app_context():
        prepare(world, robot)
        first = run_at(local(DEADLINE - timedelta(days=3)))
        after_first = sent()
        second = run_at(local(DEADLINE - timedelta(days=3)))
        assert sum(first["queued"].values()) > 0
        assert sum(second["queued"].values()) == 0 and second["delivered"] == {}
        assert sent() == after_first
        third = run_at(local(DEADLINE - timedelta(days=3), hour=21))  # only the day's digest is new
        assert {rule for rule, n in third["queued"].items() if n} == {"digest"}
        after_third = sent()
        fourth = run_at(local(DEADLINE - timedelta(days=3), hour=22))
        assert sum(fourth["queued"].values()) == 0 and fourth["delivered"] == {}
        assert sent() == after_third


def test_catch_up_after_a_gap_sends_one_message_per_item(app, world, mail):
    with app.app_context():
        prepare(world)
        run_at(local(DEADLINE - timedelta(days=9)))
        assert rows() == []
        # Down from T-8 to T-2: the T-7 and T-3 reminders were both missed; only T-3 goes out.
        run_at(local(DEADLINE - timedelta(days=2)))
        mine = rows(user_id=world.member.id, channel="inapp")
        assert [(d.rule, d.status) for d in mine if d.rule != "digest"] == [("before-3", "sent")]
        # Down again until four days overdue: one overdue reminder, one escalation each, not one per day.
        run_at(local(DEADLINE + timedelta(days=4)))
        late = [d for d in rows(user_id=world.member.id, channel="inapp") if d.rule == "overdue"]
        assert len(late) == 1 and late[0].local_date == DEADLINE + timedelta(days=4)
        assert len([d for d in rows(user_id=world.lead.id, channel="inapp") if d.rule == "lead"]) == 4  # 4 CG items
        committee = [d for d in rows(user_id=world.committee.id, channel="inapp") if d.rule == "committee"]
        assert len(committee) == 6  # every overdue item, once


def test_overdue_owner_is_reminded_every_day(app, world, mail):
    with app.app_context():
        prepare(world)
        for day in range(1, 4):
            run_at(local(DEADLINE + timedelta(days=day)))
        late = [d.local_date for d in rows(user_id=world.member.id, channel="email") if d.rule == "overdue"]
        assert late == [DEADLINE + timedelta(days=n) for n in (1, 2, 3)]


def test_escalation_to_lead_on_day_one_and_committee_on_day_three(app, world, mail):
    with app.app_context():
        prepare(world)
        run_at(local(DEADLINE))
        assert not [d for d in rows() if d.rule in ("lead", "committee")]
        run_at(local(DEADLINE + timedelta(days=1)))
        lead_rows = [d for d in rows(channel="inapp") if d.rule == "lead"]
        assert {d.user_id for d in lead_rows} == {world.lead.id, world.other_lead.id}
        assert not [d for d in rows() if d.rule == "committee"]
        lead_mail = [m for m in mail.sink.messages() if m["To"].addresses[0].addr_spec == "lead@example.org"]
        assert any(subject(m).startswith("[Wallchart] Escalation: 坡道整改 is 1 day overdue") for m in lead_mail)
        run_at(local(DEADLINE + timedelta(days=2)))
        assert not [d for d in rows() if d.rule == "committee"]
        run_at(local(DEADLINE + timedelta(days=3)))
        committee = [d for d in rows(channel="inapp") if d.rule == "committee"]
        assert {d.user_id for d in committee} == {world.committee.id}
        assert all(d.status == "sent" for d in committee)


def _close(item_id, world, now):
    item = db.session.get(Item, item_id)
    lead = db.session.get(User, world.lead.id)
    committee = db.session.get(User, world.committee.id)
    items.transition(item, "start", actor=lead, now=now)
    items.transition(item, "submit", actor=lead, now=now)
    items.transition(item, "verify", actor=committee, now=now)
    db.session.commit()


def test_closed_and_submitted_items_are_never_reminded(app, world, mail):
    with app.app_context():
        prepare(world)
        now = local(DEADLINE - timedelta(days=3))
        _close(world.items["owned"].id, world, now)
        item = db.session.get(Item, world.items["other_group"].id)
        other_lead = db.session.get(User, world.other_lead.id)
        items.transition(item, "start", actor=other_lead, now=now)
        items.transition(item, "submit", actor=other_lead, now=now)
        db.session.commit()
        for offset in (-3, 0, 1, 5):
            run_at(local(DEADLINE + timedelta(days=offset)))
        reminded = {d.item_id for d in rows() if d.item_id}
        assert world.items["owned"].id not in reminded
        assert world.items["other_group"].id not in reminded
        assert world.items["external_item"].id in reminded


def test_send_time_check_skips_closed_reassigned_and_invisible(app, world, mail):
    with app.app_context():
        prepare(world)
        now = local(DEADLINE - timedelta(days=3))
        sweep.run_sweep(now, DEADLINE - timedelta(days=3), services.policy(), email=True, with_digest=False)
        db.session.commit()
        assert rows(user_id=world.member.id)
        # After queueing: one item closed, one reassigned.
        _close(world.items["owned"].id, world, now)
        item = db.session.get(Item, world.items["other_group"].id)
        items.update_item(
            item,
            {"owner_id": world.other_lead.id},
            actor=db.session.get(User, world.other_lead.id),
            now=now,
            version=item.version,
        )
        db.session.commit()
        sender.send_due(now, "Asia/Shanghai", services.policy())
        assert {d.status for d in rows(item_id=world.items["owned"].id)} == {"skipped"}
        reassigned = rows(item_id=world.items["other_group"].id, user_id=world.other_member.id)
        assert reassigned and {d.status for d in reassigned} == {"skipped"}
        assert "reassigned" in reassigned[0].last_error
        sent_to = {e.rcpt_tos[0] for e in mail.sink.envelopes}
        assert "member@example.org" not in sent_to and "othermember@example.org" not in sent_to
        assert "ext@example.org" in sent_to


def test_lead_removed_from_group_is_not_escalated_to(app, world, mail):
    with app.app_context():
        prepare(world)
        now = local(DEADLINE + timedelta(days=1))
        sweep.run_sweep(now, DEADLINE + timedelta(days=1), services.policy(), email=False, with_digest=False)
        db.session.commit()
        lead = db.session.get(User, world.lead.id)
        lead.groups = []
        db.session.commit()
        sender.send_due(now, "Asia/Shanghai", services.policy())
        escalations = rows(user_id=world.lead.id, rule="lead")
        assert escalations and {d.status for d in escalations} == {"skipped"}
        assert not db.session.scalars(select(Notification).where(Notification.user_id == world.lead.id)).all()


def test_smtp_down_then_up_delivers_once(app, world, mail):
    with app.app_context():
        prepare(world)
        mail.stop()
        start = local(DEADLINE - timedelta(days=3))
        run_at(start)
        failed = rows(user_id=world.member.id, channel="email")
        assert [(d.status, d.attempts) for d in failed] == [("failed", 1)]
        assert "Connection refused" in failed[0].last_error or "Errno" in failed[0].last_error
        assert rows(user_id=world.member.id, channel="inapp")[0].status == "sent"  # the bell does not wait for mail

        run_at(start + timedelta(seconds=30))  # before the back-off: not tried again
        assert rows(user_id=world.member.id, channel="email")[0].attempts == 1
        run_at(start + timedelta(minutes=2))  # still down: second failure, longer back-off
        second = rows(user_id=world.member.id, channel="email")[0]
        assert (second.status, second.attempts) == ("failed", 2)

        mail.start()
        run_at(start + timedelta(minutes=10))
        run_at(start + timedelta(minutes=11))
        delivered = [e for e in mail.sink.envelopes if e.rcpt_tos == ["member@example.org"]]
        assert len(delivered) == 1
        assert rows(user_id=world.member.id, channel="email")[0].status == "sent"


def test_gives_up_after_the_attempt_limit(app, world, mail):
    with app.app_context():
        prepare(world)
        settings = db.session.get(ReminderSettings, 1)
        settings.max_attempts, settings.retry_base_seconds = 2, 10
        db.session.commit()
        mail.stop()
        start = local(DEADLINE - timedelta(days=3))
        for minutes in (0, 5, 10):
            run_at(start + timedelta(minutes=minutes))
        row = rows(user_id=world.member.id, channel="email")[0]
        assert (row.status, row.attempts) == ("dead", 2)


def test_hostile_titles_are_escaped_in_mail_and_robot_bodies(app, world, mail, robot):
    hostile = '<script>alert(1)</script> [x](http://evil.example) "q"\r\nBcc: evil@example.org'
    with app.app_context():
        prepare(world, robot, fmt="dingtalk")
        db.session.execute(update(Item).where(Item.id == world.items["owned"].id).values(title=hostile))
        db.session.commit()
        run_at(local(DEADLINE - timedelta(days=3)))

        envelope = next(e for e in mail.sink.envelopes if e.rcpt_tos == ["member@example.org"])
        assert all("evil" not in r for e in mail.sink.envelopes for r in e.rcpt_tos)
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert msg["Bcc"] is None
        assert "<script>" in subject(msg) and "\n" not in subject(msg)  # literal text in a single-line header
        html = msg.get_body(("html",)).get_content()
        assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html

        raw = robot.bodies[0].decode("utf-8")
        assert "<script>" not in raw and "</script>" not in raw
        text = robot.payloads()[0]["markdown"]["text"]
        assert "&lt;script&gt;" in text
        assert "](http://evil.example)" not in text  # no link injected into the markdown


@pytest.mark.parametrize("fmt", ["generic", "wecom", "dingtalk", "feishu"])
def test_each_robot_format_carries_what_when_and_link(app, world, mail, robot, fmt):
    with app.app_context():
        prepare(world, robot, fmt=fmt)
        run_at(local(DEADLINE + timedelta(days=2)))
        body = robot.payloads()[0]
        raw = json.dumps(body, ensure_ascii=False)
        assert "坡道整改" in raw and "2 days overdue" in raw
        assert f"https://wallchart.example/items/{world.items['owned'].id}" in raw
        if fmt == "generic":
            assert all(r["dedupe_key"].endswith("|webhook") for r in body["reminders"])
        if fmt == "feishu":
            assert body["msg_type"] == "post"


ROBOT_SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"


def _hmac(key: bytes, text: bytes) -> bytes:
    return hmac.new(key, text, hashlib.sha256).digest()


@pytest.mark.parametrize("fmt", ["generic", "dingtalk", "feishu"])
def test_robots_with_a_secret_get_messages_they_can_verify(app, world, mail, robot, fmt):
    """Checked the way each platform's documentation says the robot checks it."""
    moment = local(DEADLINE + timedelta(days=2))
    with app.app_context():
        prepare(world, robot, fmt=fmt, secret=ROBOT_SECRET)
        run_at(moment)
    assert robot.bodies, "nothing was posted"
    path, body, headers = robot.paths[0], robot.bodies[0], robot.headers[0]
    secret = ROBOT_SECRET.encode()
    if fmt == "dingtalk":
        query = dict(parse_qsl(urlsplit(path).query))
        assert query["access_token"] == SECRET and int(query["timestamp"]) == int(moment.timestamp()) * 1000
        expected = base64.b64encode(_hmac(secret, query["timestamp"].encode() + b"\n" + secret)).decode()
        assert query["sign"] == expected
    elif fmt == "feishu":
        data = json.loads(body)
        assert int(data["timestamp"]) == int(moment.timestamp())
        assert data["sign"] == base64.b64encode(_hmac(data["timestamp"].encode() + b"\n" + secret, b"")).decode()
        assert data["msg_type"] == "post"
    else:
        stamp = headers["X-Wallchart-Timestamp"]
        expected = hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert headers["X-Wallchart-Signature"] == f"sha256={expected}"
    with app.app_context():
        recorded = " ".join(str(r.last_error) for r in rows()) + " ".join(r.dedupe_key for r in rows())
        assert ROBOT_SECRET not in recorded


def test_robots_without_a_secret_get_no_signature(app, world, mail, robot):
    with app.app_context():
        prepare(world, robot, fmt="dingtalk")
        run_at(local(DEADLINE + timedelta(days=2)))
    assert "sign=" not in robot.paths[0] and "timestamp=" not in robot.paths[0]


def test_robot_failure_is_retried_and_its_secret_never_recorded(app, world, mail, robot):
    with app.app_context():
        prepare(world, robot)
        robot.status = 500
        start = local(DEADLINE - timedelta(days=3))
        run_at(start)
        failed = rows(channel="webhook")
        assert failed and {d.status for d in failed} == {"failed"}
        assert all("HTTP 500" in d.last_error and SECRET not in d.last_error for d in failed)
        robot.status = 200
        run_at(start + timedelta(minutes=2))
        assert {d.status for d in rows(channel="webhook")} == {"sent"}
        assert len(robot.bodies) == 2


def test_robot_error_code_and_redirects_count_as_failures(app, world, mail, robot):
    with app.app_context():
        prepare(world, robot)
        robot.answer = b'{"errcode": 130101, "errmsg": "send too fast"}'
        start = local(DEADLINE - timedelta(days=3))
        run_at(start)
        assert {d.last_error for d in rows(channel="webhook")} == {"robot error 130101: send too fast"}
        robot.answer, robot.status = b"", 302
        run_at(start + timedelta(minutes=2))
        assert all(d.last_error.startswith("HTTP 302") for d in rows(channel="webhook"))
        assert len(robot.bodies) == 2  # the redirect target was never contacted


def test_robot_messages_are_batched_under_the_rate_limit(app, world, mail, robot):
    with app.app_context():
        prepare(world, robot)
        lead = db.session.get(User, world.lead.id)
        for n in range(120):
            factories.make_item(lead, db.session.get(WorkGroup, world.cs.id), title=f"座椅{n}", deadline=DEADLINE)
        db.session.commit()
        start = local(DEADLINE - timedelta(days=3))
        run_at(start)
        assert len(robot.bodies) == 5  # 5 messages of 20 lines in one run, the rest waits
        assert [len(p["markdown"]["content"].splitlines()) - 1 for p in robot.payloads()] == [20] * 5
        assert len(rows(channel="webhook", status="pending")) == 123 - 100  # 120 new and 3 world items
        run_at(start + timedelta(minutes=1))
        assert len(robot.bodies) == 7
        assert {d.status for d in rows(channel="webhook")} == {"sent"}


def test_digest_instead_of_single_reminders(app, world, mail):
    with app.app_context():
        prepare(world)
        db.session.add(NotificationPreference(user_id=world.member.id, email_enabled=True, digest_mode="digest"))
        db.session.commit()
        run_at(local(DEADLINE - timedelta(days=3), hour=8, minute=29))
        assert not rows(user_id=world.member.id)
        run_at(local(DEADLINE - timedelta(days=3), hour=8, minute=30))
        mine = rows(user_id=world.member.id)
        assert {(d.rule, d.channel, d.status) for d in mine} == {
            ("digest", "inapp", "sent"),
            ("digest", "email", "sent"),
        }
        note = db.session.scalars(
            select(Notification).where(Notification.user_id == world.member.id, Notification.rule == "digest")
        ).one()
        assert note.subject == "Daily digest: 1 item due soon or overdue"
        assert "坡道整改" in note.body and "due in 3 days" in note.body
        # Others get both: their single reminders and the digest.
        assert {d.rule for d in rows(user_id=world.other_member.id, channel="inapp")} == {"before-3", "digest"}


def test_email_can_be_turned_off(app, world, mail):
    with app.app_context():
        prepare(world)
        db.session.add(NotificationPreference(user_id=world.member.id, email_enabled=False, digest_mode="singles"))
        db.session.commit()
        run_at(local(DEADLINE - timedelta(days=3)))
        assert {d.channel for d in rows(user_id=world.member.id)} == {"inapp"}
        assert "digest" not in {d.rule for d in rows(user_id=world.member.id)}
        assert all(e.rcpt_tos != ["member@example.org"] for e in mail.sink.envelopes)


def test_milestone_reminders_go_to_members_of_groups_with_open_items_tied(app, world, mail, robot):
    with app.app_context():
        prepare(world, robot)
        milestone = Milestone(
            event_id=world.event.id, title="场馆测试赛", kind="test_event", fixed_date=date(2026, 7, 20)
        )
        db.session.add(milestone)
        db.session.flush()
        db.session.execute(update(Item).where(Item.id == world.items["owned"].id).values(milestone_id=milestone.id))
        db.session.commit()
        run_at(local(date(2026, 7, 12)))
        assert not rows(rule="milestone-7")
        run_at(local(date(2026, 7, 13)))
        reached = {d.user_id for d in rows(rule="milestone-7", channel="inapp")}
        assert reached == {world.lead.id, world.member.id}
        note = db.session.scalars(
            select(Notification).where(Notification.user_id == world.lead.id, Notification.rule == "milestone-7")
        ).one()
        assert note.subject == "Milestone in 7 days: 场馆测试赛" and "坡道整改" in note.body
        assert rows(rule="milestone-7", channel="webhook")[0].status == "sent"
        run_at(local(date(2026, 7, 19)))
        assert {d.user_id for d in rows(rule="milestone-1", channel="inapp")} == {world.lead.id, world.member.id}


def test_cli_dry_run_changes_nothing_and_run_delivers(app, world, mail, runner):
    with app.app_context():
        prepare(world)
    result = runner.invoke(args=["reminders", "run", "--now", "2026-06-27T10:00", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Would queue" in result.output and "before 6" in result.output
    with app.app_context():
        assert rows() == []
    result = runner.invoke(args=["reminders", "run", "--now", "2026-06-27T10:00+08:00"])
    assert result.exit_code == 0, result.output
    assert "sent" in result.output
    with app.app_context():
        assert rows() and not [d for d in rows() if d.status in ("pending", "sending")]
    assert len(mail.sink.envelopes) >= 3


def test_chinese_readers_get_an_encoded_chinese_subject(app, world, mail):
    with app.app_context():
        prepare(world)
        db.session.execute(update(User).where(User.id == world.member.id).values(locale="zh_CN"))
        db.session.commit()
        run_at(local(DEADLINE - timedelta(days=3)))
        envelope = next(e for e in mail.sink.envelopes if e.rcpt_tos == ["member@example.org"])
        raw = envelope.content.decode("ascii")  # 7-bit clean on the wire
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert "坡道整改" in subject(msg)
        assert "=?utf-8?" in raw.lower()
        assert 'lang="zh-CN"' in msg.get_body(("html",)).get_content()
