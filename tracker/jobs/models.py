"""The scheduler's lease: which process does the scheduled work now."""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import UTCDateTime
from tracker.extensions import db


def lease_ttl() -> timedelta:
    """How long the scheduler lease lasts (``SCHEDULER_LEASE_SECONDS``)."""
    return timedelta(seconds=current_app.config["SCHEDULER_LEASE_SECONDS"])


class SchedulerLease(db.Model):
    """Who runs the scheduler now: only the holder of an unexpired lease does scheduled work."""

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
