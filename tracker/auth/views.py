from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from tracker.audit import services as audit
from tracker.auth.forms import LanguageForm, LoginForm, PasswordChangeForm, ReauthForm
from tracker.auth.services import change_own_password, sign_in
from tracker.auth.session import start_session
from tracker.clock import utcnow
from tracker.extensions import db, limiter

bp = Blueprint("auth", __name__)


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths: anything with a scheme or host goes to ``default``."""
    if not target:
        return default
    parts = urlsplit(target.replace("\\", "/"))
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = sign_in(form.username.data, form.password.data, now=utcnow())
        db.session.commit()
        if user is not None:
            locale = session.get("locale")
            session.clear()  # a fresh session at sign-in: no fixation
            if locale:
                session["locale"] = locale
            login_user(user, remember=form.remember.data)
            start_session()
            return redirect(safe_next(form.next.data, url_for("home.index")))
        # One message for every failure: unknown user, wrong password, cool-down.
        flash(_("Wrong username or password, or too many attempts. Please wait a moment and try again."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Rotating the token kills this session, copies of its cookie and remember-me cookies.
    current_user.end_sessions()
    audit.record("logout", actor=current_user, now=utcnow())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.language.data
        if current_user.is_authenticated:
            current_user.locale = form.language.data
            db.session.commit()
    return redirect(safe_next(form.next.data, url_for("home.index")))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; every other session of this user ends."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if change_own_password(current_user, form.current.data, form.new.data, now=utcnow()):
            db.session.commit()
            login_user(current_user._get_current_object())  # this session carries the new token
            start_session()
            flash(_("Password changed. Your other sessions have been signed out."), "success")
            return redirect(url_for("home.index"))
        db.session.commit()  # the audit row of the failure
        form.current.errors = [_("The current password is wrong.")]
    return render_template("auth/password.html", form=form), 422 if form.errors else 200


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
def reauth():
    """Confirm the password before a sensitive action."""
    form = ReauthForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        if current_user.check_password(form.password.data):
            start_session()
            return redirect(safe_next(form.next.data, url_for("home.index")))
        form.password.errors = [_("Wrong password.")]
    return render_template("auth/reauth.html", form=form), 422 if form.errors else 200
