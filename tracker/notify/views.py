"""Watch buttons, per-kind notification settings, and the inbox's template helpers."""

from datetime import date, datetime

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import format_date, format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker.clock import utcnow
from tracker.errors import ValidationFailed
from tracker.event.services import local_today
from tracker.extensions import db
from tracker.items.services import get_visible_item
from tracker.notify import inbox, services
from tracker.notify.forms import KIND_LABELS, EventPreferenceForm
from tracker.outbox import rules

bp = Blueprint("notify", __name__)


@bp.app_template_global()
def inbox_sections() -> list:
    return inbox.sections(current_user, local_today(utcnow()))


@bp.app_template_global()
def waiting_text(entry) -> str:
    """ "waiting 3 days" for a wait that began, "due 30 Jun" for a deadline still ahead."""
    since = entry.since
    if isinstance(since, date) and not isinstance(since, datetime):
        return _("due %(date)s", date=format_date(since, "medium"))
    waited = format_timedelta(utcnow() - since, add_direction=False)
    return _("overdue for %(time)s", time=waited) if entry.overdue else _("waiting %(time)s", time=waited)


@bp.app_template_global()
def watching(item) -> bool:
    return current_user.is_authenticated and services.is_watching(item.id, current_user.id)


@bp.app_template_global()
def event_preference_form() -> EventPreferenceForm:
    return EventPreferenceForm(formdata=None, data=services.preferences(current_user.id))


def _set_watch(item_id: int, watching: bool):
    item = get_visible_item(item_id, actor=current_user)
    services.set_watching(item, watching, actor=current_user, now=utcnow())
    db.session.commit()
    flash(_("You now watch this item.") if watching else _("You no longer watch this item."), "success")
    return redirect(url_for("items.detail", item_id=item.id))


@bp.route("/items/<int:item_id>/watch", methods=["POST"])
@login_required
def watch(item_id: int):
    return _set_watch(item_id, True)


@bp.route("/items/<int:item_id>/unwatch", methods=["POST"])
@login_required
def unwatch(item_id: int):
    return _set_watch(item_id, False)


@bp.route("/notifications/settings/events", methods=["POST"])
@login_required
def save_preferences():
    form = EventPreferenceForm()
    modes = {kind: request.form.get(kind) for kind in rules.KINDS if request.form.get(kind)}
    if not form.validate_on_submit():
        flash(_("Please choose one option for each kind of change."), "error")
        return redirect(url_for("reminders.preferences"))
    try:
        services.save_preferences(modes, actor=current_user)
    except ValidationFailed as error:
        db.session.rollback()
        names = ", ".join(str(KIND_LABELS.get(k, k)) for k in error.fields)
        flash(_("Not saved: %(kinds)s.", kinds=names), "error")
    else:
        db.session.commit()
        flash(_("Your notification settings are saved."), "success")
    return redirect(url_for("reminders.preferences"))
