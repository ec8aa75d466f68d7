"""Everything that changes an exercise: plan it, record answers, turn failures into items.

Callers pass the actor and ``now`` and commit; a ValidationFailed means nothing was written.
"""

import json
from datetime import date, datetime
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from tracker import permissions
from tracker.auth.models import User
from tracker.errors import NotFound, PermissionDenied, ValidationFailed
from tracker.event.services import current_event
from tracker.exercises import rules
from tracker.exercises.models import (
    KINDS,
    RESULTS,
    ChecklistPoint,
    ChecklistSection,
    ChecklistTemplate,
    Exercise,
    ExerciseCheck,
    ExerciseParticipant,
    ExercisePhoto,
)
from tracker.extensions import db
from tracker.files.store import store
from tracker.groups.models import WorkGroup
from tracker.items import evidence
from tracker.items import services as items
from tracker.items.models import Item
from tracker.milestones.models import Milestone

SHIPPED = Path(__file__).resolve().parent / "checklists"
FINDING_SOURCE = "exercise_debrief"
LIMITS = {"title": 200, "venue": 200, "value": 40, "note": 2000}


# --- checklist templates ---------------------------------------------------------------


def shipped_templates() -> list[dict]:
    """The checklists that come with the app (JSON files, one per template)."""
    return [json.loads(path.read_text("utf-8")) for path in sorted(SHIPPED.glob("*.json"))]


def check_template_data(data: dict) -> dict[str, str]:
    """Problems of a template given as plain data, keyed by where they are ("section 2 point 3")."""
    errors: dict[str, str] = {}
    if not str(data.get("code") or "").strip():
        errors["code"] = str(_l("A code is required."))
    if not str(data.get("name") or "").strip():
        errors["name"] = str(_l("A name is required."))
    if not isinstance(data.get("version"), int) or data["version"] < 1:
        errors["version"] = str(_l("The version is a whole number from 1."))
    sections = data.get("sections") or []
    if not sections:
        errors["sections"] = str(_l("A checklist needs at least one check point."))
    for s, section in enumerate(sections, 1):
        if not str(section.get("title") or "").strip():
            errors[f"section {s}"] = str(_l("A section needs a title."))
        for p, point in enumerate(section.get("points") or [], 1):
            if not str(point.get("text") or "").strip():
                errors[f"section {s} point {p}"] = str(_l("A check point needs its text."))
            elif point.get("rule") and rules.parse_rule(point["rule"]) is None:
                errors[f"section {s} point {p}"] = str(_l('Not a pass rule: write it like "≤ 1:12" or "≥ 0.80 m".'))
    return errors


def install_template(data: dict, *, now: datetime) -> ChecklistTemplate:
    """Store a template (a new version of its code); refuse a code and version that exist."""
    errors = check_template_data(data)
    if errors:
        raise ValidationFailed(_l("The checklist has errors."), errors)
    code = data["code"].strip()
    exists = db.session.scalar(
        select(ChecklistTemplate.id).where(ChecklistTemplate.code == code, ChecklistTemplate.version == data["version"])
    )
    if exists:
        raise ValidationFailed(
            _l("This checklist version exists already."), {"version": str(_l("Raise the version number."))}
        )
    template = ChecklistTemplate(
        code=code,
        version=data["version"],
        name=data["name"].strip(),
        name_en=(data.get("name_en") or "").strip(),
        note=data.get("note") or "",
        created_at=now,
    )
    for s, section in enumerate(data["sections"]):
        row = ChecklistSection(
            position=s,
            title=section["title"].strip(),
            title_en=(section.get("title_en") or "").strip(),
            group_code=(section.get("group") or "").strip(),
        )
        for p, point in enumerate(section.get("points") or []):
            row.points.append(
                ChecklistPoint(
                    position=p,
                    text=point["text"].strip(),
                    text_en=(point.get("text_en") or "").strip(),
                    unit=(point.get("unit") or "").strip(),
                    rule=(point.get("rule") or "").strip(),
                )
            )
        template.sections.append(row)
    db.session.add(template)
    db.session.flush()
    return template


