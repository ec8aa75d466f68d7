"""Reminder rows: the settings and each person's channel choices."""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import UTCDateTime, utcnow
from tracker.extensions import db

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
