"""Rows for the wall chart: every signed-in user sees it (counts follow their visibility)."""

from tests.routes import OK, Route, roles

ROUTES = [
    Route("board.index", "GET", "/board", roles(OK)),
    Route("board.index", "GET", "/board?mode=screen", roles(OK)),
    Route("board.live", "GET", "/board/live?mode=screen", roles(OK)),
]
