"""What a sheet row changes on its item, whether the importer may, and making the change.

The comparison uses the same values the export writes, so an unedited row is
unchanged. The permission checks here only predict the services' own (for the
preview); ``apply_steps`` goes through the services, which decide.
"""

from dataclasses import dataclass, field, replace
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from tracker import permissions
from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import extensions, labels, rules, services
from tracker.items.models import Item
from tracker.milestones.models import Milestone
from tracker.spreadsheets.rows import FIELD_COLUMNS, Problem, SheetRow

TEXT_FIELDS = ("title", "description", "measures", "acceptance_criteria", "venue", "remarks", "source")
# Steps to a final status come after the edits (a closed item cannot be edited);
# any other step comes first (reopen, then edit).
FINAL = ("closed", "cancelled")
# The item fields a sheet row may change (the row reader's ``data`` keys).
COMPARED = (
    *TEXT_FIELDS,
    *("kind", "severity", "key_area", "is_confidential", "deadline", "found_on"),
    *("group_id", "supporting_group_ids", "owner_id", "milestone_id"),
)


@dataclass
class Change:
    key: str  # the sheet column's key
    column: str  # its header as written
    before: str
    after: str


@dataclass
class Steps:
    actions: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # workflow action → its note or reason
    transitions_first: bool = True
    reason: str = ""  # for a deadline change
    progress: int | None = None
    note: str = ""  # the progress note (整改进展)


def norm_text(value) -> str:
    """Text as it survives a trip through the sheet: no illegal characters, \\n line ends, stripped."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value or "")).replace("\r\n", "\n").replace("\r", "\n").strip()


class Existing:
    """An existing item as the check reads it: the compared columns as plain attributes, no ORM object.

    ``supporting_group_ids`` holds its supporting groups' ids (without its own group), sorted.
    """

    def __init__(self, values: dict):
        self.__dict__.update(values)


def current_value(item: Existing, name: str):
    value = getattr(item, name)
    if name in TEXT_FIELDS:
        return norm_text(value)
    return value


def sheet_value(sheet_row: SheetRow, name: str):
    value = sheet_row.data[name]
    if name in TEXT_FIELDS:
        return norm_text(value)
    if name == "supporting_group_ids":
        return sorted(set(value) - {sheet_row.data.get("group_id")})
    return value


def shown(name: str, value) -> str:
    """A value as the preview shows it."""
    if value is None or value == "" or value == []:
        return "—"
    if name == "group_id":
        return db.session.get(WorkGroup, value).code
    if name == "supporting_group_ids":
        return "、".join(db.session.get(WorkGroup, i).code for i in value)
    if name == "owner_id":
        return db.session.get(User, value).name
    if name == "milestone_id":
        return db.session.get(Milestone, value).title
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, date):
        return value.isoformat()
    table = {"kind": labels.KIND, "severity": labels.SEVERITY, "key_area": labels.KEY_AREA, "status": labels.STATUS}
    if name in table:
        return str(table[name].get(value, value))
    if name == "source":
        return labels.source_label(value)
    return str(value)


@dataclass
class RowPlan:
    """What importing one row does."""

    row: int
    kind: str  # new, update, unchanged, conflict, kept (a conflict settled by keeping the newer), error
    code: str  # the 编号 it has or will get
    sheet: SheetRow
    # The existing item: its compared columns as a plain row while checking, the Item when applying.
    item: Item | Existing | None = None
    data: dict = field(default_factory=dict)  # new: the item's fields; update: only the changed ones
    changes: list[Change] = field(default_factory=list)
    steps: Steps = field(default_factory=Steps)
    since: list = field(default_factory=list)  # conflicts: the ledger entries made after the export

    @property
    def title(self) -> str:
        return self.sheet.data.get("title") or (self.item.title if self.item else "")

    @property
    def group(self) -> str:
        return self.sheet.group.code if self.sheet.group else ""

    @property
    def owner(self) -> str:
        return self.sheet.owner.name if self.sheet.owner else ""

    @property
    def supporting(self) -> list[str]:
        return [g.code for g in self.sheet.supporting if g is not self.sheet.group]


@dataclass
class Probe:
    """An item as it would stand after a row's steps: what the permission rules read of it."""

    status: str
    group_id: int
    owner_id: int | None = None
    is_confidential: bool = False
    submitted_by_id: int | None = None

    @property
    def is_finished(self) -> bool:
        return self.status in rules.FINISHED_STATUSES


