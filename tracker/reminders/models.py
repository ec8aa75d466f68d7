"""Reminder rows: settings, per-user preferences, the delivery outbox, in-app notifications, the lease."""

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import UTCDateTime, utcnow
from tracker.extensions import db

# pending → sending → sent | skipped | failed (retried later) → … → dead (gave up)
STATUSES = ("pending", "sending", "sent", "skipped", "failed", "dead")
CLAIMABLE = ("pending", "failed")
DIGEST_MODES = ("both", "digest", "singles")
DEFAULT_WEBHOOK_HOSTS = "qyapi.weixin.qq.com\noapi.dingtalk.com\nopen.feishu.cn"


class ReminderSettings(db.Model):
    """One row (id 1): the reminder rules admins may change; see rules.Policy."""

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_days: Mapped[str] = mapped_column(String(60), default="7,3,1,0")
    lead_overdue_days: Mapped[int] = mapped_column(default=1)
    committee_overdue_days: Mapped[int] = mapped_column(default=3)
    milestone_days: Mapped[str] = mapped_column(String(60), default="7,1")
    digest_time: Mapped[str] = mapped_column(String(5), default="08:30")
    digest_window_days: Mapped[int] = mapped_column(default=7)
    webhook_hosts: Mapped[str] = mapped_column(Text, default=DEFAULT_WEBHOOK_HOSTS)
    max_attempts: Mapped[int] = mapped_column(default=8)
    retry_base_seconds: Mapped[int] = mapped_column(default=60)
    count_working_days: Mapped[bool] = mapped_column(Boolean, default=False)
    day_off_shift: Mapped[str] = mapped_column(String(6), default="on")
    # The local day of the last completed sweep: after downtime, escalations look back to it.
    last_swept_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationPreference(db.Model):
    """A user's channel choices; no row means the defaults (email on, singles and digest)."""

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    digest_mode: Mapped[str] = mapped_column(String(8), default="both")


class Delivery(db.Model):
    """The outbox: one row per (recipient, item or milestone, rule, local date, channel).

    ``dedupe_key`` is built by the sweep in SQL and is UNIQUE, so re-running the sweep,
    restarting or running two schedulers can never create a second row for the same
    reminder. A user is the recipient of in-app and email rows, a work group (its chat
    robot) of webhook rows.
    """

    __tablename__ = "delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    channel: Mapped[str] = mapped_column(String(8))
    rule: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("work_group.id", ondelete="CASCADE"))
    # No index: items are never deleted (their ledger entries forbid it), and every index
    # costs each of the thousands of rows a sweep inserts.
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"))
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id", ondelete="CASCADE"))
    # Set for workflow notifications (tracker.notify): the item event this row tells of.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("item_event.id", ondelete="CASCADE"))
    # The event-local day the reminder is about: the deadline for "before" and escalation
    # rules, the sweep's day for daily rules, the milestone's day for milestones.
    local_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    user = relationship("User")
    group = relationship("WorkGroup")
    item = relationship("Item")
    milestone = relationship("Milestone")

    __table_args__ = (
        # Only unfinished rows are ever looked for by the sender: keep that index small.
        Index(
            "ix_delivery_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'failed', 'sending')"),
            sqlite_where=text("status IN ('pending', 'failed', 'sending')"),
        ),
        # On PostgreSQL the sweep reads the rows of a rule and its days before inserting
        # (sweep._unqueued), so that a re-run does not probe the unique key per queued reminder.
        Index("ix_delivery_occurrence", "local_date", "rule"),
        # Workflow notifications look up their rows by event (bundling); reminder rows stay out.
        Index(
            "ix_delivery_event",
            "event_id",
            postgresql_where=text("event_id IS NOT NULL"),
            sqlite_where=text("event_id IS NOT NULL"),
        ),
    )


class Notification(db.Model):
    """An in-app notification; ``delivery_id`` is UNIQUE, so one outbox row makes at most one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("delivery.id", ondelete="SET NULL"), unique=True)
    rule: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id", ondelete="SET NULL"))
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))  # who did it
    subject: Mapped[str] = mapped_column(String(400))
    body: Mapped[str] = mapped_column(Text, default="")
    # JSON: what the message was made from (messages.rebuild), so the bell shows it in the
    # reader's language of the moment; subject and body are the text as first sent.
    data: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_notification_user", "user_id", "id"),
        Index("ix_notification_unread", "user_id", "read_at"),
    )


def lease_ttl() -> timedelta:
    """How long the scheduler lease lasts (``SCHEDULER_LEASE_SECONDS``)."""
    return timedelta(seconds=current_app.config["SCHEDULER_LEASE_SECONDS"])


class SchedulerLease(db.Model):
    """Who runs the scheduler now: only the holder of an unexpired lease does scheduled work."""

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
