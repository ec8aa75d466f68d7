"""The wall chart (挂图作战): the board, its big-screen mode and the fragment that refreshes it."""

from datetime import timedelta

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user, login_required

from tracker.board import charts
from tracker.board.services import board_page
from tracker.clock import utcnow
from tracker.event.services import current_event

bp = Blueprint("board", __name__)


def _context(screen: bool) -> dict:
    now = utcnow()
    page = board_page(current_user, now)
    context = {"event": current_event(), "page": page, "screen": screen, "updated_at": now}
    if page is not None:
        context["progress"] = charts.progress_chart(page.summary["groups"])
        context["burndown"] = charts.burndown_chart(page.burndown, page.today, current_event().opening_date)
        context["burndown_rows"] = charts.weekly_rows(page.burndown, page.today)
        context["percent_closed"] = charts.percent_closed
        context["amber_days"] = current_app.config["LIGHT_AMBER_DAYS"]
        context["due_before"] = (page.today + timedelta(days=context["amber_days"])).isoformat()
    return context


@bp.route("/board")
@login_required
def index():
    screen = request.args.get("mode") == "screen"
    return render_template("board/index.html", **_context(screen))


@bp.route("/board/live")
@login_required
def live():
    """The board without the page around it, for the big screen to swap in every minute."""
    screen = request.args.get("mode") == "screen"
    return render_template("board/_board.html", **_context(screen))
