"""The 台账 round trip on the demo data: export, edit the sheet as Excel would, import by 编号."""

from datetime import date, timedelta
from io import BytesIO

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select

from tests.factories import kept_uploads, login
from tracker.auth.models import User
from tracker.demo.seed import load_demo
from tracker.extensions import db
from tracker.items import services
from tracker.items.ledger import verify_chain
from tracker.items.models import ImportBatch, Item, LedgerEntry
from tracker.lists.queries import ItemFilters
from tracker.outbox.models import Delivery, ItemEvent
from tracker.spreadsheets import changes, exporter, importer, layout

LANGS = ("zh", "en")


@pytest.fixture
def demo(app, frozen_now, prebuilt):
    """The demo install, inside a request context (messages, locale) for service-level calls."""
    with app.app_context():
        prebuilt(app, "demo", lambda: load_demo(now=frozen_now))
    with app.test_request_context("/", method="POST"):
        yield frozen_now


def user(username: str) -> User:
    return db.session.scalars(select(User).where(User.username == username)).one()


def item(code: str) -> Item:
    return db.session.scalars(select(Item).where(Item.code == code)).one()


def export(actor: User, lang: str, now) -> bytes:
    data, _name, _count = exporter.export_ledger(actor, ItemFilters(), fmt="xlsx", lang=lang, now=now)
    return data


class Sheet:
    """An exported workbook opened for editing, its cells addressed by 编号 and column key."""

    def __init__(self, data: bytes, lang: str):
        self.book = load_workbook(BytesIO(data))
        self.sheet = self.book.active
        self.lang = lang
        headers = [c.value for c in self.sheet[3]]
        self.col = {key: headers.index(layout.header(key, lang)) + 1 for key in exporter.COLUMNS}

    def row_of(self, code: str) -> int:
        for number in range(4, self.sheet.max_row + 1):
            if self.sheet.cell(number, self.col["code"]).value == code:
                return number
        raise KeyError(code)

    def set(self, code: str, key: str, value) -> int:
        number = self.row_of(code)
        self.sheet.cell(number, self.col[key]).value = value
        return number

    def get(self, code: str, key: str):
        return self.sheet.cell(self.row_of(code), self.col[key]).value

    def add(self, **values) -> int:
        number = self.sheet.max_row + 1
        for key, value in values.items():
            self.sheet.cell(number, self.col[key]).value = value
        return number

    def bytes(self) -> bytes:
        out = BytesIO()
        self.book.save(out)
        return out.getvalue()


def status_name(key: str, lang: str) -> str:
    return layout.value_name("status", key, lang)


def counts() -> tuple[int, int]:
    return db.session.scalar(select(func.count(Item.id))), db.session.scalar(select(func.count(LedgerEntry.id)))


def plan(data: bytes, actor: User, now, **kwargs) -> importer.ImportPlan:
    with force_locale("en"):
        return importer.plan_import(data, actor=actor, now=now, filename="台账.xlsx", **kwargs)


# --- an unedited sheet changes nothing ----------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_unedited_export_imports_back_as_all_unchanged(demo, lang):
    admin = user("admin")
    data = export(admin, lang, demo)
    before = counts()
    result = plan(data, admin, demo)
    assert result.ok, (result.file_error, result.problems)
    assert result.summary() == "created 0, updated 0, unchanged 60"
    outcome = importer.apply_import(result, actor=admin, now=demo)
    db.session.commit()
    assert (outcome.created, outcome.updated) == ([], [])
    assert counts() == before


@pytest.mark.parametrize("lang", LANGS)
def test_a_leads_unedited_export_is_unchanged_too(demo, lang):
    """A lead's sheet holds other groups' items as well: unchanged rows are no one's business."""
    lead = user("lead-cg")
    result = plan(export(lead, lang, demo), lead, demo)
    assert result.ok, result.problems
    assert result.counts()["unchanged"] == len(result.rows) > 10


