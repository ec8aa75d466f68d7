from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import UTCDateTime, utcnow
from tracker.extensions import db
from tracker.notices import rules

LEVELS = ("blue", "orange", "red")
STATUSES = ("issued", "acknowledged", "replied", "closed", "escalated")


class Notice(db.Model):
    """One numbered supervision notice on one item, addressed to the item's responsible group."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    year: Mapped[int]
    sequence: Mapped[int]
    number: Mapped[str] = mapped_column(String(60))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="RESTRICT"), index=True)
    # The addressee when issued: the item's responsible group then (the item may move later).
    group_id: Mapped[int] = mapped_column(ForeignKey("work_group.id"))
    level: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="issued")
    text: Mapped[str] = mapped_column(Text)
    reply_by: Mapped[date] = mapped_column(Date)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply: Mapped[str | None] = mapped_column(Text)
    reply_plan: Mapped[str | None] = mapped_column(Text)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_note: Mapped[str | None] = mapped_column(Text)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id", ondelete="SET NULL"))
    interview_on: Mapped[date | None] = mapped_column(Date)
    interview_participants: Mapped[str | None] = mapped_column(Text)
    interview_conclusion: Mapped[str | None] = mapped_column(Text)

    item = relationship("Item")
    group = relationship("WorkGroup")
    issued_by = relationship("User", foreign_keys=[issued_by_id])
    acknowledged_by = relationship("User", foreign_keys=[acknowledged_by_id])
    replied_by = relationship("User", foreign_keys=[replied_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])
    previous = relationship("Notice", remote_side=[id])

    __table_args__ = (
        # The office's numbering: one sequence per event and year, never a number twice.
        UniqueConstraint("event_id", "year", "sequence", name="uq_notice_sequence"),
        Index("ix_notice_group_status", "group_id", "status", "level"),
    )

    @property
    def is_open(self) -> bool:
        return self.status in rules.OPEN_STATUSES

    def is_reply_overdue(self, today: date) -> bool:
        return rules.is_reply_overdue(self.status, self.reply_by, today)


class NoticeCounter(db.Model):
    """The last number given per event and year; its row lock serialises two reviewers issuing at once."""

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)
