"""The declared route table: every route × role, with the status each role must get.

Each area keeps its rows in its own module here; ``ALL`` joins them into the one
table that ``tests/app/test_route_matrix.py`` walks. A route with no row fails the suite.

A row: ``Route(endpoint, method, path, expect)`` where ``path`` is a format string
filled from the world fixture's ids (``{owned}``, ``{other_group}``, ``{confidential}``,
``{external_item}``, ``{cs}``, ``{js}``, ``{member}``, ``{milestone}`` …) and ``expect``
maps each role (plus ``"anon"``) to the HTTP status it must get. Use ``ANY_OK`` for
"200 or a redirect after success" and ``DENIED`` for "403 or 404" (a confidential item
answers 404 so it cannot be told from a missing one).
"""

from dataclasses import dataclass, field

ROLES = ("anon", "admin", "committee", "lead", "member", "other_lead", "other_member", "external")
OK = frozenset({200})
ANY_OK = frozenset({200, 201, 204, 302, 303})
DENIED = frozenset({403, 404})
NOT_FOUND = frozenset({404})
LOGIN = frozenset({302, 401})  # HTML redirects to /login; the API answers 401


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    path: str
    expect: dict
    data: dict = field(default_factory=dict)
    json: dict | None = None


def roles(default, **overrides) -> dict:
    """Expected status sets per role: ``default`` for all signed-in roles, anon must sign in."""
    table = {role: default for role in ROLES}
    table["anon"] = LOGIN
    table.update(overrides)
    return table
