"""The notices' part of the OpenAPI document, from the same field specs the API checks."""

from tracker.api import notices as api
from tracker.notices.models import LEVELS, STATUSES


def schemas(obj, nullable, string, integer, moment, date) -> dict:
    return {
        "Notice": obj(
            {
                "id": integer,
                "number": {"type": "string", "description": "e.g. 督办〔2026〕第12号, unique per event and year."},
                "item": integer,
                "group": string,
                "level": {"type": "string", "enum": list(LEVELS)},
                "status": {"type": "string", "enum": list(STATUSES)},
                "text": string,
                "reply_by": date,
                "issued_by": nullable("string"),
                "issued_at": moment,
                "acknowledged_by": nullable("string"),
                "acknowledged_at": nullable("string", format="date-time"),
                "reply": nullable("string"),
                "replied_at": nullable("string", format="date-time"),
                "closed_at": nullable("string", format="date-time"),
                "previous": nullable("integer", description="The notice this one escalates."),
            }
        )
    }


def paths(prefix, operation, ref, page_of, body_schema, query, page) -> dict:
    notice_id = {"name": "notice_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    ok = (200, ref("Notice"), "The notice.")
    created = (201, ref("Notice"), "The new notice.")
    step_errors = (401, 403, 404, 422)
    acknowledge = operation(
        "Sign for a notice (签收): the addressed group's leads or the item's owner",
        ok,
        params=[notice_id],
        body=body_schema({}, ()),
        errors=step_errors,
    )
    return {
        f"{prefix}/notices": {
            "get": operation(
                "Supervision notices the caller may see, filtered",
                (200, page_of("Notice"), "A page of notices, newest first."),
                params=query(api.FILTERS) + page,
            ),
            "post": operation(
                "Issue a supervision notice on an item (committee, admin)",
                created,
                body=body_schema(api.CREATE, api.CREATE_REQUIRED),
                errors=step_errors,
            ),
        },
        f"{prefix}/notices/{{notice_id}}": {"get": operation("One notice", ok, params=[notice_id], errors=(401, 404))},
        f"{prefix}/notices/{{notice_id}}/acknowledge": {"post": _optional_body(acknowledge)},
        f"{prefix}/notices/{{notice_id}}/reply": {
            "post": operation(
                "Reply to a signed notice (回复): the addressed group's leads or the item's owner",
                ok,
                params=[notice_id],
                body=body_schema(api.REPLY, ("text",)),
                errors=step_errors,
            )
        },
        f"{prefix}/notices/{{notice_id}}/close": {
            "post": operation(
                "Close a notice (办结) with a note (committee, admin)",
                ok,
                params=[notice_id],
                body=body_schema(api.CLOSE, ("note",)),
                errors=step_errors,
            )
        },
        f"{prefix}/notices/{{notice_id}}/escalate": {
            "post": operation(
                "Escalate to the next level (committee, admin): answers the new notice",
                created,
                params=[notice_id],
                body=body_schema(api.ESCALATE, ("text", "reply_by")),
                errors=step_errors,
            )
        },
    }


def _optional_body(op: dict) -> dict:
    """Signing for a notice says nothing: no body, or an empty JSON object."""
    op["requestBody"]["required"] = False
    return op
