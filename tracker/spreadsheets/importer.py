"""Import a 台账 sheet: check every row first, then create all items or none.

``plan_import`` reads and checks without writing anything (the preview and
``--dry-run``). ``apply_import`` creates the planned items through
``tracker.items.services.create_items`` (the same checks as one by one, written
in bulk with their ledger entries); any row the service still refuses raises
``ImportRejected`` and the caller rolls back.
Callers commit.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import permissions
from tracker.auth.models import User
from tracker.errors import PermissionDenied
from tracker.event.services import current_event, local_today
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import services
from tracker.items.models import Item
from tracker.milestones.models import Milestone
from tracker.spreadsheets import cells, layout
from tracker.spreadsheets.reader import Sheet, SheetError, read_sheet

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20000
TEXT_COLUMNS = {
    "code": "code",
    "title": "title",
    "description": "description",
    "measures": "measures",
    "acceptance": "acceptance_criteria",
    "venue": "venue",
    "remarks": "remarks",
}
# The service's field names, back to the sheet's columns, for its error messages.
FIELD_COLUMNS = {
    **{f: c for c, f in TEXT_COLUMNS.items()},
    "kind": "kind",
    "source": "source",
    "key_area": "key_area",
    "severity": "severity",
    "group_id": "group",
    "supporting_group_ids": "supporting",
    "owner_id": "owner",
    "deadline": "deadline",
    "found_on": "found_on",
    "milestone_id": "milestone",
    "is_confidential": "confidential",
}


@dataclass
class Problem:
    row: int | None  # the Excel row number; None for the file as a whole
    column: str  # the column's header as written, with its letter
    message: str


@dataclass
class PlannedRow:
    row: int
    data: dict
    group: str
    owner: str
    supporting: list[str]


@dataclass
class ImportPlan:
    filename: str = ""
    sheet: Sheet | None = None
    rows: list[PlannedRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    file_error: str | None = None
    past_deadlines: int = 0
    already_present: int = 0  # rows whose group already has an item with the same description

    @property
    def ok(self) -> bool:
        return self.file_error is None and not self.problems and bool(self.rows)

    def by_group(self) -> list[tuple[str, int]]:
        return sorted(Counter(r.group for r in self.rows).items())


class ImportRejected(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


def plan_import(data: bytes, *, actor, now: datetime, filename: str = "") -> ImportPlan:
    """Read the sheet and check every row; writes nothing."""
    if not permissions.can_import(actor):
        raise PermissionDenied(_l("You may not import items."))
    plan = ImportPlan(filename=filename)
    config = current_app.config
    max_bytes = config.get("IMPORT_MAX_BYTES", MAX_BYTES)
    try:
        plan.sheet = read_sheet(data, max_bytes=max_bytes, max_rows=config.get("IMPORT_MAX_ROWS", MAX_ROWS))
    except SheetError as error:
        plan.file_error = str(error.message)
        return plan
    event = current_event()
    if event is None:
        plan.file_error = str(_l("Set up the event first."))
        return plan
    if not plan.sheet.rows:
        plan.file_error = str(_l("The sheet has a header row but no items under it."))
        return plan
    checker = _RowChecker(plan.sheet, actor, event.opening_date.year)
    today = local_today(now)
    for number, values in plan.sheet.rows:
        planned, problems = checker.check(number, values)
        plan.problems.extend(problems)
        if planned is not None and not problems:
            plan.rows.append(planned)
            if planned.data.get("deadline") and planned.data["deadline"] < today:
                plan.past_deadlines += 1
    plan.already_present = _already_present(plan.rows, actor)
    return plan


def _already_present(rows: list[PlannedRow], actor) -> int:
    """How many rows repeat an item the actor can see: importing a sheet twice makes duplicates."""
    if not rows:
        return 0
    titles = sorted({r.data["title"] for r in rows})
    query = permissions.visible_items(select(Item.group_id, Item.title), actor, Item)
    existing = set()
    for start in range(0, len(titles), 5000):  # stay under the databases' bound-parameter limits
        chunk = titles[start : start + 5000]
        existing.update(tuple(row) for row in db.session.execute(query.where(Item.title.in_(chunk))))
    return sum((r.data["group_id"], r.data["title"]) in existing for r in rows)


def apply_import(plan: ImportPlan, *, actor, now: datetime) -> list[int]:
    """Create every planned item in the caller's transaction; all or nothing. Returns their ids."""
    if not plan.ok:
        raise ImportRejected(plan.problems)
    # The session holds rows weakly: keep the groups, owners (with their groups) and
    # milestones alive so each row's checks find them in memory instead of reloading.
    owner_ids = {r.data["owner_id"] for r in plan.rows if r.data.get("owner_id")}
    keep = [
        *db.session.scalars(select(WorkGroup)).all(),
        *db.session.scalars(select(Milestone)).all(),
        *db.session.scalars(select(User).where(User.id.in_(owner_ids)).options(selectinload(User.groups))).all(),
    ]
    items, errors = services.create_items([planned.data for planned in plan.rows], actor=actor, now=now)
    problems = []
    for index, error in errors.items():
        for name, message in (error.fields or {"title": error.message}).items():
            column = plan.sheet.label(FIELD_COLUMNS.get(name, "title"))
            problems.append(Problem(plan.rows[index].row, column, str(message)))
    ids = [item.id for item in items]
    del keep
    if problems:
        raise ImportRejected(problems)
    return ids


