"""Exporting the ledger: the 台账 layout ready to print, CSV for Excel, visibility, formulas, round trip."""

import csv
import io
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import select

from tests import factories
from tests.factories import NOW, login, make_group, make_user
from tracker import create_app
from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import labels, services
from tracker.items.models import Item
from tracker.lists.queries import ItemFilters
from tracker.milestones.models import Milestone
from tracker.spreadsheets import exporter, importer, layout

HEADER_ROW = 3


def sheet_rows(data: bytes) -> tuple[object, list[dict]]:
    sheet = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in sheet[HEADER_ROW]]
    rows = [dict(zip(header, (c.value for c in r), strict=False)) for r in sheet.iter_rows(min_row=HEADER_ROW + 1)]
    return sheet, rows


def export(actor, fmt="xlsx", lang="zh", **filters) -> bytes:
    data, _name, _count = exporter.export_ledger(actor, ItemFilters(**filters), fmt=fmt, lang=lang, now=NOW)
    return data


@pytest.fixture
def w(ctx, world):
    for name in ("admin", "committee", "lead", "member", "other_lead", "other_member", "external"):
        setattr(world, name, db.session.get(User, getattr(world, name).id))
    world.items = {k: db.session.get(Item, v.id) for k, v in world.items.items()}
    world.cs, world.js = db.session.get(WorkGroup, world.cs.id), db.session.get(WorkGroup, world.js.id)
    return world


def test_xlsx_is_ready_to_print(w):
    sheet, rows = sheet_rows(export(w.admin))
    assert sheet["A1"].value == "广东省第十届残疾人运动会 整改台账" and sheet["A1"].font.bold
    assert sheet["A2"].value.startswith("导出时间: 2026-05-29 10:00 (Asia/Shanghai)")
    assert "A1:Z1" in {str(r) for r in sheet.merged_cells.ranges}  # one column per layout column
    header = [c.value for c in sheet[HEADER_ROW]]
    assert header[:9] == [
        "序号",
        "编号",
        "问题描述",
        "详细描述",
        "类型",
        "问题来源",
        "重点领域",
        "严重程度",
        "整改措施",
    ]
    assert {
        "责任单位",
        "配合单位",
        "责任人",
        "整改时限",
        "备注",
        "整改状态",
        "整改进度(%)",
        "最新进展",
        "销号日期",
    } <= set(header)
    assert all(c.font.bold for c in sheet[HEADER_ROW])
    assert sheet.freeze_panes == "A4"
    assert sheet.print_title_rows == "$3:$3"
    assert sheet.column_dimensions["C"].width == 36
    assert sheet.page_setup.paperSize == 8  # A3
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
    assert sheet.oddHeader.center.text == "广东省第十届残疾人运动会 整改台账"
    assert "2026-05-29 10:00" in sheet.oddFooter.left.text
    assert len(rows) == 6 and [r["序号"] for r in rows] == [1, 2, 3, 4, 5, 6]


def test_english_headers(w):
    sheet, rows = sheet_rows(export(w.admin, lang="en"))
    assert sheet["A1"].value == "10th Guangdong Provincial Games for Persons with Disabilities Rectification ledger"
    assert rows[0]["Responsible group"] == "Venues & Accessible Environment"
    assert rows[0]["Status"] == "Not started"


def test_export_carries_status_progress_latest_note_and_closing_date(w):
    item = w.items["owned"]
    services.transition(item, "start", actor=w.member, now=NOW)
    services.add_progress(item, actor=w.member, now=NOW, note="已完成坡道浇筑", progress=80)
    services.transition(item, "submit", actor=w.member, now=NOW, note="申请验收")
    services.transition(item, "verify", actor=w.committee, now=NOW + timedelta(days=2))
    services.add_progress(w.items["unowned"], actor=w.lead, now=NOW, note="材料已采购", progress=30)
    db.session.commit()
    _sheet, rows = sheet_rows(export(w.admin))
    by_title = {r["问题描述"]: r for r in rows}
    closed = by_title["坡道整改"]
    with force_locale("zh_CN"):
        assert (closed["整改状态"], closed["整改进度(%)"]) == (str(labels.STATUS["closed"]), 100)
    assert closed["最新进展"] == "申请验收"
    assert closed["销号日期"].date() == date(2026, 5, 31)
    assert closed["整改时限"].date() == date(2026, 6, 30)
    assert closed["责任人"] == "member" and closed["责任单位"] == "场馆建设与无障碍环境组"
    other = by_title["盲道修复"]
    assert (other["整改进度(%)"], other["最新进展"], other["销号日期"]) == (30, "材料已采购", None)


