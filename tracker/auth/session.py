"""Flask-Login wiring and session lifetime.

The session id carries a per-user token (``User.session_token``): logout, a password
or role change and deactivation rotate it, which ends every session and remember-me
cookie of that user on their next request. Sessions also end after an idle period and
after an absolute lifetime.
"""

import time
from datetime import timedelta

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from tracker.auth import two_factor
from tracker.auth.models import User
from tracker.clock import utcnow
from tracker.extensions import db, login_manager


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.login_message = _l("Please sign in to see this page.")
    if app.config["REMEMBER_COOKIE_DURATION"] is None:
        app.config["REMEMBER_COOKIE_DURATION"] = timedelta(hours=app.config["SESSION_MAX_HOURS"])
    app.permanent_session_lifetime = timedelta(hours=app.config["SESSION_MAX_HOURS"])
    app.before_request(enforce_session_lifetime)
    app.after_request(record_activity)


SEEN_PRECISION = timedelta(minutes=1)  # how often a request writes the account's last activity


def start_session() -> None:
    """A session that has just proven the password (or the password and a code): fresh."""
    now = time.time()
    session.permanent = True
    session["signed_in_at"] = session["seen_at"] = session["fresh_at"] = now
    session.pop("restored", None)  # the password was given: no longer hangs on remember-me
    keep_chosen_language()


def keep_chosen_language() -> None:
    """A language picked before signing in (on the sign-in page) becomes the person's own."""
    chosen = session.get("locale")
    if chosen in current_app.config["LANGUAGES"] and current_user.locale != chosen:
        current_user.locale = chosen
        db.session.commit()


def remember_restores(user, now) -> bool:
    """May a remember-me cookie bring ``user`` back? Decided on the server, not by the cookie:
    until the remember-me period ends, and only if the account was active within the idle timeout."""
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    return (
        user.remember_until is not None
        and now < user.remember_until
        and user.seen_at is not None
        and now - user.seen_at <= idle
    )


def _end_session():
    logout_user()
    session.clear()
    if request.path.startswith("/api/"):
        return None  # the API answers 401 itself
    flash(_("Your session has ended. Please sign in again."), "info")
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))


def enforce_session_lifetime():
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = time.time()
    restored = "signed_in_at" not in session or session.get("restored")
    if restored and not remember_restores(current_user, utcnow()):
        return _end_session()
    if "signed_in_at" not in session:
        # Restored from a remember-me cookie: a session, never a fresh one (no "fresh_at").
        session.permanent = True
        session["signed_in_at"] = session["seen_at"] = now
        session["restored"] = True
    idle = now - session.get("seen_at", now) > current_app.config["SESSION_IDLE_MINUTES"] * 60
    expired = now - session["signed_in_at"] > current_app.config["SESSION_MAX_HOURS"] * 3600
    if idle or expired:
        return _end_session()
    session["seen_at"] = now
    seen_at = current_user.seen_at
    if seen_at is None or utcnow() - seen_at >= SEEN_PRECISION:
        g.activity_of = current_user.id
    return enforce_two_factor()


def record_activity(response):
    """Keep the account's last activity (to the minute) on the server, for remember-me's idle rule.

    Written once the page is made: the commit expires what the request loaded, which
    would otherwise be read again (the user, their groups) by the page.
    """
    user_id = g.pop("activity_of", None)
    if user_id is not None:
        # The write opens its own transaction, as SQLite wants (see api.services._record_use);
        # whatever the view left uncommitted would be rolled back at teardown anyway.
        db.session.rollback()
        db.session.execute(update(User).where(User.id == user_id).values(seen_at=utcnow()))
        db.session.commit()
    return response


ENROLMENT_ENDPOINTS = {"auth.two_factor", "auth.logout", "auth.reauth", "auth.language", "health.healthz"}


def enforce_two_factor():
    """Where admins require it, admin and committee users set up 2FA before anything else."""
    if request.endpoint in ENROLMENT_ENDPOINTS or not two_factor.must_enrol(current_user):
        return None
    if request.path.startswith("/api/"):
        return None  # the API refuses such users itself, with a JSON error (api.auth)
    flash(_("Set up two-factor sign-in to continue: it is required for your role."), "info")
    return redirect(url_for("auth.two_factor"))


def signed_in_recently(max_age_minutes: int = 15) -> bool:
    """Sensitive actions (roles, webhooks, email, tokens) need a fresh sign-in (or /reauth)."""
    return time.time() - session.get("fresh_at", 0) <= max_age_minutes * 60


@login_manager.user_loader
def load_user(user_id: str):
    """The signed-in user, their groups and the install's two-factor rule, in one statement."""
    user_pk, _, token = user_id.partition(":")
    if not user_pk.isdigit() or not token:
        return None
    query = select(User, two_factor.required_column()).options(joinedload(User.groups)).where(User.id == int(user_pk))
    row = db.session.execute(query).unique().first()
    if row is None or row[0].session_token != token or not row[0].is_active:
        return None
    two_factor.note_required(row[1])
    return row[0]


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
