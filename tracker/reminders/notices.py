"""Supervision notices in the reminder machinery: a reply-by date passed without a reply.

Two rules, configurable on the supervision rules page: ``notice-lead`` (the addressed
group's leads, N days after the reply-by date) and ``notice-committee`` (the committee,
M days after). Like the item escalations they are events, queued once per recipient,
notice, rule and reply-by date by one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` each;
the dedupe key carries the notice (``u7|n12|notice-lead|2026-06-05|inapp``) and the
row's ``item_id`` its item. The sender checks a row against ``late_reply_reminders``
again before delivering it. When an admin switches automatic issuing on, the sweep also
issues what the suggestion rules suggest.
"""

import re
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, true

from tracker import permissions
from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import group_membership
from tracker.notices import rules as notice_rules
from tracker.notices import services as notice_services
from tracker.notices import settings as notice_settings
from tracker.notices.models import Notice
from tracker.reminders import messages
from tracker.reminders.models import NotificationPreference as Pref

RULES = notice_rules.LATE_RULES
KEY = re.compile(r"\|n(\d+)\|")
UNANSWERED = Notice.status.in_(("issued", "acknowledged"))


def _queue(sw, source, where, rule: str, reply_by: list[date]) -> int:
    ch = sw.channels()
    key = sw.key("u", User.id, "|n", Notice.id, "|", rule, "|", Notice.reply_by)
    key = key.op("||")("|").op("||")(ch.c.name)
    wants_email = and_(User.email.is_not(None), User.email != "", Pref.email_enabled.is_not(False))
    query = (
        select(*sw.row(key, ch.c.name, rule, User.id, None, ("|i", Notice.item_id), Notice.reply_by))
        .select_from(source)
        .join(ch, true())
        .outerjoin(Pref, Pref.user_id == User.id)
        .where(
            *where,
            User.is_active_account.is_(True),
            or_(Pref.digest_mode.is_(None), Pref.digest_mode != "digest"),
            or_(ch.c.name == "inapp", wants_email),
            Notice.reply_by.in_(reply_by),
            sw.unqueued(key, ([rule], reply_by)),
        )
    )
    return sw.insert(query)


def _late_between(sw, days: int) -> list[date]:
    """The reply-by dates that became ``days`` late since the previous sweep."""
    return [sw.today - timedelta(days=days + back) for back in range(sw.catch_up + 1)]


def late_replies(sw) -> dict[str, int]:
    """Queue the late-reply reminders due in ``sw``, the sweep in progress (``sweep.Sweep``)."""
    limits = notice_settings.get_rules()
    issued = notice_services.auto_issue(sw.now) if limits.auto_issue else []
    leads = Notice.__table__.join(group_membership, group_membership.c.group_id == Notice.group_id).join(
        User, User.id == group_membership.c.user_id
    )
    lead_rows = _queue(
        sw, leads, [UNANSWERED, User.role == "lead"], RULES[0], _late_between(sw, limits.lead_after_days)
    )
    committee = Notice.__table__.join(User, User.role == "committee")
    committee_rows = _queue(sw, committee, [UNANSWERED], RULES[1], _late_between(sw, limits.committee_after_days))
    return {"notice_auto_issued": len(issued), "notice_lead": lead_rows, "notice_committee": committee_rows}


def notice_of(row) -> Notice | None:
    found = KEY.search(row.dedupe_key or "")
    return db.session.get(Notice, int(found.group(1))) if found else None


def stale_reason(row, user, today: date) -> str | None:
    """Why a queued late-reply reminder must not be sent any more (None: send it)."""
    notice = notice_of(row)
    if notice is None:
        return "notice deleted"
    due = notice_rules.late_reply_reminders(notice.status, notice.reply_by, today, notice_settings.get_rules())
    if not any(d.rule == row.rule and d.occurrence == row.local_date for d in due):
        return f"no longer due (notice {notice.status}, reply by {notice.reply_by})"
    if row.rule == "notice-lead" and not permissions.leads_group(user, notice.group_id):
        return "recipient no longer leads the addressed group"
    if row.rule == "notice-committee" and user.role != permissions.COMMITTEE:
        return "recipient is no longer on the committee"
    if not permissions.can_view_notice(user, notice):
        return "notice no longer visible to the recipient"
    return None


def message(row, today: date, *, absolute: bool) -> messages.Message:
    notice = notice_of(row)
    url = (messages.base_url() if absolute else "") + f"/notices/{notice.id}"
    title = messages.clean(notice.item.title)
    late = (today - notice.reply_by).days
    if row.rule == "notice-lead":
        subject = _("No reply to %(number)s: %(title)s", number=notice.number, title=title)
        intro = _(
            "The reply-by date of this supervision notice has passed without a reply. Please sign for it and reply."
        )
    else:
        subject = _("Escalation: no reply to %(number)s: %(title)s", number=notice.number, title=title)
        intro = _(
            "A supervision notice to %(group)s has had no reply for %(n)s days after its reply-by date.",
            group=messages.clean(notice.group.name),
            n=late,
        )
    line = messages.Line(
        title=title,
        url=url,
        deadline=notice.reply_by,
        state=_("reply was due %(date)s", date=notice.reply_by.isoformat()),
        group=messages.clean(notice.group.name),
        code=messages.clean(notice.number),
    )
    return messages.Message(subject=subject, intro=intro, lines=[line], url=url)
