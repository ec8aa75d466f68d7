"""The API's exercises (演练/测试赛/检查): list, plan, read, record one answer, create findings.

Thin views over tracker.exercises.services, the same services the pages call. The OpenAPI
description of these endpoints lives here too (``paths``, ``SCHEMAS``) so the two stay together.
"""

from flask import Blueprint, jsonify
from flask_babel import gettext as _
from sqlalchemy import select

from tracker.api import auth, shapes
from tracker.api.errors import ApiError
from tracker.api.payload import Field, parse_body, read_json
from tracker.auth.models import User
from tracker.clock import utcnow
from tracker.event.services import local_today
from tracker.exercises import rules, services
from tracker.exercises.models import KINDS, ChecklistTemplate
from tracker.exercises.services import LIMITS
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items.models import SEVERITIES
from tracker.lists.queries import count

EXERCISE = {
    "kind": Field("string", enum=KINDS),
    "title": Field("string", min_length=1, max_length=LIMITS["title"]),
    "date": Field("date", "The day it is held."),
    "venue": Field("string", max_length=LIMITS["venue"]),
    "group": Field("string", "The responsible work group's code.", min_length=1, max_length=16),
    "milestone": Field("integer", "The milestone it belongs to.", nullable=True, minimum=1, maximum=2**31 - 1),
    "template": Field("string", "A checklist code; its newest version is copied.", nullable=True, max_length=64),
    "participants": Field(
        "array",
        'One "name, role" a line; "@username, role" invites an account (e.g. an external tester).',
        items=Field("string", min_length=1, max_length=200),
        max_items=200,
    ),
}
ANSWER = {
    "result": Field(
        "string", "Empty or null: the pass rule judges the value.", nullable=True, enum=("pass", "fail", "na", "")
    ),
    "value": Field("string", "The measured value, e.g. 0.85 or 1:15.", nullable=True, max_length=LIMITS["value"]),
    "note": Field("string", nullable=True, max_length=LIMITS["note"]),
}
FINDING = {
    "check": Field("integer", minimum=1, maximum=2**31 - 1),
    "owner": Field("string", "The responsible person's username.", nullable=True, max_length=64),
    "deadline": Field("date", nullable=True),
    "group": Field("string", "The group's code; default: proposed from the check point's section.", max_length=16),
    "severity": Field("string", enum=SEVERITIES),
}
FINDINGS = {
    "checks": Field(
        "array", "Failed check ids, all with the same owner and deadline.", items=FINDING["check"], max_items=500
    ),
    "owner": FINDING["owner"],
    "deadline": FINDING["deadline"],
    "severity": FINDING["severity"],
}


def _group_id(code: str | None, field: str) -> int | None:
    if code is None:
        return None
    group_id = db.session.scalar(select(WorkGroup.id).where(WorkGroup.code == code))
    if group_id is None:
        raise ApiError(
            422, "validation_failed", _("Please correct the marked fields."), {field: _("Unknown work group.")}
        )
    return group_id


def _user_id(username: str | None, field: str) -> int | None:
    if not username:
        return None
    user_id = db.session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise ApiError(422, "validation_failed", _("Please correct the marked fields."), {field: _("Unknown user.")})
    return user_id


def _template_id(code: str | None) -> int | None:
    if not code:
        return None
    services.install_shipped(now=utcnow())
    query = select(ChecklistTemplate.id).where(ChecklistTemplate.code == code)
    template_id = db.session.scalar(query.order_by(ChecklistTemplate.version.desc()).limit(1))
    if template_id is None:
        raise ApiError(
            422, "validation_failed", _("Please correct the marked fields."), {"template": _("No such checklist.")}
        )
    return template_id


def check_json(check) -> dict:
    return {
        "id": check.id,
        "section": check.section,
        "text": check.text,
        "unit": check.unit,
        "rule": check.rule,
        "result": check.result,
        "value": check.value,
        "note": check.note,
        "recorded_by": check.recorded_by.username if check.recorded_by else None,
        "recorded_at": shapes.moment(check.recorded_at),
        "item": check.item_id,
    }


