"""Who is calling: a bearer token, or the browser's session (which then needs a CSRF token to write)."""

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from tracker.api import services
from tracker.api.errors import ApiError
from tracker.auth import two_factor
from tracker.clock import utcnow
from tracker.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADERS = ("X-CSRFToken", "X-CSRF-Token")


def _unauthorized(message, error: str | None = None) -> ApiError:
    challenge = 'Bearer realm="wallchart"' + (f', error="{error}"' if error else "")
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": challenge})


def actor():
    """The user this API request acts for (set by ``authenticate``)."""
    return g.api_actor


def authenticate() -> None:
    """Run before every API view. A present but bad ``Authorization`` header never falls back to the session."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _sep, secret = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise _unauthorized(_("Send the token as 'Authorization: Bearer <token>'."), "invalid_request")
        user = services.authenticate(secret.strip(), now=utcnow())
        if user is None:
            raise _unauthorized(_("The token is unknown or has been revoked."), "invalid_token")
        db.session.commit()  # the token's last use
        g.api_bearer = True
        _require_two_factor(user)
        g.api_actor = user
        return
    if not current_user.is_authenticated:
        raise _unauthorized(_("Sign in or send 'Authorization: Bearer <token>'."))
    _require_two_factor(current_user)
    if request.method not in SAFE_METHODS:
        _check_csrf()
    g.api_actor = current_user._get_current_object()


def _require_two_factor(user) -> None:
    """Where the install requires two-factor sign-in for a role, its unenrolled users get no API at all."""
    if two_factor.must_enrol(user):
        raise ApiError(
            403,
            "two_factor_required",
            _("Set up two-factor sign-in first (Account → Two-factor sign-in): it is required for your role."),
        )


def no_store_for_tokens(response):
    """Answers to a request with credentials in a header (a bearer token, good or bad) are never
    kept by a cache or a proxy; session answers get this from tracker.security."""
    if g.get("api_bearer") or "Authorization" in request.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


def _check_csrf() -> None:
    """A session can be ridden by another site's form; a bearer token cannot, so only sessions need this."""
    if not current_app.config["WTF_CSRF_ENABLED"]:
        return
    token = next((request.headers[h] for h in CSRF_HEADERS if h in request.headers), None)
    try:
        validate_csrf(token)
    except ValidationError:
        raise ApiError(
            403, "csrf_failed", _("A signed-in browser must send its CSRF token in the X-CSRFToken header.")
        ) from None
