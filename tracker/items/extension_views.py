"""The item page's deadline extensions (延期): request a later deadline, approve or refuse one.

Registered on the items blueprint; a form that fails is shown again on the item page,
with what was typed, and a 422.
"""

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import permissions
from tracker.clock import utcnow
from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.forms import show_errors
from tracker.items import extensions, services
from tracker.items.forms import ExtensionDecisionForm, ExtensionRequestForm
from tracker.items.models import ExtensionRequest, Item

# Prefixed field names keep these forms apart from the progress and workflow forms on the same page.
REQUEST_PREFIX, DECISION_PREFIX = "extension", "decision"


def panel(item: Item) -> dict:
    """What the item page's extension section shows the signed-in user."""
    history = db.session.scalars(
        select(ExtensionRequest)
        .where(ExtensionRequest.item_id == item.id)
        .options(selectinload(ExtensionRequest.requested_by), selectinload(ExtensionRequest.decided_by))
        .order_by(ExtensionRequest.id.desc())
    ).all()
    pending = next((r for r in history if r.status == "pending"), None)
    return {
        "pending": pending,
        "history": [r for r in history if r.status != "pending"],
        "can_request": pending is None
        and item.deadline is not None
        and not item.is_finished
        and permissions.can_request_extension(current_user, item),
        "can_decide": pending is not None and permissions.can_decide_extension(current_user, item, pending),
        # Blank forms (not bound to whatever else this request posted); a failed post passes its own.
        "request_form": ExtensionRequestForm(formdata=None, prefix=REQUEST_PREFIX),
        "decision_form": ExtensionDecisionForm(formdata=None, prefix=DECISION_PREFIX),
    }


def pending_extensions() -> list[ExtensionRequest]:
    """The requests waiting on the signed-in reviewer, oldest first (the start page lists them)."""
    if not current_user.is_authenticated:
        return []
    return extensions.pending_for(current_user)


def _attempt(form, step) -> int | None:
    """Run one extension step; None once it is committed, else the status to answer with."""
    try:
        step()
    except ValidationFailed as error:
        db.session.rollback()
        show_errors(form, error)
        return 422
    except Conflict as error:
        db.session.rollback()
        flash(str(error.message), "error")  # said at the top of the page: its form is no longer shown
        return 409
    db.session.commit()
    return None


def register(bp: Blueprint, render_detail) -> None:
    bp.add_app_template_global(panel, "extension_panel")
    bp.add_app_template_global(pending_extensions, "pending_extensions")

    @bp.route("/items/<int:item_id>/extension-requests", methods=["POST"])
    @login_required
    def request_extension(item_id: int):
        item = services.get_visible_item(item_id, actor=current_user)
        form = ExtensionRequestForm(prefix=REQUEST_PREFIX)
        status = 422
        if form.validate_on_submit():
            status = _attempt(
                form,
                lambda: extensions.request_extension(
                    item, actor=current_user, now=utcnow(), deadline=form.deadline.data, reason=form.reason.data
                ),
            )
            if status is None:
                flash(_("Extension requested. The deadline moves when the committee approves."), "success")
                return redirect(url_for("items.detail", item_id=item_id))
        item = services.get_visible_item(item_id, actor=current_user)
        return render_detail(item, status=status, extension_form=form)

    @bp.route("/extension-requests/<int:request_id>/decision", methods=["POST"])
    @login_required
    def decide_extension(request_id: int):
        request = extensions.get_visible_request(request_id, actor=current_user)
        item_id = request.item_id
        form = ExtensionDecisionForm(prefix=DECISION_PREFIX)
        status = 422
        if form.validate_on_submit():
            status = _attempt(
                form,
                lambda: extensions.decide(
                    request, actor=current_user, now=utcnow(), decision=form.decision.data, note=form.note.data
                ),
            )
            if status is None:
                approved = form.decision.data == "approve"
                message = _("Extension approved: the deadline has moved.") if approved else _("Extension refused.")
                flash(message, "success")
                return redirect(url_for("items.detail", item_id=item_id))
        item = services.get_visible_item(item_id, actor=current_user)
        return render_detail(item, status=status, decision_form=form)
