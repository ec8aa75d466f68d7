"""Rows for the milestones timeline and its editor (committee and admin only)."""

from tests.routes import ANY_OK, DENIED, NOT_FOUND, OK, Route, roles

MANAGERS = roles(DENIED, admin=OK, committee=OK)
NEW_MILESTONE = {"title": "T-30 全要素演练", "kind": "rehearsal", "date_mode": "relative", "offset_days": "-30"}

ROUTES = [
    Route("milestones.index", "GET", "/milestones", roles(OK)),
    Route("milestones.new", "GET", "/milestones/new", MANAGERS),
    Route(
        "milestones.new", "POST", "/milestones/new", roles(DENIED, admin=ANY_OK, committee=ANY_OK), data=NEW_MILESTONE
    ),
    # No milestone in the world fixture: managers reach the lookup (404), everyone else is refused first.
    Route("milestones.edit", "GET", "/milestones/999999/edit", roles(DENIED, admin=NOT_FOUND, committee=NOT_FOUND)),
    Route(
        "milestones.edit",
        "POST",
        "/milestones/999999/edit",
        roles(DENIED, admin=NOT_FOUND, committee=NOT_FOUND),
        data=NEW_MILESTONE,
    ),
]
