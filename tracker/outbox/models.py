"""Workflow events on items, who watches an item, each person's choice per event kind; the outbox and the bell."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import UTCDateTime, utcnow
from tracker.extensions import db

# pending → sending → sent | skipped | failed (retried later) → … → dead (gave up)
STATUSES = ("pending", "sending", "sent", "skipped", "failed", "dead")
CLAIMABLE = ("pending", "failed")


class ItemEvent(db.Model):
    """Something happened to an item that people should hear about.

    Written in the same transaction as the change; its outbox rows (one per recipient
    and channel, keyed ``e<id>|u<user>|<channel>``) are written with it.
    """

    __tablename__ = "item_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # The person the event is about: the new or previous owner, the one mentioned.
    target_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    before: Mapped[str | None] = mapped_column(String(200))
    after: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item = relationship("Item")
    actor = relationship("User", foreign_keys=[actor_id])
    target = relationship("User", foreign_keys=[target_id])

    __table_args__ = (
        Index("ix_item_event_item", "item_id", "created_at"),
        Index("ix_item_event_created", "created_at"),
    )


class ItemWatch(db.Model):
    """A person who hears about an item's changes. Creator, owner and leads are added by default."""

    __tablename__ = "item_watch"

    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_item_watch_user", "user_id"),)


class EventPreference(db.Model):
    """How a person wants to hear of one kind of event: ``email`` (and in-app), ``inapp`` or ``off``.

    No row means the default (email).
    """

    __tablename__ = "event_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), default="email")


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
