"""What each audit action is called on the audit page (never the stored code)."""

from flask_babel import lazy_gettext as _l

ACTION = {
    "login": _l("Signed in"),
    "login_failed": _l("Sign-in failed"),
    "login_throttled": _l("Sign-in blocked (too many attempts)"),
    "logout": _l("Signed out"),
    "permission_denied": _l("Access refused"),
    "event_saved": _l("Event settings saved"),
    "group_saved": _l("Work group saved"),
    "user_saved": _l("User saved"),
    "password_changed": _l("Password changed"),
    "two_factor_changed": _l("Two-step sign-in changed"),
    "security_saved": _l("Security settings saved"),
    "items_imported": _l("Items imported"),
    "ledger_exported": _l("Ledger exported"),
    "calendar_reset": _l("Calendar link renewed"),
    "group_robot_saved": _l("Chat robot saved"),
    "milestone_saved": _l("Milestone saved"),
    "reminder_settings_saved": _l("Reminder rules saved"),
    "delivery_resent": _l("Delivery queued again"),
    "notice_rules_saved": _l("Supervision rules saved"),
    "api_token_created": _l("API token created"),
    "api_token_revoked": _l("API token revoked"),
}


def action_label(action: str) -> str:
    """The action's name; an action added without a name yet shows as words, not as a code."""
    label = ACTION.get(action)
    return str(label) if label is not None else action.replace("_", " ").capitalize()
