"""Deadline extensions (延期): a request, the committee's decision, and the committee's direct change.

Once an item has a deadline, its owner or a group lead asks for a later one with a
reason; a committee reviewer or an admin approves (the deadline moves, the item's
``extensions`` count goes up) or refuses. Every step is a ledger entry written in the
same transaction as the change. Callers pass the actor and ``now`` and commit.

Races: the first decision wins by a compare-and-set on the request's status; a
request and a decision both write the item, so the later one fails its version check;
a partial unique index keeps one pending request per item. Each loser gets a Conflict.
"""

from datetime import date, datetime

from blinker import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from tracker import permissions
from tracker.auth.models import User
from tracker.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tracker.event.services import local_today
from tracker.extensions import db
from tracker.items import events, ledger, rules
from tracker.items.models import ExtensionRequest, Item

# The path a lead or member is sent to when they try to move a set deadline themselves.
API_REQUEST_PATH = "/api/v1/items/{id}/extension-requests"

# Workflow notifications subscribe here: ``kind`` is "extension_requested", "extension_approved"
# or "extension_refused"; ``recipients(kind, request)`` says who acts on it and who it affects.
signals = Namespace()
extension_event = signals.signal("extension-event")

PROBLEMS = {
    "finished": _l("This item is closed or cancelled: its deadline cannot be extended."),
    "no_deadline": _l("This item has no deadline yet; its group lead sets one on the edit page."),
    "required": _l("Required."),
    "before_today": _l("The new deadline cannot be before today."),
    "not_later": _l("The new deadline must be later than the current one."),
}


LOCKED = _l("The deadline is set: only the committee moves it. Request an extension (延期申请) on the item page.")


class DeadlineLocked(ValidationFailed):
    """A lead or member tried to move a set deadline directly; they must request an extension."""

    def __init__(self, item_id: int):
        super().__init__(_l("Please correct the marked fields."), {"deadline": LOCKED})
        self.item_id = item_id


# --- reading -----------------------------------------------------------------


def pending_request(item: Item) -> ExtensionRequest | None:
    return db.session.scalars(
        select(ExtensionRequest).where(ExtensionRequest.item_id == item.id, ExtensionRequest.status == "pending")
    ).first()


def visible_requests(actor, status: str | None = None, item_id: int | None = None) -> Select:
    """Requests on the items the actor may read, oldest first (the order they wait in)."""
    query = select(ExtensionRequest).join(Item, Item.id == ExtensionRequest.item_id)
    query = permissions.visible_items(query, actor, Item)
    if status is not None:
        query = query.where(ExtensionRequest.status == status)
    if item_id is not None:
        query = query.where(ExtensionRequest.item_id == item_id)
    options = (
        selectinload(ExtensionRequest.requested_by),
        selectinload(ExtensionRequest.decided_by),
        selectinload(ExtensionRequest.item),
    )
    return query.options(*options).order_by(ExtensionRequest.created_at, ExtensionRequest.id)


def pending_for(actor, limit: int = 50) -> list[ExtensionRequest]:
    """What waits on this reviewer's decision, oldest first; nothing for those who do not decide."""
    if actor.role not in permissions.OVERSIGHT:
        return []
    rows = db.session.scalars(visible_requests(actor, "pending").limit(limit)).all()
    return [r for r in rows if permissions.can_decide_extension(actor, r.item, r)]


def get_visible_request(request_id: int, *, actor) -> ExtensionRequest:
    if not 0 < request_id < 2**31:
        raise NotFound(_l("No such extension request."))
    found = db.session.scalars(visible_requests(actor).where(ExtensionRequest.id == request_id)).first()
    if found is None:
        raise NotFound(_l("No such extension request."))
    return found


# --- the direct change: a rule for every door (form, API, spreadsheet import) ---------


def direct_change_problem(actor, item: Item | None, new_deadline: date | None) -> str | None:
    """Why ``actor`` may not set ``item``'s deadline to ``new_deadline`` directly, or None if they may.

    For the spreadsheet importer (a row error) as much as for the item form; ``item`` is
    None for a row that creates an item.
    """
    if item is None or new_deadline == item.deadline or permissions.can_change_deadline_directly(actor, item):
        return None
    return str(
        _l(
            "The deadline is set: only the committee moves it. Request an extension: POST %(path)s.",
            path=API_REQUEST_PATH.format(id=item.id),
        )
    )


def check_direct_change(item: Item, clean: dict, *, actor) -> None:
    if "deadline" in clean and clean["deadline"] != item.deadline:
        if not permissions.can_change_deadline_directly(actor, item):
            raise DeadlineLocked(item.id)


def deadline_moved(item: Item, old: date | None, new: date | None, *, actor, now: datetime, reason: str) -> None:
    """After a direct change (committee or admin): keep the first deadline, count a later one as an extension."""
    if item.original_deadline is None:
        item.original_deadline = old or new
    if rules.counts_as_extension(old, new):
        item.extensions = (item.extensions or 0) + 1
        db.session.add(
            ExtensionRequest(
                item_id=item.id,
                requested_by_id=actor.id,
                created_at=now,
                from_deadline=old,
                to_deadline=new,
                reason=reason,
                status="approved",
                is_direct=True,
                decided_by_id=actor.id,
                decided_at=now,
            )
        )


# --- request and decision ----------------------------------------------------


def _invalid(problems: dict[str, str]) -> ValidationFailed:
    if "item" in problems:
        return ValidationFailed(PROBLEMS[problems["item"]], {"deadline": PROBLEMS[problems["item"]]})
    fields = {name: PROBLEMS[code] for name, code in problems.items()}
    return ValidationFailed(_l("Please correct the marked fields."), fields)


