"""The outbox's mechanics: claim rows under a lease, snapshot what they refer to, record outcomes.

Claiming flips rows to ``sending`` with a compare-and-set UPDATE; on PostgreSQL the
candidate rows are picked ``FOR UPDATE SKIP LOCKED`` so any number of senders share
the queue, on SQLite the UPDATE runs in a ``BEGIN IMMEDIATE`` transaction
(tracker/database.py), which serialises claimers. A row whose sender died is claimed
again once its lease has expired. Every outcome is recorded only while the claim is
still ours, and committed on its own.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import and_, insert, or_, select, text, update
from sqlalchemy.orm import selectinload

from tracker import permissions
from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items.models import Item
from tracker.milestones.models import Milestone
from tracker.outbox.models import CLAIMABLE, Delivery, Notification
from tracker.outbox.rules import OUTBOX_RULES
from tracker.reminders import rules
from tracker.reminders.models import NotificationPreference

CLAIM_BATCH = 200


def lease() -> timedelta:
    """How long a claim lasts: as long as the scheduler's lease, so whoever takes over retries at once."""
    return timedelta(seconds=current_app.config["SCHEDULER_LEASE_SECONDS"])


@dataclass
class Batch:
    """Plain snapshots of what the claimed rows refer to, loaded right after claiming."""

    rows: list
    items: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)
    milestones: dict = field(default_factory=dict)
    milestone_groups: dict = field(default_factory=dict)  # milestone id → groups with open items tied
    milestone_public_groups: dict = field(default_factory=dict)  # … with tied items a group chat may see


