from datetime import date, datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import UTCDateTime, local_date, utcnow
from tracker.extensions import db


class Event(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    host_city: Mapped[str] = mapped_column(String(100), default="")
    opening_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    default_locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def opening_date(self) -> date:
        return local_date(self.opening_at, self.timezone)

    def days_to_opening(self, now: datetime) -> int:
        return (self.opening_date - local_date(now, self.timezone)).days

    def today(self, now: datetime) -> date:
        return local_date(now, self.timezone)
