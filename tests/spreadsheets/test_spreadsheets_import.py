"""Importing the 台账 sheet: real .xlsx files built with openpyxl, checked row by row, all or nothing."""

import gc
from datetime import UTC, date, datetime
from io import BytesIO

import pytest
from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.factories import NOW, kept_uploads, login
from tracker.auth.models import User
from tracker.errors import PermissionDenied
from tracker.event.models import Event
from tracker.extensions import db
from tracker.items.ledger import verify_chain
from tracker.items.models import Item, LedgerEntry
from tracker.spreadsheets import importer

HEADER_ZH = ["序号", "问题描述", "问题来源", "整改措施", "责任单位", "配合单位", "责任人", "整改时限", "备注"]
HEADER_EN = [
    "No.",
    "Item",
    "Source",
    "Measures",
    "Responsible group",
    "Supporting groups",
    "Responsible person",
    "Deadline",
    "Remarks",
]


def xlsx(rows, *, title_rows=(), merge=None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "整改台账"
    for row in [*title_rows, *rows]:
        sheet.append(list(row))
    if merge:
        sheet.merge_cells(merge)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def row(title="坡道坡度超标", group="CG", deadline="2026-06-30", owner="", supporting="", source="", remarks=""):
    return [1, title, source, "重新浇筑", group, supporting, owner, deadline, remarks]


@pytest.fixture
def config(config, tmp_path):
    config["IMPORT_DIR"] = str(tmp_path / "imports")
    return config


@pytest.fixture
def client(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def actors(ctx, world):
    return {name: db.session.get(User, getattr(world, name).id) for name in ("admin", "lead", "member", "committee")}


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Item.id))),
        db.session.scalar(select(func.count(LedgerEntry.id))),
    )


def plan(data: bytes, actor) -> importer.ImportPlan:
    with force_locale("en"):  # messages are checked in English
        return importer.plan_import(data, actor=actor, now=NOW, filename="台账.xlsx")


def imported(data: bytes, actor) -> list[Item]:
    result = plan(data, actor)
    assert result.file_error is None, result.file_error
    assert not result.problems, result.problems
    ids = importer.apply_import(result, actor=actor, now=NOW).created
    db.session.commit()
    return [db.session.get(Item, item_id) for item_id in ids]


# --- reading the header ---------------------------------------------------------------


def test_reads_chinese_header_below_merged_title_rows_with_blank_rows_and_extra_columns(actors):
    header = [
        "序 号",
        "问题描述：",
        "问题来源",
        "整改措施",
        "责任 单位",
        "配合单位",
        "责任人",
        "整改时限（年月日）",
        "备注",
        "分管领导",
    ]
    data = xlsx(
        [
            header,
            [1, "  看台轮椅席位不足 ", "领导检查", "增设席位", "CG", "JS", "member", "2026-06-30", "加急", "张副主任"],
            [None] * 10,
            [2, "盲道中断", "自查", "补齐盲道", "场馆建设与无障碍环境组", "", "", "2026-07-15", "", ""],
        ],
        title_rows=[["广东省第十届残疾人运动会 问题清单、责任清单、整改台账"], ["填报单位：组委会办公室"]],
        merge="A1:J1",
    )
    result = plan(data, actors["lead"])
    assert result.sheet.header_row == 3
    assert result.sheet.ignored == ["分管领导"]
    assert [r.row for r in result.rows] == [4, 6]
    items = imported(data, actors["lead"])
    first, second = items
    assert first.title == "看台轮椅席位不足"
    assert first.source == "leader_inspection"
    assert first.remarks == "加急"
    assert first.owner.username == "member"
    assert [g.code for g in first.supporting_groups] == ["JS"]
    assert (first.deadline, second.deadline) == (date(2026, 6, 30), date(2026, 7, 15))
    assert second.group.code == "CG" and second.source == "self_check"


def test_reads_english_header(actors):
    data = xlsx([HEADER_EN, [1, "Ramp too steep", "Self-inspection", "Rebuild", "CG", "", "member", "2026-06-30", ""]])
    (item,) = imported(data, actors["admin"])
    assert (item.title, item.source, item.group.code) == ("Ramp too steep", "self_check", "CG")


def test_full_width_characters_and_stray_spaces_in_header_and_cells(actors):
    header = ["序号", "问题描述", "责任单位 ", "　责任人", "整改时限"]
    data = xlsx([header, [1, "看台扶手松动", "ＣＧ ", " member ", "２０２６－０６－３０"]])
    (item,) = imported(data, actors["admin"])
    assert (item.group.code, item.owner.username, item.deadline) == ("CG", "member", date(2026, 6, 30))


