"""Rows for the weekly briefing: committee, admin and group leads (permissions.can_view_reports)."""

from tests.routes import DENIED, OK, Route, roles

REPORT_READERS = roles(DENIED, admin=OK, committee=OK, lead=OK, other_lead=OK)

ROUTES = [
    Route("reports.weekly", "GET", "/reports/weekly", REPORT_READERS),
    Route("reports.weekly", "GET", "/reports/weekly?week=2026-W22", REPORT_READERS),
    Route("reports.weekly_xlsx", "GET", "/reports/weekly.xlsx?week=2026-W22", REPORT_READERS),
]
