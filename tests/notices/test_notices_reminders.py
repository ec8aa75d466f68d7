"""A reply-by date passing without a reply: the leads are reminded, then the committee, each exactly once,
through the reminder sweep (in-app and email over a real SMTP server on loopback)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select

from tests.factories import NOW
from tests.reminders.test_reminders_delivery import SmtpServer, local, prepare, rows, run_at, subject
from tracker.auth.models import User
from tracker.extensions import db
from tracker.items.models import Item
from tracker.notices import services, settings
from tracker.notices.models import Notice
from tracker.outbox.models import Notification
from tracker.reminders import sender, sweep
from tracker.reminders.services import policy

REPLY_BY = date(2026, 6, 5)
NOTICE_RULES = ("notice-lead", "notice-committee")


@pytest.fixture
def mail():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def config(config, mail):
    config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=mail.port, BASE_URL="https://wallchart.example")
    return config


def _issue(world, item_key="owned") -> int:
    db.session.execute(delete(Notice))
    committee = db.session.get(User, world.committee.id)
    item = db.session.get(Item, world.items[item_key].id)
    (notice,) = services.issue([item], level="orange", text="请按期回复", reply_by=REPLY_BY, actor=committee, now=NOW)
    db.session.commit()
    return notice.id


def _notice_rows(channel="inapp"):
    return [(d.rule, d.user_id, d.status) for d in rows(channel=channel) if d.rule in NOTICE_RULES]


def test_late_reply_reminds_leads_then_committee_exactly_once(app, world, mail):
    with app.app_context():
        prepare(world)
        nid = _issue(world)
        run_at(local(REPLY_BY, 20))  # the reply-by day itself is allowed
        assert _notice_rows() == []
        run_at(local(REPLY_BY + timedelta(days=1)))
        assert _notice_rows() == [("notice-lead", world.lead.id, "sent")]
        run_at(local(REPLY_BY + timedelta(days=1), 9))  # re-run the same day
        run_at(local(REPLY_BY + timedelta(days=2)))  # and the next day
        assert _notice_rows() == [("notice-lead", world.lead.id, "sent")]
        lead_mail = [m for m in mail.sink.messages() if m["To"].addresses[0].addr_spec == "lead@example.org"]
        notice_mail = [m for m in lead_mail if "督办〔2026〕第1号" in subject(m)]
        assert len(notice_mail) == 1 and subject(notice_mail[0]).startswith("[Wallchart] No reply to 督办〔2026〕第1号")
        assert f"https://wallchart.example/notices/{nid}" in notice_mail[0].get_body(("plain",)).get_content()

        run_at(local(REPLY_BY + timedelta(days=3)))
        run_at(local(REPLY_BY + timedelta(days=3), 18))
        run_at(local(REPLY_BY + timedelta(days=4)))
        assert sorted(_notice_rows()) == [
            ("notice-committee", world.committee.id, "sent"),
            ("notice-lead", world.lead.id, "sent"),
        ]
        bell = db.session.scalars(select(Notification).where(Notification.rule == "notice-committee")).all()
        assert len(bell) == 1 and bell[0].url == f"/notices/{nid}" and bell[0].user_id == world.committee.id
        assert len(_notice_rows("email")) == 2


def test_a_reply_stops_the_reminders(app, world, mail):
    with app.app_context():
        prepare(world)
        nid = _issue(world)
        notice = db.session.get(Notice, nid)
        member = db.session.get(User, world.member.id)
        services.acknowledge(notice, actor=member, now=NOW)
        services.reply(notice, text="已整改完毕", actor=member, now=NOW)
        db.session.commit()
        for days in range(0, 6):
            run_at(local(REPLY_BY + timedelta(days=days)))
        assert _notice_rows() == []


def test_a_reminder_queued_before_the_reply_is_not_sent_after_it(app, world, mail):
    """The sender checks again: a reply between queueing and sending skips the row."""
    with app.app_context():
        prepare(world)
        nid = _issue(world)
        today = REPLY_BY + timedelta(days=1)
        sweep.run_sweep(local(today), today, policy(), email=False, with_digest=False)
        db.session.commit()
        notice = db.session.get(Notice, nid)
        lead = db.session.get(User, world.lead.id)
        services.acknowledge(notice, actor=lead, now=NOW)
        services.reply(notice, text="刚刚回复", actor=lead, now=NOW)
        db.session.commit()
        sender.send_due(local(today), "Asia/Shanghai", policy())
        assert _notice_rows() == [("notice-lead", world.lead.id, "skipped")]


def test_the_days_are_configurable(app, world, mail):
    with app.app_context():
        prepare(world)
        admin = db.session.get(User, world.admin.id)
        values = {name: getattr(settings.get_rules(), name) for name in settings.LIMITS}
        settings.save_rules(values | {"lead_after_days": 2, "committee_after_days": 5}, actor=admin, now=NOW)
        db.session.commit()
        _issue(world)
        run_at(local(REPLY_BY + timedelta(days=1)))
        assert _notice_rows() == []
        run_at(local(REPLY_BY + timedelta(days=2)))
        assert _notice_rows() == [("notice-lead", world.lead.id, "sent")]


def test_automatic_issuing_only_when_switched_on(app, world, mail):
    with app.app_context():
        prepare(world)
        db.session.execute(delete(Notice))
        db.session.commit()
        overdue_day = date(2026, 7, 4)  # world items are due 2026-06-30: four days late, orange
        run_at(local(overdue_day))
        assert db.session.scalars(select(Notice)).all() == []
        admin = db.session.get(User, world.admin.id)
        values = {name: getattr(settings.get_rules(), name) for name in settings.LIMITS}
        settings.save_rules(values | {"auto_issue": True}, actor=admin, now=NOW)
        db.session.commit()
        run_at(local(overdue_day))
        run_at(local(overdue_day, 12))
        issued = db.session.scalars(select(Notice)).all()
        assert len(issued) == 6 and {n.level for n in issued} == {"orange"}
        assert all(n.issued_by_id is None for n in issued)
