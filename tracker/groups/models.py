from sqlalchemy import Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db

# Who belongs to which work group (a lead leads, a member works in, the groups they are in).
group_membership = Table(
    "group_membership",
    db.metadata,
    Column("user_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("work_group.id", ondelete="CASCADE"), primary_key=True),
)


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
