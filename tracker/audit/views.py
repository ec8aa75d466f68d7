from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func, select

from tracker import permissions
from tracker.audit.labels import action_label
from tracker.audit.models import AuditEvent
from tracker.audit.services import ACTIONS
from tracker.extensions import db
from tracker.routing import page_number

bp = Blueprint("audit", __name__)


@bp.route("/admin/audit")
@login_required
def index():
    if not permissions.can_administer(current_user):
        abort(403)
    action = request.args.get("action", "")
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action == action)
    page = page_number(request.args)
    per_page = current_app.config["ITEMS_PER_PAGE"]
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    events = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return render_template(
        "audit/index.html",
        events=events,
        total=total,
        page=page,
        per_page=per_page,
        action=action,
        actions=ACTIONS,
        action_label=action_label,
    )
