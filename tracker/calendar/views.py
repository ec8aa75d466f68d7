from urllib.parse import quote

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import permissions
from tracker.calendar import services
from tracker.calendar.feed import build_calendar
from tracker.clock import utcnow
from tracker.event.services import current_event
from tracker.extensions import db
from tracker.groups import services as group_services
from tracker.milestones.models import Milestone
from tracker.workdays import services as workdays

bp = Blueprint("calendar", __name__)


class ResetForm(FlaskForm):
    """Only the CSRF token: resetting takes no input."""


@bp.route("/calendar")
@login_required
def index():
    groups = [(g, services.group_calendar_url(current_user, g)) for g in services.subscribable_groups(current_user)]
    return render_template(
        "calendar/index.html",
        personal_url=services.calendar_url(current_user),
        groups=groups,
        form=ResetForm(),
    )


@bp.route("/calendar/reset", methods=["POST"])
@login_required
def reset():
    if ResetForm().validate_on_submit():
        services.reset_token(current_user, now=utcnow())
        db.session.commit()
        flash(_("Your calendar address has changed. Subscribe again with the new address."), "success")
    return redirect(url_for("calendar.index"))


def _disposition(filename: str) -> str:
    """``inline`` with the file name per RFC 6266: an ASCII fallback and the exact name as ``filename*``."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;%' else "_" for c in filename)
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _ics(body: bytes, name: str):
    headers = {
        "Content-Type": "text/calendar; charset=utf-8",
        "Content-Disposition": _disposition(f"{name}.ics"),
        "Cache-Control": "private, no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
    }
    return body, 200, headers


def _locale(user) -> str:
    event = current_event()
    return user.locale or (event.default_locale if event else "zh_CN")


def _milestones(group_id: int | None = None) -> list[Milestone]:
    event = current_event()
    if event is None:
        return []
    query = select(Milestone).where(Milestone.event_id == event.id).options(selectinload(Milestone.group))
    if group_id is not None:
        query = query.where((Milestone.group_id.is_(None)) | (Milestone.group_id == group_id))
    return db.session.scalars(query.order_by(Milestone.id)).all()


def _holidays() -> list:
    """With ``?holidays=1`` a feed also carries the holidays and 调休 days up to the Games."""
    event = current_event()
    if event is None or request.args.get("holidays") != "1":
        return []
    return workdays.holidays_until(event, event.today(utcnow()))


@bp.route("/calendar/feed/<token>.ics")
def feed(token: str):
    user = services.user_for_token(token)
    if user is None:
        abort(404)
    body = build_calendar(
        name=f"{_('Wallchart')} · {user.name}",
        items=services.personal_items(user),
        milestones=_milestones(),
        event=current_event(),
        now=utcnow(),
        locale=_locale(user),
        holidays=_holidays(),
    )
    return _ics(body, "wallchart")


@bp.route("/calendar/feed/<token>/<code>.ics")
def group_feed(token: str, code: str):
    user = services.user_for_token(token)
    group = group_services.by_code(code) if user else None
    if group is None or not permissions.can_subscribe_group_calendar(user, group.id):
        abort(404)
    body = build_calendar(
        name=f"{_('Wallchart')} · {group.code} {group.name}",
        items=services.group_items(user, group),
        milestones=_milestones(group.id),
        event=current_event(),
        now=utcnow(),
        locale=_locale(user),
        holidays=_holidays(),
    )
    return _ics(body, f"wallchart-{group.code}")
