"""The API's deadline extensions (延期): request, list, decide. Thin views over items.extensions."""

from flask import Blueprint, jsonify
from flask_babel import gettext as _

from tracker import permissions
from tracker.api import auth, fields, shapes
from tracker.api.errors import ApiError
from tracker.api.payload import parse_body, parse_query, read_json
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.items import extensions, services
from tracker.lists.queries import count


def deadline_locked(error: extensions.DeadlineLocked) -> ApiError:
    """A PATCH that moves a set deadline: 422 naming the field and the endpoint to use instead."""
    path = extensions.API_REQUEST_PATH.format(id=error.item_id)
    message = _("The deadline is set: only the committee moves it. Request an extension: POST %(path)s.", path=path)
    return ApiError(422, "validation_failed", _("Please correct the marked fields."), {"deadline": message})


def register(bp: Blueprint, page_args) -> None:
    """Add the extension endpoints to the API blueprint; ``page_args()`` reads page and per_page."""

    @bp.route("/items/<int:item_id>/extension-requests", methods=["POST"])
    def create_extension_request(item_id: int):
        actor = auth.actor()
        item = services.get_visible_item(item_id, actor=actor)
        values = parse_body(read_json(), fields.EXTENSION_REQUEST, required=("deadline", "reason"))
        request = extensions.request_extension(
            item, actor=actor, now=utcnow(), deadline=values["deadline"], reason=values["reason"]
        )
        db.session.commit()
        return jsonify(shapes.extension_json(request)), 201

    @bp.route("/extension-requests")
    def list_extension_requests():
        values = parse_query(fields.EXTENSION_FILTERS)
        page, per_page = page_args()
        query = extensions.visible_requests(auth.actor(), values.get("status"), values.get("item"))
        total = count(query)
        rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page))
        return jsonify(shapes.page_json([shapes.extension_json(r) for r in rows], total, page, per_page))

    @bp.route("/extension-requests/<int:request_id>/decision", methods=["POST"])
    def decide_extension_request(request_id: int):
        actor = auth.actor()
        request = extensions.get_visible_request(request_id, actor=actor)
        if not permissions.can_decide_extension(actor, request.item, request):
            raise ApiError(403, "forbidden", _("Only the committee decides extension requests, and never their own."))
        values = parse_body(read_json(), fields.EXTENSION_DECISION, required=("decision",))
        request = extensions.decide(
            request, actor=actor, now=utcnow(), decision=values["decision"], note=values.get("note", "")
        )
        db.session.commit()
        return jsonify(shapes.extension_json(request))
