"""Exercises (演练/测试赛/检查/使用者验收), their checklists and the answers recorded on site."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import UTCDateTime, utcnow
from tracker.extensions import db

KINDS = ("drill", "test_event", "rehearsal", "inspection", "user_acceptance")
RESULTS = ("pass", "fail", "na")


class ChecklistTemplate(db.Model):
    """A versioned checklist an office keeps (or imports): sections of check points."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sections = relationship(
        "ChecklistSection",
        back_populates="template",
        order_by="ChecklistSection.position",
        cascade="all, delete-orphan",
    )

    __table_args__ = (UniqueConstraint("code", "version", name="uq_checklist_template_code_version"),)

    def display_name(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") and self.name_en else self.name


class ChecklistSection(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_template.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    # The work group a failed point of this section goes to by default (a group code).
    group_code: Mapped[str] = mapped_column(String(16), default="")

    template = relationship("ChecklistTemplate", back_populates="sections")
    points = relationship(
        "ChecklistPoint", back_populates="section", order_by="ChecklistPoint.position", cascade="all, delete-orphan"
    )


class ChecklistPoint(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("checklist_section.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(String(500))
    text_en: Mapped[str] = mapped_column(String(500), default="")
    unit: Mapped[str] = mapped_column(String(16), default="")
    rule: Mapped[str] = mapped_column(String(40), default="")

    section = relationship("ChecklistSection", back_populates="points")


class Exercise(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(Date)
    venue: Mapped[str] = mapped_column(String(200), default="")
    group_id: Mapped[int] = mapped_column(ForeignKey("work_group.id"), index=True)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id", ondelete="SET NULL"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_template.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group = relationship("WorkGroup")
    milestone = relationship("Milestone")
    template = relationship("ChecklistTemplate")
    participants = relationship(
        "ExerciseParticipant",
        order_by="ExerciseParticipant.id",
        cascade="all, delete-orphan",
        back_populates="exercise",
    )
    checks = relationship(
        "ExerciseCheck", order_by="ExerciseCheck.position", cascade="all, delete-orphan", back_populates="exercise"
    )


class ExerciseParticipant(db.Model):
    """Who took part: a user, or a named person without an account (e.g. a disabled tester)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercise.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(100), default="")

    exercise = relationship("Exercise", back_populates="participants")
    user = relationship("User")


class ExerciseCheck(db.Model):
    """One check point of one exercise: a copy of the template's point plus what was found."""

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercise.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    section: Mapped[str] = mapped_column(String(200))
    section_en: Mapped[str] = mapped_column(String(200), default="")
    group_code: Mapped[str] = mapped_column(String(16), default="")
    text: Mapped[str] = mapped_column(String(500))
    text_en: Mapped[str] = mapped_column(String(500), default="")
    unit: Mapped[str] = mapped_column(String(16), default="")
    rule: Mapped[str] = mapped_column(String(40), default="")
    result: Mapped[str | None] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id", ondelete="SET NULL"), unique=True)

    exercise = relationship("Exercise", back_populates="checks")
    item = relationship("Item")
    photos = relationship("ExercisePhoto", order_by="ExercisePhoto.id", cascade="all, delete-orphan")
    recorded_by = relationship("User")

    __table_args__ = (Index("ix_exercise_check_result", "exercise_id", "result"),)

    def display_text(self, locale: str) -> str:
        return self.text_en if locale.startswith("en") and self.text_en else self.text

    def display_section(self, locale: str) -> str:
        return self.section_en if locale.startswith("en") and self.section_en else self.section


class ExercisePhoto(db.Model):
    """A photo taken at a check point on site; copied as evidence when the check becomes an item."""

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("exercise_check.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
