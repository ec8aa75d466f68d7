"""Workflow notifications end to end: pages and API → events → outbox → in-app, email (aiosmtpd), chat robot.

World items are created at factories.NOW; each test acts at T (time_machine) and runs the
sender a few minutes later, once the email/chat bundling window has passed.
"""

from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select, update

from tests import factories
from tests.factories import login
from tests.reminders.test_reminders_delivery import Receiver, SmtpServer, prepare, subject
from tracker.auth.models import User
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.items import services as items
from tracker.items.models import Item
from tracker.jobs.run import run_reminders
from tracker.notify import sender as workflow_sender
from tracker.outbox import rules
from tracker.outbox.models import Delivery, EventPreference, ItemEvent, ItemWatch, Notification
from tracker.reminders import outbox
from tracker.reminders import services as reminder_services

T = factories.NOW + timedelta(days=1)
LATER = T + rules.BUNDLE_WAIT + timedelta(minutes=1)
EN = {"Accept-Language": "en"}


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


@pytest.fixture
def ready(app, world, robot, mail):
    """English for stable words, emails for everyone, CG's robot on loopback; earlier events delivered."""
    with app.app_context():
        prepare(world, robot)
        send(T - timedelta(minutes=1))
        db.session.execute(update(Notification).values(read_at=T - timedelta(minutes=1)))
        db.session.commit()
    robot.bodies.clear()
    mail.sink.envelopes.clear()
    return world


def send(moment=LATER) -> dict:
    with time_machine.travel(moment, tick=False):
        return run_reminders(utcnow())


def act(client, username, method, url, at=T, **kwargs):
    with time_machine.travel(at, tick=False):
        client.post("/logout")
        login(client, username)
        return getattr(client, method)(url, headers=EN, **kwargs)


