"""Everything that changes an item: one function per user intent, each writing the ledger.

Callers pass the actor and ``now``; nothing here reads the session user or the
clock. Callers commit.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from tracker import permissions
from tracker.auth.models import User
from tracker.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tracker.event.services import current_event
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import codes, duties, events, evidence, extensions, history, ledger, rules
from tracker.items.models import KEY_AREAS, KINDS, SEVERITIES, Item
from tracker.milestones.models import Milestone

MULTILINE_FIELDS = frozenset({"description", "measures", "acceptance_criteria", "remarks"})
EDITABLE_FIELDS = (
    "code",
    "kind",
    "title",
    "description",
    "source",
    "key_area",
    "severity",
    "group_id",
    "supporting_group_ids",
    "owner_id",
    "measures",
    "deadline",
    "acceptance_criteria",
    "found_on",
    "venue",
    "remarks",
    "milestone_id",
    "is_confidential",
)


def get_visible_item(item_id: int, *, actor) -> Item:
    """Load an item the actor may read; "forbidden" and "missing" look the same."""
    if not 0 < item_id < 2**31:  # beyond the id column: PostgreSQL would fail, not miss
        raise NotFound(_l("No such item."))
    query = permissions.visible_items(select(Item).where(Item.id == item_id), actor, Item)
    item = db.session.scalars(query).first()
    if item is None:
        raise NotFound(_l("No such item."))
    return item


def _clean(data: dict, *, actor, item: Item | None) -> dict:
    """Check every field's value against the domain; collect all problems at once."""
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(
            _l("These fields cannot be set."), {name: _l("Not allowed.") for name in sorted(unknown)}
        )
    errors: dict = {}
    clean = dict(data)
    for name, limit in rules.TEXT_LIMITS.items():
        if name in clean:
            value = rules.normalise_text(clean[name], multiline=name in MULTILINE_FIELDS)
            if len(value) > limit:
                errors[name] = _l("At most %(n)s characters.", n=limit)
            clean[name] = value
    if "code" in clean:
        clean["code"] = clean["code"] or None
    if "title" in clean and not clean["title"]:
        errors["title"] = _l("A title is required.")
    if "kind" in clean and clean["kind"] not in KINDS:
        errors["kind"] = _l("Choose a kind.")
    if "severity" in clean and clean["severity"] not in SEVERITIES:
        errors["severity"] = _l("Choose a severity.")
    if clean.get("key_area") and clean["key_area"] not in KEY_AREAS:
        errors["key_area"] = _l("Choose a key area.")
    if "key_area" in clean:
        clean["key_area"] = clean["key_area"] or None
    for name in ("deadline", "found_on"):
        if clean.get(name) is not None and not isinstance(clean[name], date):
            errors[name] = _l("Not a valid date.")

    group_id = clean.get("group_id", item.group_id if item else None)
    group = db.session.get(WorkGroup, group_id) if isinstance(group_id, int) else None
    if group is None:
        errors["group_id"] = _l("Choose a work group.")
    elif ("group_id" in clean or item is None) and not permissions.can_move_item_to(actor, group.id):
        errors["group_id"] = _l("You can only add items to your own work groups.")
    elif item is not None and group.id != item.group_id and not permissions.can_regroup_item(actor, item):
        errors["group_id"] = _l("Only the committee can move an item to another group.")

    if "supporting_group_ids" in clean:
        ids = list(dict.fromkeys(clean["supporting_group_ids"] or []))
        # get() answers from the session's identity map: no query per row in bulk imports.
        found = [g for g in (db.session.get(WorkGroup, i) for i in ids if isinstance(i, int) and i > 0) if g]
        if len(found) != len(ids):
            errors["supporting_group_ids"] = _l("Unknown work group.")
        clean["supporting_groups"] = [g for g in found if g.id != group_id]
        del clean["supporting_group_ids"]

    if clean.get("owner_id") is not None and _owner_to_check(clean, item):
        owner = db.session.get(User, clean["owner_id"])
        supporting = [g.id for g in clean.get("supporting_groups", item.supporting_groups if item else [])]
        if owner is None or (group is not None and not permissions.can_own(owner, group.id, supporting)):
            errors["owner_id"] = _l(
                "The responsible person must be an active member of the responsible or a supporting group."
            )
    if clean.get("milestone_id") is not None and db.session.get(Milestone, clean["milestone_id"]) is None:
        errors["milestone_id"] = _l("Unknown milestone.")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    return clean


def _owner_to_check(clean: dict, item: Item | None) -> bool:
    """An owner is checked when chosen or when the groups change under them; an item kept as it
    was keeps its owner even if a rule changed since."""
    if item is None or clean["owner_id"] != item.owner_id or clean.get("group_id", item.group_id) != item.group_id:
        return True
    return "supporting_groups" in clean and {g.id for g in clean["supporting_groups"]} != {
        g.id for g in item.supporting_groups
    }