def exercise_json(exercise, closure: dict, *, detail: bool = False, actor=None) -> dict:
    closed, total = closure.get(exercise.id, (0, 0))
    answer = {
        "id": exercise.id,
        "kind": exercise.kind,
        "title": exercise.title,
        "date": exercise.held_on.isoformat(),
        "venue": exercise.venue,
        "group": exercise.group.code,
        "milestone": exercise.milestone_id,
        "template": {"code": exercise.template.code, "version": exercise.template.version}
        if exercise.template
        else None,
        "participants": [
            {"name": p.name, "role": p.role, "username": p.user.username if p.user else None}
            for p in exercise.participants
        ],
        "results": rules.count_results([c.result for c in exercise.checks]),
        "findings_closed": closed,
        "findings_total": total,
    }
    if detail:
        today = local_today(utcnow())
        answer["checks"] = [check_json(c) for c in exercise.checks]
        answer["findings"] = [
            shapes.item_json(i, today) for i in db.session.scalars(services.finding_items(actor, exercise=exercise))
        ]
    return answer


def register(bp: Blueprint, page_args) -> None:
    """Add the exercise endpoints to the API blueprint; ``page_args()`` reads page and per_page."""

    @bp.route("/exercises")
    def list_exercises():
        actor = auth.actor()
        page, per_page = page_args()
        query = services.visible_exercises(actor)
        total = count(query)
        rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
        closure = services.closure(actor, exercise_ids=[e.id for e in rows])
        return jsonify(shapes.page_json([exercise_json(e, closure) for e in rows], total, page, per_page))

    @bp.route("/exercises", methods=["POST"])
    def create_exercise():
        actor = auth.actor()
        values = parse_body(read_json(), EXERCISE, required=("kind", "title", "date", "group"))
        data = {
            "kind": values["kind"],
            "title": values["title"],
            "held_on": values["date"],
            "venue": values.get("venue", ""),
            "group_id": _group_id(values["group"], "group"),
            "milestone_id": values.get("milestone"),
            "template_id": _template_id(values.get("template")),
            "participants": services.parse_participants("\n".join(values.get("participants", []))),
        }
        exercise = services.plan_exercise(data, actor=actor, now=utcnow())
        db.session.commit()
        return jsonify(exercise_json(exercise, {}, detail=True, actor=actor)), 201

    @bp.route("/exercises/<int:exercise_id>")
    def get_exercise(exercise_id: int):
        actor = auth.actor()
        exercise = services.get_exercise(exercise_id, actor=actor)
        closure = services.closure(actor, exercise_ids=[exercise.id])
        return jsonify(exercise_json(exercise, closure, detail=True, actor=actor))

    @bp.route("/exercises/<int:exercise_id>/checks/<int:check_id>", methods=["PUT"])
    def record_check(exercise_id: int, check_id: int):
        actor = auth.actor()
        exercise = services.get_exercise(exercise_id, actor=actor)
        values = parse_body(read_json(), ANSWER, required=("result",))
        check, _changed = services.record_check(
            exercise,
            check_id,
            actor=actor,
            now=utcnow(),
            result=values.get("result"),
            value=values.get("value") or "",
            note=values.get("note") or "",
        )
        db.session.commit()
        return jsonify(check_json(check))

    @bp.route("/exercises/<int:exercise_id>/findings", methods=["POST"])
    def create_findings(exercise_id: int):
        actor = auth.actor()
        exercise = services.get_exercise(exercise_id, actor=actor)
        body = read_json()
        if isinstance(body.get("findings"), list):
            rows = []
            for index, row in enumerate(body["findings"]):
                if not isinstance(row, dict):
                    raise ApiError(
                        422,
                        "validation_failed",
                        _("Please correct the marked fields."),
                        {f"findings[{index}]": _("Must be an object.")},
                    )
                values = parse_body(row, FINDING, required=("check",))
                rows.append(
                    {
                        "check_id": values["check"],
                        "owner_id": _user_id(values.get("owner"), f"findings[{index}].owner"),
                        "deadline": values.get("deadline"),
                        "group_id": _group_id(values.get("group"), f"findings[{index}].group"),
                        "severity": values.get("severity"),
                    }
                )
        else:
            values = parse_body(body, FINDINGS, required=("checks",))
            owner_id = _user_id(values.get("owner"), "owner")
            rows = [
                {
                    "check_id": check_id,
                    "owner_id": owner_id,
                    "deadline": values.get("deadline"),
                    "severity": values.get("severity"),
                }
                for check_id in values["checks"]
            ]
        created = services.raise_findings(exercise, rows, actor=actor, now=utcnow())
        db.session.commit()
        today = local_today(utcnow())
        return jsonify({"items": [shapes.item_json(i, today) for i in created]}), 201


