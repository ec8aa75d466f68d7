"""Rows for the bell's pages, notification settings and the reminder admin pages."""

from tests.routes import ANY_OK, DENIED, NOT_FOUND, OK, Route, roles

ADMIN_ONLY = roles(DENIED, admin=OK)
ADMIN_POST = roles(DENIED, admin=ANY_OK)

ROUTES = [
    Route("reminders.notifications", "GET", "/notifications", roles(OK)),
    # Nobody's notification 999999 exists; someone else's answers the same way.
    Route("reminders.mark_read", "POST", "/notifications/999999/read", roles(NOT_FOUND)),
    Route("reminders.mark_all_read", "POST", "/notifications/read-all", roles(ANY_OK)),
    Route("reminders.preferences", "GET", "/notifications/settings", roles(OK)),
    Route(
        "reminders.preferences",
        "POST",
        "/notifications/settings",
        roles(ANY_OK),
        data={"email_enabled": "y", "digest_mode": "both"},
    ),
    Route("reminders.settings", "GET", "/admin/reminders", ADMIN_ONLY),
    Route(
        "reminders.settings",
        "POST",
        "/admin/reminders",
        ADMIN_POST,
        data={
            "owner_days": "7,3,1,0",
            "lead_overdue_days": "1",
            "committee_overdue_days": "3",
            "milestone_days": "7,1",
            "digest_time": "08:30",
            "digest_window_days": "7",
            "webhook_hosts": "qyapi.weixin.qq.com",
            "max_attempts": "8",
            "retry_base_seconds": "60",
        },
    ),
    Route("reminders.deliveries", "GET", "/admin/deliveries", ADMIN_ONLY),
    Route("reminders.resend", "POST", "/admin/deliveries/999999/resend", roles(DENIED, admin=NOT_FOUND)),
]