def _flush(item: Item, message) -> None:
    """Flush the item's version check and the pending-request index; losing either is a Conflict."""
    item_id = item.id
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        current = db.session.scalar(select(Item.version).where(Item.id == item_id))
        raise Conflict(message, current or 0) from None


def request_extension(item: Item, *, actor, now: datetime, deadline: date | None, reason: str) -> ExtensionRequest:
    if not permissions.can_request_extension(actor, item):
        raise PermissionDenied(_l("Only the responsible person or a lead of the group may request an extension."))
    reason = (reason or "").strip()
    if len(reason) > rules.EXTENSION_REASON_LIMIT:
        raise ValidationFailed(
            _l("Please correct the marked fields."),
            {"reason": _l("At most %(n)s characters.", n=rules.EXTENSION_REASON_LIMIT)},
        )
    problems = rules.extension_request_problems(item.status, item.deadline, deadline, local_today(now), reason)
    if problems:
        raise _invalid(problems)
    if pending_request(item) is not None:
        raise Conflict(_l("An extension request for this item is already waiting for a decision."), item.version)
    request = ExtensionRequest(
        item_id=item.id,
        requested_by_id=actor.id,
        created_at=now,
        from_deadline=item.deadline,
        to_deadline=deadline,
        reason=reason,
        status="pending",
    )
    db.session.add(request)
    pending_exists = _l("An extension request for this item is already waiting for a decision.")
    _flush(item, pending_exists)  # a second request sent at the same moment loses here, on the unique index
    ledger.append(
        item,
        "extension_requested",
        actor=actor,
        now=now,
        field="deadline",
        before=item.deadline,
        after=deadline,
        note=reason,
    )
    item.updated_at = now  # a new item version: a decision made on the old one loses
    _flush(item, pending_exists)
    _notify("extension_requested", request, actor=actor, now=now)
    return request


def decide(request: ExtensionRequest, *, actor, now: datetime, decision: str, note: str = "") -> ExtensionRequest:
    """Approve (the deadline moves, the count goes up) or refuse; the first decision wins."""
    item = request.item
    if not permissions.can_decide_extension(actor, item, request):
        raise PermissionDenied(_l("Only the committee decides extension requests, and never their own."))
    note = (note or "").strip()
    errors = {}
    if decision not in rules.EXTENSION_DECISIONS:
        errors["decision"] = _l("Approve or refuse.")
    if decision == "refuse" and not note:
        errors["note"] = _l("Say why the request is refused.")
    if len(note) > rules.NOTE_LIMIT:
        errors["note"] = _l("At most %(n)s characters.", n=rules.NOTE_LIMIT)
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    decided = _l("This request has already been decided.")
    if request.status != "pending":
        raise Conflict(decided, item.version)
    if decision == "approve":
        if item.status in rules.FINISHED_STATUSES:
            raise ValidationFailed(PROBLEMS["finished"], {"decision": PROBLEMS["finished"]})
        if item.deadline is not None and request.to_deadline <= item.deadline:
            message = _l("The deadline has moved since this request; it no longer extends it. Refuse it.")
            raise ValidationFailed(message, {"decision": message})
    status = "approved" if decision == "approve" else "refused"
    claimed = db.session.execute(
        update(ExtensionRequest)
        .where(ExtensionRequest.id == request.id, ExtensionRequest.status == "pending")
        .values(status=status, decided_by_id=actor.id, decided_at=now, note=note)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # another reviewer decided first
        db.session.rollback()
        raise Conflict(decided, db.session.scalar(select(Item.version).where(Item.id == request.item_id)) or 0)
    old = item.deadline
    ledger.append(
        item,
        f"extension_{status}",
        actor=actor,
        now=now,
        field="deadline",
        before=old,
        after=request.to_deadline,
        note=note,
    )
    if status == "approved":
        if item.original_deadline is None:
            item.original_deadline = old
        item.deadline = request.to_deadline
        item.extensions = (item.extensions or 0) + 1
    item.updated_at = now
    _flush(item, decided)
    db.session.refresh(request)
    _notify(f"extension_{status}", request, actor=actor, now=now)
    return request


# --- who hears about it -------------------------------------------------------


def recipients(kind: str, request: ExtensionRequest) -> list[User]:
    """Who acts on this step and who it affects: the reviewers for a request; the requester,
    the owner and the group's leads for a decision (for a request, the owner and leads too)."""
    item = request.item
    people: dict[int, User] = {}
    if kind == "extension_requested":
        reviewers = db.session.scalars(
            select(User).where(User.role.in_(permissions.OVERSIGHT), User.is_active_account.is_(True))
        ).all()
        people.update({u.id: u for u in reviewers})
    elif request.requested_by is not None:
        people[request.requested_by.id] = request.requested_by
    if item.owner is not None:
        people[item.owner.id] = item.owner
    leads = db.session.scalars(
        select(User).where(
            User.role == permissions.LEAD, User.is_active_account.is_(True), User.groups.any(id=item.group_id)
        )
    ).all()
    people.update({u.id: u for u in leads})
    actor_id = request.decided_by_id if kind != "extension_requested" else request.requested_by_id
    return [u for uid, u in sorted(people.items()) if uid != actor_id and u.is_active]


def _notify(kind: str, request: ExtensionRequest, *, actor, now: datetime) -> None:
    """The one place extension steps announce themselves, inside the caller's transaction."""
    extension_event.send(request, kind=kind, actor=actor, now=now)
    events.extension_step(request, kind, actor=actor, now=now)
