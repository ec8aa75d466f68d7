"""Recording audit events. Values are cleaned so a log line can never be forged."""

from datetime import datetime

from flask import has_request_context, request

from tracker.audit.models import AuditEvent
from tracker.extensions import db

ACTIONS = (
    "login",
    "login_failed",
    "login_throttled",
    "reauth_failed",
    "logout",
    "permission_denied",
    "event_saved",
    "group_saved",
    "group_robot_saved",
    "user_saved",
    "password_changed",
    "two_factor_changed",
    "email_changed",
    "security_saved",
    "items_imported",
    "ledger_exported",
    "calendar_reset",
    "verify_override",
    "working_day_saved",
    "working_days_imported",
    "milestone_saved",
    "reminder_settings_saved",
    "delivery_resent",
    "notice_rules_saved",
    "api_token_created",
    "api_token_revoked",
)


def clean(value, limit: int = 200) -> str:
    """No control characters (no fake new lines in logs), bounded length."""
    text = "" if value is None else str(value)
    return "".join(ch if ch.isprintable() else " " for ch in text)[:limit]


def record_now(action: str, **kwargs) -> None:
    """Record in a short transaction of its own (from read-only requests such as downloads)."""
    db.session.rollback()
    record(action, **kwargs)
    db.session.commit()


def record(action: str, *, actor=None, username: str = "", target: str = "", detail: str = "", now: datetime):
    """Add an audit row to the caller's transaction (the caller commits)."""
    assert action in ACTIONS, action
    ip = request.remote_addr if has_request_context() else "cli"
    event = AuditEvent(
        at=now,
        actor_id=actor.id if actor is not None else None,
        username=clean(actor.username if actor is not None else username, 64),
        action=action,
        target=clean(target),
        ip=clean(ip, 64),
        detail=clean(detail, 2000),
    )
    db.session.add(event)
    return event
