from datetime import date

from sqlalchemy import select

from tracker.extensions import db
from tracker.milestones.models import Milestone


def all_milestones(event) -> list[Milestone]:
    """Every milestone of the event, soonest first (dates may be relative to opening day)."""
    rows = db.session.scalars(select(Milestone).where(Milestone.event_id == event.id)).all()
    return sorted(rows, key=lambda m: (m.date, m.id))


def upcoming_milestones(event, today: date, limit: int | None = None) -> list[Milestone]:
    upcoming = [m for m in all_milestones(event) if m.date >= today]
    return upcoming[:limit] if limit else upcoming
