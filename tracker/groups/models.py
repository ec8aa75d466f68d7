from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import group_membership
from tracker.extensions import db


class WorkGroup(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    sort_order: Mapped[int] = mapped_column(default=0)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_format: Mapped[str] = mapped_column(String(16), default="generic")
    # The robot's signing secret (DingTalk 加签, Feishu 签名校验, generic HMAC): like the URL, never shown again.
    webhook_secret: Mapped[str | None] = mapped_column(String(200))

    members = relationship("User", secondary=group_membership, back_populates="groups")

    @property
    def leads(self):
        return [u for u in self.members if u.role == "lead"]

    def display_name(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") and self.name_en else self.name