def test_optional_known_columns_are_read(actors):
    header = HEADER_ZH + ["类型", "严重程度", "重点领域", "验收标准", "发现时间", "涉及场馆", "是否保密", "编号"]
    cells = row(owner="member") + [
        "任务",
        "重大",
        "无障碍环境改造",
        "坡度不大于1:12",
        "2026/5/3",
        "茂名体育中心",
        "是",
        "CG-007",
    ]
    (item,) = imported(xlsx([header, cells]), actors["admin"])
    assert (item.kind, item.severity, item.key_area) == ("task", "high", "accessibility")
    assert item.acceptance_criteria == "坡度不大于1:12" and item.found_on == date(2026, 5, 3)
    assert (item.venue, item.is_confidential, item.code) == ("茂名体育中心", True, "CG-007")


def test_group_by_name_code_or_english_name_and_owner_by_display_name_or_username(actors):
    member = actors["member"]
    member.display_name = "林晓雯"
    db.session.commit()
    data = xlsx(
        [
            HEADER_ZH,
            row(group="场馆建设与无障碍环境组", owner="林 晓雯"),
            row(group="cg", owner="member"),
            row(group="Venues & Accessible Environment", owner="林晓雯"),
        ]
    )
    items = imported(data, actors["admin"])
    assert {i.group.code for i in items} == {"CG"}
    assert {i.owner.username for i in items} == {"member"}


# --- dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        date(2026, 5, 20),
        datetime(2026, 5, 20, 0, 0),
        "2026-05-20",
        "2026/5/20",
        "2026.5.20",
        "2026年5月20日",
        "5月20日",
        "２０２６年５月２０日",
        "2026-05-20 00:00:00",
        "2026年5月20日前",
    ],
    ids=repr,
)
def test_each_date_format(actors, cell):
    (item,) = imported(xlsx([HEADER_ZH, row(deadline=cell)]), actors["admin"])
    assert item.deadline == date(2026, 5, 20)


def test_month_and_day_take_the_event_year_not_the_clock_year(actors):
    event = db.session.scalar(select(Event))
    event.opening_at = datetime(2027, 9, 18, 12, 0, tzinfo=UTC)
    db.session.commit()
    (item,) = imported(xlsx([HEADER_ZH, row(deadline="5月20日")]), actors["admin"])
    assert item.deadline == date(2027, 5, 20)


def test_a_past_deadline_is_accepted_and_counted(actors):
    result = plan(xlsx([HEADER_ZH, row(deadline="2026-01-10"), row(deadline="2026-12-01")]), actors["admin"])
    assert result.ok and result.past_deadlines == 1


# --- bad rows ------------------------------------------------------------------------

BAD_ROWS = [
    (row(group="不存在组"), "责任单位 (E)", "No work group called"),
    (row(deadline="2026-02-30"), "整改时限 (H)", "is not a date"),
    (row(deadline="下周"), "整改时限 (H)", "is not a date"),
    (row(title=""), "问题描述 (B)", "no description"),
    (row(group=""), "责任单位 (E)", "No responsible group"),
    (row(owner="nobody"), "责任人 (G)", "No user called"),
    (row(owner="othermember"), "责任人 (G)", "cannot be responsible"),
    (row(supporting="CG、火星组"), "配合单位 (F)", "No work group called “火星组”"),
    (row(title="长" * 301), "问题描述 (B)", "At most 300 characters"),
]


@pytest.mark.parametrize(("cells", "column", "message"), BAD_ROWS, ids=[b[2] for b in BAD_ROWS])
def test_each_kind_of_bad_row_is_named_by_row_and_column(actors, cells, column, message):
    result = plan(xlsx([HEADER_ZH, row(), cells, row()], title_rows=[["台账"]]), actors["admin"])
    assert not result.ok
    assert [(p.row, p.column) for p in result.problems] == [(4, column)]
    assert message in result.problems[0].message


def test_unknown_fixed_values_are_named(actors):
    data = xlsx(
        [["问题描述", "责任单位", "严重程度", "类型", "是否保密"], ["扶手松动", "CG", "特别严重", "杂项", "也许"]]
    )
    result = plan(data, actors["admin"])
    assert {p.column for p in result.problems} == {"严重程度 (C)", "类型 (D)", "是否保密 (E)"}


def test_every_problem_is_reported_at_once(actors):
    data = xlsx([HEADER_ZH, row(group="X"), row(), row(deadline="2026-13-01", owner="nobody")])
    result = plan(data, actors["admin"])
    assert [(p.row, p.column) for p in result.problems] == [
        (2, "责任单位 (E)"),
        (4, "责任人 (G)"),
        (4, "整改时限 (H)"),
    ]


