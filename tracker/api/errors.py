"""JSON error answers for the API: always ``{"error": {"code", "message", "fields"}}``."""

from flask import Blueprint, jsonify
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from tracker.error_pages import answer_without_database
from tracker.errors import Conflict, DomainError
from tracker.extensions import db

# Services name fields as the database does; the API names them as its clients do.
API_FIELD_NAMES = {
    "group_id": "group",
    "supporting_group_ids": "supporting_groups",
    "supporting_groups": "supporting_groups",
    "owner_id": "owner",
    "milestone_id": "milestone",
    "is_confidential": "confidential",
    "fixed_date": "date",
}
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message, fields: dict | None = None, headers: dict | None = None):
        super().__init__(str(message))
        self.status, self.code, self.message = status, code, message
        self.fields = fields or {}
        self.headers = headers or {}


def error_response(status: int, code: str, message, fields: dict | None = None, headers=None, **extra):
    body = {"code": code, "message": str(message), "fields": {k: str(v) for k, v in (fields or {}).items()}}
    body.update(extra)
    response = jsonify({"error": body})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def api_fields(fields: dict) -> dict:
    return {API_FIELD_NAMES.get(name, name): message for name, message in fields.items()}


def rollback() -> None:
    """End the failed request's transaction. If the connection is gone (the database
    restarting), there is nothing left to undo: answer the error anyway, not a 500."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        pass


def register(bp: Blueprint) -> None:
    """Handlers for the API blueprint only; the HTML pages keep their HTML error pages."""

    @bp.errorhandler(ApiError)
    def api_error(error: ApiError):
        rollback()
        return error_response(error.status, error.code, error.message, error.fields, error.headers)

    @bp.errorhandler(DomainError)
    def domain_error(error: DomainError):
        rollback()
        extra = {}
        if isinstance(error, Conflict):
            extra["current_version"] = error.current_version
        return error_response(error.status, error.code, error.message, api_fields(error.fields), **extra)

    @bp.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        rollback()
        status = error.code or 500
        headers = {}
        if status == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(sorted(error.valid_methods))
        return error_response(status, HTTP_CODES.get(status, "error"), error.description or "", headers=headers)

    # A path under the prefix that no route matches at all (a new line in it, say) never reaches
    # the blueprint: the app's handler answers it through this one.
    bp.record_once(lambda state: state.app.extensions.setdefault("json_errors", {}).update({bp.url_prefix: http_error}))

    @bp.errorhandler(OperationalError)
    def database_down(error):
        answer_without_database(error)
        return error_response(
            503, "unavailable", _("The database is unavailable right now. Nothing was saved; please try again shortly.")
        )

    @bp.errorhandler(500)
    def server_error(error):
        rollback()  # Flask has logged the exception already
        return error_response(500, "internal", _("Something went wrong on our side. Nothing was saved."))
