from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import permissions
from tracker.clock import utcnow
from tracker.errors import ValidationFailed
from tracker.event.services import current_event
from tracker.extensions import db
from tracker.forms import show_errors
from tracker.groups import services as group_services
from tracker.lists.queries import milestone_readiness
from tracker.milestones import services
from tracker.milestones.forms import MilestoneForm
from tracker.workdays import services as workdays
from tracker.workdays.notes import warn_if_day_off

bp = Blueprint("milestones", __name__)


@bp.route("/milestones")
@login_required
def index():
    """The timeline toward opening day, with each milestone's readiness (open and overdue items)."""
    event = current_event()
    if event is None:
        return render_template("milestones/index.html", event=None, milestones=[])
    today = event.today(utcnow())
    return render_template(
        "milestones/index.html",
        event=event,
        milestones=services.all_milestones(event),
        readiness=milestone_readiness(current_user, event.id, today),
        holidays=workdays.holidays_until(event, today),
        today=today,
        can_manage=permissions.can_manage_milestones(current_user),
    )


def _form(milestone=None) -> MilestoneForm:
    form = MilestoneForm(obj=milestone)
    groups = group_services.ordered_groups()
    form.group_id.choices = [(None, "—")] + [(g.id, f"{g.code} · {g.name}") for g in groups]
    if milestone is not None and not form.is_submitted():
        form.date_mode.data = "relative" if milestone.offset_days is not None else "fixed"
    return form


def _save(form: MilestoneForm, milestone, event):
    try:
        if milestone is None:
            milestone = services.create_milestone(form.milestone_data(), actor=current_user, event=event, now=utcnow())
        else:
            services.update_milestone(milestone, form.milestone_data(), actor=current_user, now=utcnow())
    except ValidationFailed as error:
        db.session.rollback()
        show_errors(form, error)
        return None
    db.session.commit()
    flash(_("Milestone saved."), "success")
    warn_if_day_off(milestone.date)
    return redirect(url_for("milestones.index"))


@bp.route("/milestones/new", methods=["GET", "POST"])
@login_required
def new():
    event = current_event()
    if not permissions.can_manage_milestones(current_user) or event is None:
        abort(403)
    form = _form()
    if form.validate_on_submit() and (done := _save(form, None, event)):
        return done
    status = 422 if form.errors else 200
    return render_template("milestones/form.html", form=form, milestone=None, event=event), status


@bp.route("/milestones/<int:milestone_id>/edit", methods=["GET", "POST"])
@login_required
def edit(milestone_id: int):
    milestone = services.get_milestone(milestone_id, actor=current_user)
    form = _form(milestone)
    if form.validate_on_submit() and (done := _save(form, milestone, milestone.event)):
        return done
    status = 422 if form.errors else 200
    return render_template("milestones/form.html", form=form, milestone=milestone, event=milestone.event), status
