"""One sheet row as item values: names resolved against the install, cells parsed.

Only the columns the sheet has are read, so a sheet without (say) 严重程度
never changes an item's severity. Who may do what with the values is the
planner's question (``importer``), not this module's.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items.rules import TEXT_LIMITS
from tracker.milestones.models import Milestone
from tracker.spreadsheets import cells, layout
from tracker.spreadsheets.reader import Sheet

TEXT_COLUMNS = {
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
    "code": "code",
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
    "status": "status",
    "progress": "progress",
    "note": "latest_note",
    "action": "status",
    "reason": "deadline",
}
MAX_NOTE = 5000


@dataclass
class Problem:
    row: int | None  # the Excel row number; None for the file as a whole
    column: str  # the column's header as written, with its letter
    message: str


@dataclass
class SheetRow:
    """What one row says. ``data`` holds item fields (service names) of the columns present."""

    row: int
    code: str = ""
    data: dict = field(default_factory=dict)
    group: WorkGroup | None = None
    owner: User | None = None
    supporting: list[WorkGroup] = field(default_factory=list)
    status: str | None = None
    progress: int | None = None
    note: str = ""
    version: int | None = None


class RowReader:
    """Resolves names against the install once, then reads rows one by one."""

    def __init__(self, sheet: Sheet, event_year: int):
        self.sheet, self.event_year = sheet, event_year
        self._keys, self._positions = tuple(sheet.columns), tuple(sheet.columns.values())
        self._width = max(self._positions, default=-1) + 1
        self.groups: dict[str, WorkGroup] = {}
        self.groups_by_id: dict[int, WorkGroup] = {}
        for group in db.session.scalars(select(WorkGroup)).all():
            self.groups_by_id[group.id] = group
            for name in (group.name, group.name_en, group.code):
                if name:
                    self.groups.setdefault(layout.squash(name), group)
        self.users: dict[str, list[User]] = defaultdict(list)
        users = db.session.scalars(select(User).options(selectinload(User.groups))).all()
        self.usernames = {layout.squash(user.username): user for user in users}
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

    def has(self, key: str) -> bool:
        return key in self.sheet.columns

    def _cells(self, values) -> dict:
        """The row's values by column key (None past the row's last value)."""
        if len(values) < self._width:
            values = (*values, *[None] * (self._width - len(values)))
        return dict(zip(self._keys, [values[position] for position in self._positions], strict=True))

    def read(self, number: int, values) -> tuple[SheetRow, list[Problem]]:
        problems: list[Problem] = []

        def problem(key: str, message) -> None:
            problems.append(Problem(number, self.sheet.label(key), str(message)))

        row = SheetRow(row=number)
        data = row.data
        cell = self._cells(values)
        code = cells.text(cell.get("code"))
        if len(code) > TEXT_LIMITS["code"]:
            problem("code", _l("At most %(n)s characters (this has %(m)s).", n=TEXT_LIMITS["code"], m=len(code)))
        row.code = code
        for key, name in TEXT_COLUMNS.items():
            if not self.has(key):
                continue
            value = cells.text(cell.get(key))
            limit = TEXT_LIMITS[name]
            if len(value) > limit:
                problem(key, _l("At most %(n)s characters (this has %(m)s).", n=limit, m=len(value)))
            data[name] = value
        if not data.get("title"):
            problem("title", _l("The item has no description; every row needs one."))

        for key in ("kind", "severity", "key_area"):
            if not self.has(key):
                continue
            try:
                value = cells.vocabulary(key, cell.get(key))
            except cells.BadValue as bad:
                problem(key, _l("Unknown value “%(value)s”.", value=str(bad)))
            else:
                if value or key == "key_area":  # a blank kind or severity keeps what the item has
                    data[key] = value
        if self.has("source"):
            source = cells.text(cell.get("source"))
            try:
                data["source"] = cells.vocabulary("source", source) or ""
            except cells.BadValue:
                data["source"] = source  # free text is a fine source too
            if len(data["source"]) > TEXT_LIMITS["source"]:
                problem("source", _l("At most %(n)s characters.", n=TEXT_LIMITS["source"]))
        if self.has("confidential"):
            try:
                data["is_confidential"] = bool(cells.vocabulary("confidential", cell.get("confidential")))
            except cells.BadValue as bad:
                problem("confidential", _l("Write 是 or 否 (yes or no), not “%(value)s”.", value=str(bad)))

        for key in ("deadline", "found_on"):
            if not self.has(key):
                continue
            try:
                data[key] = cells.parse_date(cell.get(key), self.event_year)
            except cells.BadValue as bad:
                problem(key, _l("“%(value)s” is not a date (write 2026-05-20 or 2026年5月20日).", value=str(bad)))

        row.group = self._group(cell.get("group"), problem)
        data["group_id"] = row.group.id if row.group else None
        if self.has("supporting"):
            row.supporting = self._supporting(cell.get("supporting"), problem)
            data["supporting_group_ids"] = [g.id for g in row.supporting]
        if self.has("owner"):
            row.owner = self._owner(cell.get("owner"), problem)
            data["owner_id"] = row.owner.id if row.owner else None
        if self.has("milestone"):
            milestone = self._milestone(cell.get("milestone"), problem)
            data["milestone_id"] = milestone.id if milestone else None
        self._progress_columns(row, cell, problem)
        if problems:  # in the order the columns stand in the sheet, as a person reads the row
            order = {self.sheet.label(k): p for k, p in self.sheet.columns.items()}
            problems.sort(key=lambda p: order.get(p.column, -1))
        return row, problems

    def _progress_columns(self, row: SheetRow, cell: dict, problem) -> None:
        try:
            row.status = cells.vocabulary("status", cell.get("status"))
        except cells.BadValue as bad:
            problem("status", _l("Unknown status “%(value)s”.", value=str(bad)))
        progress = cell.get("progress")
        if cells.text(progress):
            number = _whole_number(progress)
            if number is None or not 0 <= number <= 100:
                problem(
                    "progress", _l("Write a whole number from 0 to 100, not “%(value)s”.", value=cells.text(progress))
                )
            else:
                row.progress = number
        row.note = cells.text(cell.get("latest_note"))
        if len(row.note) > MAX_NOTE:
            problem("latest_note", _l("At most %(n)s characters.", n=MAX_NOTE))
        version = cell.get("version")
        if cells.text(version):
            row.version = _whole_number(version)
            if row.version is None or row.version < 1:
                problem("version", _l("This column is filled in by the export; leave it as it was."))

    def _group(self, value, problem) -> WorkGroup | None:
        name = cells.text(value)
        if not name:
            problem("group", _l("No responsible group; write the group's name or code."))
            return None
        group = self.groups.get(layout.squash(name))
        if group is None:
            problem("group", _l("No work group called “%(name)s”.", name=name))
        return group

    def _supporting(self, value, problem) -> list[WorkGroup]:
        whole = cells.text(value)
        if not whole:
            return []
        if layout.squash(whole) in self.groups:
            return [self.groups[layout.squash(whole)]]
        # The export joins names with 、; a name may itself hold "/" or "," (English names do).
        exported = [self.groups.get(layout.squash(name)) for name in whole.split("、")]
        if all(exported):
            return list(dict.fromkeys(exported))
        found = []
        for name in cells.split_list(whole):
            group = self.groups.get(layout.squash(name))
            if group is None:
                problem("supporting", _l("No work group called “%(name)s”.", name=name))
            elif group not in found:
                found.append(group)
        return found

    def _owner(self, value, problem) -> User | None:
        name = cells.text(value)
        if not name:
            return None
        key = layout.squash(name)
        if key in self.usernames:  # a username names one person, whoever shares the display name
            return self.usernames[key]
        candidates = self.users.get(key, [])
        if not candidates:
            problem("owner", _l("No user called “%(name)s”.", name=name))
            return None
        if len(candidates) > 1:
            problem("owner", _l("Several users are called “%(name)s”; write the username instead.", name=name))
            return None
        return candidates[0]

    def _milestone(self, value, problem) -> Milestone | None:
        name = cells.text(value)
        if not name:
            return None
        milestone = self.milestones.get(layout.squash(name))
        if milestone is None:
            problem("milestone", _l("No milestone called “%(name)s”.", name=name))
        return milestone


def _whole_number(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = cells.text(value).removesuffix("%").strip()
    return int(text) if text.isdigit() else None