def install_shipped(*, now: datetime) -> list[ChecklistTemplate]:
    """Store the shipped checklists not stored yet (by code and version); safe to run again."""
    stored = set(db.session.execute(select(ChecklistTemplate.code, ChecklistTemplate.version)).all())
    return [install_template(d, now=now) for d in shipped_templates() if (d["code"], d["version"]) not in stored]


def template_to_data(template: ChecklistTemplate) -> dict:
    return {
        "code": template.code,
        "version": template.version,
        "name": template.name,
        "name_en": template.name_en,
        "note": template.note,
        "sections": [
            {
                "title": s.title,
                "title_en": s.title_en,
                "group": s.group_code,
                "points": [{"text": p.text, "text_en": p.text_en, "unit": p.unit, "rule": p.rule} for p in s.points],
            }
            for s in template.sections
        ],
    }


def all_templates() -> list[ChecklistTemplate]:
    query = select(ChecklistTemplate).order_by(ChecklistTemplate.code, ChecklistTemplate.version.desc())
    return list(db.session.scalars(query))


def get_template(template_id: int) -> ChecklistTemplate:
    template = db.session.get(ChecklistTemplate, template_id) if 0 < template_id < 2**31 else None
    if template is None:
        raise NotFound(_l("No such checklist."))
    return template


# --- exercises ---------------------------------------------------------------------------


def parse_participants(text: str) -> list[dict]:
    """One participant a line, "name, role"; "@username" invites an account (e.g. an external tester)."""
    rows = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        name, _, role = line.replace("，", ",").partition(",")
        rows.append({"name": name.strip()[:100], "role": role.strip()[:100]})
    return rows


def _participants(rows: list[dict], errors: dict) -> list[ExerciseParticipant]:
    people = []
    for row in rows:
        name = str(row.get("name") or "").strip()
        if not name:
            continue
        user = None
        if name.startswith("@"):
            user = db.session.scalar(select(User).where(User.username == name[1:]))
            if user is None or not user.is_active:
                errors["participants"] = str(_l("No active account %(name)s.", name=name))
                continue
            name = user.display_name or user.username
        people.append(ExerciseParticipant(user=user, name=name[:100], role=str(row.get("role") or "")[:100]))
    return people


def plan_exercise(data: dict, *, actor, now: datetime) -> Exercise:
    """A new exercise; its checklist is copied from the chosen template so later edits don't change it."""
    event = current_event()
    if event is None:
        raise ValidationFailed(_l("Set up the event first."))
    errors: dict = {}
    title = str(data.get("title") or "").strip()
    if not title:
        errors["title"] = str(_l("A title is required."))
    elif len(title) > LIMITS["title"]:
        errors["title"] = str(_l("At most %(n)s characters.", n=LIMITS["title"]))
    venue = str(data.get("venue") or "").strip()
    if len(venue) > LIMITS["venue"]:
        errors["venue"] = str(_l("At most %(n)s characters.", n=LIMITS["venue"]))
    if data.get("kind") not in KINDS:
        errors["kind"] = str(_l("Choose a kind."))
    if not isinstance(data.get("held_on"), date):
        errors["held_on"] = str(_l("Not a valid date."))
    group_id = data.get("group_id")
    group = db.session.get(WorkGroup, group_id) if isinstance(group_id, int) and 0 < group_id < 2**31 else None
    if group is None:
        errors["group_id"] = str(_l("Choose a work group."))
    elif not permissions.can_plan_exercise(actor, group.id):
        raise PermissionDenied(_l("Only the committee and the group's leads plan exercises."))
    milestone_id = data.get("milestone_id")
    if milestone_id is not None and (
        not isinstance(milestone_id, int)
        or not 0 < milestone_id < 2**31
        or db.session.get(Milestone, milestone_id) is None
    ):
        errors["milestone_id"] = str(_l("Unknown milestone."))
    template = None
    template_id = data.get("template_id")
    if template_id is not None:
        if isinstance(template_id, int) and 0 < template_id < 2**31:
            template = db.session.get(ChecklistTemplate, template_id)
        if template is None:
            errors["template_id"] = str(_l("No such checklist."))
    people = _participants(data.get("participants") or [], errors)
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    exercise = Exercise(
        event_id=event.id,
        kind=data["kind"],
        title=title,
        held_on=data["held_on"],
        venue=venue,
        group_id=group.id,
        milestone_id=milestone_id,
        template=template,
        created_by_id=actor.id,
        created_at=now,
        participants=people,
    )
    if template is not None:
        position = 0
        for section in template.sections:
            for point in section.points:
                exercise.checks.append(
                    ExerciseCheck(
                        position=position,
                        section=section.title,
                        section_en=section.title_en,
                        group_code=section.group_code,
                        text=point.text,
                        text_en=point.text_en,
                        unit=point.unit,
                        rule=point.rule,
                    )
                )
                position += 1
    db.session.add(exercise)
    db.session.flush()
    return exercise


