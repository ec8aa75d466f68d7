"""HTML pages of the API area: a user's own API tokens, and the API reference for people."""

import re

from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from tracker.api import services
from tracker.api.forms import RevokeForm, TokenForm
from tracker.api.openapi import document
from tracker.auth.session import recent_login_required
from tracker.clock import utcnow
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.forms import show_errors
from tracker.i18n import is_english

bp = Blueprint("api_pages", __name__)


def _no_store(response):
    # The page may carry a new token's secret: never cache it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/tokens")
@login_required
def tokens():
    return _no_store(_render(TokenForm()))


def _render(form: TokenForm, secret: str | None = None, status: int = 200):
    body = render_template(
        "api/tokens.html",
        form=form,
        revoke_form=RevokeForm(),
        tokens=services.user_tokens(current_user),
        secret=secret,
    )
    return make_response(body, status)


@bp.route("/account/tokens", methods=["POST"])
@login_required
@recent_login_required
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _no_store(_render(form, status=422))
    try:
        _token, secret = services.create_token(current_user, form.name.data, now=utcnow())
    except ValidationFailed as error:
        db.session.rollback()
        show_errors(form, error)
        return _no_store(_render(form, status=422))
    db.session.commit()
    return _no_store(_render(TokenForm(formdata=None), secret=secret))


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    form = RevokeForm()
    if form.validate_on_submit():
        token = services.revoke_token(token_id, actor=current_user, now=utcnow())
        db.session.commit()
        flash(_("Token “%(name)s” revoked. Programs using it are refused from now on.", name=token.name), "success")
    return redirect(url_for("api_pages.tokens"))


@bp.app_template_filter("api_prose")
def api_prose(text: str | None) -> Markup:
    """The reference's prose in the reader's language, `code` spans shown as code.

    A text with no translation yet keeps its English, marked as such for screen readers.
    """
    if not text:
        return Markup("")
    translated = _(text)
    parts = re.split(r"``?([^`]+)``?", translated)
    html = Markup("").join(Markup("<code>{}</code>").format(p) if i % 2 else p for i, p in enumerate(parts))
    if translated == text and not is_english():
        return Markup('<span lang="en">{}</span>').format(html)
    return html


@bp.route("/api/docs")
def docs():
    return render_template("api/docs.html", doc=document())
