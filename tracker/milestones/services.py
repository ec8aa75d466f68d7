from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import permissions
from tracker.audit import services as audit
from tracker.errors import NotFound, PermissionDenied, ValidationFailed
from tracker.event import rules as event_rules
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.milestones.models import KINDS, Milestone


def all_milestones(event) -> list[Milestone]:
    """Every milestone of the event, soonest first (dates may be relative to opening day)."""
    query = select(Milestone).where(Milestone.event_id == event.id).options(selectinload(Milestone.group))
    rows = db.session.scalars(query).all()
    return sorted(rows, key=lambda m: (m.date, m.id))


def upcoming_milestones(event, today: date, limit: int | None = None) -> list[Milestone]:
    upcoming = [m for m in all_milestones(event) if m.date >= today]
    return upcoming[:limit] if limit else upcoming


def get_milestone(milestone_id: int, *, actor) -> Milestone:
    if not permissions.can_manage_milestones(actor):
        raise PermissionDenied(_l("You may not change milestones."))
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None:
        raise NotFound(_l("No such milestone."))
    return milestone


def _clean(data: dict, now: datetime) -> dict:
    errors = {}
    clean = {
        "title": (data.get("title") or "").strip(),
        "title_en": (data.get("title_en") or "").strip(),
        "kind": data.get("kind"),
        "offset_days": data.get("offset_days"),
        "fixed_date": data.get("fixed_date"),
        "group_id": data.get("group_id"),
    }
    if not clean["title"]:
        errors["title"] = _l("A title is required.")
    if len(clean["title"]) > 200 or len(clean["title_en"]) > 200:
        errors["title"] = _l("At most %(n)s characters.", n=200)
    if clean["kind"] not in KINDS:
        errors["kind"] = _l("Choose a kind.")
    if data.get("date_mode", "relative") == "relative":
        clean["fixed_date"] = None
        if not isinstance(clean["offset_days"], int):
            errors["offset_days"] = _l("Give the days from opening day, e.g. -30 for T-30.")
        elif not event_rules.offset_within_span(clean["offset_days"]):
            errors["offset_days"] = _l("Must be within %(n)s years of today.", n=event_rules.YEARS)
    else:
        clean["offset_days"] = None
        if not isinstance(clean["fixed_date"], date):
            errors["fixed_date"] = _l("Give the date.")
        elif not event_rules.within_span(clean["fixed_date"], now):
            errors["fixed_date"] = _l("Must be within %(n)s years of today.", n=event_rules.YEARS)
    if clean["group_id"] is not None and db.session.get(WorkGroup, clean["group_id"]) is None:
        errors["group_id"] = _l("Unknown work group.")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    return clean


def create_milestone(data: dict, *, actor, event, now: datetime) -> Milestone:
    """A sprint node; ``offset_days`` (T-30 is -30) makes its date follow the opening date."""
    if not permissions.can_manage_milestones(actor):
        raise PermissionDenied(_l("You may not change milestones."))
    milestone = Milestone(event_id=event.id, **_clean(data, now))
    db.session.add(milestone)
    db.session.flush()
    audit.record("milestone_saved", actor=actor, target=milestone.title, detail="created", now=now)
    return milestone


def update_milestone(milestone: Milestone, data: dict, *, actor, now: datetime) -> Milestone:
    if not permissions.can_manage_milestones(actor):
        raise PermissionDenied(_l("You may not change milestones."))
    for name, value in _clean(data, now).items():
        setattr(milestone, name, value)
    db.session.flush()
    audit.record("milestone_saved", actor=actor, target=milestone.title, now=now)
    return milestone
