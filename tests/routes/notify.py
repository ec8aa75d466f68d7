"""Rows for watching items, per-kind notification settings, and the inbox / notification API."""

from tests.routes import ANY_OK, DENIED, OK, Route, roles
from tests.routes.api import api

# Anyone who may read an item may watch it; a confidential item of another group answers 404,
# and an external team member reads only the items assigned to them.
WATCH = roles(ANY_OK, other_lead=DENIED, other_member=DENIED, external=DENIED)

ROUTES = [
    Route("notify.watch", "POST", "/items/{confidential}/watch", WATCH),
    Route("notify.unwatch", "POST", "/items/{confidential}/unwatch", WATCH),
    Route(
        "notify.save_preferences",
        "POST",
        "/notifications/settings/events",
        roles(ANY_OK),
        data={"progress_added": "inapp", "item_assigned": "email"},
    ),
    Route("api.inbox", "GET", "/api/v1/inbox", api(OK)),
    Route("api.read_notifications", "POST", "/api/v1/notifications/read", api(OK), json={"ids": [1, 2]}),
]
