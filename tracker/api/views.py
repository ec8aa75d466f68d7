"""The JSON API ``/api/v1``: thin views over the same services and permissions as the pages.

Each view parses input (payload.py), calls one service, and answers a shape
from shapes.py. Bearer requests are exempt from the global CSRF check; session
requests are checked in auth.py.
"""

from datetime import date

from flask import Blueprint, current_app, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from tracker import permissions
from tracker.api import auth, errors, exercises, extension_requests, fields, notices, pages, shapes
from tracker.api.errors import ApiError
from tracker.api.payload import if_match_version, parse_body, parse_query, read_json
from tracker.board import cache as board_cache
from tracker.board import services as board_services
from tracker.calendar.services import calendar_url
from tracker.clock import utcnow
from tracker.errors import Conflict
from tracker.event import services as event_services
from tracker.event.services import current_event, local_today
from tracker.extensions import csrf, db
from tracker.groups import services as group_services
from tracker.items import extensions as item_extensions
from tracker.items import services
from tracker.items.models import Item, LedgerEntry
from tracker.lists import pages as list_pages
from tracker.lists.queries import ItemFilters, count
from tracker.milestones import services as milestone_services
from tracker.notify.inbox import sections
from tracker.notify.services import mark_read
from tracker.reminders.services import user_notifications
from tracker.workdays import services as workdays

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
errors.register(bp)
# The token and documentation pages are HTML, outside /api/v1, with the app's HTML errors.
bp.record_once(lambda state: state.app.register_blueprint(pages.bp))
bp.record_once(lambda state: state.app.register_blueprint(notices.bp))
PUBLIC = frozenset({"api.openapi"})
NOTIFICATIONS_PER_PAGE = 100  # the most reminders.services hands out at once


@bp.before_request
def authenticate():
    if request.endpoint not in PUBLIC:
        auth.authenticate()


bp.after_request(auth.no_store_for_tokens)


def _created(body: dict):
    return jsonify(body), 201


def _page() -> tuple[int, int]:
    values = parse_query(fields.PAGINATION)
    return values.get("page", 1), values.get("per_page", current_app.config["ITEMS_PER_PAGE"])


def _paged(rows: list) -> dict:
    page, per_page = _page()
    start = (page - 1) * per_page
    return shapes.page_json(rows[start : start + per_page], len(rows), page, per_page)


def _require(allowed: bool) -> None:
    if not allowed:
        raise ApiError(403, "forbidden", _("You may not do this."))


def _event():
    event = current_event()
    if event is None:
        raise ApiError(404, "not_found", _("The event has not been set up yet."))
    return event


@bp.route("/openapi.json")
def openapi():
    from tracker.api.openapi import document

    return jsonify(document())


@bp.route("/event")
def get_event():
    return jsonify(shapes.event_json(_event(), utcnow()))


@bp.route("/event", methods=["PUT"])
def put_event():
    _require(permissions.can_administer(auth.actor()))
    values = parse_body(read_json(), fields.EVENT, required=fields.EVENT_REQUIRED)
    event = current_event()
    values.setdefault("default_locale", event.default_locale if event else "zh_CN")
    event = event_services.save_event(values, actor=auth.actor(), now=utcnow())
    db.session.commit()
    return jsonify(shapes.event_json(event, utcnow()))


@bp.route("/groups")
def list_groups():
    return jsonify(_paged([shapes.group_json(g) for g in group_services.ordered_groups()]))


@bp.route("/groups", methods=["POST"])
def create_group():
    _require(permissions.can_administer(auth.actor()))
    values = parse_body(read_json(), fields.GROUP, required=("code", "name"))
    group = group_services.create_group(values, actor=auth.actor(), now=utcnow())
    db.session.commit()
    return _created(shapes.group_json(group))


@bp.route("/milestones")
def list_milestones():
    event = _event()
    today = local_today(utcnow())
    return jsonify(_paged([shapes.milestone_json(m, today) for m in milestone_services.all_milestones(event)]))


