"""Rows for the calendar page and the token-protected feeds (no session needed, none honoured)."""

from tests.routes import ANY_OK, NOT_FOUND, OK, Route, roles

ROUTES = [
    Route("calendar.index", "GET", "/calendar", roles(OK)),
    Route("calendar.reset", "POST", "/calendar/reset", roles(ANY_OK)),
    # A session is no key to a feed: without the secret every role gets 404.
    Route("calendar.feed", "GET", "/calendar/feed/{member}-forged.ics", roles(NOT_FOUND, anon=NOT_FOUND)),
    Route("calendar.group_feed", "GET", "/calendar/feed/{member}-forged/CG.ics", roles(NOT_FOUND, anon=NOT_FOUND)),
]
