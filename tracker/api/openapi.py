"""The OpenAPI 3.1 description of /api/v1, built from the same field specs the views check."""

from tracker.api import exercises, fields, notices_openapi
from tracker.api.payload import MAX_ID, Field
from tracker.items.models import KEY_AREAS, KINDS, SEVERITIES, STATUSES
from tracker.milestones.models import KINDS as MILESTONE_KINDS
from tracker.notify.inbox import ITEM_SECTIONS
from tracker.outbox.rules import KINDS as NOTIFY_KINDS

PREFIX = "/api/v1"
ERROR_STATUSES = {
    400: "Malformed JSON: not parseable, NaN or Infinity, duplicate keys, not an object, or nested too deep.",
    401: "No credentials, or an unknown or revoked token.",
    403: (
        "The caller may not do this (or a session write without its CSRF token; or "
        "`two_factor_required`: the install requires two-factor sign-in for the caller's role)."
    ),
    404: "No such resource, or one the caller may not see.",
    409: (
        "The item changed since the version sent, or another extension request or decision came first; "
        "`current_version` is the item's version now."
    ),
    413: "The body is too large.",
    415: "The body is not application/json.",
    422: "Invalid fields or parameters; `fields` has a message per name.",
}


def field_schema(field: Field) -> dict:
    if field.type in ("date", "date-time"):
        schema = {"type": "string", "format": field.type}
    elif field.type == "array":
        schema = {"type": "array", "items": field_schema(field.items)}
        if field.max_items is not None:
            schema["maxItems"] = field.max_items
    elif field.type == "integer":
        schema = {
            "type": "integer",
            "minimum": field.minimum if field.minimum is not None else 1,
            "maximum": field.maximum if field.maximum is not None else MAX_ID,
        }
    else:
        schema = {"type": field.type}
    if field.type == "string":
        if field.min_length:
            schema["minLength"] = field.min_length
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
    if field.enum is not None:
        schema["enum"] = list(field.enum)
    if field.nullable:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"].append(None)
    if field.description:
        schema["description"] = field.description
    return schema


def body_schema(spec: dict, required=()) -> dict:
    return {
        "type": "object",
        "properties": {name: field_schema(f) for name, f in spec.items()},
        "required": list(required),
        "additionalProperties": False,
    }


def _nullable(type_: str, **extra) -> dict:
    return {"type": [type_, "null"], **extra}


def _obj(properties: dict, required=None) -> dict:
    return {"type": "object", "properties": properties, "required": list(required or properties)}


STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
MOMENT = {"type": "string", "format": "date-time"}

