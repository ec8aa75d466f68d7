"""Rows for deadline extensions (延期): request (owner, group lead), list, decide (committee, admin).

Rows run in order on one world per role, so a request made by an earlier row exists
for the decision rows: as the lead, request 1 (API) and 2 (page) exist and a lead may
not decide them (403); roles that could not request find no request to decide (404).
The committee's and admins' decisions are walked in tests/items/test_extensions.py.
"""

from tests.routes import ANY_OK, DENIED, LOGIN, NOT_FOUND, OK, Route, roles

UNAUTHORIZED = frozenset({401})
CREATED = frozenset({201})
FORBIDDEN = frozenset({403})
LATER = "2030-06-30"  # after any clock the suite runs at, and after the world's deadlines


def api(default, **overrides) -> dict:
    return roles(default, anon=UNAUTHORIZED, **overrides)


ROUTES = [
    Route(
        "api.create_extension_request",
        "POST",
        "/api/v1/items/{owned}/extension-requests",
        api(FORBIDDEN, lead=CREATED, member=CREATED, external=NOT_FOUND),
        json={"deadline": LATER, "reason": "材料延误"},
    ),
    Route("api.list_extension_requests", "GET", "/api/v1/extension-requests?status=pending", api(OK)),
    Route(
        "api.decide_extension_request",
        "POST",
        "/api/v1/extension-requests/1/decision",
        api(NOT_FOUND, lead=FORBIDDEN, member=FORBIDDEN),
        json={"decision": "refuse", "note": "理由不充分"},
    ),
    Route(
        "items.request_extension",
        "POST",
        "/items/{unowned}/extension-requests",
        roles(DENIED, lead=ANY_OK, external=NOT_FOUND),
        data={"extension-deadline": LATER, "extension-reason": "材料延误"},
    ),
    Route(
        "items.decide_extension",
        "POST",
        "/extension-requests/2/decision",
        roles(NOT_FOUND, lead=FORBIDDEN, anon=LOGIN),
        data={"decision-decision": "approve"},
    ),
]
