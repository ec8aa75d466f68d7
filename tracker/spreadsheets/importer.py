"""Import a 台账 sheet: by 编号, update what changed, create what is new, all or nothing.

``plan_import`` reads the sheet and sorts every row into new / update (with each
change, before → after) / unchanged / conflict / error, writing nothing (the
preview and ``--dry-run``). ``apply_import`` then makes exactly those changes
through the item services the pages use (``create_items``, ``update_item``,
``transition``, ``add_progress``), so the rules, permissions and ledger entries
are the same; each entry is marked with the import and the sheet row. Any row
the services refuse raises ``ImportRejected`` and the caller rolls back.
Callers commit.
"""

import gc
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import lazyload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from tracker import permissions
from tracker.audit import services as audit
from tracker.auth.models import User
from tracker.errors import Conflict, DomainError, PermissionDenied
from tracker.event.services import current_event, local_today
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import codes, events, ledger, services
from tracker.items.models import ImportBatch, Item, LedgerEntry, item_supporting_group
from tracker.milestones.models import Milestone
from tracker.spreadsheets import changes as diff
from tracker.spreadsheets.changes import RowPlan
from tracker.spreadsheets.exporter import latest_notes
from tracker.spreadsheets.reader import Sheet, SheetError, read_sheet
from tracker.spreadsheets.rows import FIELD_COLUMNS, Problem, RowReader

CHUNK = 5000  # stay under the databases' bound-parameter limits
# What the check reads of an existing item: the fields a row may change and what the rules ask.
ITEM_COLUMNS = (
    *(name for name in diff.COMPARED if name != "supporting_group_ids"),
    *("id", "code", "version", "status", "progress", "submitted_by_id"),
)
KINDS = ("new", "update", "unchanged", "conflict", "kept", "error")

__all__ = [
    "ImportPlan",
    "ImportRejected",
    "ImportResult",
    "Problem",
    "RowPlan",
    "apply_import",
    "load_changing_items",
    "plan_import",
]