ITEM = _obj(
    {
        "id": INTEGER,
        "code": _nullable("string"),
        "kind": {"type": "string", "enum": list(KINDS)},
        "title": STRING,
        "description": STRING,
        "source": STRING,
        "key_area": {"type": ["string", "null"], "enum": [*KEY_AREAS, None]},
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "group": STRING,
        "supporting_groups": {"type": "array", "items": STRING},
        "owner": _nullable("string"),
        "measures": STRING,
        "deadline": _nullable("string", format="date"),
        "original_deadline": _nullable("string", format="date", description="The first deadline ever set."),
        "extensions": {"type": "integer", "minimum": 0, "description": "Times the deadline was extended (延期)."},
        "acceptance_criteria": STRING,
        "found_on": _nullable("string", format="date"),
        "venue": STRING,
        "remarks": STRING,
        "milestone": _nullable("integer"),
        "confidential": BOOLEAN,
        "status": {"type": "string", "enum": list(STATUSES)},
        "overdue": BOOLEAN,
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "version": INTEGER,
        "created_at": MOMENT,
        "updated_at": MOMENT,
        "warnings": {
            "type": "array",
            "description": "Things worth knowing that did not stop the save, e.g. `deadline_not_working_day`.",
            "items": _obj({"code": STRING, "message": STRING}),
        },
    }
)
GROUP = _obj({"id": INTEGER, "code": STRING, "name": STRING, "name_en": STRING, "sort_order": INTEGER})
MILESTONE = _obj(
    {
        "id": INTEGER,
        "title": STRING,
        "title_en": STRING,
        "kind": {"type": "string", "enum": list(MILESTONE_KINDS)},
        "date": DATE,
        "offset_days": _nullable("integer"),
        "t_label": STRING,
        "days_left": INTEGER,
        "group": _nullable("string"),
    }
)
EVENT = _obj(
    {
        "id": INTEGER,
        "name": STRING,
        "name_en": STRING,
        "host_city": STRING,
        "opening_at": MOMENT,
        "closing_at": _nullable("string", format="date-time"),
        "timezone": STRING,
        "default_locale": STRING,
        "days_to_opening": INTEGER,
        "working_days_to_opening": INTEGER,
    }
)
WORKING_DAY = _obj({"date": DATE, "working": BOOLEAN, "name": STRING})
USER = _obj(
    {
        "id": INTEGER,
        "username": STRING,
        "name": STRING,
        "email": _nullable("string"),
        "role": {"type": "string", "enum": ["admin", "committee", "lead", "member", "external"]},
        "groups": {"type": "array", "items": STRING},
        "locale": _nullable("string"),
        "calendar_url": {"type": "string", "description": "Personal iCalendar feed (present once calendars exist)."},
    },
    required=("id", "username", "name", "email", "role", "groups", "locale"),
)
ENTRY = _obj(
    {
        "id": INTEGER,
        "item": INTEGER,
        "kind": STRING,
        "author": _nullable("string"),
        "created_at": MOMENT,
        "item_version": INTEGER,
        "field": _nullable("string"),
        "before": _nullable("string"),
        "after": _nullable("string"),
        "note": STRING,
        "evidence": {
            "type": "array",
            "items": _obj(
                {"id": INTEGER, "filename": STRING, "content_type": STRING, "size": INTEGER, "sha256": STRING}
            ),
        },
    }
)
COUNTS = {
    "counts": _obj({s: INTEGER for s in ("open", "in_progress", "submitted", "closed")}),
    "overdue": INTEGER,
    "due_soon": INTEGER,
    "total": INTEGER,
}
BOARD = _obj(
    {
        "days_to_opening": _nullable("integer"),
        "groups": {
            "type": "array",
            "items": _obj(
                {"code": STRING, "name": STRING, **COUNTS, "rag": {"type": "string", "enum": ["red", "amber", "green"]}}
            ),
        },
        "totals": _obj(COUNTS),
        "milestones": {
            "type": "array",
            "items": _obj({"id": INTEGER, "title": STRING, "date": DATE, "days_left": INTEGER, "open_items": INTEGER}),
        },
    }
)
NOTIFICATION = _obj(
    {
        "id": INTEGER,
        "kind": {
            "type": "string",
            "description": "A workflow event (" + ", ".join(NOTIFY_KINDS) + ") or a reminder rule "
            "(before-N, overdue, lead, committee, milestone-N, digest, activity).",
        },
        "item": _nullable("integer"),
        "actor": {**_nullable("string"), "description": "Username of who did it (null for reminders)."},
        "message": STRING,
        "rule": STRING,
        "subject": STRING,
        "body": STRING,
        "url": _nullable("string"),
        "item_id": _nullable("integer"),
        "milestone_id": _nullable("integer"),
        "created_at": MOMENT,
        "read": BOOLEAN,
        "read_at": _nullable("string", format="date-time"),
    },
    required=("id", "kind", "item", "actor", "message", "subject", "created_at", "read"),
)
INBOX_ITEM = {
    "allOf": [
        {"$ref": "#/components/schemas/Item"},
        {
            "type": "object",
            "properties": {
                "waiting_since": {"type": "string", "description": "When the wait began (a deadline: a date)."},
                "reason": _nullable("string"),
            },
        },
    ]
}
INBOX = _obj(
    {
        **{key: {"type": "array", "items": INBOX_ITEM} for key in ITEM_SECTIONS},
        "counts": {"type": "object", "additionalProperties": INTEGER, "description": "Items per section."},
    },
    required=(*ITEM_SECTIONS, "counts"),
)
EXTENSION_REQUEST = _obj(
    {
        "id": INTEGER,
        "item": INTEGER,
        "requested_by": _nullable("string"),
        "from": _nullable("string", format="date"),
        "to": DATE,
        "reason": STRING,
        "status": {"type": "string", "enum": ["pending", "approved", "refused"]},
        "direct": {"type": "boolean", "description": "A committee's direct change, approved as it was made."},
        "created_at": MOMENT,
        "decided_by": _nullable("string"),
        "decided_at": _nullable("string", format="date-time"),
        "note": STRING,
    }
)
ERROR = _obj(
    {
        "error": {
            "type": "object",
            "properties": {
                "code": STRING,
                "message": STRING,
                "fields": {"type": "object", "additionalProperties": STRING},
                "current_version": {"type": "integer", "description": "Only with 409."},
            },
            "required": ["code", "message", "fields"],
        }
    }
)
SCHEMAS = {
    "Item": ITEM,
    "Group": GROUP,
    "Milestone": MILESTONE,
    "Event": EVENT,
    "User": USER,
    "LedgerEntry": ENTRY,
    "Board": BOARD,
    "Notification": NOTIFICATION,
    "Inbox": INBOX,
    "ExtensionRequest": EXTENSION_REQUEST,
    "WorkingDay": WORKING_DAY,
    "Error": ERROR,
    **exercises.schemas(_obj, lambda name: {"$ref": f"#/components/schemas/{name}"}, _nullable),
    **notices_openapi.schemas(_obj, _nullable, STRING, INTEGER, MOMENT, DATE),
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _page_of(name: str) -> dict:
    return _obj(
        {
            "items": {"type": "array", "items": _ref(name)},
            "total": INTEGER,
            "page": INTEGER,
            "per_page": INTEGER,
        }
    )


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(spec: dict) -> list:
    return [{"name": n, "in": "query", "required": False, "schema": field_schema(f)} for n, f in spec.items()]


DAY = {"name": "day", "in": "path", "required": True, "schema": {"type": "string", "format": "date"}}
ITEM_ID = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": 'The item version as an ETag, e.g. "3" (instead of `version` in the body).',
    "schema": {"type": "string"},
}


