"""Admin pages: the event, work groups (and their chat robots) and users. Every route is admin-only.

The pages parse forms and call the areas' own services (event, groups, auth.users), which check
permissions and write the audit row; nothing here changes a row itself.
"""

from datetime import UTC
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import permissions
from tracker.admin.forms import (
    ROLE_LABELS,
    EventForm,
    GroupForm,
    RenumberForm,
    SecurityForm,
    UserForm,
    WebhookForm,
)
from tracker.auth import two_factor
from tracker.auth import users as user_services
from tracker.auth.models import User
from tracker.auth.session import recent_login_required
from tracker.clock import utcnow
from tracker.errors import ValidationFailed
from tracker.event import services as events
from tracker.extensions import db
from tracker.forms import show_errors
from tracker.groups import robots
from tracker.groups import services as group_services
from tracker.groups.models import WorkGroup
from tracker.items import services as items
from tracker.items.renumber import renumber as renumber_item
from tracker.reminders.services import webhook_hosts

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.context_processor
def role_labels():
    return {"ROLE_LABELS": ROLE_LABELS}


@bp.app_template_global("can_renumber")
def can_renumber(item) -> bool:
    return current_user.is_authenticated and permissions.can_renumber_item(current_user, item)


@bp.before_request
@login_required
def require_admin():
    if not permissions.can_administer(current_user):
        abort(403)


@bp.route("/")
def index():
    return redirect(url_for("admin.event"))


@bp.route("/event", methods=["GET", "POST"])
def event():
    event = events.current_event()
    form = EventForm()
    if request.method == "GET" and event is not None:
        tz = ZoneInfo(event.timezone)
        form.process(obj=event)
        form.opening_at.data = event.opening_at.astimezone(tz).replace(tzinfo=None)
        form.closing_at.data = event.closing_at.astimezone(tz).replace(tzinfo=None) if event.closing_at else None
    if form.validate_on_submit():
        tz = ZoneInfo(form.timezone.data)
        data = {
            "name": form.name.data,
            "name_en": form.name_en.data,
            "host_city": form.host_city.data,
            "timezone": form.timezone.data,
            "default_locale": form.default_locale.data,
            "opening_at": form.opening_at.data.replace(tzinfo=tz).astimezone(UTC),
            "closing_at": form.closing_at.data.replace(tzinfo=tz).astimezone(UTC) if form.closing_at.data else None,
        }
        try:
            events.save_event(data, actor=current_user, now=utcnow())
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Event saved."), "success")
            return redirect(url_for("admin.event"))
    return render_template("admin/event.html", form=form), 422 if form.errors else 200


@bp.route("/groups")
def groups():
    return render_template("admin/groups.html", groups=group_services.ordered_groups())


@bp.route("/groups/new", methods=["GET", "POST"])
@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group(group_id: int | None = None):
    record = db.get_or_404(WorkGroup, group_id) if group_id is not None else None
    form = GroupForm(obj=record)
    if form.validate_on_submit():
        try:
            if record is None:
                group_services.create_group(form.data, actor=current_user, now=utcnow())
            else:
                group_services.update_group(record, form.data, actor=current_user, now=utcnow())
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Work group saved."), "success")
            return redirect(url_for("admin.groups"))
    return render_template("admin/group.html", form=form, group=record), 422 if form.errors else 200


@bp.route("/groups/<int:group_id>/webhook", methods=["GET", "POST"])
@recent_login_required
def group_webhook(group_id: int):
    group = db.get_or_404(WorkGroup, group_id)
    form = WebhookForm(webhook_format=group.webhook_format)
    if form.validate_on_submit():
        url = "" if form.remove.data else (form.webhook_url.data or group.webhook_url or "")
        try:
            group_services.save_robot(
                group,
                url=url,
                fmt=form.webhook_format.data,
                secret=form.webhook_secret.data,
                allowed_hosts=webhook_hosts(),
                actor=current_user,
                now=utcnow(),
            )
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Chat robot saved."), "success")
            return redirect(url_for("admin.group_webhook", group_id=group.id))
    return render_template(
        "admin/webhook.html", form=form, group=group, masked=robots.mask_url(group.webhook_url)
    ), 422 if form.errors else 200


@bp.route("/users")
def users():
    return render_template("admin/users.html", users=user_services.ordered_users())


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@recent_login_required
def user(user_id: int | None = None):
    record = db.get_or_404(User, user_id) if user_id is not None else None
    form = UserForm(obj=record)
    form.group_ids.choices = [(g.id, f"{g.code} · {g.name}") for g in group_services.ordered_groups()]
    if request.method == "GET" and record is not None:
        form.group_ids.data = sorted(record.group_ids)
    if form.validate_on_submit():
        try:
            user_services.save_user(record, form.data, actor=current_user, now=utcnow())
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("User saved."), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user.html", form=form, user=record), 422 if form.errors else 200


@bp.route("/security", methods=["GET", "POST"])
@recent_login_required
def security():
    form = SecurityForm()
    if request.method == "GET":
        form.require_totp.data = two_factor.is_required()
    if form.validate_on_submit():
        user_services.set_totp_required(form.require_totp.data, actor=current_user, now=utcnow())
        db.session.commit()
        flash(_("Security settings saved."), "success")
        return redirect(url_for("admin.security"))
    return render_template("admin/security.html", form=form)


@bp.route("/items/<int:item_id>/renumber", methods=["GET", "POST"])
def renumber(item_id: int):
    """Give an item another 编号 (the key imported sheets update by), with a ledger entry."""
    item = items.get_visible_item(item_id, actor=current_user)
    form = RenumberForm(code=item.code)
    if form.validate_on_submit():
        try:
            renumber_item(item, form.code.data, actor=current_user, now=utcnow(), reason=form.reason.data or "")
        except ValidationFailed as error:
            db.session.rollback()
            item = items.get_visible_item(item_id, actor=current_user)
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("The item is now %(code)s.", code=item.code), "success")
            return redirect(url_for("items.detail", item_id=item.id))
    return render_template("admin/renumber.html", form=form, item=item), 422 if form.errors else 200
