"""The 督办 pages: the list, one notice with its steps, issuing, suggestions, the print layout, the rules."""

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker import permissions
from tracker.clock import utcnow
from tracker.errors import ValidationFailed
from tracker.event.services import current_event, local_today
from tracker.extensions import db
from tracker.forms import show_errors
from tracker.groups import services as group_services
from tracker.items import evidence
from tracker.items import services as item_services
from tracker.items.models import Item
from tracker.lists.queries import count
from tracker.notices import labels, queries, rules, services, settings
from tracker.notices.forms import (
    CloseForm,
    EscalateForm,
    InterviewForm,
    IssueForm,
    ReplyForm,
    RulesForm,
    SuggestionsForm,
)
from tracker.routing import page_number

bp = Blueprint("notices", __name__)
bp.record_once(lambda state: labels.register(state.app))

STEP_FORMS = {"reply": ReplyForm, "close": CloseForm, "escalate": EscalateForm, "interview": InterviewForm}


# --- what other pages include with one line ---------------------------------------------------


@bp.app_template_global()
def item_notices(item):
    return services.notices_of_item(item, actor=current_user)


@bp.app_template_global()
def may_issue_notice(item, notices) -> bool:
    """Whether the item page offers a new notice: a reviewer, work not finished, no notice still open."""
    return permissions.can_issue_notices(current_user) and not item.is_finished and not any(n.is_open for n in notices)


@bp.app_template_global()
def notices_awaiting_me():
    return queries.awaiting_me(current_user) if current_user.is_authenticated else []


@bp.app_template_global()
def notices_board():
    return {"groups": queries.board_notices(current_user), "red": queries.red_listed(current_user)}


@bp.app_template_global()
def notices_weekly(week):
    event = current_event()
    if event is None:
        return []
    return queries.weekly(current_user, week.monday, week.sunday, event.timezone, utcnow())


# --- pages ----------------------------------------------------------------------------------


@bp.route("/notices")
@login_required
def index():
    filters = queries.NoticeFilters.from_args(request.args)
    query = queries.filtered_notices(current_user, filters)
    page = page_number(request.args)
    per_page = current_app.config["ITEMS_PER_PAGE"]
    total = count(query)
    notices = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    groups = group_services.ordered_groups()
    return render_template(
        "notices/index.html",
        notices=notices,
        total=total,
        page=page,
        per_page=per_page,
        filters=filters,
        groups=groups,
        today=local_today(utcnow()),
        can_issue=permissions.can_issue_notices(current_user),
    )


def _render_detail(notice, forms=None, status=200):
    forms = forms or {}
    steps = []
    for step in rules.steps_from(notice.status, notice.level):
        allowed = (
            permissions.can_answer_notice(current_user, notice)
            if step in rules.ADDRESSEE_ACTIONS
            else permissions.can_decide_notice(current_user, notice)
        )
        if allowed:
            steps.append(step)
    if rules.can_interview(notice.level, notice.status, notice.interview_on is not None) and (
        permissions.can_decide_notice(current_user, notice)
    ):
        steps.append("interview")
    for step in steps:
        if step in STEP_FORMS and step not in forms:
            forms[step] = STEP_FORMS[step](formdata=None, prefix=step)
    history = db.session.scalars(
        select(services.Notice).where(services.Notice.item_id == notice.item_id).order_by(services.Notice.id)
    ).all()
    return render_template(
        "notices/detail.html",
        notice=notice,
        steps=steps,
        forms=forms,
        chain=history,
        today=local_today(utcnow()),
    ), status


@bp.route("/notices/<int:notice_id>")
@login_required
def detail(notice_id: int):
    return _render_detail(services.get_visible_notice(notice_id, actor=current_user))


@bp.route("/notices/<int:notice_id>/print")
@login_required
def print_view(notice_id: int):
    """督办通知单 on one A4 page, in the office's layout (Chinese, whatever the UI language)."""
    notice = services.get_visible_notice(notice_id, actor=current_user)
    event = current_event()
    local = event.today if event else (lambda moment: moment.date())
    return render_template(
        "notices/print.html",
        notice=notice,
        event=event,
        issued_on=local(notice.issued_at),
        acknowledged_on=local(notice.acknowledged_at) if notice.acknowledged_at else None,
    )


@bp.route("/notices/<int:notice_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge(notice_id: int):
    notice = services.get_visible_notice(notice_id, actor=current_user)
    try:
        services.acknowledge(notice, actor=current_user, now=utcnow())
    except ValidationFailed as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("notices.detail", notice_id=notice_id))
    db.session.commit()
    flash(_("Signed for %(number)s.", number=notice.number), "success")
    return redirect(url_for("notices.detail", notice_id=notice_id))