def operation(
    summary: str,
    ok: tuple,
    *,
    body: dict | None = None,
    params: list | None = None,
    errors=(401, 422),
    public: bool = False,
) -> dict:
    status, schema, description = ok
    op = {"summary": summary, "responses": {str(status): _json(schema, description)}}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        errors = (*errors, 400, 403, 413, 415)
    for code in sorted(set(errors)):
        op["responses"][str(code)] = _json(_ref("Error"), ERROR_STATUSES[code])
    if public:
        op["security"] = []
    return op


def paths() -> dict:
    page = _query(fields.PAGINATION)
    item_ok = (200, _ref("Item"), "The item (with an ETag of its version).")
    return {
        f"{PREFIX}/openapi.json": {
            "get": operation("This document", (200, {"type": "object"}, "OpenAPI 3.1."), errors=(), public=True)
        },
        f"{PREFIX}/event": {
            "get": operation("The event and its countdown", (200, _ref("Event"), "The event."), errors=(401, 404)),
            "put": operation(
                "Set the event (admin)",
                (200, _ref("Event"), "The event as saved."),
                body=body_schema(fields.EVENT, fields.EVENT_REQUIRED),
            ),
        },
        f"{PREFIX}/groups": {
            "get": operation("Work groups", (200, _page_of("Group"), "A page of groups."), params=page),
            "post": operation(
                "Add a work group (admin)",
                (201, _ref("Group"), "The new group."),
                body=body_schema(fields.GROUP, ("code", "name")),
            ),
        },
        f"{PREFIX}/milestones": {
            "get": operation(
                "Milestones, soonest first",
                (200, _page_of("Milestone"), "A page of milestones."),
                params=page,
                errors=(401, 404, 422),
            ),
            "post": operation(
                "Add a milestone (committee, admin)",
                (201, _ref("Milestone"), "The new milestone."),
                body=body_schema(fields.MILESTONE, ("title",)),
                errors=(401, 404, 422),
            ),
        },
        f"{PREFIX}/users/me": {"get": operation("The caller", (200, _ref("User"), "The caller."), errors=(401,))},
        f"{PREFIX}/items": {
            "get": operation(
                "Items the caller may see, filtered",
                (200, _page_of("Item"), "A page of items."),
                params=_query(fields.ITEM_FILTERS) + page,
            ),
            "post": operation(
                "Create an item",
                (201, _ref("Item"), "The new item."),
                body=body_schema(fields.ITEM, ("title", "group")),
            ),
        },
        f"{PREFIX}/items/{{item_id}}": {
            "get": operation("One item", item_ok, params=[ITEM_ID], errors=(401, 404)),
            "patch": operation(
                "Change an item's fields (with the version you edited)",
                item_ok,
                params=[ITEM_ID, IF_MATCH],
                body=body_schema(fields.ITEM_PATCH),
                errors=(401, 404, 409, 422),
            ),
        },
        f"{PREFIX}/items/{{item_id}}/transitions": {
            "post": operation(
                "Move an item through the workflow",
                item_ok,
                params=[ITEM_ID],
                body=body_schema(fields.TRANSITION, ("action",)),
                errors=(401, 404, 409, 422),
            )
        },
        f"{PREFIX}/items/{{item_id}}/ledger": {
            "get": operation(
                "The item's rectification ledger, oldest first",
                (200, _page_of("LedgerEntry"), "A page of ledger entries."),
                params=[ITEM_ID, *page],
                errors=(401, 404, 422),
            ),
            "post": operation(
                "Add a progress note",
                (201, _ref("LedgerEntry"), "The new ledger entry."),
                params=[ITEM_ID],
                body=body_schema(fields.PROGRESS),
                errors=(401, 404, 409, 422),
            ),
        },
        **_extension_paths(page),
        **exercises.paths(PREFIX, operation, body_schema, _ref, _page_of, _obj, page),
        f"{PREFIX}/board": {
            "get": operation(
                "The wall chart as data", (200, _ref("Board"), "Counts the caller may see."), errors=(401,)
            )
        },
        f"{PREFIX}/working-days": {
            "get": operation(
                "Days that differ from Monday to Friday (holidays and 调休)",
                (200, _obj({"items": {"type": "array", "items": _ref("WorkingDay")}}), "The days, in order."),
                params=_query(fields.WORKING_DAYS_RANGE),
                errors=(401, 404, 422),
            )
        },
        f"{PREFIX}/working-days/{{day}}": {
            "put": operation(
                "Set one day (admin)",
                (200, _ref("WorkingDay"), "The day as it now counts."),
                params=[DAY],
                body=body_schema(fields.WORKING_DAY, ("working",)),
                errors=(401, 404, 422),
            ),
            "delete": operation(
                "Return one day to the Monday-to-Friday rule (admin)",
                (200, _ref("WorkingDay"), "The day as it now counts."),
                params=[DAY],
                errors=(401, 403, 404, 422),
            ),
        },
        f"{PREFIX}/notifications": {
            "get": operation(
                "The caller's notifications, newest first",
                (200, _page_of("Notification"), "A page of notifications."),
                params=page,
            )
        },
        f"{PREFIX}/notifications/read": {
            "post": operation(
                "Mark some (``ids``) or all of the caller's notifications read",
                (200, _obj({"marked": INTEGER}), "How many were unread and are now read."),
                body=body_schema(fields.NOTIFICATIONS_READ),
            )
        },
        f"{PREFIX}/inbox": {
            "get": operation(
                "What needs the caller now, by role, oldest first",
                (200, _ref("Inbox"), "Sections that do not apply to the caller's role are empty."),
                errors=(401,),
            )
        },
        **notices_openapi.paths(PREFIX, operation, _ref, _page_of, body_schema, _query, page),
    }