def test_cli_round_trip_prints_the_counts(app, runner, demo, tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(export(user("admin"), "zh", demo))
    result = runner.invoke(args=["import-xlsx", str(path)])
    assert result.exit_code == 0, result.output
    assert "台账.xlsx: created 0, updated 0, unchanged 60" in result.output


# --- edited fields, status, progress and a new row ------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_edited_sheet_changes_exactly_what_was_edited(demo, lang):
    admin = user("admin")
    sheet = Sheet(export(admin, lang, demo), lang)
    old_deadline = item("CG-003").deadline
    edited = sheet.set("CG-003", "measures", "改用防滑预制盲道砖")
    sheet.set("CG-003", "deadline", old_deadline + timedelta(days=10))
    sheet.set("CG-003", "progress", 90)
    sheet.set("CG-003", "latest_note", "比赛区连接段已铺设九成")
    started = sheet.set("CG-007", "status", status_name("in_progress", lang))
    closed = sheet.set("JS-007", "status", status_name("closed", lang))
    added = sheet.add(title="看台遮阳设施不足", group="CG", deadline=date(2026, 7, 15), measures="加装遮阳棚")
    before_items, before_entries = counts()

    result = plan(sheet.bytes(), admin, demo)
    assert result.ok, result.problems
    assert result.summary() == "created 1, updated 3, unchanged 57"
    by_row = {r.row: r for r in result.rows}
    assert by_row[added].kind == "new" and by_row[added].code == "CG-011"
    assert {c.key for c in by_row[edited].changes} == {"measures", "deadline", "progress", "latest_note"}
    progress = next(c for c in by_row[edited].changes if c.key == "progress")
    assert (progress.before, progress.after) == ("80%", "90%")

    outcome = importer.apply_import(result, actor=admin, now=demo)
    db.session.commit()
    assert len(outcome.created) == 1 and len(outcome.updated) == 3

    cg3 = item("CG-003")
    assert (cg3.measures, cg3.deadline, cg3.progress) == ("改用防滑预制盲道砖", old_deadline + timedelta(days=10), 90)
    assert item("CG-007").status == "in_progress"
    assert item("JS-007").status == "closed" and item("JS-007").closed_by_id == admin.id
    new = item("CG-011")
    assert (new.title, new.group.code, new.status) == ("看台遮阳设施不足", "CG", "open")

    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.id > before_entries)).all()
    made = sorted((e.item.code, e.kind, e.field or "", e.import_row) for e in entries)
    assert made == sorted(
        [
            ("CG-003", "field_changed", "measures", edited),
            ("CG-003", "deadline_changed", "deadline", edited),
            ("CG-003", "progress", "progress", edited),
            ("CG-007", "status", "status", started),
            ("JS-007", "status", "status", closed),
            ("CG-011", "created", "", added),
        ]
    )
    progress_entry = next(e for e in entries if e.kind == "progress")
    assert progress_entry.note == "比赛区连接段已铺设九成"
    batch = db.session.get(ImportBatch, outcome.batch_id)
    assert {e.import_batch_id for e in entries} == {batch.id} and batch.filename == "台账.xlsx"
    assert (batch.created, batch.updated, batch.unchanged) == (1, 3, 57)
    assert counts()[0] == before_items + 1

    # The same sheet again: the edits are in, the new row has no 编号 yet, so only it repeats.
    again = plan(export(admin, lang, demo), admin, demo)
    assert again.summary() == "created 0, updated 0, unchanged 61"
    assert verify_chain().ok


def test_a_new_progress_note_alone_adds_a_note(demo):
    admin = user("admin")
    sheet = Sheet(export(admin, "zh", demo), "zh")
    sheet.set("JS-002", "latest_note", "场地复测完成")
    result = plan(sheet.bytes(), admin, demo)
    assert result.summary() == "created 0, updated 1, unchanged 59"
    importer.apply_import(result, actor=admin, now=demo)
    entry = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id.desc())).first()
    assert (entry.item.code, entry.kind, entry.note) == ("JS-002", "comment", "场地复测完成")


