"""Workflow events on items, who watches an item, and each person's choice per event kind."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import UTCDateTime, utcnow
from tracker.extensions import db


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