def check_new_item(data: dict, *, actor) -> None:
    """Raise what ``create_item`` would refuse, writing nothing (a form's warnings come after its errors)."""
    if not permissions.may_create_items(actor):
        raise PermissionDenied(_l("You may not create items."))
    _clean(data, actor=actor, item=None)


def create_item(data: dict, *, actor, now: datetime) -> Item:
    items, errors = create_items([data], actor=actor, now=now)
    if errors:
        raise errors[0]
    return items[0]


def create_items(rows: list[dict], *, actor, now: datetime) -> tuple[list[Item], dict[int, ValidationFailed]]:
    """Create items with the same checks one by one, but write them and their ledger in bulk.

    Returns the items, or no items and the problems by row index: all or nothing.
    """
    if not permissions.may_create_items(actor):
        raise PermissionDenied(_l("You may not create items."))
    event = current_event()
    if event is None:
        raise ValidationFailed(_l("Set up the event first."))
    items, errors = [], {}
    for index, data in enumerate(rows):
        try:
            clean = _clean(data, actor=actor, item=None)
        except ValidationFailed as error:
            errors[index] = error
            continue
        item = Item(event_id=event.id, created_by_id=actor.id, created_at=now, updated_at=now)
        for name, value in clean.items():
            setattr(item, name, value)
        item.status, item.progress = rules.Status.OPEN, 0
        item.original_deadline = item.deadline
        items.append(item)
    if errors:
        return [], errors
    errors = _assign_codes(items, event.id)
    if errors:
        return [], errors
    db.session.add_all(items)
    db.session.flush()
    ledger.append_created(items, actor=actor, now=now)
    db.session.flush()
    events.created(items, actor=actor, now=now)
    return items, {}


def _assign_codes(items: list[Item], event_id: int) -> dict[int, ValidationFailed]:
    """Keep the 编号 given if free; give the others their group's next free number."""
    ledger.lock()  # one writer at a time picks numbers
    given = [item.code for item in items if item.code]
    held = codes.holders(event_id, given)
    errors, seen = {}, set()
    for index, item in enumerate(items):
        if item.code and (item.code in held or item.code in seen):
            errors[index] = ValidationFailed(
                _l("Please correct the marked fields."),
                {"code": _l("The No. %(code)s is already used.", code=item.code)},
            )
        seen.add(item.code)
    if errors:
        return errors
    allocator = codes.Allocator(event_id, reserved=given)
    for item in items:
        if not item.code:
            item.code = allocator.next(db.session.get(WorkGroup, item.group_id).code)
    return {}