def get_exercise(exercise_id: int, *, actor) -> Exercise:
    """Load an exercise the actor may see; "forbidden" and "missing" look the same."""
    exercise = db.session.get(Exercise, exercise_id) if 0 < exercise_id < 2**31 else None
    if exercise is None or not permissions.can_view_exercise(actor, exercise):
        raise NotFound(_l("No such exercise."))
    return exercise


def visible_exercises(actor, *, milestone_id: int | None = None):
    query = select(Exercise).order_by(Exercise.held_on.desc(), Exercise.id.desc())
    if milestone_id is not None:
        query = query.where(Exercise.milestone_id == milestone_id)
    if actor.role == permissions.EXTERNAL:
        invited = select(ExerciseParticipant.exercise_id).where(ExerciseParticipant.user_id == actor.id)
        query = query.where(Exercise.id.in_(invited))
    return query


def record_check(
    exercise: Exercise, check_id: int, *, actor, now: datetime, result: str | None, value: str = "", note: str = ""
) -> tuple[ExerciseCheck, bool]:
    """Set one answer (idempotent: the same answer again changes nothing). Returns (check, changed).

    With no result but a measured value and a pass rule, the rule decides.
    """
    if not permissions.can_record_exercise(actor, exercise):
        raise PermissionDenied(_l("You may not record results for this exercise."))
    check = next((c for c in exercise.checks if c.id == check_id), None)
    if check is None:
        raise NotFound(_l("No such check point."))
    value, note = (value or "").strip(), (note or "").strip()
    errors = {}
    if result in ("", None):
        result = rules.judge(check.rule, value) if value else None
    if result is not None and result not in RESULTS:
        errors["result"] = str(_l("Choose pass, fail or not applicable."))
    for name, text in (("value", value), ("note", note)):
        if len(text) > LIMITS[name]:
            errors[name] = str(_l("At most %(n)s characters.", n=LIMITS[name]))
    if check.item_id is not None and result != "fail":
        errors["result"] = str(_l("This failure is already a problem-list item; close it there."))
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    if (check.result, check.value, check.note) == (result, value, note):
        return check, False
    check.result, check.value, check.note = result, value, note
    check.recorded_by_id, check.recorded_at = actor.id, now
    db.session.flush()
    return check, True


def add_photos(exercise: Exercise, check_id: int, uploads: list, *, actor, now: datetime) -> list[ExercisePhoto]:
    """Photos of one check point, checked like any evidence (type by content, size) and kept for its finding."""
    if not permissions.can_record_exercise(actor, exercise):
        raise PermissionDenied(_l("You may not record results for this exercise."))
    check = next((c for c in exercise.checks if c.id == check_id), None)
    if check is None:
        raise NotFound(_l("No such check point."))
    photos = []
    for upload, kind in evidence.check_uploads(uploads):
        name, stored = evidence.keep(upload, kind, now=now)
        photos.append(
            ExercisePhoto(
                filename=evidence.safe_filename(upload.filename),
                content_type=kind,
                size=stored.size,
                sha256=stored.sha256,
                storage_name=name,
                uploaded_by_id=actor.id,
                uploaded_at=now,
            )
        )
    check.photos.extend(photos)
    db.session.flush()
    return photos


def _copy_photos(check: ExerciseCheck, item: Item, *, actor, now: datetime) -> None:
    files = store()
    uploads = [evidence.Upload(p.filename, files.read("evidence", p.storage_name) or b"") for p in check.photos]
    if uploads:
        evidence.attach(item, uploads, actor=actor, now=now, note=str(_l("Photos taken on site during the exercise.")))


def _group_for(check: ExerciseCheck, exercise: Exercise, groups: dict) -> int:
    group = groups.get(check.group_code)
    return group.id if group is not None else exercise.group_id