@dataclass
class ImportPlan:
    filename: str = ""
    sheet: Sheet | None = None
    rows: list[RowPlan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    file_error: str | None = None
    past_deadlines: int = 0
    already_present: int = 0  # new rows whose group already has an item with the same description

    @property
    def conflicts(self) -> list[RowPlan]:
        return [r for r in self.rows if r.kind == "conflict"]

    @property
    def ok(self) -> bool:
        """Nothing stands in the way: no problem, no unresolved conflict, some rows."""
        return self.file_error is None and not self.problems and not self.conflicts and bool(self.rows)

    @property
    def resolvable(self) -> bool:
        """Only conflicts stand in the way; choosing "keep the newer" for them makes the plan ok."""
        return self.file_error is None and not self.problems and bool(self.conflicts)

    def counts(self) -> dict[str, int]:
        found = Counter(r.kind for r in self.rows)
        return {kind: found.get(kind, 0) for kind in KINDS}

    def by_group(self) -> list[tuple[str, int]]:
        return sorted(Counter(r.group for r in self.rows if r.kind == "new").items())

    def summary(self) -> str:
        counts = self.counts()
        return f"created {counts['new']}, updated {counts['update']}, unchanged {counts['unchanged'] + counts['kept']}"


@dataclass
class ImportResult:
    batch_id: int
    created: list[int]
    updated: list[int]
    unchanged: int


class ImportRejected(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


@contextmanager
def _collector_paused():
    """Python's cycle collector off while a sheet is planned or applied: it kept walking the
    thousands of rows and objects being built (about a third of a 10,000-row check), and what
    they leave behind is freed by reference counting; anything else once it is back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_collector_paused()
def plan_import(
    data: bytes, *, actor, now: datetime, filename: str = "", keep_newer: frozenset[int] = frozenset()
) -> ImportPlan:
    """Read the sheet and decide every row; writes nothing.

    ``keep_newer`` holds the rows whose conflict the user settled by keeping the
    item as it is now (the row is then left out).
    """
    if not permissions.can_import(actor):
        raise PermissionDenied(_l("You may not import items."))
    plan = ImportPlan(filename=filename)
    config = current_app.config
    try:
        plan.sheet = read_sheet(data, max_bytes=config["IMPORT_MAX_BYTES"], max_rows=config["IMPORT_MAX_ROWS"])
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
    reader = RowReader(plan.sheet, event.opening_date.year)
    read = []
    for number, values in plan.sheet.rows:
        sheet_row, problems = reader.read(number, values)
        read.append((sheet_row, problems))
    existing = _existing_items(event.id, [r.code for r, _ in read if r.code], supporting=reader.has("supporting"))
    notes = _latest_notes([item.id for item in existing.values()])
    allocator = codes.Allocator(event.id, reserved=[r.code for r, _ in read if r.code])
    first_row: dict[str, int] = {}
    today = local_today(now)
    planner = diff.Planner(actor, reader, plan.sheet, filename)
    for sheet_row, problems in read:
        if sheet_row.code:
            if sheet_row.code in first_row:
                problems.append(
                    Problem(
                        sheet_row.row,
                        plan.sheet.label("code"),
                        str(
                            _l(
                                "The No. %(code)s is also in row %(row)s.",
                                code=sheet_row.code,
                                row=first_row[sheet_row.code],
                            )
                        ),
                    )
                )
            first_row.setdefault(sheet_row.code, sheet_row.row)
        item = existing.get(sheet_row.code) if sheet_row.code else None
        if problems:
            plan.rows.append(RowPlan(sheet_row.row, "error", sheet_row.code, sheet_row, item))
            plan.problems.extend(problems)
            continue
        if item is None:
            row_plan, problems = planner.new(sheet_row, sheet_row.code or allocator.next(sheet_row.group.code))
            if not problems and row_plan.data.get("deadline") and row_plan.data["deadline"] < today:
                plan.past_deadlines += 1
        else:
            row_plan, problems = planner.update(sheet_row, item, notes.get(item.id, ""))
            if row_plan.kind == "conflict" and sheet_row.row in keep_newer:
                row_plan.kind = "kept"
        plan.rows.append(row_plan)
        plan.problems.extend(problems)
    _explain_conflicts(plan.conflicts)
    plan.already_present = _already_present([r for r in plan.rows if r.kind == "new" and not r.sheet.code], actor)
    return plan


def _existing_items(event_id: int, wanted: list[str], *, supporting: bool) -> dict[str, diff.Existing]:
    """The items the sheet names, their compared columns read as plain rows: no ORM objects to build.

    ``supporting``: whether the sheet has the 配合单位 column (then their supporting groups are read too).
    """
    wanted = sorted(set(wanted))
    found: dict[str, diff.Existing] = {}
    columns = [getattr(Item, name) for name in ITEM_COLUMNS]
    for start in range(0, len(wanted), CHUNK):
        query = select(*columns).where(Item.event_id == event_id, Item.code.in_(wanted[start : start + CHUNK]))
        found.update(
            {row.code: diff.Existing(dict(zip(ITEM_COLUMNS, row, strict=True))) for row in db.session.execute(query)}
        )
    if supporting:
        groups = _supporting_ids([item.id for item in found.values()])
        for item in found.values():
            item.supporting_group_ids = sorted(i for i in groups.get(item.id, ()) if i != item.group_id)
    return found


def _supporting_ids(ids: list[int]) -> dict[int, list[int]]:
    """Each item's supporting groups (ids), for the sheets that have the 配合单位 column."""
    found: dict[int, list[int]] = defaultdict(list)
    link = item_supporting_group.c
    for start in range(0, len(ids), CHUNK):
        query = select(link.item_id, link.group_id).where(link.item_id.in_(ids[start : start + CHUNK]))
        for item_id, group_id in db.session.execute(query):
            found[item_id].append(group_id)
    return found


def _latest_notes(ids: list[int]) -> dict[int, str]:
    """The 最新进展 the export wrote for each item, to tell a new note from the old one."""
    notes: dict[int, str] = {}
    for start in range(0, len(ids), CHUNK):
        notes.update(latest_notes(select(Item).where(Item.id.in_(ids[start : start + CHUNK]))))
    return notes


def _explain_conflicts(conflicts: list[RowPlan]) -> None:
    """Who changed what since the export, for each conflicting row, in one query."""
    if not conflicts:
        return
    entries = db.session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.item_id.in_([r.item.id for r in conflicts]))
        .options(selectinload(LedgerEntry.author))
        .order_by(LedgerEntry.id)
    ).all()
    for row in conflicts:
        row.since = [e for e in entries if e.item_id == row.item.id and e.item_version >= row.sheet.version]


def _already_present(rows: list[RowPlan], actor) -> int:
    """How many new rows repeat an item the actor can see: importing a sheet twice makes duplicates."""
    if not rows:
        return 0
    titles = sorted({r.data["title"] for r in rows})
    query = permissions.visible_items(select(Item.group_id, Item.title), actor, Item)
    existing = set()
    for start in range(0, len(titles), CHUNK):
        chunk = titles[start : start + CHUNK]
        existing.update(tuple(row) for row in db.session.execute(query.where(Item.title.in_(chunk))))
    return sum((r.data["group_id"], r.data["title"]) in existing for r in rows)


