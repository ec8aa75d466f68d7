"""Rows for the working-day calendar: its admin page and its API."""

from tests.routes import ANY_OK, DENIED, OK, Route, roles
from tests.routes.api import ADMIN_WRITE, READERS

ADMIN_ONLY = roles(DENIED, admin=OK)
ADMIN_POST = roles(DENIED, admin=ANY_OK)

ROUTES = [
    Route("workdays.index", "GET", "/admin/working-days/", ADMIN_ONLY),
    Route(
        "workdays.set_day",
        "POST",
        "/admin/working-days/day",
        ADMIN_POST,
        data={"day": "2027-02-08", "working": "0", "name": "春节"},
    ),
    Route("workdays.reset_day", "POST", "/admin/working-days/day/2027-02-08/reset", ADMIN_POST),
    Route("workdays.seed", "POST", "/admin/working-days/seed", ADMIN_POST, data={"year": "2026"}),
    Route(
        "workdays.import_year",
        "POST",
        "/admin/working-days/import",
        roles(DENIED, admin=frozenset({422})),
        data={"year": "2027"},
    ),
    Route("api.working_days", "GET", "/api/v1/working-days?from=2026-01-01&to=2026-12-31", READERS),
    Route(
        "api.put_working_day",
        "PUT",
        "/api/v1/working-days/2027-02-08",
        ADMIN_WRITE,
        json={"working": False, "name": "春节"},
    ),
    Route("api.delete_working_day", "DELETE", "/api/v1/working-days/2027-02-08", ADMIN_WRITE),
]
