"""Flask-Login wiring and session lifetime.

The session id carries a per-user token (``User.session_token``): logout, a password
or role change and deactivation rotate it, which ends every session and remember-me
cookie of that user on their next request. Sessions also end after an idle period and
after an absolute lifetime.
"""

import time
from datetime import timedelta

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user

from tracker.extensions import db, login_manager


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.login_message = _l("Please sign in to see this page.")
    app.config.setdefault("REMEMBER_COOKIE_DURATION", timedelta(hours=app.config["SESSION_MAX_HOURS"]))
    app.permanent_session_lifetime = timedelta(hours=app.config["SESSION_MAX_HOURS"])
    app.before_request(enforce_session_lifetime)


def start_session() -> None:
    now = time.time()
    session.permanent = True
    session["signed_in_at"] = session["seen_at"] = now
    keep_chosen_language()


def keep_chosen_language() -> None:
    """A language picked before signing in (on the sign-in page) becomes the person's own."""
    chosen = session.get("locale")
    if chosen in current_app.config["LANGUAGES"] and current_user.locale != chosen:
        current_user.locale = chosen
        db.session.commit()


def enforce_session_lifetime():
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = time.time()
    signed_in_at = session.setdefault("signed_in_at", now)  # restored from a remember-me cookie
    seen_at = session.get("seen_at", now)
    idle = now - seen_at > current_app.config["SESSION_IDLE_MINUTES"] * 60
    expired = now - signed_in_at > current_app.config["SESSION_MAX_HOURS"] * 3600
    if idle or expired:
        logout_user()
        session.clear()
        if request.path.startswith("/api/"):
            return None  # the API answers 401 itself
        flash(_("Your session has ended. Please sign in again."), "info")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    session["seen_at"] = now
    return enforce_two_factor()


ENROLMENT_ENDPOINTS = {"auth.two_factor", "auth.logout", "auth.reauth", "auth.language", "health.healthz"}


def enforce_two_factor():
    """Where admins require it, admin and committee users set up 2FA before anything else."""
    from tracker.auth import two_factor

    if request.endpoint in ENROLMENT_ENDPOINTS or not two_factor.must_enrol(current_user):
        return None
    if request.path.startswith("/api/"):
        return None  # tokens are created on pages, which require enrolment first
    flash(_("Set up two-factor sign-in to continue: it is required for your role."), "info")
    return redirect(url_for("auth.two_factor"))


def signed_in_recently(max_age_minutes: int = 15) -> bool:
    """Sensitive actions (roles, webhooks, email, tokens) need a fresh sign-in."""
    return time.time() - session.get("signed_in_at", 0) <= max_age_minutes * 60


@login_manager.user_loader
def load_user(user_id: str):
    from tracker.auth.models import User

    user_pk, _, token = user_id.partition(":")
    if not user_pk.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_pk))
    if user is None or user.session_token != token or not user.is_active:
        return None
    return user


def recent_login_required(view):
    """Decorator: send the user to confirm their password if the sign-in is not recent."""
    from functools import wraps

    @wraps(view)
    def wrapped(*args, **kwargs):
        if request.method not in ("GET", "HEAD") and not signed_in_recently():
            flash(_("Please confirm your password to continue."), "info")
            return redirect(url_for("auth.reauth", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped
