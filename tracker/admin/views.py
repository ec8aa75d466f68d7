"""Admin pages: the event, work groups and users. Every route is admin-only."""

from datetime import UTC
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from tracker import permissions
from tracker.admin import services
from tracker.admin.forms import ROLE_LABELS, EventForm, GroupForm, RenumberForm, SecurityForm, UserForm
from tracker.audit import services as audit
from tracker.auth import two_factor
from tracker.auth.models import User
from tracker.auth.session import recent_login_required
from tracker.clock import utcnow
from tracker.errors import ValidationFailed
from tracker.event.services import current_event
from tracker.extensions import db
from tracker.forms import show_errors
from tracker.groups.models import WorkGroup
from tracker.items import services as items
from tracker.items.renumber import renumber as renumber_item

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
    event = current_event()
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
            saved = services.save_event(event, data, now=utcnow())
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            audit.record("event_saved", actor=current_user, target=saved.name, now=utcnow())
            db.session.commit()
            flash(_("Event saved."), "success")
            return redirect(url_for("admin.event"))
    return render_template("admin/event.html", form=form), 422 if form.errors else 200


@bp.route("/groups")
def groups():
    rows = db.session.scalars(select(WorkGroup).order_by(WorkGroup.sort_order, WorkGroup.code)).all()
    return render_template("admin/groups.html", groups=rows)


@bp.route("/groups/new", methods=["GET", "POST"])
@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group(group_id: int | None = None):
    record = db.get_or_404(WorkGroup, group_id) if group_id is not None else None
    form = GroupForm(obj=record)
    if form.validate_on_submit():
        try:
            saved = services.save_group(record, form.data)
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            audit.record("group_saved", actor=current_user, target=saved.code, now=utcnow())
            db.session.commit()
            flash(_("Work group saved."), "success")
            return redirect(url_for("admin.groups"))
    return render_template("admin/group.html", form=form, group=record), 422 if form.errors else 200


@bp.route("/users")
def users():
    rows = db.session.scalars(select(User).order_by(func.lower(User.username))).all()
    return render_template("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@recent_login_required
def user(user_id: int | None = None):
    record = db.get_or_404(User, user_id) if user_id is not None else None
    form = UserForm(obj=record)
    form.group_ids.choices = [
        (g.id, f"{g.code} · {g.name}")
        for g in db.session.scalars(select(WorkGroup).order_by(WorkGroup.sort_order, WorkGroup.code))
    ]
    if request.method == "GET" and record is not None:
        form.group_ids.data = sorted(record.group_ids)
    if form.validate_on_submit():
        try:
            saved = services.save_user(record, form.data, actor=current_user, now=utcnow())
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            audit.record(
                "user_saved",
                actor=current_user,
                target=saved.username,
                detail=f"role={saved.role} groups={','.join(sorted(g.code for g in saved.groups))} "
                f"active={saved.is_active_account}",
                now=utcnow(),
            )
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
        two_factor.set_required(form.require_totp.data)
        audit.record(
            "security_saved", actor=current_user, detail=f"require_totp={form.require_totp.data}", now=utcnow()
        )
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
