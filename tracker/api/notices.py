"""``/api/v1/notices``: the same services and permissions as the pages, answered as JSON."""

from flask import Blueprint, jsonify, request

from tracker.api import auth, errors, fields
from tracker.api.payload import Field, parse_body, parse_query, read_json
from tracker.api.shapes import day, moment, page_json
from tracker.clock import utcnow
from tracker.errors import ValidationFailed
from tracker.extensions import csrf, db
from tracker.items import services as item_services
from tracker.lists.queries import count
from tracker.notices import services
from tracker.notices.models import LEVELS, STATUSES
from tracker.notices.queries import NoticeFilters, filtered_notices

bp = Blueprint("notices_api", __name__, url_prefix="/api/v1/notices")
csrf.exempt(bp)
errors.register(bp)
bp.before_request(auth.authenticate)

TEXT = Field("string", min_length=1, max_length=services.TEXT_LIMIT)
FILTERS = {
    "item": Field("integer", "Item id."),
    "group": Field("string", "Addressed group's code.", max_length=16),
    "level": Field("string", enum=LEVELS),
    "status": Field("string", "A status, or `open` for issued, acknowledged and replied.", enum=(*STATUSES, "open")),
}
CREATE = {
    "item": Field("integer", "The item the notice is about."),
    "level": Field("string", enum=LEVELS),
    "text": Field("string", "The requirement (督办要求).", min_length=1, max_length=services.TEXT_LIMIT),
    "reply_by": Field("date", "Reply by this day (event-local)."),
}
CREATE_REQUIRED = ("item", "level", "text", "reply_by")
REPLY = {"text": TEXT}
CLOSE = {"note": TEXT}
ESCALATE = {"text": TEXT, "reply_by": Field("date", "Reply by this day (event-local).")}


def notice_json(notice) -> dict:
    return {
        "id": notice.id,
        "number": notice.number,
        "item": notice.item_id,
        "group": notice.group.code,
        "level": notice.level,
        "status": notice.status,
        "text": notice.text,
        "reply_by": day(notice.reply_by),
        "issued_by": notice.issued_by.username if notice.issued_by else None,
        "issued_at": moment(notice.issued_at),
        "acknowledged_by": notice.acknowledged_by.username if notice.acknowledged_by else None,
        "acknowledged_at": moment(notice.acknowledged_at),
        "reply": notice.reply,
        "replied_at": moment(notice.replied_at),
        "closed_at": moment(notice.closed_at),
        "previous": notice.previous_id,
    }


def _answer(notice, status: int = 200):
    response = jsonify(notice_json(notice))
    response.status_code = status
    return response


@bp.route("")
def list_notices():
    values = parse_query(FILTERS)
    paging = parse_query(fields.PAGINATION)
    page, per_page = paging.get("page", 1), paging.get("per_page", 50)
    query = filtered_notices(auth.actor(), NoticeFilters(**values))
    total = count(query)
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return jsonify(page_json([notice_json(n) for n in rows], total, page, per_page))


@bp.route("", methods=["POST"])
def create_notice():
    actor = auth.actor()
    values = parse_body(read_json(), CREATE, required=CREATE_REQUIRED)
    item = item_services.get_visible_item(values["item"], actor=actor)
    try:
        (notice,) = services.issue(
            [item], level=values["level"], text=values["text"], reply_by=values["reply_by"], actor=actor, now=utcnow()
        )
    except ValidationFailed as error:  # the service speaks of "items"; this call names one "item"
        fields_ = {("item" if name == "items" else name): message for name, message in error.fields.items()}
        raise ValidationFailed(error.message, fields_) from None
    db.session.commit()
    return _answer(notice, 201)


@bp.route("/<int:notice_id>")
def get_notice(notice_id: int):
    return _answer(services.get_visible_notice(notice_id, actor=auth.actor()))


@bp.route("/<int:notice_id>/acknowledge", methods=["POST"])
def acknowledge(notice_id: int):
    actor = auth.actor()
    notice = services.get_visible_notice(notice_id, actor=actor)
    if request.get_data(cache=True) or request.mimetype:
        parse_body(read_json(), {})  # the body is optional, but when sent it is an empty JSON object
    services.acknowledge(notice, actor=actor, now=utcnow())
    db.session.commit()
    return _answer(notice)


@bp.route("/<int:notice_id>/reply", methods=["POST"])
def reply(notice_id: int):
    actor = auth.actor()
    notice = services.get_visible_notice(notice_id, actor=actor)
    values = parse_body(read_json(), REPLY, required=("text",))
    services.reply(notice, text=values["text"], actor=actor, now=utcnow())
    db.session.commit()
    return _answer(notice)


@bp.route("/<int:notice_id>/close", methods=["POST"])
def close(notice_id: int):
    actor = auth.actor()
    notice = services.get_visible_notice(notice_id, actor=actor)
    values = parse_body(read_json(), CLOSE, required=("note",))
    services.close(notice, note=values["note"], actor=actor, now=utcnow())
    db.session.commit()
    return _answer(notice)


@bp.route("/<int:notice_id>/escalate", methods=["POST"])
def escalate(notice_id: int):
    """Answers the new, higher notice (201); its ``previous`` is this one."""
    actor = auth.actor()
    notice = services.get_visible_notice(notice_id, actor=actor)
    values = parse_body(read_json(), ESCALATE, required=("text", "reply_by"))
    new = services.escalate(notice, text=values["text"], reply_by=values["reply_by"], actor=actor, now=utcnow())
    db.session.commit()
    return _answer(new, 201)
