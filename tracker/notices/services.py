"""Every step of a notice: one function per intent, each writing the item's ledger in the same transaction.

Callers pass the actor and ``now`` and commit; nothing here reads the session user or the clock.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from tracker import permissions
from tracker.errors import NotFound, PermissionDenied, ValidationFailed
from tracker.event.services import current_event
from tracker.extensions import db
from tracker.items import evidence, ledger
from tracker.items.models import Item
from tracker.notices import notify, rules, settings
from tracker.notices.models import LEVELS, Notice, NoticeCounter

TEXT_LIMIT = 5000


def get_visible_notice(notice_id: int, *, actor) -> Notice:
    """A notice the actor may read; one on an item they may not see answers like a missing one."""
    if not 0 < notice_id < 2**31:
        raise NotFound(_l("No such notice."))
    query = permissions.visible_notices(
        select(Notice).join(Item, Item.id == Notice.item_id).where(Notice.id == notice_id), actor, Item
    )
    notice = db.session.scalars(query).first()
    if notice is None:
        raise NotFound(_l("No such notice."))
    return notice


def _text(value, name: str, errors: dict, *, required: bool = True) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        errors[name] = _l("Not valid text.")
        return ""
    if required and not value:
        errors[name] = _l("This is required.")
    elif len(value) > TEXT_LIMIT:
        errors[name] = _l("At most %(n)s characters.", n=TEXT_LIMIT)
    return value


def _check_reply_by(reply_by, today: date, errors: dict) -> None:
    if not isinstance(reply_by, date):
        errors["reply_by"] = _l("Give a reply-by date.")
    elif reply_by < today:
        errors["reply_by"] = _l("The reply-by date cannot be in the past.")


def _next_number(event_id: int, year: int) -> tuple[int, str]:
    """Take the next number of the year: an atomic increment of the counter row, which waits for
    (and so serialises with) another reviewer issuing at the same moment."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    db.session.execute(
        module.insert(NoticeCounter)
        .values(event_id=event_id, year=year, last=0)
        .on_conflict_do_nothing(index_elements=["event_id", "year"])
    )
    sequence = db.session.scalar(
        update(NoticeCounter)
        .where(NoticeCounter.event_id == event_id, NoticeCounter.year == year)
        .values(last=NoticeCounter.last + 1)
        .returning(NoticeCounter.last)
        .execution_options(synchronize_session=False)
    )
    return sequence, rules.format_number(current_app.config["NOTICE_NUMBER_PREFIX"], year, sequence)


def _record(notice: Notice, *, actor, now: datetime, before: str | None, note: str) -> None:
    ledger.append(
        notice.item,
        "notice",
        actor=actor,
        now=now,
        field=f"notice-{notice.level}",
        before=before,
        after=notice.status,
        note=f"{notice.number}: {note}" if note else notice.number,
    )


def open_notice(item: Item) -> Notice | None:
    return db.session.scalars(
        select(Notice).where(Notice.item_id == item.id, Notice.status.in_(rules.OPEN_STATUSES)).order_by(Notice.id)
    ).first()


def issue(
    items: list[Item],
    *,
    level: str,
    text: str,
    reply_by,
    actor,
    now: datetime,
    previous: Notice | None = None,
) -> list[Notice]:
    """Issue one notice per item (several items must share one responsible group)."""
    if not permissions.can_issue_notices(actor):
        raise PermissionDenied(_l("Only the committee issues supervision notices."))
    event = current_event()
    if event is None:
        raise ValidationFailed(_l("Set up the event first."))
    today = event.today(now)
    errors: dict = {}
    if level not in LEVELS:
        errors["level"] = _l("Choose a level.")
    text = _text(text, "text", errors)
    _check_reply_by(reply_by, today, errors)
    if not items:
        errors["items"] = _l("Choose at least one item.")
    elif len({i.group_id for i in items}) > 1:
        errors["items"] = _l("One notice goes to one group: choose items of the same responsible group.")
    for item in items:
        if not permissions.can_view_item(actor, item):
            raise NotFound(_l("No such item."))
        if item.is_finished:
            errors["items"] = _l("%(item)s is closed or cancelled.", item=item.code or item.title)
        elif previous is None and open_notice(item) is not None:
            errors["items"] = _l(
                "%(item)s already has an open notice: close or escalate it instead.", item=item.code or item.title
            )
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    notices = []
    for item in items:
        sequence, number = _next_number(event.id, today.year)
        notice = Notice(
            event_id=event.id,
            year=today.year,
            sequence=sequence,
            number=number,
            item=item,
            group_id=item.group_id,
            level=level,
            status="issued",
            text=text,
            reply_by=reply_by,
            issued_by_id=actor.id if actor is not None else None,
            issued_at=now,
            previous=previous,
        )
        db.session.add(notice)
        db.session.flush()
        _record(notice, actor=actor, now=now, before=None, note=text)
        notify.tell("issued", notice, notify.addressees(notice), actor=actor, now=now)
        notices.append(notice)
    return notices