def _display(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ",".join(sorted(g.code for g in value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def update_item(item: Item, data: dict, *, actor, now: datetime, version: int, reason: str = "") -> list[str]:
    """Apply field edits made against ``version``; returns the names of changed fields."""
    if not permissions.can_edit_item(actor, item):
        raise PermissionDenied(_l("You may not edit this item."))
    check_version(item, version)
    clean = _clean(data, actor=actor, item=item)
    if not clean.get("code", True):  # a blank No. field keeps the item's reference
        del clean["code"]
    if "code" in clean and clean["code"] != item.code:
        codes.check_renumber(item, clean["code"], actor=actor)
    extensions.check_direct_change(item, clean, actor=actor)
    reason = rules.normalise_text(reason)
    if len(reason) > rules.DEADLINE_REASON_LIMIT:
        raise ValidationFailed(
            _l("Please correct the marked fields."),
            {"reason": _l("At most %(n)s characters.", n=rules.DEADLINE_REASON_LIMIT)},
        )
    if "deadline" in clean and clean["deadline"] != item.deadline and not reason:
        raise ValidationFailed(
            _l("Please correct the marked fields."),
            {"reason": _l("Say why the deadline changes (延期 needs a reason).")},
        )
    changed, before = [], {}
    for name, value in clean.items():
        old = getattr(item, name)
        if _same(name, old, value):
            continue
        before[name] = old
        kind = "deadline_changed" if name == "deadline" else "field_changed"
        note = reason if name == "deadline" else ""
        ledger.append(
            item,
            kind,
            actor=actor,
            now=now,
            field=name,
            before=_display(old),
            after=_display(value),
            note=note,
            names=history.names_for(name, old, value),
        )
        setattr(item, name, value)
        changed.append(name)
        if name == "deadline":
            extensions.deadline_moved(item, old, value, actor=actor, now=now, reason=reason)
    if changed:
        item.updated_at = now
        _flush_versioned(item)
        events.updated(item, before, actor=actor, now=now, reason=reason)
    return changed


def _same(name: str, old, new) -> bool:
    """Whether an edit leaves a field as it was (stored text from before normalising included)."""
    if name == "supporting_groups":
        return {g.id for g in old} == {g.id for g in new}
    if name == "code":
        return (old or None) == new
    if name in rules.TEXT_LIMITS:
        return rules.normalise_text(old, multiline=name in MULTILINE_FIELDS) == new
    return old == new


def check_version(item: Item, version: int | None) -> None:
    """Refuse a change made against an older copy of the item, naming what changed since."""
    if version is not None and version != item.version:
        raise Conflict(_l("Someone else changed this item."), item.version, changes_since(item, version))


def changes_since(item: Item, version: int) -> list:
    """Ledger entries made after the editor's copy, to show on a conflict."""
    return [e for e in item.ledger if e.item_version >= version]


_DEFER_FLUSH: ContextVar[bool] = ContextVar("defer_flush", default=False)


@contextmanager
def deferred_writes() -> Iterator[None]:
    """Bulk changes (an imported sheet): one flush at the end instead of one per change.

    Every change still steps the item's version, so the final UPDATE checks the
    version the changes started from and the ledger's versions match the row's; the
    ledger entries are written together when the block ends (``ledger.batched``).
    """
    token = _DEFER_FLUSH.set(True)
    try:
        with ledger.batched():
            yield
    finally:
        _DEFER_FLUSH.reset(token)


def _flush_versioned(item: Item) -> None:
    if _DEFER_FLUSH.get():
        item.version += 1  # an explicit new version; the flush checks the loaded one
        return
    item_id = item.id  # read now: a failed flush leaves the item unreadable until the rollback
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        current = db.session.scalar(select(Item.version).where(Item.id == item_id))
        raise Conflict(_l("Someone else changed this item."), current) from None


def transition(item: Item, action: str, *, actor, now: datetime, note: str = "", version: int | None = None) -> Item:
    """Move an item along the workflow; ``version``, when given, is the copy the actor saw."""
    if action not in rules.ACTIONS:
        raise ValidationFailed(_l("Unknown action."), {"action": _l("Unknown action.")})
    recorders = duties.progress_recorders(item.id) if action == "verify" else frozenset()
    if not permissions.can_transition(actor, item, action, progress_recorders=recorders):
        raise PermissionDenied(_l("You may not do this to this item."))
    check_version(item, version)
    try:
        new_status = rules.next_status(item.status, action)
    except rules.TransitionError:
        raise ValidationFailed(
            _l("This action is not possible in the item's current status."),
            {"action": _l("Not possible now.")},
        ) from None
    note = rules.normalise_text(note)
    if action in rules.REASON_REQUIRED and not note:
        raise ValidationFailed(_l("A reason is required."), {"note": _l("A reason is required.")})
    if len(note) > rules.NOTE_LIMIT:
        raise ValidationFailed(_l("Too long."), {"note": _l("At most %(n)s characters.", n=rules.NOTE_LIMIT)})
    duties.record_override(item, action, actor=actor, now=now, note=note, recorders=recorders)
    ledger.append(
        item,
        "status",
        actor=actor,
        now=now,
        field="status",
        before=item.status,
        after=new_status,
        note=note,
    )
    item.status = new_status
    if action == "submit":
        item.submitted_by_id, item.returned_at = actor.id, None
    elif action == "verify":
        item.closed_at, item.closed_by_id, item.progress = now, actor.id, 100
    elif action in ("reject", "reopen"):
        item.closed_at = item.closed_by_id = None
    if action == "reject":
        item.returned_at = now
    item.updated_at = now
    _flush_versioned(item)
    events.transitioned(item, action, actor=actor, now=now, note=note)
    return item


def add_progress(
    item: Item,
    *,
    actor,
    now: datetime,
    note: str,
    progress: int | None = None,
    uploads: list | None = None,
    version: int | None = None,
):
    """A progress note (整改进展): text, a new percentage, evidence files, or all three.

    ``version`` is the copy the actor saw; only a new percentage is checked against it
    (a note or a file added to a changed item overwrites nothing).
    """
    if not permissions.can_contribute(actor, item):
        raise PermissionDenied(_l("You may not add progress to this item."))
    if progress is not None:
        check_version(item, version)
    note = rules.normalise_text(note)
    uploads = uploads or []
    errors = {}
    if not note and progress is None and not uploads:
        errors["note"] = _l("Write a note, set the progress or attach a file.")
    if len(note) > rules.NOTE_LIMIT:
        errors["note"] = _l("At most %(n)s characters.", n=rules.NOTE_LIMIT)
    if progress is not None and not (0 <= progress <= 100):
        errors["progress"] = _l("Between 0 and 100.")
    elif progress == item.progress and not note and not uploads:
        errors["progress"] = _l("The progress is already %(n)s%%.", n=progress)
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    entry = None
    if progress is not None and progress != item.progress:
        entry = ledger.append(
            item,
            "progress",
            actor=actor,
            now=now,
            field="progress",
            before=item.progress,
            after=progress,
            note=note,
        )
        item.progress = progress
    elif note and not uploads:
        entry = ledger.append(item, "comment", actor=actor, now=now, note=note)
    if uploads:
        entry = evidence.attach(item, uploads, actor=actor, now=now, note="" if entry else note)
    item.updated_at = now
    _flush_versioned(item)
    events.progressed(item, actor=actor, now=now, note=note, progress=progress, files=len(uploads))
    return entry