def test_a_deadline_change_goes_through_the_edit_service_with_a_reason(demo):
    admin = user("admin")
    sheet = Sheet(export(admin, "zh", demo), "zh")
    row = sheet.set("JS-002", "deadline", date(2026, 8, 20))
    result = plan(sheet.bytes(), admin, demo)
    importer.apply_import(result, actor=admin, now=demo)
    entry = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id.desc())).first()
    assert (entry.kind, entry.after, entry.import_row) == ("deadline_changed", "2026-08-20", row)
    assert f"row {row}" in entry.note


# --- a stale row is a conflict --------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_row_whose_item_changed_after_the_export_is_a_conflict_and_nothing_is_stored(demo, lang):
    admin, lead = user("admin"), user("lead-cg")
    sheet = Sheet(export(admin, lang, demo), lang)
    row = sheet.set("CG-006", "measures", "表格里的新措施")
    sheet.set("CG-008", "remarks", "表格里的备注")
    services.update_item(
        item("CG-006"), {"measures": "网页上刚改的措施"}, actor=lead, now=demo, version=item("CG-006").version
    )
    db.session.commit()
    before = counts()

    result = plan(sheet.bytes(), admin, demo)
    assert not result.ok and result.resolvable
    (conflict,) = result.conflicts
    assert (conflict.row, conflict.code) == (row, "CG-006")
    assert [(e.author.username, e.field, e.after) for e in conflict.since] == [
        ("lead-cg", "measures", "网页上刚改的措施")
    ]
    with pytest.raises(importer.ImportRejected):
        importer.apply_import(result, actor=admin, now=demo)
    db.session.rollback()
    assert counts() == before

    # Explicitly keeping the newer version leaves that row out; the rest imports.
    settled = plan(sheet.bytes(), admin, demo, keep_newer=frozenset({row}))
    assert settled.ok and settled.summary() == "created 0, updated 1, unchanged 59"
    importer.apply_import(settled, actor=admin, now=demo)
    db.session.commit()
    assert item("CG-006").measures == "网页上刚改的措施" and item("CG-008").remarks == "表格里的备注"


def test_a_fresh_export_has_no_conflict(demo):
    admin, lead = user("admin"), user("lead-cg")
    services.update_item(
        item("CG-006"), {"measures": "网页上刚改的措施"}, actor=lead, now=demo, version=item("CG-006").version
    )
    sheet = Sheet(export(admin, "zh", demo), "zh")
    sheet.set("CG-006", "measures", "再改一次")
    assert plan(sheet.bytes(), admin, demo).ok


# --- what a lead may not do ------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_leads_sheet_cannot_close_or_touch_another_groups_item(demo, lang):
    lead = user("lead-cg")
    sheet = Sheet(export(lead, lang, demo), lang)
    close = sheet.set("CG-003", "status", status_name("closed", lang))
    other = sheet.set("JS-002", "measures", "别的组的措施")
    fine = sheet.set("CG-006", "remarks", "本组的备注")
    before = counts()

    result = plan(sheet.bytes(), lead, demo)
    assert not result.ok
    problems = {p.row: p for p in result.problems}
    assert set(problems) == {close, other}
    assert problems[close].column.startswith(layout.header("status", lang))
    assert "path is: Submit for verification (the responsible person or the group's lead)" in problems[close].message
    assert "Verify and close (销号) (the committee)" in problems[close].message
    assert "You may not change items of JS" in problems[other].message
    assert {r.row: r.kind for r in result.rows}[fine] == "update"
    with pytest.raises(importer.ImportRejected):
        importer.apply_import(result, actor=lead, now=demo)
    db.session.rollback()
    assert counts() == before


