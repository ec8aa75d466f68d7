import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.clock import UTCDateTime, utcnow
from tracker.extensions import db

ROLES = ("admin", "committee", "lead", "member", "external")


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(10))
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    # Changing it (logout, password or role change) invalidates every session at once.
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    recovery_codes: Mapped[str] = mapped_column(Text, default="[]")
    failed_logins: Mapped[int] = mapped_column(default=0)
    throttled_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Second-factor failures, counted across sign-ins: a right password does not reset them.
    totp_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    # The last TOTP time step accepted: a code is good once.
    totp_last_step: Mapped[int | None] = mapped_column()
    # Remember-me, held on the server: restores a session until then, and only while the
    # account was active within the idle timeout (``seen_at``, kept to the minute).
    remember_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Membership is the work group's (tracker/groups/models.py owns the table).
    groups = relationship("WorkGroup", secondary="group_membership", back_populates="members")

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    @property
    def group_ids(self) -> frozenset[int]:
        return frozenset(g.id for g in self.groups)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def end_sessions(self) -> None:
        self.session_token = secrets.token_hex(16)
        self.remember_until = None


class Setting(db.Model):
    """Install-wide switches admins set on a page (key → value)."""

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), default="")
