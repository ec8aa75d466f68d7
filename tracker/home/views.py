from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

from tracker.clock import utcnow
from tracker.event.services import current_event, local_today
from tracker.extensions import db
from tracker.items.models import Item
from tracker.items.rules import ACTIVE_STATUSES
from tracker.items.status import item_light
from tracker.lists.queries import ItemFilters, filtered_items, overdue_clause
from tracker.milestones.services import upcoming_milestones

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    """Countdown and my work: what I own, what is late, what comes next."""
    now = utcnow()
    today = local_today(now)
    event = current_event()
    mine = filtered_items(current_user, ItemFilters(owner=current_user.username), today).where(
        Item.status.in_(ACTIVE_STATUSES)
    )
    limit = current_app.config["ITEMS_PER_PAGE"]
    my_items = db.session.scalars(mine.limit(limit)).unique().all()
    my_overdue = db.session.scalars(mine.where(overdue_clause(today)).limit(limit)).unique().all()
    group_items = []
    if current_user.role == "lead" and current_user.group_ids:
        group_query = filtered_items(current_user, ItemFilters(sort="deadline"), today).where(
            Item.group_id.in_(current_user.group_ids), Item.status.in_(ACTIVE_STATUSES)
        )
        group_items = db.session.scalars(group_query.limit(limit)).unique().all()
    return render_template(
        "home/index.html",
        event=event,
        days_to_opening=event.days_to_opening(now) if event else None,
        my_items=my_items,
        my_overdue=my_overdue,
        group_items=group_items,
        milestones=upcoming_milestones(event, today, limit=5) if event else [],
        today=today,
        light=item_light,
    )


@bp.route("/accessibility")
def accessibility():
    """The accessibility statement: public, so it can be read before signing in."""
    return render_template("accessibility.html")
