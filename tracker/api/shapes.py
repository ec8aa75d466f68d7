"""How each resource looks in JSON (PRODUCT.md, "Shapes"); openapi.py describes the same."""

from datetime import UTC, date, datetime

from tracker.board.services import Tally
from tracker.items import rules
from tracker.notify.inbox import ITEM_SECTIONS
from tracker.workdays import services as workdays


def moment(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def item_json(item, today: date) -> dict:
    return {
        "id": item.id,
        "code": item.code or None,
        "kind": item.kind,
        "title": item.title,
        "description": item.description or "",
        "source": item.source or "",
        "key_area": item.key_area,
        "severity": item.severity,
        "group": item.group.code,
        "supporting_groups": sorted(g.code for g in item.supporting_groups),
        "owner": item.owner.username if item.owner is not None else None,
        "measures": item.measures or "",
        "deadline": day(item.deadline),
        "original_deadline": day(item.original_deadline),
        "extensions": item.extensions or 0,
        "acceptance_criteria": item.acceptance_criteria or "",
        "found_on": day(item.found_on),
        "venue": item.venue or "",
        "remarks": item.remarks or "",
        "milestone": item.milestone_id,
        "confidential": bool(item.is_confidential),
        "status": item.status,
        "overdue": rules.is_overdue(item.status, item.deadline, today),
        "progress": item.progress,
        "version": item.version,
        "created_at": moment(item.created_at),
        "updated_at": moment(item.updated_at),
        "warnings": workdays.deadline_warnings(item.deadline) if item.status in rules.OPEN_STATUSES else [],
    }


def group_json(group) -> dict:
    return {
        "id": group.id,
        "code": group.code,
        "name": group.name,
        "name_en": group.name_en or "",
        "sort_order": group.sort_order,
    }


def milestone_json(milestone, today: date) -> dict:
    return {
        "id": milestone.id,
        "title": milestone.title,
        "title_en": milestone.title_en or "",
        "kind": milestone.kind,
        "date": day(milestone.date),
        "offset_days": milestone.offset_days,
        "t_label": milestone.t_label,
        "days_left": (milestone.date - today).days,
        "group": milestone.group.code if milestone.group is not None else None,
    }


def event_json(event, now: datetime) -> dict:
    return {
        "id": event.id,
        "name": event.name,
        "name_en": event.name_en or "",
        "host_city": event.host_city or "",
        "opening_at": moment(event.opening_at),
        "closing_at": moment(event.closing_at),
        "timezone": event.timezone,
        "default_locale": event.default_locale,
        "days_to_opening": event.days_to_opening(now),
        "working_days_to_opening": workdays.calendar(event).working_days_left(event.today(now), event.opening_date),
    }


def working_day_json(day, working: bool, name: str) -> dict:
    return {"date": day.isoformat(), "working": working, "name": name}


def user_json(user) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "groups": sorted(g.code for g in user.groups),
        "locale": user.locale,
    }


def entry_json(entry) -> dict:
    """A ledger entry; ``field``, ``before`` and ``after`` are as the ledger recorded them."""
    return {
        "id": entry.id,
        "item": entry.item_id,
        "kind": entry.kind,
        "author": entry.author.username if entry.author is not None else None,
        "created_at": moment(entry.created_at),
        "item_version": entry.item_version,
        "field": entry.field,
        "before": entry.before,
        "after": entry.after,
        "note": entry.note or "",
        "evidence": [
            {
                "id": e.id,
                "filename": e.filename,
                "content_type": e.content_type,
                "size": e.size,
                "sha256": e.sha256,
            }
            for e in entry.evidence
        ],
    }


def page_json(rows: list, total: int, page: int, per_page: int) -> dict:
    return {"items": rows, "total": total, "page": page, "per_page": per_page}


def inbox_json(sections, today: date) -> dict:
    """The inbox: every item section's key (empty when it does not apply), plus other sections' counts."""
    body = {key: [] for key in ITEM_SECTIONS}
    counts = {}
    for section in sections:
        counts[section.key] = section.count
        if section.key in ITEM_SECTIONS:
            body[section.key] = [
                {**item_json(e.item, today), "waiting_since": e.since.isoformat(), "reason": e.detail or None}
                for e in section.entries
            ]
    body["counts"] = counts
    return body


def extension_json(request) -> dict:
    """An extension request (延期申请): ``from`` is the deadline when asked, ``to`` the one asked for."""
    return {
        "id": request.id,
        "item": request.item_id,
        "requested_by": request.requested_by.username if request.requested_by is not None else None,
        "from": day(request.from_deadline),
        "to": day(request.to_deadline),
        "reason": request.reason or "",
        "status": request.status,
        "direct": bool(request.is_direct),
        "created_at": moment(request.created_at),
        "decided_by": request.decided_by.username if request.decided_by is not None else None,
        "decided_at": moment(request.decided_at),
        "note": request.note or "",
    }


def tally_json(tally, **extra) -> dict:
    """One row of the board (a group or all groups): counts per status, overdue, due soon, total, light."""
    return {
        **extra,
        "counts": dict(tally.counts),
        "overdue": tally.overdue,
        "due_soon": tally.due_soon,
        "total": tally.total,
        "rag": tally.rag,
    }


def board_json(board) -> dict:
    """``GET /api/v1/board`` (PRODUCT.md) from the board's aggregates; ``None`` is an install without an event."""
    if board is None:
        return {"days_to_opening": None, "groups": [], "totals": tally_json(Tally()), "milestones": []}
    return {
        "days_to_opening": board.days_to_opening,
        "groups": [tally_json(g, code=g.code, name=g.name) for g in board.groups],
        "totals": tally_json(board.totals),
        "milestones": [
            {"id": m.id, "title": m.title, "date": day(m.date), "days_left": m.days_left, "open_items": m.open_items}
            for m in board.milestones
        ],
    }