def _step(notice: Notice, action: str) -> str:
    try:
        return rules.next_status(notice.status, action, notice.level)
    except rules.StepError:
        raise ValidationFailed(
            _l("This step is not possible in the notice's current state."), {"action": _l("Not possible now.")}
        ) from None


def acknowledge(notice: Notice, *, actor, now: datetime) -> Notice:
    """签收: the addressee confirms receipt (who and when)."""
    if not permissions.can_answer_notice(actor, notice):
        raise PermissionDenied(_l("Only the addressed group's leads and the responsible person sign for a notice."))
    before, notice.status = notice.status, _step(notice, "acknowledge")
    notice.acknowledged_by_id, notice.acknowledged_at = actor.id, now
    _record(notice, actor=actor, now=now, before=before, note="")
    return notice


def reply(notice: Notice, *, text: str, plan: str = "", uploads=None, actor, now: datetime) -> Notice:
    """回复: what was done, optionally a new plan and evidence files (stored on the item)."""
    if not permissions.can_answer_notice(actor, notice):
        raise PermissionDenied(_l("Only the addressed group's leads and the responsible person reply to a notice."))
    errors: dict = {}
    text = _text(text, "text", errors)
    plan = _text(plan, "plan", errors, required=False)
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    before, notice.status = notice.status, _step(notice, "reply")
    notice.reply, notice.reply_plan = text, plan or None
    notice.replied_by_id, notice.replied_at = actor.id, now
    _record(notice, actor=actor, now=now, before=before, note=text + (f"\n{plan}" if plan else ""))
    if uploads:
        evidence.attach(notice.item, uploads, actor=actor, now=now, note=notice.number)
    notify.tell("replied", notice, notify.deciders(notice), actor=actor, now=now)
    return notice


def close(notice: Notice, *, note: str, actor, now: datetime) -> Notice:
    """办结, with the committee's note."""
    if not permissions.can_decide_notice(actor, notice):
        raise PermissionDenied(_l("Only the committee closes a notice."))
    errors: dict = {}
    note = _text(note, "note", errors)
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    before, notice.status = notice.status, _step(notice, "close")
    notice.close_note, notice.closed_by_id, notice.closed_at = note, actor.id, now
    _record(notice, actor=actor, now=now, before=before, note=note)
    notify.tell("closed", notice, notify.addressees(notice), actor=actor, now=now)
    return notice


def escalate(notice: Notice, *, text: str, reply_by, actor, now: datetime) -> Notice:
    """Raise to the next level: this notice is superseded, a new one references it."""
    if not permissions.can_decide_notice(actor, notice):
        raise PermissionDenied(_l("Only the committee escalates a notice."))
    before, status = notice.status, _step(notice, "escalate")
    notice.status, notice.closed_by_id, notice.closed_at = status, actor.id, now
    db.session.flush()
    (new,) = issue(
        [notice.item],
        level=rules.NEXT_LEVEL[notice.level],
        text=text,
        reply_by=reply_by,
        actor=actor,
        now=now,
        previous=notice,
    )
    _record(notice, actor=actor, now=now, before=before, note=new.number)
    return new


def record_interview(notice: Notice, *, on, participants: str, conclusion: str, actor, now: datetime) -> Notice:
    """约谈 on a red notice: date, participants, conclusion."""
    if not permissions.can_decide_notice(actor, notice):
        raise PermissionDenied(_l("Only the committee records an interview."))
    if not rules.can_interview(notice.level, notice.status, notice.interview_on is not None):
        raise ValidationFailed(
            _l("An interview is recorded once, on a red notice."), {"action": _l("Not possible now.")}
        )
    errors: dict = {}
    if not isinstance(on, date):
        errors["on"] = _l("Give the interview's date.")
    elif on > current_event().today(now):
        errors["on"] = _l("Record an interview once it has taken place.")
    participants = _text(participants, "participants", errors)
    conclusion = _text(conclusion, "conclusion", errors)
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    notice.interview_on, notice.interview_participants, notice.interview_conclusion = on, participants, conclusion
    ledger.append(
        notice.item,
        "notice",
        actor=actor,
        now=now,
        field=f"notice-{notice.level}",
        before=notice.status,
        after="interview",
        note=f"{notice.number}: {on.isoformat()} · {participants}\n{conclusion}",
    )
    return notice