def test_one_bad_row_rejects_the_whole_file_through_the_cli(app, runner, world, tmp_path):
    rows = [HEADER_ZH] + [row(title=f"问题{i}") for i in range(50)]
    rows[31] = row(deadline="2026-02-30")
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx(rows))
    with app.app_context():
        before = counts()
    result = runner.invoke(args=["import-xlsx", str(path)])
    assert result.exit_code != 0
    assert "Row 32, 整改时限 (H)" in result.output
    assert "nothing was imported" in result.output
    with app.app_context():
        assert counts() == before


def test_a_row_the_service_refuses_late_rolls_back_every_row(actors):
    """The plan was checked, then the world changed: the service's own check still wins, all or nothing."""
    before = counts()
    rows = [row(title=f"问题{i}") for i in range(5)]
    rows[2] = row(title="问题2", owner="member")
    result = plan(xlsx([HEADER_ZH, *rows]), actors["admin"])
    assert result.ok
    actors["member"].is_active_account = False  # deactivated between preview and confirmation
    db.session.flush()
    with pytest.raises(importer.ImportRejected) as rejected:
        importer.apply_import(result, actor=actors["admin"], now=NOW)
    db.session.rollback()
    assert [(p.row, p.column) for p in rejected.value.problems] == [(4, "责任人 (G)")]
    assert counts() == before


def test_the_cycle_collector_is_back_on_after_an_import_and_after_a_refusal(actors):
    """Planning and applying pause Python's cycle collector; it must never stay off."""
    result = plan(xlsx([HEADER_ZH, row(title="问题1")]), actors["admin"])
    assert result.ok and gc.isenabled()
    importer.apply_import(result, actor=actors["admin"], now=NOW)
    assert gc.isenabled()
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        importer.plan_import(b"", actor=actors["member"], now=NOW)
    assert gc.isenabled()
    refused = plan(xlsx([HEADER_ZH, row(title="问题1", owner="nobody-at-all")]), actors["admin"])
    with pytest.raises(importer.ImportRejected):
        importer.apply_import(refused, actor=actors["admin"], now=NOW)
    assert gc.isenabled()


# --- the command line -----------------------------------------------------------------