def test_a_reason_step_needs_the_latest_note(demo):
    committee = user("office-zh")
    sheet = Sheet(export(committee, "zh", demo), "zh")
    row = sheet.set("JS-007", "status", status_name("in_progress", "zh"))  # reject: needs a reason
    result = plan(sheet.bytes(), committee, demo)
    assert [p.row for p in result.problems] == [row] and "needs a reason" in result.problems[0].message
    sheet.set("JS-007", "latest_note", "验收资料不全，退回补充")
    result = plan(sheet.bytes(), committee, demo)
    assert result.ok, result.problems
    importer.apply_import(result, actor=committee, now=demo)
    entry = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id.desc())).first()
    assert (entry.kind, entry.after, entry.note) == ("status", "in_progress", "验收资料不全，退回补充")


def test_the_same_code_twice_in_a_sheet_is_an_error(demo):
    admin = user("admin")
    sheet = Sheet(export(admin, "zh", demo), "zh")
    row = sheet.add(code="CG-003", title="重复的行", group="CG")
    result = plan(sheet.bytes(), admin, demo)
    assert [p.row for p in result.problems] == [row]
    assert "also in row" in result.problems[0].message


# --- the web upload --------------------------------------------------------------------------


@pytest.fixture
def web(app, demo, tmp_path):
    app.config["IMPORT_DIR"] = str(tmp_path / "imports")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _token(app) -> str:
    (token,) = kept_uploads(app)
    return token


def test_preview_shows_changes_and_confirm_lands_on_the_affected_items(app, web, demo, tmp_path):
    login(web, "lead-cg", "demo-lead")
    sheet = Sheet(export(user("lead-cg"), "en", demo), "en")
    sheet.set("CG-006", "measures", "新措施")
    sheet.add(title="看台遮阳设施不足", group="CG")
    response = web.post("/import", data={"file": (BytesIO(sheet.bytes()), "台账.xlsx")})
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "New: <strong>1</strong>" in page and "To update: <strong>1</strong>" in page
    assert "<ins>新措施</ins>" in page and "CG-011" in page
    assert "Import: create 1, update 1" in page

    response = web.post("/import/confirm", data={"token": _token(app), "filename": "台账.xlsx"})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "/ledger?batch=" in location
    listing = web.get(location).get_data(as_text=True)
    assert "CG-006" in listing and "CG-011" in listing and "CG-003" not in listing
    assert "Items the import of 台账.xlsx created or changed (1 created, 1 updated" in listing
    detail = web.get(f"/items/{item('CG-006').id}").get_data(as_text=True)
    assert "From the imported sheet 台账.xlsx, row" in detail


def test_a_conflict_in_the_preview_is_settled_by_keeping_the_newer(app, web, demo, tmp_path):
    login(web, "admin", "demo-admin")
    sheet = Sheet(export(user("admin"), "en", demo), "en")
    row = sheet.set("CG-006", "measures", "表格里的新措施")
    sheet.set("CG-008", "remarks", "表格里的备注")
    services.update_item(
        item("CG-006"),
        {"measures": "网页上刚改的措施"},
        actor=user("lead-cg"),
        now=demo,
        version=item("CG-006").version,
    )
    db.session.commit()
    response = web.post("/import", data={"file": (BytesIO(sheet.bytes()), "台账.xlsx")})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "1 row changed in Wallchart after the export" in page and "网页上刚改的措施" in page
    assert f'name="keep_newer" value="{row}"' in page

    token = _token(app)
    response = web.post("/import/confirm", data={"token": token, "filename": "台账.xlsx"})
    assert response.status_code == 422  # not settled: nothing stored, the upload is kept
    assert db.session.scalar(select(func.count(ImportBatch.id))) == 0

    response = web.post("/import/confirm", data={"token": token, "filename": "台账.xlsx", "keep_newer": str(row)})
    assert response.status_code == 302
    db.session.expire_all()
    assert item("CG-006").measures == "网页上刚改的措施" and item("CG-008").remarks == "表格里的备注"