@bp.route("/milestones", methods=["POST"])
def create_milestone():
    actor = auth.actor()
    _require(permissions.can_manage_milestones(actor))
    values = parse_body(read_json(), fields.MILESTONE, required=("title",))
    data = fields.milestone_data(values)
    milestone = milestone_services.create_milestone(data, actor=actor, event=_event(), now=utcnow())
    db.session.commit()
    return _created(shapes.milestone_json(milestone, local_today(utcnow())))


@bp.route("/users/me")
def me():
    user = auth.actor()
    body = shapes.user_json(user)
    body["calendar_url"] = calendar_url(user)
    return jsonify(body)


@bp.route("/items")
def list_items():
    filters = ItemFilters(**parse_query(fields.ITEM_FILTERS))
    page, per_page = _page()
    actor = auth.actor()
    version = board_cache.data_version()  # before ``today``: it reads the event along
    today = local_today(utcnow())

    def body() -> str:
        found = list_pages.page_ids(actor, filters, today, page, per_page, version=version)
        rows = [shapes.item_json(i, today) for i in list_pages.load(found.ids, Item.supporting_groups)]
        return current_app.json.dumps(shapes.page_json(rows, found.total, page, per_page)) + "\n"

    if list_pages.cacheable(filters):
        # The items and the reference data (group codes, the working days behind the warnings),
        # the day, the language, the reader, the filters and the page: all the body depends on.
        key = ("api", version, today, str(get_locale()), list_pages.viewer(actor))
        text = list_pages.rendered((*key, filters, page, per_page), body)
    else:
        text = body()
    return current_app.response_class(text, mimetype=current_app.json.mimetype)


@bp.route("/items", methods=["POST"])
def create_item():
    values = parse_body(read_json(), fields.ITEM, required=("title", "group"), read_only=fields.item_read_only())
    item = services.create_item(fields.item_data(values), actor=auth.actor(), now=utcnow())
    db.session.commit()
    return _created(shapes.item_json(item, local_today(utcnow())))


def _item_response(item: Item, status: int = 200):
    response = jsonify(shapes.item_json(item, local_today(utcnow())))
    response.status_code = status
    response.headers["ETag"] = f'"{item.version}"'
    return response


@bp.route("/items/<int:item_id>")
def get_item(item_id: int):
    return _item_response(services.get_visible_item(item_id, actor=auth.actor()))


@bp.route("/items/<int:item_id>", methods=["PATCH"])
def patch_item(item_id: int):
    actor = auth.actor()
    item = services.get_visible_item(item_id, actor=actor)
    read_only = fields.item_read_only(updating=True)
    values = parse_body(read_json(), fields.ITEM_PATCH, read_only=read_only)
    version = _precondition(values.pop("version", None))
    reason = values.pop("reason", "")
    try:
        services.update_item(item, fields.item_data(values), actor=actor, now=utcnow(), version=version, reason=reason)
    except Conflict as error:
        db.session.rollback()
        current = services.get_visible_item(item_id, actor=actor).version
        raise Conflict(error.message, current) from None
    except item_extensions.DeadlineLocked as error:
        raise extension_requests.deadline_locked(error) from None
    db.session.commit()
    return _item_response(item)


def _precondition(body_version: int | None) -> int:
    header_version = if_match_version()
    if body_version is not None and header_version is not None and body_version != header_version:
        raise ApiError(
            422, "validation_failed", _("Please correct the marked fields."), {"version": _("Differs from If-Match.")}
        )
    version = body_version if body_version is not None else header_version
    if version is None:
        raise ApiError(
            422,
            "validation_failed",
            _("Please correct the marked fields."),
            {"version": _("Send the version you edited, in the body or as If-Match.")},
        )
    return version


@bp.route("/items/<int:item_id>/transitions", methods=["POST"])
def transition(item_id: int):
    actor = auth.actor()
    item = services.get_visible_item(item_id, actor=actor)
    values = parse_body(read_json(), fields.TRANSITION, required=("action",))
    services.transition(item, values["action"], actor=actor, now=utcnow(), note=values.get("note", ""))
    db.session.commit()
    return _item_response(item)


