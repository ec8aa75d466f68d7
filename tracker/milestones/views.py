from flask import Blueprint, render_template
from flask_login import login_required

from tracker.clock import utcnow
from tracker.event.services import current_event, local_today
from tracker.milestones.services import all_milestones

bp = Blueprint("milestones", __name__)


@bp.route("/milestones")
@login_required
def index():
    event = current_event()
    today = local_today(utcnow())
    milestones = all_milestones(event) if event else []
    return render_template("milestones/index.html", event=event, milestones=milestones, today=today)