def test_cli_names_conflicts_and_errors_by_row_and_keep_newer_settles_them(app, runner, demo, tmp_path):
    admin = user("admin")
    sheet = Sheet(export(admin, "zh", demo), "zh")
    row = sheet.set("CG-006", "measures", "表格里的新措施")
    sheet.set("CG-008", "remarks", "表格里的备注")
    path = tmp_path / "台账.xlsx"
    path.write_bytes(sheet.bytes())
    services.update_item(
        item("CG-006"),
        {"measures": "网页上刚改的措施"},
        actor=user("lead-cg"),
        now=demo,
        version=item("CG-006").version,
    )
    db.session.commit()
    before = counts()

    result = runner.invoke(args=["import-xlsx", str(path), "--dry-run"])
    assert result.exit_code != 0
    assert f"Row {row}, CG-006: the item changed after the export: 梁国栋 changed measures" in result.output
    assert "nothing was imported" in result.output

    result = runner.invoke(args=["import-xlsx", str(path), "--dry-run", "--keep-newer", str(row)])
    assert result.exit_code == 0, result.output
    assert f"update CG-008: 备注 ({get_column_letter(sheet.col['remarks'])}): — → 表格里的备注" in result.output
    assert "Dry run: created 0, updated 1, unchanged 59. Nothing was stored." in result.output
    db.session.expire_all()
    assert counts() == before

    sheet.set("CG-008", "progress", 150)
    path.write_bytes(sheet.bytes())
    result = runner.invoke(args=["import-xlsx", str(path), "--keep-newer", str(row)])
    assert result.exit_code != 0
    assert f"Row {sheet.row_of('CG-008')}, 整改进度(%) ({get_column_letter(sheet.col['progress'])}): " in result.output
    assert counts() == before


def test_a_leads_sheet_cannot_move_a_set_deadline_it_needs_an_extension(demo):
    lead = user("lead-cg")
    sheet = Sheet(export(lead, "zh", demo), "zh")
    row = sheet.set("CG-003", "deadline", item("CG-003").deadline + timedelta(days=30))
    result = plan(sheet.bytes(), lead, demo)
    assert [(p.row, p.column.split(" (")[0]) for p in result.problems] == [(row, "整改时限")]
    assert "only the committee moves it" in result.problems[0].message


def test_an_imported_sheet_notifies_exactly_as_the_same_changes_one_by_one(demo):
    """The import records its events together; who hears what is the same as row by row."""
    admin = user("admin")
    sheet = Sheet(export(admin, "zh", demo), "zh")
    sheet.set("CG-003", "progress", 90)
    sheet.set("CG-003", "latest_note", "比赛区连接段已铺设九成")
    sheet.set("CG-007", "measures", "改用防滑预制盲道砖")
    sheet.set("JS-007", "status", status_name("closed", "zh"))
    data = sheet.bytes()
    first = db.session.scalar(select(func.coalesce(func.max(ItemEvent.id), 0)))

    def heard() -> set[tuple]:
        rows = db.session.execute(
            select(Delivery.rule, Item.code, Delivery.user_id, Delivery.group_id, Delivery.channel)
            .join(Item, Item.id == Delivery.item_id)
            .where(Delivery.event_id > first)
        )
        return {tuple(row) for row in rows}

    one_by_one = plan(data, admin, demo)
    importer.load_changing_items(one_by_one)
    for row in one_by_one.rows:
        if row.kind == "update":
            changes.apply_steps(row, actor=admin, now=demo)
    db.session.flush()
    expected = heard()
    db.session.rollback()

    importer.apply_import(plan(data, admin, demo), actor=admin, now=demo)
    db.session.flush()
    assert heard() == expected
    owner = item("CG-003").owner_id
    assert ("progress_added", "CG-003", owner, None, "inapp") in expected
    assert {rule for rule, *_ in expected} >= {"progress_added", "item_verified"}
    assert verify_chain().ok
