"""Exactly once under concurrency: two senders, two sweeps, two schedulers — on SQLite and PostgreSQL."""

import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests import factories
from tests.reminders.test_reminders_delivery import DEADLINE, local, prepare, rows
from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.jobs import scheduler
from tracker.outbox.models import Delivery, Notification
from tracker.reminders import outbox, sender, services, sweep

pytestmark = pytest.mark.slow  # concurrency

NOW = local(DEADLINE - timedelta(days=3))
TODAY = DEADLINE - timedelta(days=3)


@pytest.fixture
def mail():
    from tests.reminders.test_reminders_delivery import SmtpServer

    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def config(config, mail):
    config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=mail.port, BASE_URL="https://wallchart.example")
    return config


def add_due_items(world, count: int) -> None:
    lead = db.session.get(User, world.lead.id)
    group = db.session.get(WorkGroup, world.cs.id)
    for n in range(count):
        factories.make_item(lead, group, title=f"看台{n}", deadline=DEADLINE, owner_id=world.member.id)
    db.session.commit()


def in_threads(app, target, count: int = 2) -> list:
    """Run ``target`` in ``count`` threads released together; return their exceptions."""
    barrier = threading.Barrier(count)
    errors = []

    def work():
        with app.app_context():
            try:
                barrier.wait()
                target()
            except Exception as error:  # reported to the test below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_two_concurrent_senders_deliver_each_key_once(app, world, mail):
    with app.app_context():
        prepare(world)
        add_due_items(world, 60)
        sweep.run_sweep(NOW, TODAY, services.policy(), email=True, with_digest=False)
        db.session.commit()
        email_rows = len(rows(channel="email"))
        inapp_rows = len(rows(channel="inapp"))
        assert email_rows >= 63 and inapp_rows >= 63

    def send():
        sender.send_due(NOW, "Asia/Shanghai", services.policy())

    assert in_threads(app, send) == []
    message_ids = [m["Message-ID"] for m in mail.sink.messages()]
    assert len(message_ids) == email_rows
    assert len(set(message_ids)) == email_rows
    with app.app_context():
        assert {d.status for d in rows()} == {"sent"}
        assert db.session.scalar(select(func.count(Notification.id))) == inapp_rows
        per_row = select(Notification.delivery_id, func.count()).group_by(Notification.delivery_id)
        assert {n for _, n in db.session.execute(per_row)} == {1}


def test_two_concurrent_sweeps_queue_each_key_once(app, world, mail):
    with app.app_context():
        prepare(world)
        add_due_items(world, 40)

    def run_sweep():
        sweep.run_sweep(NOW, TODAY, services.policy(), email=True, with_digest=True)
        db.session.commit()

    assert in_threads(app, run_sweep) == []
    with app.app_context():
        keys = [d.dedupe_key for d in rows()]
        assert len(keys) == len(set(keys)) > 0
        before = len(keys)
        run_sweep()
        assert len(rows()) == before


def test_a_crashed_sender_is_retried_after_its_lease(app, world, mail):
    with app.app_context():
        prepare(world)
        sweep.run_sweep(NOW, TODAY, services.policy(), email=True, with_digest=False)
        db.session.commit()
        claimed = outbox.claim(NOW, "dead-sender")  # claimed, then the process died
        assert claimed
        assert sender.send_due(NOW + timedelta(minutes=1), "Asia/Shanghai", services.policy()) == {}
        later = NOW + outbox.lease() + timedelta(seconds=1)
        outcome = sender.send_due(later, "Asia/Shanghai", services.policy())
        assert outcome["sent"] == len(claimed)
        assert {d.status for d in rows()} == {"sent"}
        assert len(mail.sink.envelopes) == len(rows(channel="email"))


def test_a_late_mark_from_a_sender_that_lost_its_claim_changes_nothing(app, world, mail):
    with app.app_context():
        prepare(world)
        sweep.run_sweep(NOW, TODAY, services.policy(), email=False, with_digest=False)
        db.session.commit()
        batch = outbox.load_batch(outbox.claim(NOW, "first"))
        # Meanwhile the lease ran out and another sender claimed the rows.
        db.session.execute(update(Delivery).values(claim_token="second"))
        db.session.commit()
        assert sender.deliver_inapp(batch.rows[0], batch, NOW, TODAY, services.policy()) == "lost"
        assert db.session.scalar(select(func.count(Notification.id))) == 0


def test_only_one_scheduler_holds_the_lease(app):
    with app.app_context():
        assert scheduler.acquire_lease("a", NOW)
        assert not scheduler.acquire_lease("b", NOW)
        assert scheduler.acquire_lease("a", NOW + timedelta(minutes=1))  # renewed
        assert not scheduler.acquire_lease("b", NOW + timedelta(minutes=3))
        assert scheduler.lease_holder(NOW + timedelta(minutes=3)) == "a"
        # "a" died: once its lease expired, "b" takes over.
        assert scheduler.acquire_lease("b", NOW + timedelta(minutes=4, seconds=1))
        assert not scheduler.acquire_lease("a", NOW + timedelta(minutes=5))


def test_concurrent_lease_grabs_have_one_winner(app):
    winners = []

    def grab():
        holder = scheduler.holder_id()
        if scheduler.acquire_lease(holder, NOW):
            winners.append(holder)

    assert in_threads(app, grab, count=4) == []
    assert len(winners) == 1


def test_jobs_coalesce_never_overlap_and_never_drop_a_late_run(app):
    sched = scheduler.build(app, blocking=False, holder="test")
    jobs = {job.id: job for job in sched.get_jobs()}
    assert set(jobs) == {"sweep", "digest"}
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
    trigger = jobs["digest"].trigger
    assert str(trigger.timezone) == "Asia/Shanghai"
    assert {f.name: str(f) for f in trigger.fields}["hour"] == "8"
    assert {f.name: str(f) for f in trigger.fields}["minute"] == "30"
    assert jobs["sweep"].trigger.interval == timedelta(minutes=1)
    assert list(sched._jobstores) == ["default"] and type(sched._jobstores["default"]).__name__ == "MemoryJobStore"


def test_a_second_in_process_scheduler_does_not_start(app):
    first = scheduler.start_in_process(app)
    try:
        assert first is not None
        assert scheduler.start_in_process(app) is None
    finally:
        first.shutdown(wait=True)


def test_the_web_app_never_imports_the_scheduler():
    code = (
        "import sys; from tracker import create_app; "
        "create_app({'TESTING': True, 'SQLALCHEMY_DATABASE_URI': 'sqlite://', 'SECRET_KEY': 'x'}); "
        "print(sorted(m for m in sys.modules if m.startswith('apscheduler')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "[]"