@bp.route("/items/<int:item_id>/ledger")
def item_ledger(item_id: int):
    item = services.get_visible_item(item_id, actor=auth.actor())
    page, per_page = _page()
    query = select(LedgerEntry).where(LedgerEntry.item_id == item.id)
    total = count(query)
    entries = db.session.scalars(
        query.options(selectinload(LedgerEntry.author), selectinload(LedgerEntry.evidence))
        .order_by(LedgerEntry.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return jsonify(shapes.page_json([shapes.entry_json(e) for e in entries], total, page, per_page))


@bp.route("/items/<int:item_id>/ledger", methods=["POST"])
def add_progress(item_id: int):
    actor = auth.actor()
    item = services.get_visible_item(item_id, actor=actor)
    values = parse_body(read_json(), fields.PROGRESS)
    entry = services.add_progress(
        item, actor=actor, now=utcnow(), note=values.get("note", ""), progress=values.get("progress")
    )
    db.session.commit()
    return _created(shapes.entry_json(entry))


@bp.route("/board")
def board():
    scope = board_services.scope(auth.actor(), utcnow())
    return jsonify(shapes.board_json(board_services.board(scope) if scope else None))


@bp.route("/notifications")
def notifications():
    page, per_page = _page()
    per_page = min(per_page, NOTIFICATIONS_PER_PAGE)
    rows, total = user_notifications(auth.actor(), page, per_page)
    return jsonify(shapes.page_json(rows, total, page, per_page))


@bp.route("/notifications/read", methods=["POST"])
def read_notifications():
    values = parse_body(read_json(), fields.NOTIFICATIONS_READ)
    marked = mark_read(values.get("ids"), actor=auth.actor(), now=utcnow())
    db.session.commit()
    return jsonify({"marked": marked})


@bp.route("/inbox")
def inbox():
    today = local_today(utcnow())
    return jsonify(shapes.inbox_json(sections(auth.actor(), today, limit=fields.INBOX_LIMIT), today))


extension_requests.register(bp, _page)
exercises.register(bp, _page)


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def no_such_route(rest: str):
    """Unknown paths and methods under /api/v1 answer JSON, not the HTML error page."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = set()
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _args = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != "api.no_such_route":
            allowed.add(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=sorted(allowed))
    raise NotFound()


@bp.route("/working-days")
def working_days():
    event = _event()
    values = parse_query(fields.WORKING_DAYS_RANGE)
    today = local_today(utcnow())
    start = values.get("from", date(today.year, 1, 1))
    end = values.get("to", date(start.year, 12, 31))
    if end < start or (end - start).days > 3 * 366:
        raise ApiError(
            422,
            "validation_failed",
            _("Please correct the marked parameters."),
            {"to": _("Give a day after `from`, at most three years later.")},
        )
    rows = workdays.exceptions_between(event, start, end)
    return jsonify({"items": [shapes.working_day_json(r.day, r.working, r.name) for r in rows]})


def _path_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ApiError(
            422, "validation_failed", _("Please correct the marked parameters."), {"day": _("A date like 2027-02-06.")}
        ) from None


@bp.route("/working-days/<day>", methods=["PUT"])
def put_working_day(day: str):
    _require(permissions.can_administer(auth.actor()))
    values = parse_body(read_json(), fields.WORKING_DAY, required=("working",))
    when = _path_day(day)
    event = _event()
    workdays.set_day(
        event, when, working=values["working"], name=values.get("name", ""), actor=auth.actor(), now=utcnow()
    )
    db.session.commit()
    cal = workdays.calendar(event)
    return jsonify(shapes.working_day_json(when, cal.is_working(when), cal.name(when)))


@bp.route("/working-days/<day>", methods=["DELETE"])
def delete_working_day(day: str):
    _require(permissions.can_administer(auth.actor()))
    when = _path_day(day)
    event = _event()
    workdays.reset_day(event, when, actor=auth.actor(), now=utcnow())
    db.session.commit()
    cal = workdays.calendar(event)
    return jsonify(shapes.working_day_json(when, cal.is_working(when), cal.name(when)))