class Planner:
    """Decides one row at a time for ``actor``."""

    def __init__(self, actor, reader, sheet, filename: str = ""):
        self.actor, self.reader, self.sheet, self.filename = actor, reader, sheet, filename

    def _problem(self, row: SheetRow, key: str, message) -> Problem:
        return Problem(row.row, self.sheet.label(key), str(message))

    def new(self, row: SheetRow, code: str):
        problems = []
        group = row.group
        if not permissions.can_create_item(self.actor, group.id):
            problems.append(
                self._problem(
                    row,
                    "group",
                    _l("You can only import items into your own work groups (not %(code)s).", code=group.code),
                )
            )
        if row.owner is not None and not permissions.can_own(row.owner, group.id):
            problems.append(self._problem(row, "owner", _cannot_own(row.owner, group)))
        data = {name: value for name, value in row.data.items()}
        if row.code:
            data["code"] = row.code
        plan = RowPlan(row.row, "error" if problems else "new", code, row, data=data)
        if problems:
            return plan, problems
        state = Probe(
            status="open",
            owner_id=data.get("owner_id"),
            group_id=group.id,
            is_confidential=data.get("is_confidential", False),
            submitted_by_id=None,
        )
        problems = self._workflow(plan, state, progress=0, latest="", edits=False)
        if problems:
            plan.kind = "error"
        return plan, problems

    def update(self, row: SheetRow, item: Existing, latest_note: str):
        plan = RowPlan(row.row, "update", item.code, row, item)
        if not permissions.can_view_item(self.actor, item):
            plan.kind = "error"
            return plan, [
                self._problem(row, "code", _l("The No. %(code)s belongs to an item you cannot see.", code=item.code))
            ]
        values = item.__dict__
        for name, value in row.data.items():
            if values[name] == value and name != "supporting_group_ids":
                continue  # the usual unedited cell: equal before normalising, so equal after
            before, after = current_value(item, name), sheet_value(row, name)
            if before != after:
                plan.data[name] = row.data[name]
                plan.changes.append(
                    Change(
                        FIELD_COLUMNS[name],
                        self.sheet.label(FIELD_COLUMNS[name]),
                        shown(name, before),
                        shown(name, after),
                    )
                )
        new_status = row.status if row.status and row.status != item.status else None
        new_progress = row.progress if row.progress is not None and row.progress != item.progress else None
        new_note = row.note if row.note and norm_text(row.note) != norm_text(latest_note) else ""
        if new_status:
            plan.changes.append(
                Change("status", self.sheet.label("status"), shown("status", item.status), shown("status", new_status))
            )
        if new_progress is not None:
            plan.changes.append(
                Change("progress", self.sheet.label("progress"), f"{item.progress}%", f"{new_progress}%")
            )
        if new_note:
            plan.changes.append(Change("latest_note", self.sheet.label("latest_note"), "—", new_note))
        if not plan.changes:
            plan.kind = "unchanged"
            return plan, []
        if row.version is not None and row.version != item.version:
            plan.kind = "conflict"
            return plan, []
        problems = self._edits(plan, item)
        if "deadline" in plan.data:  # 延期 needs a reason: the row's new note, else where it came from
            auto = _("Changed in the imported sheet %(file)s, row %(row)s.", file=self.filename, row=row.row)
            plan.steps.reason = new_note or auto
        state = Probe(
            status=item.status,
            owner_id=plan.data.get("owner_id", item.owner_id),
            group_id=plan.data.get("group_id", item.group_id),
            is_confidential=plan.data.get("is_confidential", item.is_confidential),
            submitted_by_id=item.submitted_by_id,
        )
        row.status = new_status or item.status
        problems += self._workflow(plan, state, progress=item.progress, latest=latest_note, edits=bool(plan.data))
        if problems:
            plan.kind = "error"
        return plan, problems

    def _edits(self, plan, item: Existing) -> list[Problem]:
        row, data = plan.sheet, plan.data
        if not data:
            return []
        editable_status = row.status if row.status and row.status not in FINAL else item.status
        probe = Probe(status=editable_status, group_id=item.group_id)
        first = plan.changes[0].key
        if not permissions.can_edit_item(self.actor, probe):
            if editable_status in FINAL:
                message = _l("A closed or cancelled item cannot be edited (reopening it is the committee's step).")
            else:
                message = _l("You may not change items of %(code)s.", code=self.reader.groups_by_id[item.group_id].code)
            return [self._problem(row, first, message)]
        problems = []
        if "group_id" in data and not (
            permissions.can_regroup_item(self.actor, item)
            and permissions.can_move_item_to(self.actor, data["group_id"])
        ):
            problems.append(self._problem(row, "group", _l("Only the committee can move an item to another group.")))
        if "deadline" in data:  # a set deadline may be the committee's to move (延期)
            locked = extensions.direct_change_problem(self.actor, item, data["deadline"])
            if locked:
                problems.append(self._problem(row, "deadline", locked))
        group = self.reader.groups_by_id[data.get("group_id", item.group_id)]
        owner = db.session.get(User, data["owner_id"]) if data.get("owner_id") else None
        if owner is not None and not permissions.can_own(owner, group.id):
            problems.append(self._problem(row, "owner", _cannot_own(owner, group)))
        return problems

    def _workflow(self, plan, state, *, progress: int, latest: str, edits: bool) -> list[Problem]:
        """The status path, the progress and the note; checked as the services will check them."""
        row, steps = plan.sheet, plan.steps
        problems = []
        target = row.status or state.status
        note = row.note if row.note and norm_text(row.note) != norm_text(latest) else ""
        path = rules.path_to(state.status, target) if target != state.status else []
        steps.transitions_first = target not in FINAL
        if path is None:
            message = _l(
                "The status cannot go from %(from)s to %(to)s.",
                **{"from": shown("status", state.status), "to": shown("status", target)},
            )
            return [self._problem(row, "status", message)]
        probe = replace(state)
        for action in path:
            if not permissions.can_transition(self.actor, probe, action):
                return [self._problem(row, "status", _path_message(state.status, target, path, action))]
            if action in rules.REASON_REQUIRED:
                if not note:
                    message = _l(
                        "%(action)s needs a reason: write it in the 最新进展 (latest note) column.",
                        action=labels.ACTION[action],
                    )
                    return [self._problem(row, "status", message)]
                steps.notes[action], note = note, ""
            if action == "submit":
                probe.submitted_by_id = self.actor.id
            probe.status = rules.next_status(probe.status, action)
        steps.actions = path
        if note and path and row.progress in (None, progress):  # the note goes with the status step
            steps.notes[path[-1]], note = steps.notes.get(path[-1]) or note, ""
        new_progress = row.progress if row.progress is not None and row.progress != progress else None
        if new_progress == 100 and "verify" in path:
            new_progress = None  # verifying sets 100 % itself
        if new_progress is not None or note:
            at = replace(state) if not steps.transitions_first else probe
            if not permissions.can_contribute(self.actor, at):
                return [
                    self._problem(
                        row,
                        "progress" if new_progress is not None else "latest_note",
                        _l("You may not add progress to this item."),
                    )
                ]
            steps.progress, steps.note = new_progress, note
        return problems