def _extension_paths(page: list) -> dict:
    request_id = {"name": "request_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    return {
        f"{PREFIX}/items/{{item_id}}/extension-requests": {
            "post": operation(
                "Request a later deadline (the item's responsible person or a group lead)",
                (201, _ref("ExtensionRequest"), "The pending request; the deadline moves only when approved."),
                params=[ITEM_ID],
                body=body_schema(fields.EXTENSION_REQUEST, ("deadline", "reason")),
                errors=(401, 404, 409, 422),
            )
        },
        f"{PREFIX}/extension-requests": {
            "get": operation(
                "Extension requests on items the caller may see, oldest first",
                (200, _page_of("ExtensionRequest"), "A page of extension requests."),
                params=_query(fields.EXTENSION_FILTERS) + page,
            )
        },
        f"{PREFIX}/extension-requests/{{request_id}}/decision": {
            "post": operation(
                "Approve or refuse an extension request (committee, admin)",
                (200, _ref("ExtensionRequest"), "The decided request."),
                params=[request_id],
                body=body_schema(fields.EXTENSION_DECISION, ("decision",)),
                errors=(401, 404, 409, 422),
            )
        },
    }


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Wallchart API",
            "version": "1",
            "description": (
                "Problem list, responsibility list and rectification ledger as JSON. "
                "Authenticate with `Authorization: Bearer <token>` (create tokens on /account/tokens "
                "or with `flask --app tracker api-token USERNAME`), or with a signed-in session plus "
                "an `X-CSRFToken` header for writes. Answers to tokens carry `Cache-Control: no-store`; "
                "a password change revokes the user's tokens. Errors are "
                '`{"error": {"code", "message", "fields"}}`.'
            ),
        },
        "paths": paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    }
