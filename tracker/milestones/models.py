from datetime import date, timedelta

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db

KINDS = ("countdown", "rehearsal", "test_event", "ceremony", "handover")


class Milestone(db.Model):
    """A sprint node. Either a fixed date or an offset from opening day (T-30 moves with it)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16), default="countdown")
    fixed_date: Mapped[date | None] = mapped_column(Date)
    offset_days: Mapped[int | None]
    group_id: Mapped[int | None] = mapped_column(ForeignKey("work_group.id", ondelete="SET NULL"))

    event = relationship("Event")
    group = relationship("WorkGroup")

    @property
    def date(self) -> date:
        if self.offset_days is not None:
            return self.event.opening_date + timedelta(days=self.offset_days)
        return self.fixed_date

    @property
    def t_label(self) -> str:
        offset = (self.date - self.event.opening_date).days
        return "T" if offset == 0 else f"T{offset:+d}"

    def display_title(self, locale: str) -> str:
        return self.title_en if locale.startswith("en") and self.title_en else self.title