# --- suggestions -----------------------------------------------------------------------------


@dataclass
class Suggestion:
    item: Item
    level: str
    open_notice: Notice | None


def suggestions(actor, now: datetime) -> list[Suggestion]:
    """The items the rules suggest a notice for, with the level; only for those who may issue."""
    if not permissions.can_issue_notices(actor):
        raise PermissionDenied(_l("Only the committee issues supervision notices."))
    event = current_event()
    if event is None:
        return []
    today = event.today(now)
    limits = settings.get_rules()
    candidates = db.session.scalars(
        permissions.visible_items(
            select(Item).where(
                Item.event_id == event.id,
                Item.status.in_(("open", "in_progress")),
                # Every rule needs the deadline near or passed: the rest is never read.
                Item.deadline <= today + timedelta(days=limits.blue_due_days),
            ),
            actor,
            Item,
        ).order_by(Item.deadline, Item.id)
    ).all()
    ids = [i.id for i in candidates]
    open_by_item: dict[int, Notice] = {}
    oranges: dict[int, int] = {}
    if ids:
        for notice in db.session.scalars(
            select(Notice).where(Notice.item_id.in_(ids), Notice.status.in_(rules.OPEN_STATUSES))
        ):
            open_by_item[notice.item_id] = notice
        oranges = dict(
            db.session.execute(
                select(Notice.item_id, func.count())
                .where(Notice.item_id.in_(ids), Notice.level == "orange", Notice.status == "closed")
                .group_by(Notice.item_id)
            ).all()
        )
    found = []
    for item in candidates:
        current = open_by_item.get(item.id)
        level = rules.suggest_level(
            item.status,
            item.progress,
            event.today(item.created_at),
            item.deadline,
            today,
            limits,
            open_level=current.level if current else None,
            oranges=oranges.get(item.id, 0),
        )
        if level:
            found.append(Suggestion(item, level, current))
    return found


def issue_suggested(item_ids: list[int], *, actor, now: datetime, text: str = "") -> list[Notice]:
    """Issue the suggested notices in one step: a new one, or the open one escalated to the suggested level."""
    chosen = set(item_ids)
    wanted = [s for s in suggestions(actor, now) if s.item.id in chosen]
    if not wanted:
        raise ValidationFailed(
            _l("Please correct the marked fields."), {"items": _l("Choose at least one suggested item.")}
        )
    limits = settings.get_rules()
    reply_by = current_event().today(now) + timedelta(days=limits.reply_days)
    issued = []
    for suggestion in wanted:
        wording = text.strip() or str(_default_text(suggestion.level))
        notice = suggestion.open_notice
        while notice is not None and notice.level != suggestion.level:
            notice = escalate(notice, text=wording, reply_by=reply_by, actor=actor, now=now)
        if notice is None:
            notice = issue(
                [suggestion.item], level=suggestion.level, text=wording, reply_by=reply_by, actor=actor, now=now
            )[0]
        issued.append(notice)
    return issued


def _default_text(level: str):
    return {
        "blue": _l("The deadline is near and the work lags behind schedule. Please speed up and reply with your plan."),
        "orange": _l("The item is overdue. Please rectify it at once and reply with the reasons and a firm date."),
        "red": _l(
            "The item is seriously overdue and is listed for supervision. The group's lead must reply in person."
        ),
    }[level]


def notices_of_item(item: Item, *, actor) -> list[Notice]:
    if not permissions.can_view_item(actor, item):
        return []
    return db.session.scalars(
        select(Notice)
        .where(Notice.item_id == item.id)
        .options(selectinload(Notice.group), selectinload(Notice.issued_by), selectinload(Notice.acknowledged_by))
        .order_by(Notice.id.desc())
    ).all()


# Automatic issuing acts as the system: no person signs the notice (issued_by stays empty).
SYSTEM = SimpleNamespace(id=None, role=permissions.ADMIN, group_ids=frozenset(), name="system", is_active=True)


def auto_issue(now: datetime) -> list[Notice]:
    """Issue what the rules suggest, without a reviewer: only when an admin switched it on.

    Idempotent: an item with an open notice at the suggested level is not suggested again.
    """
    if not settings.get_rules().auto_issue:
        return []
    found = suggestions(SYSTEM, now)
    if not found:
        return []
    return issue_suggested([s.item.id for s in found], actor=SYSTEM, now=now)