def claim(now: datetime, token: str, limit: int = CLAIM_BATCH, *, workflow: bool = False) -> list[int]:
    """Claim due rows: deadline reminders, or with ``workflow`` the workflow notifications (tracker.notify)."""
    claimable = and_(
        or_(
            and_(Delivery.status.in_(CLAIMABLE), Delivery.next_attempt_at <= now),
            and_(Delivery.status == "sending", Delivery.lease_until < now),
        ),
        Delivery.rule.in_(OUTBOX_RULES) if workflow else Delivery.rule.not_in(OUTBOX_RULES),
    )
    candidates = (
        select(Delivery.id).where(claimable).order_by(Delivery.id).limit(limit).with_for_update(skip_locked=True)
    )
    stmt = (
        update(Delivery)
        .where(Delivery.id.in_(candidates.scalar_subquery()), claimable)  # compare-and-set
        .values(status="sending", attempts=Delivery.attempts + 1, lease_until=now + lease(), claim_token=token)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(db.session.scalars(stmt))
    db.session.commit()
    return sorted(ids)


def _snapshot_user(user: User, pref) -> SimpleNamespace:
    return SimpleNamespace(
        id=user.id,
        name=user.name,
        role=user.role,
        email=user.email,
        locale=user.locale,
        is_active=user.is_active,
        group_ids=user.group_ids,
        email_enabled=pref.email_enabled if pref else True,
        digest_mode=pref.digest_mode if pref else "both",
    )


def snapshot_item(item: Item) -> SimpleNamespace:
    return SimpleNamespace(
        id=item.id,
        code=item.code,
        title=item.title,
        status=item.status,
        deadline=item.deadline,
        owner_id=item.owner_id,
        group_id=item.group_id,
        group_name=item.group.name if item.group else "",
        group_name_en=item.group.name_en if item.group else "",
        is_confidential=item.is_confidential,
        milestone_id=item.milestone_id,
    )


def load_batch(ids: list[int]) -> Batch:
    rows = [
        SimpleNamespace(**r._asdict())
        for r in db.session.execute(
            select(
                Delivery.id,
                Delivery.dedupe_key,
                Delivery.channel,
                Delivery.rule,
                Delivery.user_id,
                Delivery.group_id,
                Delivery.item_id,
                Delivery.milestone_id,
                Delivery.local_date,
                Delivery.attempts,
                Delivery.claim_token,
            )
            .where(Delivery.id.in_(ids))
            .order_by(Delivery.id)
        )
    ]
    batch = Batch(rows=rows)
    item_ids = {r.item_id for r in rows if r.item_id}
    for item in db.session.scalars(select(Item).where(Item.id.in_(item_ids))):
        batch.items[item.id] = snapshot_item(item)
    user_ids = {r.user_id for r in rows if r.user_id}
    prefs = {
        p.user_id: p
        for p in db.session.scalars(select(NotificationPreference).where(NotificationPreference.user_id.in_(user_ids)))
    }
    for user in db.session.scalars(select(User).where(User.id.in_(user_ids)).options(selectinload(User.groups))):
        batch.users[user.id] = _snapshot_user(user, prefs.get(user.id))
    group_ids = {r.group_id for r in rows if r.group_id}
    for group in db.session.scalars(select(WorkGroup).where(WorkGroup.id.in_(group_ids))):
        batch.groups[group.id] = SimpleNamespace(
            id=group.id,
            name=group.name,
            url=group.webhook_url,
            format=group.webhook_format,
            secret=group.webhook_secret,
        )
    milestone_ids = {r.milestone_id for r in rows if r.milestone_id}
    if milestone_ids:
        robot = permissions.chat_robot_reader()
        for ms in db.session.scalars(select(Milestone).where(Milestone.id.in_(milestone_ids))):
            batch.milestones[ms.id] = SimpleNamespace(id=ms.id, title=ms.title, title_en=ms.title_en, date=ms.date)
        tied = select(Item.milestone_id, Item.group_id, permissions.item_visibility(robot, Item)).where(
            Item.milestone_id.in_(milestone_ids), Item.status.in_(rules.OPEN_STATUSES)
        )
        for milestone_id, group_id, public in db.session.execute(tied.distinct()):
            batch.milestone_groups.setdefault(milestone_id, set()).add(group_id)
            if public:
                batch.milestone_public_groups.setdefault(milestone_id, set()).add(group_id)
    db.session.commit()  # end the read transaction; sending may take a while
    return batch


def relax_durability() -> None:
    """On PostgreSQL, don't wait for the WAL flush when recording an outcome.

    Losing the last outcomes in a crash only means they are claimed again after their
    lease: an in-app notification and its "sent" mark are one transaction either way,
    and email/webhooks are at-least-once by design. Waiting for each flush capped
    delivery below 100 messages a second.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def notify_once(row, now: datetime, **notification) -> str:
    """Mark a claimed in-app row sent and write its notification in one commit: exactly once.

    "lost" when the claim was taken over meanwhile (nothing is written then).
    """
    relax_durability()
    held = db.session.execute(
        update(Delivery)
        .where(Delivery.id == row.id, Delivery.claim_token == row.claim_token, Delivery.status == "sending")
        .values(status="sent", sent_at=now, lease_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not held:
        db.session.rollback()
        return "lost"
    db.session.execute(
        insert(Notification).values(
            user_id=row.user_id, delivery_id=row.id, rule=row.rule, item_id=row.item_id, created_at=now, **notification
        )
    )
    db.session.commit()
    return "sent"


def finish(row, status: str, now: datetime, policy: rules.Policy, error: str | None = None) -> bool:
    """Record the outcome if we still hold the claim; commit. False: someone else took the row."""
    values: dict = {"status": status, "lease_until": None, "last_error": error}
    if status == "sent":
        values["sent_at"] = now
    elif status == "failed":
        retry = rules.retry_at(now, row.attempts, policy)
        if retry is None:
            values["status"] = "dead"
        else:
            values["next_attempt_at"] = retry
    relax_durability()
    done = db.session.execute(
        update(Delivery)
        .where(Delivery.id == row.id, Delivery.claim_token == row.claim_token, Delivery.status == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(done)


def release(row, now: datetime) -> None:
    """Give a claimed row back untried (robot rate limit): it is not an attempt."""
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == row.id, Delivery.claim_token == row.claim_token, Delivery.status == "sending")
        .values(status="pending", attempts=Delivery.attempts - 1, next_attempt_at=now + timedelta(minutes=1))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
