from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

from tracker.auth.forms import LanguageForm, LoginForm
from tracker.auth.models import User
from tracker.extensions import db

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
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = db.session.scalars(
            select(User).where(func.lower(User.username) == form.username.data.strip().lower())
        ).first()
        if user is not None and user.is_active and user.check_password(form.password.data):
            locale = session.get("locale")
            session.clear()  # a fresh session at sign-in: no fixation
            if locale:
                session["locale"] = locale
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(form.next.data, url_for("home.index")))
        flash(_("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form), 200 if not form.errors else 422


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Rotating the token kills this session, copies of its cookie and remember-me cookies.
    current_user.end_sessions()
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
