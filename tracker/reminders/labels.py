"""The names of channels and reminder rules, as people read them (never the stored codes)."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

CHANNEL = {"inapp": _l("In-app notification"), "email": _l("Email"), "webhook": _l("Group chat robot")}


def channel_label(channel: str) -> str:
    label = CHANNEL.get(channel)
    return str(label) if label is not None else channel


def rule_label(rule: str) -> str:
    """``before-7`` → "7 days before the deadline", ``digest`` → "Daily digest", …"""
    kind, _sep, number = rule.partition("-")
    if number.isdigit():
        days = int(number)
        if kind == "before":
            if days == 0:
                return _("On the deadline day")
            return ngettext("%(num)s day before the deadline", "%(num)s days before the deadline", days)
        if kind == "milestone":
            if days == 0:
                return _("Milestone day")
            return ngettext("%(num)s day before a milestone", "%(num)s days before a milestone", days)
    fixed = {
        "overdue": _l("Overdue (to the responsible person)"),
        "lead": _l("Overdue, escalated to the group's leads"),
        "committee": _l("Overdue, escalated to the committee"),
        "digest": _l("Daily digest"),
    }
    return str(fixed[rule]) if rule in fixed else rule