def proposed_findings(exercise: Exercise) -> list[dict]:
    """The review table: each failed check without an item, with the group proposed from its section."""
    groups = {g.code: g for g in db.session.scalars(select(WorkGroup))}
    return [
        {"check": c, "group_id": _group_for(c, exercise, groups)}
        for c in exercise.checks
        if c.result == "fail" and c.item_id is None
    ]


def _evidence(check: ExerciseCheck, exercise: Exercise) -> str:
    lines = [
        f"{_l('Exercise')}: {exercise.title} ({exercise.held_on.isoformat()}, {exercise.venue})",
        f"{_l('Section')}: {check.section}",
        f"{_l('Check point')}: {check.text}",
    ]
    if check.value:
        lines.append(f"{_l('Measured value')}: {check.value} {check.unit}".rstrip())
    if check.rule:
        lines.append(f"{_l('Pass rule')}: {check.rule}")
    if check.note:
        lines.append(f"{_l('Note')}: {check.note}")
    return "\n".join(lines)


def raise_findings(exercise: Exercise, rows: list[dict], *, actor, now: datetime) -> list[Item]:
    """Failed checks become problem-list items, all or none, each linked back to its check.

    ``rows``: ``{"check_id", "owner_id", "deadline", "group_id"?, "severity"?}``. Errors come back
    keyed ``check <id>``; nothing is written then.
    """
    if not permissions.can_plan_exercise(actor, exercise.group_id):
        raise PermissionDenied(_l("Only the committee and the group's leads turn findings into items."))
    if not rows:
        raise ValidationFailed(_l("Choose at least one failed check point."))
    checks = {c.id: c for c in exercise.checks}
    groups = {g.code: g for g in db.session.scalars(select(WorkGroup))}
    errors, data, picked = {}, [], []
    for row in rows:
        check = checks.get(row.get("check_id"))
        key = f"check {row.get('check_id')}"
        if check is None:
            errors[key] = str(_l("No such check point."))
            continue
        if check.result != "fail":
            errors[key] = str(_l("Only a failed check point becomes an item."))
            continue
        if check.item_id is not None or check in picked:
            errors[key] = str(_l("This check point is already an item."))
            continue
        picked.append(check)
        title = f"{check.text}（{exercise.venue}）" if exercise.venue else check.text
        data.append(
            {
                "kind": "problem",
                "title": title[:300],
                "description": _evidence(check, exercise),
                "source": FINDING_SOURCE,
                "key_area": "accessibility" if exercise.kind == "user_acceptance" else None,
                "severity": row.get("severity") or "medium",
                "group_id": row.get("group_id") or _group_for(check, exercise, groups),
                "owner_id": row.get("owner_id"),
                "deadline": row.get("deadline"),
                "found_on": exercise.held_on,
                "venue": exercise.venue,
                "milestone_id": exercise.milestone_id,
                "acceptance_criteria": f"{check.text} {check.rule}".strip(),
            }
        )
    if errors:
        raise ValidationFailed(_l("Please correct the marked rows."), errors)
    created, failures = items.create_items(data, actor=actor, now=now)
    if failures:
        for index, failure in failures.items():
            detail = "; ".join(f"{k}: {v}" for k, v in failure.fields.items()) or str(failure.message)
            errors[f"check {picked[index].id}"] = detail
        raise ValidationFailed(_l("Please correct the marked rows."), errors)
    for check, item in zip(picked, created, strict=True):
        check.item_id = item.id
        _copy_photos(check, item, actor=actor, now=now)
    db.session.flush()
    return created


# --- reports -------------------------------------------------------------------------------


def sections_summary(exercise: Exercise) -> list[dict]:
    """Answers by section, in checklist order: {"section", "pass", "fail", "na", "open"}."""
    order: dict[str, list] = {}
    for check in exercise.checks:
        order.setdefault(check.section, []).append(check)
    return [
        {"section": name, "section_en": rows[0].section_en, **rules.count_results([c.result for c in rows])}
        for name, rows in order.items()
    ]


