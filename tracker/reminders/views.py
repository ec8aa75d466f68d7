"""The bell, the notifications pages, and the admin pages for reminder rules, deliveries and robots."""

from datetime import datetime
from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from tracker import permissions
from tracker.clock import utcnow
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.forms import show_errors
from tracker.outbox.models import STATUSES
from tracker.reminders import bell, labels, services
from tracker.reminders.forms import PreferenceForm, ReminderSettingsForm
from tracker.routing import page_number

bp = Blueprint("reminders", __name__)

DELIVERY_STATUS = {
    "pending": _l("Waiting"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "skipped": _l("Skipped"),
    "failed": _l("Failed, will retry"),
    "dead": _l("Failed, gave up"),
}
PER_PAGE = 20
DELIVERIES_PER_PAGE = 50


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not permissions.can_administer(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.route("/notifications")
@login_required
def notifications():
    page = page_number(request.args)
    rows, total = services.user_notifications(current_user, page, PER_PAGE)
    rows = bell.readable(rows)
    for row in rows:
        row["created_at_dt"] = datetime.fromisoformat(row["created_at"])
    return render_template(
        "reminders/notifications.html", notifications=rows, total=total, page=page, per_page=PER_PAGE
    )


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    services.mark_read(notification_id, actor=current_user, now=utcnow())
    db.session.commit()
    return redirect(url_for("reminders.notifications", page=request.form.get("page", 1, type=int)))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def mark_all_read():
    count = services.mark_all_read(actor=current_user, now=utcnow())
    db.session.commit()
    if count:
        flash(_("All notifications marked as read."), "success")
    return redirect(url_for("reminders.notifications"))


@bp.route("/notifications/settings", methods=["GET", "POST"])
@login_required
def preferences():
    pref = services.get_preference(current_user.id)
    form = PreferenceForm(obj=pref)
    if not current_user.email:  # nothing can be sent: never show email as on
        form.email_enabled.data = False
        form.email_enabled.render_kw = {"disabled": True}
    if form.validate_on_submit():
        try:
            services.save_preference(
                actor=current_user, email_enabled=form.email_enabled.data, digest_mode=form.digest_mode.data
            )
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("reminders.preferences"))
    return render_template("reminders/preferences.html", form=form), 422 if form.errors else 200


@bp.route("/admin/reminders", methods=["GET", "POST"])
@admin_required
def settings():
    current = services.get_settings()
    form = ReminderSettingsForm(obj=current)
    if form.validate_on_submit():
        try:
            services.save_settings(form.data, actor=current_user, now=utcnow())
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Reminder rules saved."), "success")
            return redirect(url_for("reminders.settings"))
    return render_template("reminders/settings.html", form=form), 422 if form.errors else 200


@bp.route("/admin/deliveries")
@admin_required
def deliveries():
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    page = page_number(request.args)
    rows, total = services.deliveries(status, page, DELIVERIES_PER_PAGE)
    return render_template(
        "reminders/deliveries.html",
        rows=rows,
        total=total,
        page=page,
        per_page=DELIVERIES_PER_PAGE,
        status=status,
        statuses=STATUSES,
        status_labels=DELIVERY_STATUS,
        channel_label=labels.channel_label,
        rule_label=labels.rule_label,
    )


@bp.route("/admin/deliveries/<int:delivery_id>/resend", methods=["POST"])
@admin_required
def resend(delivery_id: int):
    services.resend_delivery(delivery_id, actor=current_user, now=utcnow())
    db.session.commit()
    flash(_("Delivery queued again; it goes out with the next run."), "success")
    return redirect(url_for("reminders.deliveries", status=request.form.get("status") or None))