def inbox_of(user_id) -> list[Notification]:
    return db.session.scalars(
        select(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ).all()


def kinds_by_user(world) -> dict:
    names = {
        u.id: u.username
        for u in (
            world.admin,
            world.committee,
            world.lead,
            world.member,
            world.other_lead,
            world.other_member,
            world.external,
        )
    }
    found = {}
    for n in db.session.scalars(select(Notification).where(Notification.read_at.is_(None))):
        found.setdefault(names[n.user_id], []).append(n.rule)
    return found


def mails_to(mail, address) -> list:
    return [m for m in mail.sink.messages() if m["To"].addresses[0].addr_spec == address]


def transition(client, username, item_id, action, note=""):
    return act(client, username, "post", f"/items/{item_id}/transition", data={"action": action, "note": note})


# --- the table of events and recipients -------------------------------------------------------


def test_assignment_tells_the_new_owner_and_the_previous_one(app, client, ready, mail):
    w = ready
    owned = w.items["owned"]
    answer = act(client, "committee", "patch", f"/api/v1/items/{owned.id}", json={"owner": "lead", "version": 1})
    assert answer.status_code == 200, answer.get_json()
    with app.app_context():
        send()
        found = kinds_by_user(w)
        assert found == {"lead": [rules.ASSIGNED], "member": [rules.UNASSIGNED]}
        note = inbox_of(w.lead.id)[0]
        assert note.url == f"/items/{owned.id}" and note.actor_id == w.committee.id
        assert "committee" in note.subject and "坡道整改" in note.subject
        assert subject(mails_to(mail, "lead@example.org")[0]).startswith("[Wallchart] committee made you responsible")
        assert mails_to(mail, "committee@example.org") == []  # never the actor
        assert db.session.get(ItemWatch, (owned.id, w.lead.id)) is not None  # the new owner watches


def test_submit_tells_the_committee_and_the_groups_leads(app, client, ready, mail, robot):
    w = ready
    owned = w.items["owned"]
    transition(client, "member", owned.id, "start")
    assert transition(client, "member", owned.id, "submit").status_code == 302
    with app.app_context():
        send()
        found = kinds_by_user(w)
        assert found == {"committee": [rules.SUBMITTED], "admin": [], "lead": [rules.SUBMITTED]} or (
            found.get("committee") == [rules.SUBMITTED] and found.get("lead") == [rules.SUBMITTED]
        )
        assert "member" not in found and "otherlead" not in found
        assert len(mails_to(mail, "committee@example.org")) == 1
        assert len(robot.bodies) == 1 and "submitted" in robot.payloads()[0]["markdown"]["content"]


def test_reject_tells_owner_and_leads_with_the_reason_and_marks_the_item_returned(app, client, ready, mail):
    w = ready
    owned = w.items["owned"]
    transition(client, "member", owned.id, "start")
    transition(client, "member", owned.id, "submit")
    assert transition(client, "committee", owned.id, "reject", "坡度仍超标，请返工").status_code == 302
    with app.app_context():
        send()
        rejected = [n for n in inbox_of(w.member.id) if n.rule == rules.REJECTED]
        assert len(rejected) == 1 and "坡度仍超标，请返工" in rejected[0].body
        assert [n.rule for n in inbox_of(w.lead.id)].count(rules.REJECTED) == 1
        mails = [m for m in mails_to(mail, "member@example.org") if "returned" in subject(m)]
        assert len(mails) == 1 and "坡度仍超标，请返工" in mails[0].get_body(("plain",)).get_content()
    api = act(client, "member", "get", "/api/v1/notifications").get_json()["items"]
    told = [n for n in api if n["kind"] == rules.REJECTED]
    assert len(told) == 1 and told[0]["actor"] == "committee" and "坡度仍超标，请返工" in told[0]["message"]
    assert told[0]["item"] == owned.id
    # The badge shows in the lists and on the page, and the member's inbox has it with the reason.
    act(client, "member", "get", "/")
    for url in ("/problems", f"/items/{owned.id}"):
        assert "Returned" in act(client, "member", "get", url).get_data(as_text=True)
    home = act(client, "member", "get", "/").get_data(as_text=True)
    assert "Returned to me" in home and "坡度仍超标，请返工" in home
    body = act(client, "member", "get", "/api/v1/inbox").get_json()
    assert [i["id"] for i in body["returned"]] == [owned.id] and body["returned"][0]["reason"] == "坡度仍超标，请返工"
    # Submitted again: the badge is gone.
    transition(client, "member", owned.id, "submit")
    assert "badge returned" not in act(client, "member", "get", f"/items/{owned.id}").get_data(as_text=True)
    assert act(client, "member", "get", "/api/v1/inbox").get_json()["returned"] == []


@pytest.mark.parametrize("action", ["verify", "reopen", "cancel"])
def test_verify_reopen_cancel_tell_owner_leads_and_watchers(app, client, ready, action):
    w = ready
    owned = w.items["owned"]
    act(client, "othermember", "post", f"/items/{owned.id}/watch")  # a reader of another group watches
    transition(client, "member", owned.id, "start")
    transition(client, "member", owned.id, "submit")
    if action == "reopen":
        transition(client, "committee", owned.id, "verify")
    with app.app_context():
        send()
        db.session.execute(update(Notification).values(read_at=T))
        db.session.commit()
    answer = transition(client, "admin" if action == "reopen" else "committee", owned.id, action, "理由写明")
    assert answer.status_code == 302
    kind = rules.ACTION_KINDS[action]
    with app.app_context():
        send()
        found = kinds_by_user(w)
        for username in ("member", "lead", "othermember"):
            assert found.get(username) == [kind], (username, found)
        assert "committee" not in found or action == "reopen"
        if action != "verify":
            assert "理由写明" in inbox_of(w.member.id)[0].body


def test_deadline_change_tells_owner_and_watchers_old_and_new_date(app, client, ready):
    w = ready
    owned = w.items["owned"]
    answer = act(
        client,
        "committee",
        "patch",
        f"/api/v1/items/{owned.id}",
        json={"deadline": "2026-07-15", "reason": "设备到货延迟", "version": 1},
    )
    assert answer.status_code == 200, answer.get_json()
    with app.app_context():
        send()
        for user_id in (w.member.id, w.lead.id):  # the owner, and the lead who watches by default
            note = inbox_of(user_id)[0]
            assert note.rule == rules.DEADLINE
            assert "Jun 30, 2026" in note.subject and "Jul 15, 2026" in note.subject
            assert "设备到货延迟" in note.body
        assert inbox_of(w.committee.id) == []  # the actor


def test_an_extension_request_reaches_the_reviewers_and_its_decision_the_requester(app, client, ready):
    w = ready
    owned = w.items["owned"]
    asked = act(
        client,
        "lead",
        "post",
        f"/api/v1/items/{owned.id}/extension-requests",
        json={"deadline": "2026-07-20", "reason": "材料延误"},
    )
    assert asked.status_code == 201, asked.get_json()
    with app.app_context():
        send()
        (note,) = [n for n in inbox_of(w.committee.id) if n.rule == rules.EXTENSION_REQUESTED]
        assert "Jun 30, 2026" in note.subject and "Jul 20, 2026" in note.subject and "材料延误" in note.body
        assert [n.rule for n in inbox_of(w.member.id)] == [rules.EXTENSION_REQUESTED]  # the owner hears too
        assert inbox_of(w.lead.id) == []  # the requester acted
        db.session.execute(update(Notification).values(read_at=T))
        db.session.commit()
    request_id = asked.get_json()["id"]
    decided = act(
        client,
        "committee",
        "post",
        f"/api/v1/extension-requests/{request_id}/decision",
        json={"decision": "approve", "note": "同意"},
        at=T + timedelta(minutes=10),
    )
    assert decided.status_code == 200, decided.get_json()
    with app.app_context():
        send(LATER + timedelta(minutes=10))
        lead_heard = sorted(n.rule for n in inbox_of(w.lead.id))
        assert lead_heard == sorted([rules.EXTENSION_DECIDED, rules.DEADLINE])
        decision = next(n for n in inbox_of(w.lead.id) if n.rule == rules.EXTENSION_DECIDED)
        assert "approved" in decision.subject and "Jul 20, 2026" in decision.subject
        assert rules.EXTENSION_DECIDED in [n.rule for n in inbox_of(w.member.id)]
        assert inbox_of(w.committee.id) == []


def test_progress_by_someone_else_tells_owner_and_watchers_and_mentions_readers_only(app, client, ready):
    w = ready
    conf = w.items["confidential"]
    with app.app_context():
        db.session.execute(update(Item).where(Item.id == conf.id).values(owner_id=w.member.id))
        db.session.commit()
    note = "已复测 @committee @othermember @external @nobody"
    answer = act(client, "lead", "post", f"/api/v1/items/{conf.id}/ledger", json={"note": note, "progress": 60})
    assert answer.status_code == 201
    with app.app_context():
        send()
        found = kinds_by_user(w)
        assert found.get("member") == [rules.PROGRESS]
        assert found.get("committee") == [rules.MENTIONED]
        # Neither may read a confidential CG item: they are never told of it.
        assert "othermember" not in found and "external" not in found
        assert "lead" not in found


# --- who may hear: confidential items, unreadable items ------------------------------------------


def test_a_confidential_item_never_reaches_the_chat_robot(app, client, ready, robot):
    w = ready
    conf = w.items["confidential"]
    act(client, "lead", "post", f"/api/v1/items/{conf.id}/transitions", json={"action": "start"})
    act(client, "lead", "post", f"/api/v1/items/{conf.id}/transitions", json={"action": "submit"})
    with app.app_context():
        send()
        assert robot.bodies == []
        assert rows_for(conf.id, channel="webhook") == []
        assert [n.rule for n in inbox_of(w.committee.id)] == [rules.SUBMITTED]


def rows_for(item_id, **where):
    query = select(Delivery).where(Delivery.item_id == item_id, Delivery.event_id.is_not(None))
    for name, value in where.items():
        query = query.where(getattr(Delivery, name) == value)
    return db.session.scalars(query).all()


def test_a_watcher_who_can_no_longer_read_the_item_hears_nothing(app, client, ready, mail, robot):
    w = ready
    owned = w.items["owned"]
    act(client, "othermember", "post", f"/items/{owned.id}/watch")
    act(client, "lead", "post", f"/api/v1/items/{owned.id}/ledger", json={"note": "第一次"})
    # Queued for othermember, then the item turns confidential before the sender runs.
    with app.app_context():
        assert rows_for(owned.id, user_id=w.other_member.id, channel="email")
        db.session.execute(update(Item).where(Item.id == owned.id).values(is_confidential=True))
        db.session.commit()
        send()
        assert inbox_of(w.other_member.id) == []
        assert mails_to(mail, "othermember@example.org") == []
        assert robot.bodies == []  # confidential now: the robot row is skipped too
        assert {d.status for d in rows_for(owned.id, user_id=w.other_member.id)} == {"skipped"}
    # And once confidential, nothing is even queued for them.
    act(client, "lead", "post", f"/api/v1/items/{owned.id}/ledger", json={"note": "第二次"})
    with app.app_context():
        assert len(rows_for(owned.id, user_id=w.other_member.id)) == 2  # only the first event's rows


# --- exactly once ------------------------------------------------------------------------------


def test_a_replayed_form_and_a_second_run_send_nothing_twice(app, client, ready, mail):
    w = ready
    owned = w.items["owned"]
    transition(client, "member", owned.id, "start")
    transition(client, "member", owned.id, "submit")
    assert transition(client, "committee", owned.id, "reject", "重做").status_code == 302
    assert transition(client, "committee", owned.id, "reject", "重做").status_code == 422  # replayed
    with app.app_context():
        send()
        send(LATER + timedelta(minutes=5))
        assert db.session.scalar(select(func.count()).where(ItemEvent.kind == rules.REJECTED)) == 1
        assert [n.rule for n in inbox_of(w.member.id)].count(rules.REJECTED) == 1
        assert len([m for m in mails_to(mail, "member@example.org") if "returned" in subject(m)]) == 1
        keys = [d.dedupe_key for d in db.session.scalars(select(Delivery).where(Delivery.event_id.is_not(None)))]
        assert len(keys) == len(set(keys))


def test_two_workers_deliver_each_event_once(app, client, ready, mail):
    w = ready
    owned = w.items["owned"]
    transition(client, "member", owned.id, "start")
    transition(client, "member", owned.id, "submit")
    from tests.reminders.test_reminders_concurrency import in_threads

    def work():
        workflow_sender.send_due(LATER, "Asia/Shanghai", reminder_services.policy())

    assert in_threads(app, work) == []
    with app.app_context():
        assert [n.rule for n in inbox_of(w.committee.id)] == [rules.SUBMITTED]
        assert len(mails_to(mail, "committee@example.org")) == 1
        per_row = select(Notification.delivery_id, func.count()).group_by(Notification.delivery_id)
        assert {n for _, n in db.session.execute(per_row)} == {1}


def test_a_sender_that_died_after_claiming_is_replaced_once_with_the_same_message_id(app, client, ready, mail):
    w = ready
    owned = w.items["owned"]
    transition(client, "member", owned.id, "start")
    transition(client, "member", owned.id, "submit")
    with app.app_context():
        claimed = outbox.claim(LATER, "dead-sender", workflow=True)
        assert claimed
        assert workflow_sender.send_due(LATER, "Asia/Shanghai", reminder_services.policy()) == {}
        workflow_sender.send_due(
            LATER + outbox.lease() + timedelta(seconds=1), "Asia/Shanghai", reminder_services.policy()
        )
        assert len(mails_to(mail, "committee@example.org")) == 1
        assert [n.rule for n in inbox_of(w.committee.id)] == [rules.SUBMITTED]


def test_a_rolled_back_change_queues_and_sends_nothing(app, ready, mail):
    w = ready
    with app.app_context():
        before = db.session.scalar(select(func.count(Delivery.id)))
        item = db.session.get(Item, w.items["owned"].id)
        committee = db.session.get(User, w.committee.id)
        with time_machine.travel(T, tick=False):
            items.transition(item, "start", actor=db.session.get(User, w.member.id), now=utcnow())
            items.transition(item, "submit", actor=db.session.get(User, w.member.id), now=utcnow())
            items.update_item(item, {"owner_id": w.lead.id}, actor=committee, now=utcnow(), version=item.version)
        assert db.session.scalar(select(func.count(Delivery.id))) > before  # queued in the transaction…
        db.session.rollback()  # …which then fails
        assert db.session.scalar(select(func.count(Delivery.id))) == before
        assert db.session.scalar(select(func.count(ItemEvent.id)).where(ItemEvent.created_at >= T)) == 0
        send()
        assert mail.sink.envelopes == [] and inbox_of(w.committee.id) == []


# --- bundling, digest, preferences, watching, API ---------------------------------------------------


def test_many_events_on_one_item_are_one_email_but_one_bell_entry_each(app, client, ready, mail, robot):
    w = ready
    owned = w.items["owned"]
    for n in range(3):
        act(client, "lead", "post", f"/api/v1/items/{owned.id}/ledger", json={"note": f"进展 {n}"})
    with app.app_context():
        send(T + timedelta(minutes=1))
        assert mails_to(mail, "member@example.org") == []  # still waiting for more
        assert len(inbox_of(w.member.id)) == 3  # in-app: at once, one per event
        send()
        mails = mails_to(mail, "member@example.org")
        assert len(mails) == 1 and subject(mails[0]) == "[Wallchart] 3 changes to 坡道整改"
        text = mails[0].get_body(("plain",)).get_content()
        assert all(f"进展 {n}" in text for n in range(3))
        assert len(robot.bodies) == 1  # the group's chat: one message too
        assert robot.payloads()[0]["markdown"]["content"].count("坡道整改") == 3


def test_daily_digest_lists_yesterdays_events_on_my_items(app, client, ready):
    w = ready
    owned = w.items["owned"]
    act(client, "lead", "post", f"/api/v1/items/{owned.id}/ledger", json={"note": "昨天的进展"})
    with app.app_context():
        from tests.reminders.test_reminders_delivery import local

        result = send(local(T.date() + timedelta(days=1), hour=9))
        assert result["queued"][rules.ACTIVITY_DIGEST] >= 1
        digest = [n for n in inbox_of(w.member.id) if n.rule == rules.ACTIVITY_DIGEST]
        assert len(digest) == 1 and "昨天的进展" in digest[0].body or "坡道整改" in digest[0].body
        assert not [n for n in inbox_of(w.lead.id) if n.rule == rules.ACTIVITY_DIGEST]  # only their own acts


def test_preferences_per_kind(app, client, ready, mail):
    w = ready
    owned = w.items["owned"]
    login(client, "member")
    page = client.get("/notifications/settings", headers=EN).get_data(as_text=True)
    assert "Someone adds progress or evidence" in page
    data = {kind: "email" for kind in rules.KINDS}
    data[rules.PROGRESS] = "off"
    data[rules.DEADLINE] = "inapp"
    assert client.post("/notifications/settings/events", data=data).status_code == 302
    bad = dict(data, **{rules.ASSIGNED: "off"})
    client.post("/notifications/settings/events", data=bad)
    with app.app_context():
        saved = dict(db.session.execute(select(EventPreference.kind, EventPreference.mode)).all())
        assert saved[rules.ASSIGNED] == "email"  # in-app cannot be turned off for "assigned to me"
    act(client, "lead", "post", f"/api/v1/items/{owned.id}/ledger", json={"note": "不想听"})
    act(
        client,
        "committee",
        "patch",
        f"/api/v1/items/{owned.id}",
        json={"deadline": "2026-07-01", "reason": "r", "version": 2},
    )
    with app.app_context():
        send()
        assert [n.rule for n in inbox_of(w.member.id)] == [rules.DEADLINE]
        assert mails_to(mail, "member@example.org") == []


def test_watch_and_unwatch_from_the_item_page(app, client, ready):
    w = ready
    item = w.items["other_group"]
    page = act(client, "member", "get", f"/items/{item.id}").get_data(as_text=True)
    assert "Watch this item" in page
    act(client, "member", "post", f"/items/{item.id}/watch")
    assert "Stop watching" in act(client, "member", "get", f"/items/{item.id}").get_data(as_text=True)
    act(client, "otherlead", "post", f"/api/v1/items/{item.id}/ledger", json={"note": "调试完成"})
    act(client, "member", "post", f"/items/{item.id}/unwatch")
    act(client, "otherlead", "post", f"/api/v1/items/{item.id}/ledger", json={"note": "再次调试"})
    with app.app_context():
        send()
        assert [n.rule for n in inbox_of(w.member.id)] == [rules.PROGRESS]
    # Nobody watches what they may not read.
    conf = w.items["other_confidential"]
    assert act(client, "member", "post", f"/items/{conf.id}/watch").status_code == 404


def test_creator_owner_and_leads_watch_by_default(app, world):
    with app.app_context():
        owned = world.items["owned"]
        watchers = set(db.session.scalars(select(ItemWatch.user_id).where(ItemWatch.item_id == owned.id)))
        assert watchers == {world.lead.id, world.member.id}
        ext = world.items["external_item"]
        watchers = set(db.session.scalars(select(ItemWatch.user_id).where(ItemWatch.item_id == ext.id)))
        assert watchers == {
            world.committee.id,
            world.lead.id,
        }  # its vendor was assigned directly, not through a service


def test_api_notifications_carry_kind_item_actor_and_can_be_marked_read(app, client, ready):
    w = ready
    owned = w.items["owned"]
    act(client, "lead", "post", f"/api/v1/items/{owned.id}/ledger", json={"note": "一"})
    act(client, "lead", "post", f"/api/v1/items/{owned.id}/ledger", json={"note": "二"})
    with app.app_context():
        send()
    body = act(client, "member", "get", "/api/v1/notifications").get_json()
    first = body["items"][0]
    assert first["kind"] == rules.PROGRESS and first["item"] == owned.id and first["actor"] == "lead"
    assert first["message"] and first["created_at"] and first["read"] is False
    unread = [n["id"] for n in body["items"] if not n["read"]]
    assert act(client, "member", "post", "/api/v1/notifications/read", json={"ids": unread[:1]}).get_json() == {
        "marked": 1
    }
    assert act(client, "member", "post", "/api/v1/notifications/read", json={}).get_json()["marked"] == len(unread) - 1
    assert all(n["read"] for n in act(client, "member", "get", "/api/v1/notifications").get_json()["items"])
    bad = act(client, "member", "post", "/api/v1/notifications/read", json={"ids": ["x"]})
    assert bad.status_code == 422
    # Someone else's ids are ignored.
    assert act(client, "lead", "post", "/api/v1/notifications/read", json={"ids": unread}).get_json()["marked"] == 0


def test_inbox_by_role_with_counts_oldest_first(app, client, ready):
    w = ready
    owned, other = w.items["owned"], w.items["other_group"]
    transition(client, "member", owned.id, "start")
    transition(client, "member", owned.id, "submit")
    transition(client, "othermember", other.id, "start")
    with time_machine.travel(T + timedelta(hours=1), tick=False):
        client.post("/logout")
        login(client, "othermember")
        client.post(f"/items/{other.id}/transition", data={"action": "submit"})
    committee = act(client, "committee", "get", "/api/v1/inbox").get_json()
    assert [i["id"] for i in committee["to_verify"]] == [owned.id, other.id]  # oldest first
    assert committee["returned"] == committee["overdue"] == committee["due_soon"] == []
    lead = act(client, "lead", "get", "/api/v1/inbox").get_json()
    assert lead["to_verify"] == [] and {i["id"] for i in lead["unassigned"]} == {
        w.items["unowned"].id,
        w.items["confidential"].id,
    }
    page = act(client, "committee", "get", "/").get_data(as_text=True)
    assert "Waiting for my verification" in page and "2 items" in page and "waiting" in page
    assert "2 to do" in page  # the nav's total
    # A member: overdue and due within 3 days, by the deadline.
    with time_machine.travel(date(2026, 6, 28).isoformat(), tick=False):
        client.post("/logout")
        login(client, "external")
        body = client.get("/api/v1/inbox").get_json()
    assert [i["id"] for i in body["due_soon"]] == [w.items["external_item"].id]


def test_notification_texts_are_in_the_readers_language(app, client, ready):
    w = ready
    owned = w.items["owned"]
    with app.app_context():
        db.session.execute(update(User).where(User.id == w.member.id).values(locale="zh_CN"))
        db.session.commit()
    act(client, "lead", "post", f"/api/v1/items/{owned.id}/ledger", json={"note": "一", "progress": 40})
    with app.app_context():
        send()
        assert inbox_of(w.member.id)[0].subject == "lead 报告了「坡道整改」的进展：40%"