def _step_view(notice_id: int, step: str, run):
    notice = services.get_visible_notice(notice_id, actor=current_user)
    form = STEP_FORMS[step](prefix=step)
    if form.validate_on_submit():
        try:
            result = run(notice, form)
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("%(step)s: done.", step=labels.STEP[step]), "success")
            return redirect(url_for("notices.detail", notice_id=result.id))
    notice = services.get_visible_notice(notice_id, actor=current_user)
    if step in ("close", "escalate", "interview") and not permissions.can_decide_notice(current_user, notice):
        abort(403)
    if step == "reply" and not permissions.can_answer_notice(current_user, notice):
        abort(403)
    return _render_detail(notice, {step: form}, status=422)


@bp.route("/notices/<int:notice_id>/reply", methods=["POST"])
@login_required
def reply(notice_id: int):
    def run(notice, form):
        uploads = [evidence.Upload(f.filename, f.read()) for f in form.files.data or [] if getattr(f, "filename", "")]
        return services.reply(
            notice, text=form.text.data, plan=form.plan.data or "", uploads=uploads, actor=current_user, now=utcnow()
        )

    return _step_view(notice_id, "reply", run)


@bp.route("/notices/<int:notice_id>/close", methods=["POST"])
@login_required
def close(notice_id: int):
    return _step_view(
        notice_id, "close", lambda n, f: services.close(n, note=f.note.data, actor=current_user, now=utcnow())
    )


@bp.route("/notices/<int:notice_id>/escalate", methods=["POST"])
@login_required
def escalate(notice_id: int):
    return _step_view(
        notice_id,
        "escalate",
        lambda n, f: services.escalate(n, text=f.text.data, reply_by=f.reply_by.data, actor=current_user, now=utcnow()),
    )


@bp.route("/notices/<int:notice_id>/interview", methods=["POST"])
@login_required
def interview(notice_id: int):
    return _step_view(
        notice_id,
        "interview",
        lambda n, f: services.record_interview(
            n,
            on=f.on.data,
            participants=f.participants.data,
            conclusion=f.conclusion.data,
            actor=current_user,
            now=utcnow(),
        ),
    )


@bp.route("/items/<int:item_id>/notices/new", methods=["GET", "POST"])
@login_required
def issue(item_id: int):
    item = item_services.get_visible_item(item_id, actor=current_user)
    if not permissions.can_issue_notices(current_user):
        abort(403)
    form = IssueForm()
    siblings = db.session.scalars(
        permissions.visible_items(
            select(Item).where(
                Item.group_id == item.group_id, Item.id != item.id, Item.status.in_(("open", "in_progress"))
            ),
            current_user,
            Item,
        ).order_by(Item.deadline, Item.id)
    ).all()
    form.item_ids.choices = [(i.id, f"{i.code or '#' + str(i.id)} {i.title}") for i in siblings]
    if request.method == "GET":
        form.reply_by.data = local_today(utcnow()) + timedelta(days=settings.get_rules().reply_days)
    if form.validate_on_submit():
        chosen = {i.id: i for i in siblings}
        items = [item] + [chosen[i] for i in form.item_ids.data or [] if i in chosen]
        try:
            notices = services.issue(
                items,
                level=form.level.data,
                text=form.text.data,
                reply_by=form.reply_by.data,
                actor=current_user,
                now=utcnow(),
            )
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Issued %(numbers)s.", numbers=", ".join(n.number for n in notices)), "success")
            return redirect(url_for("notices.detail", notice_id=notices[0].id))
    return render_template("notices/issue.html", form=form, item=item), 422 if form.errors else 200


@bp.route("/notices/suggestions", methods=["GET", "POST"])
@login_required
def suggestions():
    """督办: what the rules suggest for each level, issued in one step by a reviewer."""
    if not permissions.can_issue_notices(current_user):
        abort(403)
    form = SuggestionsForm()
    if form.validate_on_submit():
        try:
            notices = services.issue_suggested(
                [i for i in form.item_ids.data or [] if i], actor=current_user, now=utcnow(), text=form.text.data or ""
            )
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Issued %(n)s notices.", n=len(notices)), "success")
            return redirect(url_for("notices.index", status="open"))
    found = services.suggestions(current_user, utcnow())
    by_level = {level: [s for s in found if s.level == level] for level in reversed(rules.LEVELS)}
    return render_template(
        "notices/suggestions.html",
        form=form,
        by_level=by_level,
        rules=settings.get_rules(),
        today=local_today(utcnow()),
    ), 422 if form.errors else 200


@bp.route("/admin/notices", methods=["GET", "POST"])
@login_required
def rules_settings():
    if not permissions.can_administer(current_user):
        abort(403)
    current = settings.get_rules()
    form = RulesForm(data=current.__dict__ if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            settings.save_rules(
                {name: getattr(form, name).data for name in settings.LIMITS} | {"auto_issue": form.auto_issue.data},
                actor=current_user,
                now=utcnow(),
            )
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("notices.rules_settings"))
    return render_template("notices/rules.html", form=form), 422 if form.errors else 200
