import time
from urllib.parse import urlsplit

import segno
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup

from tracker.audit import services as audit
from tracker.auth import two_factor as two_factor_rules
from tracker.auth.forms import CodeForm, EmailForm, LanguageForm, LoginForm, PasswordChangeForm, ReauthForm
from tracker.auth.services import (
    change_own_email,
    change_own_password,
    confirm_password,
    remember_for,
    sign_in,
    verify_second_factor,
)
from tracker.auth.session import recent_login_required, start_session
from tracker.clock import utcnow
from tracker.errors import ValidationFailed
from tracker.extensions import db, limiter
from tracker.forms import show_errors

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
            _fresh_session()
            target = safe_next(form.next.data, url_for("home.index"))
            if user.totp_secret:
                # Password right; the second factor decides.
                session["pending_2fa"] = {"user": user.id, "at": time.time(), "remember": form.remember.data}
                return redirect(url_for("auth.verify_code", next=target))
            _signed_in(user, form.remember.data)
            return redirect(target)
        # One message for every failure: unknown user, wrong password, cool-down.
        flash(_("Wrong username or password, or too many attempts. Please wait a moment and try again."), "error")
    return render_template("auth/login.html", form=form)


def _signed_in(user, remember: bool) -> None:
    login_user(user, remember=remember)
    start_session()
    remember_for(user, current_app.config["REMEMBER_COOKIE_DURATION"] if remember else None, now=utcnow())
    db.session.commit()


def _fresh_session() -> None:
    """A new session at sign-in: nothing planted before it survives (no fixation)."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


@bp.route("/login/verify", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def verify_code():
    """The second step of sign-in: a code from the authenticator app or a recovery code."""
    pending = session.get("pending_2fa")
    if not pending or time.time() - pending["at"] > 300:
        session.pop("pending_2fa", None)
        return redirect(url_for("auth.login"))
    form = CodeForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = verify_second_factor(pending["user"], form.code.data, now=utcnow())
        db.session.commit()
        if user is not None:
            _fresh_session()
            _signed_in(user, pending["remember"])
            return redirect(safe_next(form.next.data, url_for("home.index")))
        form.code.errors = [_("The code is not valid. Try the current code or a recovery code.")]
    return render_template("auth/verify.html", form=form), 422 if form.errors else 200


@bp.route("/account/2fa", methods=["GET", "POST"])
@login_required
@recent_login_required
def two_factor():
    """Set up or turn off two-factor sign-in for one's own account."""
    form = CodeForm()
    codes = None
    if current_user.totp_secret:
        if form.validate_on_submit() and request.form.get("disable"):
            if two_factor_rules.must_enrol_role(current_user):
                flash(_("Two-factor sign-in is required for your role."), "error")
            elif not two_factor_rules.verify(current_user, form.code.data, utcnow()):
                db.session.commit()  # a used recovery code stays used
                form.code.errors = [_("The code is not valid. Try the current code or a recovery code.")]
            else:
                two_factor_rules.disable(current_user, now=utcnow())
                db.session.commit()
                login_user(current_user._get_current_object())
                start_session()
                flash(_("Two-factor sign-in is off."), "success")
                return redirect(url_for("auth.two_factor"))
        return render_template("auth/two_factor.html", form=form, enabled=True)
    secret = session.setdefault("totp_setup_secret", two_factor_rules.new_secret())
    uri = two_factor_rules.provisioning_uri(current_user, secret)
    if form.validate_on_submit():
        step = two_factor_rules.matched_step(secret, form.code.data, utcnow())
        if step is not None:
            codes = two_factor_rules.enable(current_user, secret, step, now=utcnow())
            db.session.commit()
            session.pop("totp_setup_secret", None)
            login_user(current_user._get_current_object())
            start_session()
            return render_template("auth/two_factor.html", form=form, enabled=True, codes=codes)
        form.code.errors = [_("The code is not valid. Check the time on your phone and try again.")]
    return render_template(
        "auth/two_factor.html",
        form=form,
        enabled=False,
        secret=secret,
        uri=uri,
        qr=_qr_code(uri),
    ), 422 if form.errors else 200


def _qr_code(text: str) -> Markup:
    """The setup link as a QR code for the phone's camera: inline SVG, nothing fetched."""
    svg = segno.make(text, error="m").svg_inline(scale=5, border=4, dark="#000", light="#fff", omitsize=False)
    return Markup(svg)  # noqa: S704 (segno writes only path data from the encoded bits)


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
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@login_required
def change_password():
    """Change one's own password; every other session of this user ends."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if change_own_password(current_user, form.current.data, form.new.data, now=utcnow()):
            db.session.commit()
            login_user(current_user._get_current_object())  # this session carries the new token
            start_session()
            flash(
                _("Password changed. Your other sessions have been signed out and your API tokens revoked."), "success"
            )
            return redirect(url_for("home.index"))
        db.session.commit()  # the failure's count and audit row
        form.current.errors = [_("The current password is wrong, or too many attempts. Please wait a moment.")]
    return render_template("auth/password.html", form=form), 422 if form.errors else 200


@bp.route("/reauth", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@login_required
def reauth():
    """Confirm the password before a sensitive action; guesses count like sign-in failures."""
    form = ReauthForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        confirmed = confirm_password(current_user, form.password.data, now=utcnow(), action="reauth_failed")
        db.session.commit()
        if confirmed:
            start_session()
            return redirect(safe_next(form.next.data, url_for("home.index")))
        form.password.errors = [_("Wrong password, or too many attempts. Please wait a moment and try again.")]
    return render_template("auth/reauth.html", form=form), 422 if form.errors else 200


@bp.route("/account")
@login_required
def account():
    return render_template("auth/account.html", email_form=EmailForm(email=current_user.email))


@bp.route("/account/email", methods=["POST"])
@login_required
@recent_login_required
def change_email():
    form = EmailForm()
    if form.validate_on_submit():
        try:
            change_own_email(current_user, form.email.data, now=utcnow())
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Your email address is saved."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", email_form=form), 422
