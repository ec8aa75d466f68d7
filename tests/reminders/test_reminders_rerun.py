"""A re-run the same day drops what is already queued before it inserts (``sweep._unqueued``): every
input that changed in between must still give its new reminders, exactly those a sweep into an
empty outbox would queue now."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, insert, select, update

from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import WorkGroup, group_membership
from tracker.items.models import Item
from tracker.outbox.models import Delivery
from tracker.reminders import services, sweep

DEADLINE = date(2026, 6, 30)  # every item of the world
BEFORE = DEADLINE - timedelta(days=3)  # the owners' before-3 day
ONE_DAY_LATE = DEADLINE + timedelta(days=1)  # overdue, escalated to the group's leads
THREE_DAYS_LATE = DEADLINE + timedelta(days=3)  # overdue, escalated to the committee


def sweep_at(today: date, last: date) -> dict:
    moment = datetime(today.year, today.month, today.day, 9, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
    return sweep.run_sweep(moment, today, services.policy(), email=True, with_digest=True, last_swept_on=last)


def run(today: date, *, last: date) -> dict:
    counts = sweep_at(today, last)
    db.session.commit()
    return counts


def keys() -> set[str]:
    return set(db.session.scalars(select(Delivery.dedupe_key)))


def wanted(today: date) -> set[str]:
    """What a sweep into an empty outbox queues now (rolled back)."""
    db.session.execute(delete(Delivery))
    sweep_at(today, today)
    result = keys()
    db.session.rollback()
    return result


def prepare(world) -> None:
    db.session.execute(update(User).values(email=User.username + "@example.org"))
    db.session.execute(
        update(WorkGroup).where(WorkGroup.id == world.cs.id).values(webhook_url="https://oapi.dingtalk.com/robot/send")
    )


def item(world, name: str, **values) -> None:
    db.session.execute(update(Item).where(Item.id == world.items[name].id).values(**values))


def user(who, **values) -> None:
    db.session.execute(update(User).where(User.id == who.id).values(**values))


def setting(**values) -> None:
    settings = services.get_settings()
    for name, value in values.items():
        setattr(settings, name, value)
    db.session.add(settings)


def preference(who, **values) -> None:
    pref = services.get_preference(who.id)
    for name, value in values.items():
        setattr(pref, name, value)
    db.session.add(pref)


def nothing(world) -> None:
    pass


# (day, arranged before the first run, changed between the first run and the re-run)
CHANGES = {
    "new owner": (BEFORE, nothing, lambda w: item(w, "owned", owner_id=w.lead.id)),
    "deadline moved": (BEFORE, nothing, lambda w: item(w, "owned", deadline=DEADLINE + timedelta(days=2))),
    "reopened": (
        BEFORE,
        lambda w: item(w, "other_group", status="submitted"),
        lambda w: item(w, "other_group", status="in_progress"),
    ),
    "no longer confidential": (BEFORE, nothing, lambda w: item(w, "confidential", is_confidential=False)),
    "email address added": (BEFORE, lambda w: user(w.member, email=None), lambda w: user(w.member, email="m@x.org")),
    "account reactivated": (
        BEFORE,
        lambda w: user(w.member, is_active_account=False),
        lambda w: user(w.member, is_active_account=True),
    ),
    "singles wanted again": (
        BEFORE,
        lambda w: preference(w.member, digest_mode="digest"),
        lambda w: preference(w.member, digest_mode="both"),
    ),
    "email turned on": (
        BEFORE,
        lambda w: preference(w.member, email_enabled=False),
        lambda w: preference(w.member, email_enabled=True),
    ),
    "reminder days changed": (BEFORE, nothing, lambda w: setting(owner_days="7,2,1,0")),
    "new lead of the group": (
        ONE_DAY_LATE,
        nothing,
        lambda w: db.session.execute(insert(group_membership).values(user_id=w.other_lead.id, group_id=w.cs.id)),
    ),
    "new committee member": (THREE_DAYS_LATE, nothing, lambda w: user(w.other_member, role="committee")),
    "escalation days changed": (THREE_DAYS_LATE, nothing, lambda w: setting(lead_overdue_days=3)),
}


@pytest.mark.parametrize("name", CHANGES)
def test_a_rerun_queues_what_a_changed_input_calls_for(app, world, name):
    day, arrange, change = CHANGES[name]
    with app.app_context():
        prepare(world)
        arrange(world)
        db.session.commit()
        assert sum(run(day, last=day - timedelta(days=1)).values()) > 0
        queued = keys()
        assert sum(run(day, last=day).values()) == 0
        change(world)
        db.session.commit()
        new = wanted(day) - queued
        assert new, "the change calls for reminders not queued before"
        assert sum(run(day, last=day).values()) == len(new)
        assert keys() == queued | new
        assert sum(run(day, last=day).values()) == 0


def test_the_next_day_queues_the_next_daily_reminders(app, world):
    with app.app_context():
        prepare(world)
        db.session.commit()
        run(ONE_DAY_LATE, last=DEADLINE)
        queued = keys()
        day = DEADLINE + timedelta(days=2)
        new = wanted(day) - queued
        assert {key.split("|")[2] for key in new} >= {"overdue", "digest"}
        counts = run(day, last=day - timedelta(days=1))
        assert sum(counts.values()) == len(new)
        assert keys() == queued | new