def test_export_shows_only_what_the_user_may_see_with_the_list_filters(w):
    def titles(actor, **filters):
        return {r["问题描述"] for r in sheet_rows(export(actor, **filters))[1]}

    assert titles(w.member) == {"坡道整改", "盲道修复", "安检通道漏洞", "计时设备调试", "舞美搭建"}
    assert "安检通道漏洞" not in titles(w.other_member)
    assert titles(w.external) == {"舞美搭建"}
    assert titles(w.member, group="JS") == {"计时设备调试"}
    assert titles(w.admin, owner="member") == {"坡道整改"}


def test_download_buttons_keep_the_current_filters(client, world):
    login(client, "member")
    page = client.get("/ledger?group=CG&status=open&sort=deadline").get_data(as_text=True)
    assert 'href="/export.xlsx?group=CG&amp;status=open&amp;sort=deadline"' in page
    assert 'href="/export.csv?group=CG&amp;status=open&amp;sort=deadline"' in page
    response = client.get("/export.xlsx?group=CG&status=open")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    titles = {r["问题描述"] for r in sheet_rows(response.data)[1]}
    assert titles == {"坡道整改", "盲道修复", "安检通道漏洞", "舞美搭建"}


def test_csv_has_a_byte_order_mark_for_excel(client, world):
    login(client, "othermember")
    response = client.get("/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["序号", "编号", "问题描述"]
    assert {r[2] for r in rows[1:]} == {"坡道整改", "盲道修复", "计时设备调试", "兴奋剂检查站保密", "舞美搭建"}


DANGEROUS = ['=HYPERLINK("http://evil.example","点我")', "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1"]


def test_formulas_are_neutralised_in_xlsx_and_csv(w):
    w.items["unowned"].measures = DANGEROUS[0]
    w.items["unowned"].remarks = "@SUM(A1:A2)"
    services.update_item(
        w.items["owned"], {"title": "=1+2", "measures": "-2+3"}, actor=w.lead, now=NOW, version=w.items["owned"].version
    )
    db.session.commit()
    sheet, rows = sheet_rows(export(w.admin))
    formula_cells = [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formula_cells == []
    by_code = {r["问题描述"]: r for r in rows}
    assert by_code["'=1+2"]["整改措施"] == "'-2+3"
    assert by_code["盲道修复"]["整改措施"] == "'" + DANGEROUS[0]
    assert by_code["盲道修复"]["备注"] == "'@SUM(A1:A2)"
    text = export(w.admin, fmt="csv").decode("utf-8-sig")
    assert "'=1+2" in text and "'-2+3" in text and "'@SUM(A1:A2)" in text
    assert ",=1+2" not in text and ",-2+3" not in text


@pytest.mark.parametrize("value", DANGEROUS + ["'=already quoted", "普通文本", "-"])
def test_neutralising_is_undone_on_import(value):
    written = layout.neutralise(value)
    assert not written.startswith(layout.FORMULA_STARTS)
    assert layout.unneutralise(written) == value


def test_cli_writes_xlsx_or_csv_by_the_file_name(runner, world, tmp_path):
    result = runner.invoke(args=["export-xlsx", str(tmp_path / "台账.xlsx")])
    assert result.exit_code == 0, result.output
    assert "Wrote 6 item(s)" in result.output
    assert len(sheet_rows((tmp_path / "台账.xlsx").read_bytes())[1]) == 6
    result = runner.invoke(args=["export-xlsx", str(tmp_path / "cg.csv"), "--group", "CG", "--lang", "en"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "cg.csv").read_bytes().decode("utf-8-sig")
    assert text.startswith("No.,Code,Item,") and "计时设备调试" not in text


# --- round trip ------------------------------------------------------------------------

FIELDS = (
    "code",
    "kind",
    "title",
    "description",
    "source",
    "key_area",
    "severity",
    "measures",
    "deadline",
    "acceptance_criteria",
    "found_on",
    "venue",
    "remarks",
    "is_confidential",
)


def snapshot(item: Item) -> tuple:
    return (
        *(getattr(item, name) for name in FIELDS),
        item.group.code,
        tuple(sorted(g.code for g in item.supporting_groups)),
        item.owner.username if item.owner else None,
        item.milestone.title if item.milestone else None,
    )


def same_people():
    """The groups, people and milestone both installs share."""
    event = factories.make_event()
    cs = make_group("CG", "场馆建设与无障碍环境组", name_en="Venues & Accessible Environment")
    js = make_group("JS", "竞赛组织组", name_en="Competition Organization")
    admin = make_user("admin", "admin")
    make_user("lead", "lead", [cs])
    make_user("member", "member", [cs], display_name="林晓雯")
    make_user("othermember", "member", [js], display_name="周  杰")
    make_user("vendor", "external", [cs], display_name="舞美公司")
    db.session.add(Milestone(event_id=event.id, title="无障碍设施验收", offset_days=-60, kind="countdown"))
    db.session.flush()
    return admin, cs, js


def rich_items(admin, cs, js):
    milestone = db.session.scalar(select(Milestone))
    users = {u.username: u for u in db.session.scalars(select(User))}
    specs = [
        dict(
            code="CG-001",
            kind="task",
            title="看台轮椅席位不足",
            description="东看台仅 12 个席位\n需增至 40 个",
            source="accessibility_audit",
            key_area="accessibility",
            severity="high",
            group_id=cs.id,
            supporting_group_ids=[js.id],
            owner_id=users["member"].id,
            measures="=增设席位；-调整视线",
            deadline=date(2026, 6, 30),
            acceptance_criteria="每个席位 0.80×1.30 m",
            found_on=date(2026, 5, 3),
            venue="茂名体育中心",
            remarks="@组委会 跟进",
            milestone_id=milestone.id,
            is_confidential=True,
        ),
        dict(title="计时设备调试", group_id=js.id, owner_id=users["othermember"].id, source="赛前踏勘发现"),
        dict(title="+舞美搭建进度", group_id=cs.id, owner_id=users["vendor"].id, deadline=date(2026, 1, 5)),
        dict(title="无日期事项", group_id=js.id, severity="low", key_area="safety"),
    ]
    return [services.create_item(spec, actor=admin, now=NOW) for spec in specs]


def test_round_trip_export_then_import_into_another_install_gives_the_same_items(app, config, tmp_path):
    with app.app_context(), app.test_request_context():
        admin, cs, js = same_people()
        originals = [snapshot(i) for i in rich_items(admin, cs, js)]
        db.session.commit()
        with force_locale("zh_CN"):
            data = export(admin)
        data_en = export(admin, lang="en")

    other = create_app({**config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'other.db'}"})
    for payload in (data, data_en):
        with other.app_context(), other.test_request_context():
            db.drop_all()
            db.create_all()
            admin, _cs, _js = same_people()
            db.session.commit()
            plan = importer.plan_import(payload, actor=admin, now=NOW)
            assert plan.ok, (plan.file_error, plan.problems)
            ids = importer.apply_import(plan, actor=admin, now=NOW).created
            db.session.commit()
            assert [snapshot(db.session.get(Item, i)) for i in ids] == sorted(originals, key=_deadline_order)
        with other.app_context():
            db.engine.dispose()


def _deadline_order(snap) -> tuple:
    deadline = snap[FIELDS.index("deadline")]
    return (deadline is None, deadline or date.min)


def test_export_queries_do_not_grow_with_the_number_of_items(w):
    from sqlalchemy import event

    def statements() -> int:
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            export(w.admin)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    db.session.commit()  # both counts start after a commit (expired rows reload once)
    few = statements()
    for number in range(20):
        services.create_item(
            {"title": f"问题{number}", "group_id": w.cs.id, "supporting_group_ids": [w.js.id], "owner_id": w.member.id},
            actor=w.admin,
            now=NOW,
        )
    db.session.commit()
    assert statements() == few