@_collector_paused()
def apply_import(plan: ImportPlan, *, actor, now: datetime) -> ImportResult:
    """Make the planned changes in the caller's transaction; all or nothing."""
    if not plan.ok:
        raise ImportRejected(plan.problems or [_conflict_problem(r) for r in plan.conflicts])
    load_changing_items(plan)
    counts = plan.counts()
    batch = ImportBatch(
        filename=plan.filename[:200],
        actor_id=actor.id,
        created_at=now,
        created=counts["new"],
        updated=counts["update"],
        unchanged=counts["unchanged"] + counts["kept"],
    )
    db.session.add(batch)
    db.session.flush()
    # The session holds rows weakly: keep the groups, owners (with their groups) and
    # milestones alive so each row's checks find them in memory instead of reloading.
    owner_ids = {r.data["owner_id"] for r in plan.rows if r.data.get("owner_id")}
    keep = [
        *db.session.scalars(select(WorkGroup)).all(),
        *db.session.scalars(select(Milestone)).all(),
        *db.session.scalars(select(User).where(User.id.in_(owner_ids)).options(selectinload(User.groups))).all(),
    ]
    problems: list[Problem] = []
    try:
        with events.collected() as pending:  # each row's notifications, recorded together below
            _apply_rows(plan, batch.id, problems, actor=actor, now=now)
        if not problems:
            db.session.flush()
    except StaleDataError:  # an item changed between the check and now
        db.session.rollback()
        raise ImportRejected([_changed_meanwhile(plan)]) from None
    del keep
    if problems:
        raise ImportRejected(problems)
    events.record(pending)
    audit.record(
        "items_imported", actor=actor, target=plan.filename, detail=f"batch {batch.id}: {plan.summary()}", now=now
    )
    return ImportResult(
        batch.id,
        [r.item.id for r in plan.rows if r.kind == "new"],
        [r.item.id for r in plan.rows if r.kind == "update"],
        batch.unchanged,
    )


def load_changing_items(plan: ImportPlan) -> None:
    """Replace the checked rows' plain values by their items, in one query, for the services.

    An item whose version moved since the check was changed meanwhile: the import stops,
    as it would when the update found the version gone.
    """
    rows = [r for r in plan.rows if r.kind == "update"]
    loaded: dict[int, Item] = {}
    ids = [r.item.id for r in rows]
    for start in range(0, len(ids), CHUNK):
        query = (
            select(Item)
            .where(Item.id.in_(ids[start : start + CHUNK]))
            # Groups and users are already in the session (the row reader loaded them all).
            .options(selectinload(Item.supporting_groups), lazyload(Item.group), lazyload(Item.owner))
        )
        loaded.update({item.id: item for item in db.session.scalars(query).unique()})
    for row in rows:
        item = loaded.get(row.item.id)
        if item is None or item.version != row.item.version:
            raise ImportRejected([_changed_meanwhile(plan)])
        row.item = item


def _changed_meanwhile(plan: ImportPlan) -> Problem:
    return Problem(None, plan.filename, str(_l("Someone else changed these items meanwhile; upload the file again.")))


def _apply_rows(plan: ImportPlan, batch_id: int, problems: list[Problem], *, actor, now: datetime) -> None:
    """Create the new rows, then apply every row's steps; a row's domain error joins ``problems``."""
    new_rows = [r for r in plan.rows if r.kind == "new"]
    if new_rows:
        with ledger.imported_from(batch_id, [r.row for r in new_rows]):
            created, errors = services.create_items([r.data for r in new_rows], actor=actor, now=now)
        for index, error in errors.items():
            problems.extend(_problems(plan.sheet, new_rows[index].row, error))
        for row, item in zip(new_rows, created, strict=False):
            row.item = item
    with services.deferred_writes():  # one flush for the whole sheet, versions still step per change
        for row in plan.rows:
            if row.kind not in ("new", "update") or row.item is None:
                continue
            try:
                with ledger.imported_from(batch_id, row.row):
                    diff.apply_steps(row, actor=actor, now=now)
            except Conflict as error:  # the session was rolled back: stop here
                raise ImportRejected([*problems, *_problems(plan.sheet, row.row, error)]) from None
            except DomainError as error:
                problems.extend(_problems(plan.sheet, row.row, error))


def _problems(sheet: Sheet, row: int, error: DomainError) -> list[Problem]:
    fields = error.fields or {"title": error.message}
    return [
        Problem(row, sheet.label(FIELD_COLUMNS.get(name, "title")), str(message)) for name, message in fields.items()
    ]


def _conflict_problem(row: RowPlan) -> Problem:
    return Problem(row.row, row.code, str(_l("The item changed after the export; re-export or keep the newer.")))
