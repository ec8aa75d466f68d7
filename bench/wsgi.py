"""The app as gunicorn serves it for the benchmark, plus a trivial endpoint to compare against.

``/bench/trivial`` runs through the same app (hooks, session loading, login) and
answers a constant: the floor every signed-in page is measured against.
``/bench/ping`` is the same without the session: the bare framework.
``/bench/board.json`` serves the board's JSON for installs without ``/api/v1/board``.
"""

from flask import jsonify
from flask_login import current_user, login_required

from tracker import create_app
from tracker.api.shapes import board_json as board_shape
from tracker.board import services as board
from tracker.clock import utcnow

app = create_app()


@app.get("/bench/trivial")
@login_required
def trivial():
    return "ok"


@app.get("/bench/ping")
def ping():
    return "ok"


@app.get("/bench/board.json")
@login_required
def board_json():
    scope = board.scope(current_user, utcnow())
    return jsonify(board_shape(board.board(scope) if scope else None))