def _cannot_own(owner, group) -> str:
    return str(
        _l(
            "%(name)s cannot be responsible for %(code)s items (not an active member of the group).",
            name=owner.name,
            code=group.code,
        )
    )


def _path_message(start: str, target: str, path: list[str], refused: str) -> str:
    steps = " → ".join(f"{labels.ACTION[a]} ({_who(a)})" for a in path)
    return str(
        _l(
            "“%(action)s” is not yours to take. From %(from)s to %(to)s the path is: %(path)s.",
            action=labels.ACTION[refused],
            path=steps,
            **{"from": shown("status", start), "to": shown("status", target)},
        )
    )


def _who(action: str) -> str:
    if action in permissions.COMMITTEE_ACTIONS:
        return _("the committee")
    return _("the responsible person or the group's lead")


def apply_steps(plan, *, actor, now) -> None:
    """Make one row's changes through the item services, in the order the workflow allows."""
    item, steps = plan.item, plan.steps
    if steps.transitions_first:
        _transitions(item, steps, actor=actor, now=now)
    if plan.kind == "update" and plan.data:
        services.update_item(item, plan.data, actor=actor, now=now, version=item.version, reason=steps.reason)
    if steps.progress is not None or steps.note:
        services.add_progress(item, actor=actor, now=now, note=steps.note, progress=steps.progress)
    if not steps.transitions_first:
        _transitions(item, steps, actor=actor, now=now)


def _transitions(item: Item, steps: Steps, *, actor, now) -> None:
    for action in steps.actions:
        services.transition(item, action, actor=actor, now=now, note=steps.notes.get(action, ""))
