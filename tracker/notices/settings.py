"""The suggestion and late-reply rules, kept in the install's Setting rows (``notices.<name>``)."""

from dataclasses import fields, replace
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker import permissions
from tracker.audit import services as audit
from tracker.auth.models import Setting
from tracker.errors import PermissionDenied, ValidationFailed
from tracker.extensions import db
from tracker.notices.rules import SuggestionRules

PREFIX = "notices."
LIMITS = {
    "blue_due_days": (0, 60),
    "blue_lag": (0, 100),
    "orange_overdue_days": (0, 365),
    "red_overdue_days": (0, 365),
    "red_after_oranges": (1, 10),
    "reply_days": (0, 60),
    "lead_after_days": (0, 60),
    "committee_after_days": (0, 60),
}


def get_rules() -> SuggestionRules:
    rows = db.session.scalars(select(Setting).where(Setting.key.startswith(PREFIX))).all()
    values = {}
    names = {f.name for f in fields(SuggestionRules)}
    for row in rows:
        name = row.key.removeprefix(PREFIX)
        if name not in names:
            continue
        if name == "auto_issue":
            values[name] = row.value == "on"
        elif row.value.isdigit():
            values[name] = int(row.value)
    return replace(SuggestionRules(), **values)


def save_rules(data: dict, *, actor, now: datetime) -> SuggestionRules:
    """Admins change the rules; every number is checked against its range, all at once."""
    if not permissions.can_administer(actor):
        raise PermissionDenied(_l("Only administrators change the supervision rules."))
    errors, clean = {}, {}
    for name, (low, high) in LIMITS.items():
        value = data.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors[name] = _l("A whole number from %(low)s to %(high)s.", low=low, high=high)
        else:
            clean[name] = value
    if not errors and clean["red_overdue_days"] < clean["orange_overdue_days"]:
        errors["red_overdue_days"] = _l("Red cannot come before orange.")
    if not errors and clean["committee_after_days"] < clean["lead_after_days"]:
        errors["committee_after_days"] = _l("The committee is told after the leads, not before.")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    clean["auto_issue"] = bool(data.get("auto_issue"))
    for name, value in clean.items():
        key = PREFIX + name
        row = db.session.get(Setting, key) or Setting(key=key)
        row.value = ("on" if value else "off") if name == "auto_issue" else str(value)
        db.session.add(row)
    audit.record("notice_rules_saved", actor=actor, now=now)
    return get_rules()
