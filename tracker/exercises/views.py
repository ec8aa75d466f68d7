"""Exercise pages: plan, record on site (phone, flaky network), findings review, report."""

from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker import permissions
from tracker.auth.models import User
from tracker.clock import utcnow
from tracker.errors import DomainError, ValidationFailed
from tracker.event.services import current_event
from tracker.exercises import services, workbook
from tracker.exercises.forms import KIND_LABELS, RESULT_LABELS, ExerciseForm
from tracker.extensions import db
from tracker.forms import show_errors
from tracker.groups import services as group_services
from tracker.items import evidence
from tracker.items.models import SEVERITIES
from tracker.milestones.models import Milestone
from tracker.milestones.services import all_milestones
from tracker.routing import parse_id

bp = Blueprint("exercises", __name__)


@bp.app_context_processor
def exercise_labels():
    return {
        "EXERCISE_KIND": KIND_LABELS,
        "CHECK_RESULT": RESULT_LABELS,
        "exercise_closure_by_milestone": _closure_by_milestone,
        "exercises_held": lambda start, end: services.held_between(current_user, start, end),
        "exercise_origin": services.origin_of,
    }


def _closure_by_milestone(milestones) -> dict:
    """{milestone id: (closed, total)} exercise findings, one query for the whole milestones page."""
    ids = [m.id for m in milestones]
    return services.closure(current_user, milestone_ids=ids) if ids else {}


def _groups():
    return group_services.ordered_groups()


@bp.route("/exercises")
@login_required
def index():
    rows = db.session.scalars(services.visible_exercises(current_user)).all()
    closure = services.closure(current_user, exercise_ids=[e.id for e in rows])
    can_plan = permissions.may_create_items(current_user)
    return render_template(
        "exercises/index.html",
        exercises=rows,
        closure=closure,
        can_plan=can_plan,
        can_manage_checklists=permissions.can_manage_checklists(current_user),
    )


def _plan_form() -> ExerciseForm:
    form = ExerciseForm()
    groups = [g for g in _groups() if permissions.can_plan_exercise(current_user, g.id)]
    form.group_id.choices = [(g.id, f"{g.code} · {g.name}") for g in groups]
    event = current_event()
    milestones = all_milestones(event) if event else []
    form.milestone_id.choices = [(None, "—")] + [(m.id, f"{m.t_label} · {m.title}") for m in milestones]
    templates = services.all_templates()
    form.template_id.choices = [(None, _("No checklist"))] + [(t.id, f"{t.name} (v{t.version})") for t in templates]
    return form


