"""The wall chart (挂图作战): the board, its big-screen mode and the fragment that refreshes it."""

from flask import Blueprint, current_app, render_template, request
from flask_babel import get_locale
from flask_login import current_user, login_required
from markupsafe import Markup

from tracker.board import charts, services
from tracker.board.cache import cached, watch_reference_data
from tracker.clock import utcnow

bp = Blueprint("board", __name__)
bp.record_once(lambda _state: watch_reference_data())


def _render_board(scope: services.Scope | None) -> str:
    if scope is None:
        return render_template("board/_board.html", event=None, page=None)
    page = services.board_page(scope)
    return render_template(
        "board/_board.html",
        event=scope.event,
        page=page,
        progress=charts.progress_chart(page.board.groups),
        burndown=charts.burndown_chart(page.burndown, scope.today, scope.event.opening_date),
        burndown_rows=charts.weekly_rows(page.burndown, scope.today),
        burndown_start=services.ideal_start(page.burndown),
        amber_days=current_app.config["LIGHT_AMBER_DAYS"],
    )


def _fragment(now) -> Markup:
    """The rendered wall chart, cached like its data: ~400 links cost more to build than to look up."""
    # The HTML comes from an autoescaped template, so it is safe to insert as it is.
    scope = services.scope(current_user, now)
    if scope is None:
        return Markup(_render_board(None))  # noqa: S704
    key = ("html", *scope.key, str(get_locale()))
    return Markup(cached(key, lambda: _render_board(scope)))  # noqa: S704


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
