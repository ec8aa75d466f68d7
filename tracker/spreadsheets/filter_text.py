"""The list filters an export was made with, in words: "责任单位: CG · 竞赛组织组; 状态: 整改中"."""

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import labels
from tracker.items.history import group_label, person_label
from tracker.milestones.models import Milestone


def describe_filters(filters, lang: str) -> str:
    """Each filter set on the list, named as the list's filter form names it, in ``lang``."""
    locale = "en" if lang == "en" else "zh_CN"
    described = [(key, value) for key, value in filters.as_args().items() if key != "sort"]
    if not described:  # the unfiltered list, on most pages: no need to switch languages
        return ""
    with force_locale(locale):
        return "; ".join(_describe(key, value, locale) for key, value in described)


def _describe(key: str, value, locale: str) -> str:
    if key == "group":
        group = db.session.scalars(select(WorkGroup).where(WorkGroup.code == value)).first()
        return f"{_('Work group')}: {group_label(group, locale) if group else value}"
    if key == "status":
        named = {"active": _("Not yet closed"), "counted": _("All but cancelled")}
        return f"{_('Status')}: {named.get(value) or labels.STATUS.get(value, value)}"
    if key == "key_area":
        return f"{_('Key area')}: {labels.KEY_AREA.get(value, value)}"
    if key == "severity":
        return f"{_('Severity')}: {labels.SEVERITY.get(value, value)}"
    if key == "kind":
        return f"{_('Kind')}: {labels.KIND.get(value, value)}"
    if key == "owner":
        user = db.session.scalars(select(User).where(User.username == value)).first()
        return f"{_('Responsible person')}: {person_label(user) if user else value}"
    if key == "milestone":
        milestone = db.session.get(Milestone, value)
        return f"{_('Milestone')}: {milestone.display_title(locale) if milestone else value}"
    if key == "overdue":
        return _("Overdue only")
    if key == "due_soon":
        return _("Due soon only")
    if key == "due_before":
        return f"{_('Due before')}: {value.isoformat()}"
    if key == "q":
        return f"{_('Search')}: {value}"
    return f"{key}: {value}"