# --- OpenAPI -----------------------------------------------------------------------------------


def paths(prefix: str, operation, body_schema, ref, page_of, obj, page: list) -> dict:
    exercise_id = {"name": "exercise_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    check_id = {"name": "check_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    # Either "checks" (one owner and deadline for all) or "findings" (values per check).
    findings_body = body_schema(FINDINGS)
    findings_body["properties"]["findings"] = {"type": "array", "items": body_schema(FINDING, ("check",))}
    return {
        f"{prefix}/exercises": {
            "get": operation(
                "Exercises (drills, test events, inspections, user acceptance), newest first",
                (200, page_of("Exercise"), "A page of exercises."),
                params=page,
            ),
            "post": operation(
                "Plan an exercise (committee, or a lead of its group)",
                (201, ref("ExerciseDetail"), "The exercise with its checklist copied in."),
                body=body_schema(EXERCISE, ("kind", "title", "date", "group")),
            ),
        },
        f"{prefix}/exercises/{{exercise_id}}": {
            "get": operation(
                "An exercise with its checklist results and findings",
                (200, ref("ExerciseDetail"), "The exercise."),
                params=[exercise_id],
                errors=(401, 404),
            )
        },
        f"{prefix}/exercises/{{exercise_id}}/checks/{{check_id}}": {
            "put": operation(
                "Record one answer (idempotent: the same answer again changes nothing)",
                (200, ref("ExerciseCheck"), "The check point as recorded."),
                params=[exercise_id, check_id],
                body=body_schema(ANSWER, ("result",)),
                errors=(401, 404, 422),
            )
        },
        f"{prefix}/exercises/{{exercise_id}}/findings": {
            "post": operation(
                "Turn failed check points into problem-list items, all or none",
                (201, obj({"items": {"type": "array", "items": ref("Item")}}), "The created items."),
                params=[exercise_id],
                body=findings_body,
                errors=(401, 404, 422),
            )
        },
    }


def schemas(obj, ref, nullable) -> dict:
    text = {"type": "string"}
    integer = {"type": "integer"}
    check = obj(
        {
            "id": integer,
            "section": text,
            "text": text,
            "unit": text,
            "rule": {"type": "string", "description": 'A pass rule such as "≤ 1:12" or "≥ 0.80 m", or empty.'},
            "result": {"type": ["string", "null"], "enum": ["pass", "fail", "na", None]},
            "value": text,
            "note": text,
            "recorded_by": nullable("string"),
            "recorded_at": nullable("string", format="date-time"),
            "item": nullable("integer", description="The problem-list item this failure became."),
        }
    )
    counts = {k: integer for k in ("pass", "fail", "na", "open")}
    exercise = {
        "id": integer,
        "kind": {"type": "string", "enum": list(KINDS)},
        "title": text,
        "date": {"type": "string", "format": "date"},
        "venue": text,
        "group": text,
        "milestone": nullable("integer"),
        "template": {"type": ["object", "null"]},
        "participants": {"type": "array", "items": {"type": "object"}},
        "results": obj(counts),
        "findings_closed": integer,
        "findings_total": integer,
    }
    detail = {
        **exercise,
        "checks": {"type": "array", "items": ref("ExerciseCheck")},
        "findings": {"type": "array", "items": ref("Item")},
    }
    return {"Exercise": obj(exercise), "ExerciseDetail": obj(detail), "ExerciseCheck": check}