class _RowChecker:
    """Resolves names against the install once, then checks rows one by one."""

    def __init__(self, sheet: Sheet, actor, event_year: int):
        self.sheet, self.actor, self.event_year = sheet, actor, event_year
        self.groups: dict[str, WorkGroup] = {}
        for group in db.session.scalars(select(WorkGroup)).all():
            for name in (group.name, group.name_en, group.code):
                if name:
                    self.groups.setdefault(layout.squash(name), group)
        self.users: dict[str, list[User]] = defaultdict(list)
        users = db.session.scalars(select(User).options(selectinload(User.groups))).all()
        for user in users:  # usernames first: they are unique, display names may not be
            self.users[layout.squash(user.username)].append(user)
        for user in users:
            key = layout.squash(user.display_name)
            if key and user not in self.users[key]:
                self.users[key].append(user)
        self.milestones: dict[str, Milestone] = {}
        for milestone in db.session.scalars(select(Milestone)).all():
            for name in (milestone.title, milestone.title_en):
                if name:
                    self.milestones.setdefault(layout.squash(name), milestone)

    def _value(self, values, key):
        position = self.sheet.columns.get(key)
        if position is None or position >= len(values):
            return None
        return values[position]

    def check(self, number: int, values) -> tuple[PlannedRow | None, list[Problem]]:
        problems: list[Problem] = []

        def problem(key: str, message) -> None:
            problems.append(Problem(number, self.sheet.label(key), str(message)))

        data: dict = {}
        for key, name in TEXT_COLUMNS.items():
            value = cells.text(self._value(values, key))
            limit = services.TEXT_LIMITS[name]
            if len(value) > limit:
                problem(key, _l("At most %(n)s characters (this has %(m)s).", n=limit, m=len(value)))
            if value:  # blank cells leave the item's defaults (no code rather than an empty one)
                data[name] = value
        if not data.get("title"):
            problem("title", _l("The item has no description; every row needs one."))

        for key, name in (("kind", "kind"), ("severity", "severity"), ("key_area", "key_area")):
            try:
                data[name] = cells.vocabulary(key, self._value(values, key))
            except cells.BadValue as bad:
                problem(key, _l("Unknown value “%(value)s”.", value=str(bad)))
        data["kind"] = data.get("kind") or "problem"
        data["severity"] = data.get("severity") or "medium"
        source = cells.text(self._value(values, "source"))
        try:
            data["source"] = cells.vocabulary("source", source) or ""
        except cells.BadValue:
            data["source"] = source  # free text is a fine source too
        if len(data["source"]) > services.TEXT_LIMITS["source"]:
            problem("source", _l("At most %(n)s characters.", n=services.TEXT_LIMITS["source"]))
        try:
            data["is_confidential"] = bool(cells.vocabulary("confidential", self._value(values, "confidential")))
        except cells.BadValue as bad:
            problem("confidential", _l("Write 是 or 否 (yes or no), not “%(value)s”.", value=str(bad)))

        for key, name in (("deadline", "deadline"), ("found_on", "found_on")):
            try:
                data[name] = cells.parse_date(self._value(values, key), self.event_year)
            except cells.BadValue as bad:
                problem(key, _l("“%(value)s” is not a date (write 2026-05-20 or 2026年5月20日).", value=str(bad)))

        group = self._group(self._value(values, "group"), problem)
        data["group_id"] = group.id if group else None
        supporting = self._supporting(self._value(values, "supporting"), problem)
        if supporting:
            data["supporting_group_ids"] = [g.id for g in supporting]
        owner = self._owner(self._value(values, "owner"), group, problem)
        data["owner_id"] = owner.id if owner else None
        milestone = self._milestone(self._value(values, "milestone"), problem)
        data["milestone_id"] = milestone.id if milestone else None
        if problems:  # in the order the columns stand in the sheet, as a person reads the row
            order = {self.sheet.label(k): p for k, p in self.sheet.columns.items()}
            return None, sorted(problems, key=lambda p: order.get(p.column, -1))
        planned = PlannedRow(
            row=number,
            data=data,
            group=group.code,
            owner=owner.name if owner else "",
            supporting=[g.code for g in supporting if g.id != group.id],
        )
        return planned, []

    def _group(self, value, problem) -> WorkGroup | None:
        name = cells.text(value)
        if not name:
            problem("group", _l("No responsible group; write the group's name or code."))
            return None
        group = self.groups.get(layout.squash(name))
        if group is None:
            problem("group", _l("No work group called “%(name)s”.", name=name))
            return None
        if not permissions.can_create_item(self.actor, group.id):
            problem("group", _l("You can only import items into your own work groups (not %(code)s).", code=group.code))
            return None
        return group

    def _supporting(self, value, problem) -> list[WorkGroup]:
        whole = cells.text(value)
        if not whole:
            return []
        if layout.squash(whole) in self.groups:
            return [self.groups[layout.squash(whole)]]
        found = []
        for name in cells.split_list(whole):
            group = self.groups.get(layout.squash(name))
            if group is None:
                problem("supporting", _l("No work group called “%(name)s”.", name=name))
            elif group not in found:
                found.append(group)
        return found

    def _owner(self, value, group: WorkGroup | None, problem) -> User | None:
        name = cells.text(value)
        if not name:
            return None
        candidates = self.users.get(layout.squash(name), [])
        exact = [u for u in candidates if layout.squash(u.username) == layout.squash(name)]
        if exact:
            candidates = exact
        if not candidates:
            problem("owner", _l("No user called “%(name)s”.", name=name))
            return None
        if len(candidates) > 1:
            problem("owner", _l("Several users are called “%(name)s”; write the username instead.", name=name))
            return None
        owner = candidates[0]
        if group is not None and not permissions.can_own(owner, group.id):
            problem(
                "owner",
                _l(
                    "%(name)s cannot be responsible for %(code)s items (not an active member of the group).",
                    name=owner.name,
                    code=group.code,
                ),
            )
            return None
        return owner

    def _milestone(self, value, problem) -> Milestone | None:
        name = cells.text(value)
        if not name:
            return None
        milestone = self.milestones.get(layout.squash(name))
        if milestone is None:
            problem("milestone", _l("No milestone called “%(name)s”.", name=name))
        return milestone
