"""Nobody is told about an item they may not read: every reminder kind, every role, every channel.

The world has a confidential item and items of other owners in every group; an external
account sits in a work group (as a vendor's staff do) and every item is tied to one
milestone, so every rule (before, overdue, lead and committee escalation, milestone,
digest) fires for someone. Each channel a reader has (the bell page, the JSON API, email
through a real SMTP server, the group robot through a loopback receiver) is checked
against ``permissions.can_view_item`` for that reader.
"""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import insert, select, update

from tests import factories
from tests.reminders import test_reminders_delivery as delivery
from tests.reminders.test_reminders_delivery import DEADLINE, local, prepare, rows, run_at
from tracker import permissions
from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import group_membership
from tracker.items import services as items
from tracker.items.models import Item
from tracker.milestones.models import Milestone
from tracker.outbox.models import Notification
from tracker.reminders import sender, services, sweep

# The loopback SMTP server and chat robot, and the config pointing at them.
config = delivery.config
mail = delivery.mail
robot = delivery.robot

ROLES = ("admin", "committee", "lead", "member", "other_lead", "other_member", "external")


def _in_scope(world) -> date:
    """The external account joins CG; every item is tied to a milestone the day after the deadline."""
    db.session.execute(insert(group_membership).values(user_id=world.external.id, group_id=world.cs.id))
    db.session.execute(insert(group_membership).values(user_id=world.admin.id, group_id=world.js.id))
    milestone = Milestone(
        event_id=world.event.id, title="全要素彩排", kind="rehearsal", fixed_date=DEADLINE + timedelta(1)
    )
    db.session.add(milestone)
    db.session.flush()
    db.session.execute(update(Item).values(milestone_id=milestone.id))
    db.session.commit()
    return milestone.date


def _unreadable(reader, world) -> list:
    """(title, id) of the world's items ``reader`` may not open."""
    found = []
    for item in world.items.values():
        row = db.session.get(Item, item.id)
        if not permissions.can_view_item(reader, row):
            found.append((row.title, row.id))
    return found


def _leaks(text: str, unreadable) -> list:
    return [title for title, item_id in unreadable if title in text or re.search(rf"/items/{item_id}(?!\d)", text)]


def _every_day(milestone_day: date):
    """A run at 09:00 (after the digest time) every day from a week before the deadline to 3 days after."""
    day = DEADLINE - timedelta(days=8)
    while day <= DEADLINE + timedelta(days=3):
        run_at(local(day, hour=9))
        day += timedelta(days=1)
    assert milestone_day - timedelta(days=7) >= DEADLINE - timedelta(days=8)


def _channels(app, mail, username: str) -> dict:
    """What ``username`` can read of their reminders: the bell page, the JSON API, their email."""
    client = app.test_client()
    factories.login(client, username)
    api = client.get("/api/v1/notifications?per_page=100")
    assert api.status_code == 200
    pages, page = [], 1
    while True:
        answer = client.get(f"/notifications?page={page}")
        assert answer.status_code == 200
        pages.append(answer.get_data(as_text=True))
        if page * 20 >= api.get_json()["total"]:
            break
        page += 1
    mails = []
    for msg in mail.sink.messages():
        if msg["To"].addresses[0].addr_spec.startswith("ext@" if username == "external" else f"{username}@"):
            mails.append(msg.get_body(("plain",)).get_content() + msg.get_body(("html",)).get_content())
            mails.append(str(msg["Subject"]))
    return {"bell page": "\n".join(pages), "api": api.get_data(as_text=True), "email": "\n".join(mails)}


def test_no_reminder_of_any_kind_shows_a_reader_an_item_they_may_not_read(app, world, mail, robot):
    with app.app_context():
        prepare(world, robot)
        milestone_day = _in_scope(world)
        _every_day(milestone_day)
        rules_seen = {d.rule for d in rows() if d.status == "sent"}
        assert {"before-7", "before-3", "before-1", "before-0", "overdue", "lead", "committee", "digest"} <= rules_seen
        assert {"milestone-7", "milestone-1"} <= rules_seen
        unreadable = {role: _unreadable(db.session.get(User, getattr(world, role).id), world) for role in ROLES}
        # The checks below are not vacuous: the external account was reminded of its own item
        # and of the milestone; the lead read the confidential item's title.
        notes = db.session.scalars(select(Notification).where(Notification.user_id == world.external.id)).all()
        assert {"milestone-7", "milestone-1", "overdue"} <= {n.rule for n in notes}
        assert any("舞美搭建" in n.body for n in notes if n.rule.startswith("milestone"))
        lead_notes = db.session.scalars(select(Notification).where(Notification.user_id == world.lead.id)).all()
        assert any("安检通道漏洞" in n.body for n in lead_notes if n.rule.startswith("milestone"))
        robot_unreadable = _unreadable(permissions.chat_robot_reader(), world)

    # Outside the app context: each request gets its own, so the signed-in user is not cached.
    for role in ROLES:
        username = getattr(world, role).username
        for channel, text in _channels(app, mail, username).items():
            assert not _leaks(text, unreadable[role]), (role, channel, _leaks(text, unreadable[role]))
    assert "ext@example.org" in {e.rcpt_tos[0] for e in mail.sink.envelopes}

    robot_text = "\n".join(b.decode() for b in robot.bodies)
    assert robot.bodies and "坡道整改" in robot_text
    assert not _leaks(robot_text, robot_unreadable)


