from datetime import date

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db


class WorkingDay(db.Model):
    """A day that differs from Monday-to-Friday, or a named holiday (节假日与调休).

    Only exceptions are stored: a weekday off (春节), a weekend day worked (调休上班), or a
    weekend that is part of a named holiday. Every other day is a working day from Monday
    to Friday.
    """

    __table_args__ = (UniqueConstraint("event_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    working: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str] = mapped_column(String(60), default="")