def finding_items(actor, *, exercise: Exercise | None = None, milestone_id: int | None = None, closed=None):
    """Findings (items from failed checks) of an exercise or a milestone's exercises, as the actor may read them.

    ``closed``: True only closed, False only not closed, None all. Cancelled items are left out.
    """
    query = select(Item).join(ExerciseCheck, ExerciseCheck.item_id == Item.id).where(Item.status != "cancelled")
    if exercise is not None:
        query = query.where(ExerciseCheck.exercise_id == exercise.id)
    else:
        query = query.join(Exercise, Exercise.id == ExerciseCheck.exercise_id).where(
            Exercise.milestone_id == milestone_id
        )
    if closed is True:
        query = query.where(Item.status == "closed")
    elif closed is False:
        query = query.where(Item.status != "closed")
    query = permissions.visible_items(query, actor, Item)
    return query.order_by(ExerciseCheck.exercise_id, ExerciseCheck.position)


def closure(actor, *, exercise_ids=None, milestone_ids=None) -> dict:
    """{key: (closed, total)} findings per exercise (or per milestone) the actor may read; one GROUP BY."""
    key = Exercise.milestone_id if milestone_ids is not None else Exercise.id
    query = (
        select(key, func.count(Item.id), func.count(Item.id).filter(Item.status == "closed"))
        .select_from(ExerciseCheck)
        .join(Exercise, Exercise.id == ExerciseCheck.exercise_id)
        .join(Item, Item.id == ExerciseCheck.item_id)
        .where(Item.status != "cancelled")
        .group_by(key)
    )
    if milestone_ids is not None:
        query = query.where(Exercise.milestone_id.in_(list(milestone_ids)))
    elif exercise_ids is not None:
        query = query.where(Exercise.id.in_(list(exercise_ids)))
    query = permissions.visible_items(query, actor, Item)
    return {row[0]: (row[2], row[1]) for row in db.session.execute(query)}


def held_between(actor, start: date, end: date) -> list[dict]:
    """Exercises held from ``start`` to ``end`` (the weekly briefing), each with its open findings."""
    query = visible_exercises(actor).where(Exercise.held_on.between(start, end))
    exercises = db.session.scalars(query.order_by(None).order_by(Exercise.held_on, Exercise.id)).all()
    ids = [e.id for e in exercises]
    open_items: dict[int, list] = {i: [] for i in ids}
    if ids:
        rows = select(ExerciseCheck.exercise_id, Item).join(Item, Item.id == ExerciseCheck.item_id)
        rows = rows.where(ExerciseCheck.exercise_id.in_(ids), Item.status.not_in(("closed", "cancelled")))
        rows = permissions.visible_items(rows, actor, Item).order_by(ExerciseCheck.position)
        for exercise_id, item in db.session.execute(rows):
            open_items[exercise_id].append(item)
    closure_by_id = closure(actor, exercise_ids=ids) if ids else {}
    return [
        {"exercise": e, "open_items": open_items[e.id], "closure": closure_by_id.get(e.id, (0, 0))} for e in exercises
    ]


FREE_SECTION = ("其他发现", "Other findings")


def add_free_finding(exercise: Exercise, *, actor, now: datetime, text: str, note: str = "") -> ExerciseCheck:
    """A problem seen on site that no check point covers: a failed check of its own, ready for the review table."""
    if not permissions.can_record_exercise(actor, exercise):
        raise PermissionDenied(_l("You may not record results for this exercise."))
    text, note = (text or "").strip(), (note or "").strip()
    errors = {}
    if not text:
        errors["text"] = str(_l("Describe what was found."))
    elif len(text) > 500:
        errors["text"] = str(_l("At most %(n)s characters.", n=500))
    if len(note) > LIMITS["note"]:
        errors["note"] = str(_l("At most %(n)s characters.", n=LIMITS["note"]))
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    position = max((c.position for c in exercise.checks), default=-1) + 1
    check = ExerciseCheck(
        position=position,
        section=FREE_SECTION[0],
        section_en=FREE_SECTION[1],
        text=text,
        note=note,
        result="fail",
        recorded_by_id=actor.id,
        recorded_at=now,
    )
    exercise.checks.append(check)
    db.session.flush()
    return check


def origin_of(item_id: int) -> ExerciseCheck | None:
    """The check point (and so the exercise) a problem-list item was found at, if any."""
    return db.session.scalar(select(ExerciseCheck).where(ExerciseCheck.item_id == item_id))