def test_milestone_rows_are_queued_only_for_members_who_can_read_a_tied_item(app, world, mail, robot):
    with app.app_context():
        prepare(world, robot)
        milestone_day = _in_scope(world)
        # Only the confidential item stays tied: the external group member must not be reminded.
        db.session.execute(update(Item).where(Item.id != world.items["confidential"].id).values(milestone_id=None))
        db.session.commit()
        run_at(local(milestone_day - timedelta(days=7), hour=7))
        reached = {d.user_id for d in rows(rule="milestone-7")}
        assert reached == {world.lead.id, world.member.id}
        assert world.external.id not in reached
        assert not rows(rule="milestone-7", channel="webhook")  # the group chat is not told either
        assert all("全要素彩排" not in b.decode() and "安检通道漏洞" not in b.decode() for b in robot.bodies)


def test_robot_milestone_row_is_dropped_when_its_only_public_item_turns_confidential(app, world, mail, robot):
    with app.app_context():
        prepare(world, robot)
        milestone_day = _in_scope(world)
        db.session.execute(update(Item).where(Item.id != world.items["unowned"].id).values(milestone_id=None))
        db.session.commit()
        day = milestone_day - timedelta(days=7)
        now = local(day)
        sweep.run_sweep(now, day, services.policy(), email=True, with_digest=False)
        db.session.commit()
        assert rows(rule="milestone-7", channel="webhook")
        item = db.session.get(Item, world.items["unowned"].id)
        committee = db.session.get(User, world.committee.id)
        items.update_item(item, {"is_confidential": True}, actor=committee, now=now, version=item.version)
        db.session.commit()
        sender.send_due(now, "Asia/Shanghai", services.policy())
        assert {d.status for d in rows(rule="milestone-7", channel="webhook")} == {"skipped"}
        assert all("全要素彩排" not in b.decode() for b in robot.bodies)


def test_send_time_filter_drops_items_hidden_after_queueing(app, world, mail, robot):
    """Queued while readable; made confidential, or moved to another owner, before the send."""
    with app.app_context():
        prepare(world, robot)
        milestone_day = _in_scope(world)
        day = milestone_day - timedelta(days=7)
        now = local(day)
        sweep.run_sweep(now, day, services.policy(), email=True, with_digest=False)
        db.session.commit()
        assert rows(rule="milestone-7", user_id=world.external.id)
        # The external's own item goes to someone else; a public item becomes confidential.
        for name, change in (("external_item", {"owner_id": world.member.id}), ("unowned", {"is_confidential": True})):
            item = db.session.get(Item, world.items[name].id)
            items.update_item(
                item, change, actor=db.session.get(User, world.committee.id), now=now, version=item.version
            )
        db.session.commit()
        sender.send_due(now, "Asia/Shanghai", services.policy())
        external = rows(rule="milestone-7", user_id=world.external.id)
        assert external and {d.status for d in external} == {"skipped"}
        assert "ext@example.org" not in {e.rcpt_tos[0] for e in mail.sink.envelopes}
        robot_text = "\n".join(b.decode() for b in robot.bodies)
        assert "盲道修复" not in robot_text


def test_old_notifications_about_an_item_no_longer_readable_are_hidden(app, world, mail):
    with app.app_context():
        prepare(world)
        run_at(local(DEADLINE - timedelta(days=3)))
        mine = db.session.scalars(select(Notification).where(Notification.user_id == world.external.id)).all()
        assert mine and all(n.item_id == world.items["external_item"].id for n in mine)
        now = local(DEADLINE - timedelta(days=2))
        item = db.session.get(Item, world.items["external_item"].id)
        items.update_item(
            item,
            {"owner_id": world.member.id},
            actor=db.session.get(User, world.committee.id),
            now=now,
            version=item.version,
        )
        db.session.commit()
    client = app.test_client()
    factories.login(client, "external")
    answer = client.get("/api/v1/notifications")
    assert answer.status_code == 200 and answer.get_json()["total"] == 0
    assert "舞美搭建" not in client.get("/notifications").get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_readable_items_agrees_with_visible_items(app, world, role):
    with app.app_context():
        reader = db.session.get(User, getattr(world, role).id)
        every = db.session.scalars(select(Item).order_by(Item.id)).all()
        in_sql = db.session.scalars(permissions.visible_items(select(Item), reader, Item).order_by(Item.id)).all()
        assert permissions.readable_items(reader, every) == in_sql
        pairs = (
            select(Item.id)
            .join(User, User.id == reader.id)
            .where(permissions.item_readable_by(Item, User, group_membership))
        )
        assert sorted(db.session.scalars(pairs)) == [i.id for i in in_sql]


@pytest.mark.parametrize("role", ROLES)
def test_bell_and_api_list_only_notifications_about_readable_items(app, world, role):
    """Whatever wrote them (a reminder, a workflow event), notifications about items the reader
    may not open are not shown, nor counted as unread."""
    with app.app_context():
        reader = db.session.get(User, getattr(world, role).id)
        for item in world.items.values():
            db.session.add(
                Notification(
                    user_id=reader.id, rule="overdue", item_id=item.id, subject=item.title, url=f"/items/{item.id}"
                )
            )
        db.session.add(Notification(user_id=reader.id, rule="digest", subject="digest", url="/notifications"))
        db.session.commit()
        expected = {
            i.title
            for i in permissions.readable_items(reader, [db.session.get(Item, i.id) for i in world.items.values()])
        }
        unreadable = _unreadable(reader, world)
    client = app.test_client()
    factories.login(client, getattr(world, role).username)
    body = client.get("/api/v1/notifications").get_json()
    subjects = {n["subject"] for n in body["items"]}
    assert subjects == expected | {"digest"}
    assert body["total"] == len(expected) + 1
    page = client.get("/notifications").get_data(as_text=True)
    assert not _leaks(page, unreadable)