@bp.route("/exercises/new", methods=["GET", "POST"])
@login_required
def new():
    if not permissions.may_create_items(current_user):
        abort(403)
    services.install_shipped(now=utcnow())  # the shipped checklists are there to choose from
    db.session.commit()
    form = _plan_form()
    if form.validate_on_submit():
        try:
            exercise = services.plan_exercise(
                form.exercise_data(services.parse_participants), actor=current_user, now=utcnow()
            )
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Exercise planned."), "success")
            return redirect(url_for("exercises.show", exercise_id=exercise.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("exercises/form.html", form=form), status


def _report_context(exercise) -> dict:
    closed, total = services.closure(current_user, exercise_ids=[exercise.id]).get(exercise.id, (0, 0))
    findings = db.session.scalars(services.finding_items(current_user, exercise=exercise)).all()
    return {
        "exercise": exercise,
        "sections": services.sections_summary(exercise),
        "findings": findings,
        "closed": closed,
        "total": total,
        "share": services.rules.closed_share(closed, total),
    }


@bp.route("/exercises/<int:exercise_id>")
@login_required
def show(exercise_id: int):
    exercise = services.get_exercise(exercise_id, actor=current_user)
    return render_template(
        "exercises/show.html",
        can_record=permissions.can_record_exercise(current_user, exercise),
        can_raise=permissions.can_plan_exercise(current_user, exercise.group_id),
        pending=len(services.proposed_findings(exercise)),
        **_report_context(exercise),
    )


@bp.route("/exercises/<int:exercise_id>/report")
@login_required
def report(exercise_id: int):
    exercise = services.get_exercise(exercise_id, actor=current_user)
    return render_template("exercises/report.html", **_report_context(exercise))


@bp.route("/exercises/<int:exercise_id>/findings/list")
@login_required
def finding_list(exercise_id: int):
    """The items behind the report's numbers: all findings, or only the closed / still open ones."""
    exercise = services.get_exercise(exercise_id, actor=current_user)
    closed = {"1": True, "0": False}.get(request.args.get("closed"))
    rows = db.session.scalars(services.finding_items(current_user, exercise=exercise, closed=closed)).all()
    return render_template("exercises/finding_list.html", exercise=exercise, findings=rows, closed=closed)


@bp.route("/milestones/<int:milestone_id>/findings")
@login_required
def milestone_findings(milestone_id: int):
    """The items behind a milestone's "closed X of Y": findings of every exercise tied to it."""
    milestone = db.session.get(Milestone, milestone_id) if milestone_id else None
    if milestone is None:
        abort(404)
    closed = {"1": True, "0": False}.get(request.args.get("closed"))
    rows = db.session.scalars(services.finding_items(current_user, milestone_id=milestone.id, closed=closed)).all()
    return render_template("exercises/finding_list.html", milestone=milestone, findings=rows, closed=closed)


@bp.route("/exercises/<int:exercise_id>/checklist")
@login_required
def checklist(exercise_id: int):
    exercise = services.get_exercise(exercise_id, actor=current_user)
    if not permissions.can_record_exercise(current_user, exercise):
        abort(403)
    return render_template("exercises/checklist.html", exercise=exercise)


@bp.route("/exercises/<int:exercise_id>/checks/<int:check_id>", methods=["POST", "PUT"])
@login_required
def record(exercise_id: int, check_id: int):
    """One answer. PUT (from the page's script, JSON) answers JSON; the plain form POST redirects back."""
    exercise = services.get_exercise(exercise_id, actor=current_user)
    body = request.get_json(silent=True) if request.method == "PUT" else request.form
    if not isinstance(body, dict) and not hasattr(body, "get"):
        return jsonify(error={"code": "invalid_json", "message": _("Send a JSON object.")}), 400
    values = {k: body.get(k) for k in ("result", "value", "note")}
    if any(v is not None and not isinstance(v, str) for v in values.values()):
        return jsonify(error={"code": "validation_failed", "message": _("Send text values.")}), 422
    uploads = [
        evidence.Upload(f.filename or "photo", f.read(current_app.config["EVIDENCE_MAX_BYTES"] + 1))
        for f in request.files.getlist("photos")
        if f and f.filename
    ]
    try:
        check, _changed = services.record_check(exercise, check_id, actor=current_user, now=utcnow(), **values)
        if uploads:
            services.add_photos(exercise, check_id, uploads, actor=current_user, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        if request.method == "PUT":
            fields = {k: str(v) for k, v in error.fields.items()}
            return jsonify(error={"code": error.code, "message": str(error.message), "fields": fields}), error.status
        if error.status != 422:
            raise
        flash(" ".join(str(v) for v in error.fields.values()) or str(error.message), "error")
        return redirect(url_for("exercises.checklist", exercise_id=exercise.id, _anchor=f"check-{check_id}"))
    db.session.commit()
    if request.method == "PUT":
        return jsonify(id=check.id, result=check.result, value=check.value, note=check.note)
    flash(_("Answer saved."), "success")
    return redirect(url_for("exercises.checklist", exercise_id=exercise.id, _anchor=f"check-{check_id}"))


@bp.route("/exercises/<int:exercise_id>/free-findings", methods=["POST"])
@login_required
def free_finding(exercise_id: int):
    """Something seen on site that no check point covers; it joins the failed checks for review."""
    exercise = services.get_exercise(exercise_id, actor=current_user)
    try:
        services.add_free_finding(
            exercise,
            actor=current_user,
            now=utcnow(),
            text=request.form.get("text", ""),
            note=request.form.get("note", ""),
        )
    except ValidationFailed as error:
        db.session.rollback()
        flash(" ".join(str(v) for v in error.fields.values()) or str(error.message), "error")
        return render_template("exercises/checklist.html", exercise=exercise, free=request.form), 422
    db.session.commit()
    flash(_("Finding recorded."), "success")
    return redirect(url_for("exercises.checklist", exercise_id=exercise.id, _anchor="free-finding"))


def _owners():
    query = select(User).where(User.is_active_account.is_(True), User.role != permissions.ADMIN).order_by(User.username)
    return db.session.scalars(query).all()


def _finding_rows(form, proposed) -> list[dict]:
    rows = []
    for row in proposed:
        cid = row["check"].id
        if not form.get(f"pick-{cid}"):
            continue
        deadline = form.get(f"deadline-{cid}") or ""
        try:
            deadline = date.fromisoformat(deadline) if deadline else None
        except ValueError:
            deadline = "invalid"
        rows.append(
            {
                "check_id": cid,
                "group_id": parse_id(form.get(f"group-{cid}")),
                "owner_id": parse_id(form.get(f"owner-{cid}")),
                "deadline": deadline,
                "severity": form.get(f"severity-{cid}") or "medium",
            }
        )
    return rows


@bp.route("/exercises/<int:exercise_id>/findings", methods=["GET", "POST"])
@login_required
def findings(exercise_id: int):
    """The review table: failed checks with group, owner and deadline, created as items in one step."""
    exercise = services.get_exercise(exercise_id, actor=current_user)
    if not permissions.can_plan_exercise(current_user, exercise.group_id):
        abort(403)
    proposed = services.proposed_findings(exercise)
    errors = {}
    if request.method == "POST":
        try:
            created = services.raise_findings(
                exercise, _finding_rows(request.form, proposed), actor=current_user, now=utcnow()
            )
        except ValidationFailed as error:
            db.session.rollback()
            errors = {k: str(v) for k, v in error.fields.items()} or {"": str(error.message)}
        else:
            db.session.commit()
            flash(_("%(n)s problem-list items created.", n=len(created)), "success")
            return redirect(url_for("exercises.show", exercise_id=exercise.id))
    return render_template(
        "exercises/findings.html",
        exercise=exercise,
        proposed=proposed,
        groups=_groups(),
        owners=_owners(),
        severities=SEVERITIES,
        errors=errors,
        form=request.form,
    ), (422 if errors else 200)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/exercises/checklists", methods=["GET", "POST"])
@login_required
def checklists():
    """Checklist templates: the shipped ones and those brought as xlsx (a new version each time)."""
    if not permissions.can_manage_checklists(current_user):
        abort(403)
    services.install_shipped(now=utcnow())
    db.session.commit()
    errors = {}
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise ValidationFailed(_("Choose a file."), {"file": _("Choose a file.")})
            template = workbook.import_template(upload.read(workbook.MAX_BYTES + 1), actor=current_user, now=utcnow())
        except ValidationFailed as error:
            db.session.rollback()
            errors = {k: str(v) for k, v in error.fields.items()} or {"file": str(error.message)}
        else:
            db.session.commit()
            flash(_("Checklist %(name)s imported.", name=template.name), "success")
            return redirect(url_for("exercises.checklists"))
    templates = services.all_templates()
    return render_template("exercises/checklists.html", templates=templates, errors=errors), (422 if errors else 200)


@bp.route("/exercises/checklists/<int:template_id>.xlsx")
@login_required
def checklist_xlsx(template_id: int):
    if not permissions.can_manage_checklists(current_user):
        abort(403)
    template = services.get_template(template_id)
    name = f"checklist-{template.code}-v{template.version}.xlsx"
    return Response(
        workbook.export_template(template),
        mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