def test_dry_run_reports_and_stores_nothing(app, runner, world, tmp_path):
    path = tmp_path / "ok.xlsx"
    path.write_bytes(xlsx([HEADER_ZH, row(title="看台扶手松动", owner="member"), row(group="JS")]))
    with app.app_context():
        before = counts()
    result = runner.invoke(args=["import-xlsx", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Row 2: new CG-005 [CG] 看台扶手松动 · member · 2026-06-30" in result.output
    assert "Row 3: new JS-003 [JS]" in result.output
    assert "Dry run: created 2, updated 0, unchanged 0. Nothing was stored." in result.output
    with app.app_context():
        assert counts() == before


def test_cli_import_creates_every_item_with_its_ledger_entry(app, runner, world, tmp_path):
    path = tmp_path / "ok.xlsx"
    path.write_bytes(xlsx([HEADER_ZH] + [row(title=f"问题{i}") for i in range(30)]))
    with app.app_context():
        items_before, entries_before = counts()
    result = runner.invoke(args=["import-xlsx", str(path), "--as", "committee"])
    assert result.exit_code == 0, result.output
    assert "ok.xlsx: created 30, updated 0, unchanged 0" in result.output
    with app.app_context():
        assert counts() == (items_before + 30, entries_before + 30)
        created = db.session.scalars(select(Item).where(Item.title == "问题7")).one()
        assert created.created_by_id == world.committee.id
        assert verify_chain().ok


def test_cli_explains_a_file_that_is_not_a_workbook(runner, world, tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("序号,问题描述\n1,x\n")
    result = runner.invoke(args=["import-xlsx", str(path)])
    assert result.exit_code != 0
    assert "Cannot import notes.xlsx: " in result.output
    assert "Traceback" not in result.output


# --- permissions ---------------------------------------------------------------------


def test_lead_imports_only_into_own_groups(actors):
    result = plan(xlsx([HEADER_ZH, row(group="CG"), row(group="JS")]), actors["lead"])
    assert [(p.row, p.column) for p in result.problems] == [(3, "责任单位 (E)")]
    assert "own work groups" in result.problems[0].message


def test_member_may_not_import(actors):
    with pytest.raises(PermissionDenied):
        plan(xlsx([HEADER_ZH, row()]), actors["member"])


def test_member_gets_403_on_the_upload_page(client, world):
    login(client, "member")
    assert client.get("/import").status_code == 403
    response = client.post("/import", data={"file": (BytesIO(xlsx([HEADER_ZH, row()])), "a.xlsx")})
    assert response.status_code == 403


# --- files that are not a ledger ------------------------------------------------------


def encrypted_workbook() -> bytes:
    """What Excel writes for a password-protected workbook: an OLE container with an EncryptedPackage."""
    ole = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1016)
    ole += "EncryptionInfo".encode("utf-16-le") + b"\0" * 50 + "EncryptedPackage".encode("utf-16-le")
    return bytes(ole + b"\0" * 2048)


def empty_workbook() -> bytes:
    buffer = BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


FILE_CASES = [
    ("text.xlsx", "序号,问题描述\n1,x\n".encode(), "not an Excel workbook"),
    ("photo.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "not an Excel workbook"),
    ("locked.xlsx", encrypted_workbook(), "password-protected"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000, "old .xls workbook"),
    ("broken.xlsx", xlsx([HEADER_ZH, row()])[:400], "damaged"),
    ("empty.xlsx", empty_workbook(), "every sheet is empty"),
    ("nohead.xlsx", xlsx([["会议纪要"], ["第一条"]]), "No header row found"),
    ("noitems.xlsx", xlsx([HEADER_ZH]), "no items under it"),
    ("nogroup.xlsx", xlsx([["序号", "问题描述", "整改时限"], [1, "x", "2026-06-30"]]), "lacks a required column"),
    ("empty-file.xlsx", b"", "The file is empty"),
]


@pytest.mark.parametrize(("name", "data", "message"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_a_file_that_is_not_a_ledger_gets_a_clear_message(client, world, name, data, message):
    login(client, "lead")
    response = client.post("/import", data={"file": (BytesIO(data), name)})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "Traceback" not in page


def test_a_20_mb_file_is_refused_before_it_is_read(client, world):
    login(client, "lead")
    data = b"PK\x03\x04" + b"\0" * (20 * 1024 * 1024)
    response = client.post("/import", data={"file": (BytesIO(data), "huge.xlsx")})
    assert response.status_code == 422
    assert "too large (20 MB; at most 10 MB)" in response.get_data(as_text=True)


def test_too_many_rows_is_a_clear_message(app, actors):
    app.config["IMPORT_MAX_ROWS"] = 5
    result = plan(xlsx([HEADER_ZH] + [row() for _ in range(6)]), actors["admin"])
    assert "more than 5 rows" in result.file_error


# --- the web upload: preview, then confirm ------------------------------------------------


def test_upload_shows_a_preview_and_stores_nothing_until_confirmed(app, client, world, tmp_path):
    login(client, "lead")
    data = xlsx([HEADER_ZH, row(title="看台扶手松动", owner="member"), row(title="盲道中断")])
    with app.app_context():
        before = counts()
    response = client.post("/import", data={"file": (BytesIO(data), "台账.xlsx")})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "看台扶手松动" in page and "盲道中断" in page and "Import: create 2, update 0" in page
    with app.app_context():
        assert counts() == before
    (token,) = kept_uploads(app)

    response = client.post("/import/confirm", data={"token": token})
    assert response.status_code == 302
    with app.app_context():
        assert counts()[0] == before[0] + 2
        assert verify_chain().ok
    assert kept_uploads(app) == []
    # A second confirmation of the same upload creates nothing more.
    client.post("/import/confirm", data={"token": token})
    with app.app_context():
        assert counts()[0] == before[0] + 2


def test_preview_lists_every_problem_and_offers_no_confirmation(app, client, world, tmp_path):
    login(client, "lead")
    data = xlsx([HEADER_ZH, row(), row(group="JS"), row(deadline="2026-02-30")])
    response = client.post("/import", data={"file": (BytesIO(data), "台账.xlsx")})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "2 problems: nothing was imported" in page
    assert "<td>3</td><td>责任单位 (E)</td>" in page
    assert "<td>4</td><td>整改时限 (H)</td>" in page
    assert "/import/confirm" not in page
    assert kept_uploads(app) == []


def test_another_user_cannot_confirm_someone_elses_upload(app, client, world, tmp_path):
    login(client, "lead")
    client.post("/import", data={"file": (BytesIO(xlsx([HEADER_ZH, row()])), "a.xlsx")})
    (token,) = kept_uploads(app)
    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(other, "committee")
    with app.app_context():
        before = counts()
    response = other.post("/import/confirm", data={"token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/import")
    with app.app_context():
        assert counts() == before


def test_preview_warns_when_rows_repeat_existing_items(actors):
    data = xlsx([HEADER_ZH, row(title="坡道整改"), row(title="全新问题"), row(title="计时设备调试", group="CG")])
    assert plan(data, actors["lead"]).already_present == 1  # 计时设备调试 exists, but in JS: not a repeat
    imported(data, actors["admin"])
    assert plan(data, actors["admin"]).already_present == 3
