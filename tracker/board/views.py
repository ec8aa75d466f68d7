"""The wall chart (挂图作战): the board, its big-screen mode and the fragment that refreshes it."""

from flask import Blueprint, current_app, render_template, request
from flask_babel import get_locale
from flask_login import current_user, login_required
from markupsafe import Markup

from tracker.board import charts
from tracker.board.services import board_page, cached, ideal_start, scope_key
from tracker.clock import utcnow
from tracker.event.services import current_event

bp = Blueprint("board", __name__)


def _render_board(now) -> str:
    event = current_event()
    page = board_page(current_user, now)
    context = {"event": event, "page": page}
    if page is not None:
        amber_days = current_app.config["LIGHT_AMBER_DAYS"]
        context.update(
            progress=charts.progress_chart(page.summary["groups"]),
            burndown=charts.burndown_chart(page.burndown, page.today, event.opening_date),
            burndown_rows=charts.weekly_rows(page.burndown, page.today),
            burndown_start=ideal_start(page.burndown),
            percent_closed=charts.percent_closed,
            amber_days=amber_days,
        )
    return render_template("board/_board.html", **context)


def _fragment(now) -> Markup:
    """The rendered wall chart, cached like its data: ~400 links cost more to build than to look up."""
    # The HTML comes from an autoescaped template, so it is safe to insert as it is.
    event = current_event()
    if event is None:
        return Markup(_render_board(now))  # noqa: S704
    key = ("html", *scope_key(current_user, event, event.today(now)), str(get_locale()))
    return Markup(cached(key, lambda: _render_board(now)))  # noqa: S704


MAX_ROTATE_SECONDS = 3600


def _rotate_seconds() -> int:
    """How often the big screen turns to its next panel: ``?rotate=N`` if it is a sensible number, else the setting."""
    asked = request.args.get("rotate", "")
    if asked.isdigit() and int(asked) <= MAX_ROTATE_SECONDS:
        return int(asked)
    return int(current_app.config["SCREEN_ROTATE_SECONDS"])


def _context() -> dict:
    now = utcnow()
    screen = request.args.get("mode") == "screen"
    return {
        "fragment": _fragment(now),
        "updated_at": now,
        "screen": screen,
        "rotate_seconds": _rotate_seconds() if screen else 0,
    }


@bp.route("/board")
@login_required
def index():
    return render_template("board/index.html", **_context())


@bp.route("/board/live")
@login_required
def live():
    """The board without the page around it, for the big screen to swap in every minute."""
    return render_template("board/_live.html", **_context())
