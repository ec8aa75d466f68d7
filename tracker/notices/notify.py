"""The one place notice steps tell people: in-app notifications in each reader's language.

Written in the step's transaction, so a step that fails tells nobody. When the workflow
notifications land (outbox rows per channel), this is the call site to move over.
"""

from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import insert, select

from tracker import permissions
from tracker.auth.models import User
from tracker.extensions import db
from tracker.notices.labels import LEVEL
from tracker.outbox.models import Notification


def addressees(notice) -> list[User]:
    """The addressed group's active leads and the item's responsible person, who may read the item."""
    leads = db.session.scalars(
        select(User).where(User.role == permissions.LEAD, User.is_active_account.is_(True))
    ).all()
    people = [u for u in leads if notice.group_id in u.group_ids]
    owner = notice.item.owner
    if owner is not None and owner.is_active and owner not in people:
        people.append(owner)
    return [u for u in people if permissions.can_view_notice(u, notice)]


def deciders(notice) -> list[User]:
    """Who closes or escalates: the issuer while active, else the whole committee."""
    issuer = notice.issued_by
    if issuer is not None and issuer.is_active and permissions.can_issue_notices(issuer):
        return [issuer]
    return db.session.scalars(
        select(User).where(User.role == permissions.COMMITTEE, User.is_active_account.is_(True))
    ).all()


def _subject(step: str, notice) -> str:
    level = str(LEVEL[notice.level])
    title = notice.item.title
    return {
        "issued": _(
            "%(level)s %(number)s: please sign for it — %(title)s", level=level, number=notice.number, title=title
        ),
        "replied": _("Reply to %(number)s received — %(title)s", number=notice.number, title=title),
        "closed": _("%(number)s closed — %(title)s", number=notice.number, title=title),
    }[step]


def tell(step: str, notice, recipients, *, actor, now: datetime) -> int:
    """One notification per recipient (never the actor themselves); returns how many."""
    rows = []
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    for user in {u.id: u for u in recipients}.values():
        if actor is not None and user.id == actor.id:
            continue
        with force_locale(user.locale or default):
            subject = _subject(step, notice)
        rows.append(
            {
                "user_id": user.id,
                "rule": f"notice_{step}",
                "item_id": notice.item_id,
                "subject": " ".join(subject.split())[:400],
                "body": "",
                "url": f"/notices/{notice.id}",
                "created_at": now,
            }
        )
    if rows:
        db.session.execute(insert(Notification), rows)
    return len(rows)
