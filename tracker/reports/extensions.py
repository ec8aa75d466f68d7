"""The weekly briefing's extensions (延期): what was requested, granted and refused that week,
and the items overdue against their original deadline though an extension moved it."""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from tracker import permissions
from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items.models import ExtensionRequest, Item
from tracker.items.rules import OPEN_STATUSES
from tracker.sql_dates import as_date

LIST_LIMIT = 500


@dataclass
class ExtensionLine:
    item_id: int
    code: str | None
    title: str
    group: str
    status: str  # pending (requested), approved (granted) or refused
    is_direct: bool
    from_deadline: date | None
    to_deadline: date
    requested_by: str | None
    decided_by: str | None
    at: datetime  # when requested (requested) or decided (granted, refused)
    reason: str
    note: str


@dataclass
class LateItem:
    id: int
    code: str | None
    title: str
    group: str
    original_deadline: date
    deadline: date | None
    days_late: int  # against the original deadline


@dataclass
class ExtensionWeek:
    requested: list[ExtensionLine] = field(default_factory=list)
    granted: list[ExtensionLine] = field(default_factory=list)
    refused: list[ExtensionLine] = field(default_factory=list)
    late_against_original: list[LateItem] = field(default_factory=list)


def extension_week(actor, event, start: datetime, cut: datetime, rows, as_of: date) -> ExtensionWeek:
    """``rows`` is the report's per-item state at ``cut`` (status and deadline as they were then)."""
    requester, decider = aliased(User), aliased(User)
    requested_now = and_(ExtensionRequest.created_at >= start, ExtensionRequest.created_at < cut)
    decided_now = and_(ExtensionRequest.decided_at >= start, ExtensionRequest.decided_at < cut)
    query = (
        select(
            ExtensionRequest,
            Item.code,
            Item.title,
            WorkGroup.code,
            requester.display_name,
            requester.username,
            decider.display_name,
            decider.username,
        )
        .join(Item, Item.id == ExtensionRequest.item_id)
        .join(WorkGroup, WorkGroup.id == Item.group_id)
        .outerjoin(requester, requester.id == ExtensionRequest.requested_by_id)
        .outerjoin(decider, decider.id == ExtensionRequest.decided_by_id)
        .where(Item.event_id == event.id, or_(requested_now, decided_now))
        .order_by(ExtensionRequest.id)
        .limit(3 * LIST_LIMIT)
    )
    week = ExtensionWeek()
    found = db.session.execute(permissions.visible_items(query, actor, Item))
    for request, code, title, group, r_name, r_user, d_name, d_user in found:
        common = dict(
            item_id=request.item_id,
            code=code,
            title=title,
            group=group,
            is_direct=request.is_direct,
            from_deadline=request.from_deadline,
            to_deadline=request.to_deadline,
            requested_by=(r_name or r_user) if r_user else None,
            decided_by=(d_name or d_user) if d_user else None,
            reason=request.reason or "",
            note=request.note or "",
        )
        if not request.is_direct and start <= request.created_at < cut:
            week.requested.append(ExtensionLine(status="pending", at=request.created_at, **common))
        if request.decided_at is not None and start <= request.decided_at < cut:
            target = week.granted if request.status == "approved" else week.refused
            target.append(ExtensionLine(status=request.status, at=request.decided_at, **common))
    late = (
        select(Item.id, Item.code, Item.title, WorkGroup.code, Item.original_deadline, rows.c.deadline)
        .join(Item, Item.id == rows.c.id)
        .join(WorkGroup, WorkGroup.id == Item.group_id)
        .where(
            rows.c.status.in_(OPEN_STATUSES),
            Item.original_deadline < as_of,
            or_(rows.c.deadline.is_(None), rows.c.deadline > Item.original_deadline),
        )
        .order_by(Item.original_deadline, Item.id)
        .limit(LIST_LIMIT)
    )
    for item_id, code, title, group, original, deadline in db.session.execute(late):
        original = as_date(original)
        week.late_against_original.append(
            LateItem(item_id, code, title, group, original, as_date(deadline), (as_of - original).days)
        )
    return week
