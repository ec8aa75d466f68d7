"""HTML error pages for the domain errors, HTTP errors and a lost database connection."""

import logging

from flask import g, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from tracker import errors
from tracker.audit import services as audit
from tracker.clock import utcnow
from tracker.extensions import db, login_manager


def register_handlers(app) -> None:
    """HTML error pages; the JSON API installs its own JSON answers for its paths (``json_errors``)."""

    def page(status: int, message: str):
        if status == 403:
            record_refusal()
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(errors.DomainError)
    def domain_error(error: errors.DomainError):
        return page(error.status, str(error.message))

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return page(400, _("The form expired or was sent from elsewhere. Please go back, reload and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        for prefix, answer in app.extensions.get("json_errors", {}).items():
            if request.path.startswith(prefix + "/"):
                return answer(error)
        messages = {
            400: _("The request could not be understood."),
            403: _("You do not have access to this page."),
            404: _("This page does not exist."),
            405: _("This action is not available here."),
            413: _("The upload is too large."),
            429: _("Too many requests. Please wait a moment and try again."),
        }
        return page(error.code or 500, messages.get(error.code, error.description or ""))

    @app.errorhandler(OperationalError)
    def database_down(error):
        # A lost connection (database restarting): fail cleanly; the pool reconnects on its own.
        answer_without_database(error)
        return page(503, _("The database is unavailable right now. Nothing was saved; please try again shortly."))

    @app.errorhandler(500)
    def server_error(error):
        return page(500, _("Something went wrong on our side. Nothing was saved; please try again."))


def record_refusal() -> None:
    """Log a permission refusal in its own short transaction; never break the error page."""
    try:
        actor = current_user if current_user.is_authenticated else None
        audit.record_now("permission_denied", actor=actor, target=f"{request.method} {request.path}", now=utcnow())
    except Exception:  # noqa: BLE001 - the refusal itself must still be answered
        db.session.rollback()


def answer_without_database(error) -> None:
    """Prepare to answer while the database is unreachable: nothing to undo, and render
    without touching it again (no event row, an anonymous viewer)."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        pass  # the connection is gone: nothing left to undo
    logging.getLogger(__name__).warning("database unavailable: %s", type(getattr(error, "orig", error)).__name__)
    g.event = None
    g._login_user = login_manager.anonymous_user()
