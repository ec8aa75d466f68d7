"""Hostile workbooks: the work an upload causes is bounded by its real cells and by a hard budget."""

import re
import time
import zipfile
from io import BytesIO

import pytest
from flask_babel import force_locale

from tests.factories import NOW, login
from tests.spreadsheets.test_spreadsheets_import import HEADER_ZH, row, xlsx
from tracker.auth.models import User
from tracker.extensions import db
from tracker.spreadsheets import importer

FAR_ROW = 2_000_000_000


def rewrite(data: bytes, member: str, change) -> bytes:
    """The same workbook with one member's text changed."""
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == member:
                content = change(content.decode()).encode()
            target.writestr(info.filename, content)
    return out.getvalue()


def far_row_workbook() -> bytes:
    """A real ledger without <dimension> whose last row is numbered 2,000,000,000 (about 2 KB)."""

    def change(xml: str) -> str:
        xml = re.sub(r"<dimension[^>]*/>", "", xml)
        far = f'<row r="{FAR_ROW}"><c r="B{FAR_ROW}" t="inlineStr"><is><t>远处</t></is></c></row>'
        return xml.replace("</sheetData>", far + "</sheetData>")

    return rewrite(xlsx([HEADER_ZH, row(title="看台扶手松动")]), "xl/worksheets/sheet1.xml", change)


def zip_bomb(inflated: int) -> bytes:
    """A workbook with an extra member of zeros that inflates to ``inflated`` bytes."""
    out = BytesIO(xlsx([HEADER_ZH, row()]))
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("xl/media/zeros.bin", "w", force_zip64=True) as member:
            chunk = bytes(2**20)
            for _ in range(inflated // len(chunk)):
                member.write(chunk)
    return out.getvalue()


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
    return {name: db.session.get(User, getattr(world, name).id) for name in ("admin", "lead")}


def plan(data: bytes, actor) -> importer.ImportPlan:
    with force_locale("en"):
        return importer.plan_import(data, actor=actor, now=NOW, filename="台账.xlsx")


def test_a_row_numbered_two_billion_costs_no_more_than_the_real_cells(actors):
    data = far_row_workbook()
    assert len(data) < 8000
    started = time.perf_counter()
    result = plan(data, actors["admin"])
    assert time.perf_counter() - started < 10
    assert result.file_error is None, result.file_error
    assert [r.data["title"] for r in result.rows] == ["看台扶手松动"]


def test_rows_after_a_thousand_blank_rows_are_not_read(actors):
    def change(xml: str) -> str:
        far = '<row r="2000"><c r="B2000" t="inlineStr"><is><t>远处</t></is></c></row>'
        return xml.replace("</sheetData>", far + "</sheetData>")

    data = rewrite(xlsx([HEADER_ZH, row(title="近处")]), "xl/worksheets/sheet1.xml", change)
    result = plan(data, actors["admin"])
    assert [r.data["title"] for r in result.rows] == ["近处"]


def test_huge_column_numbers_do_not_allocate_rows(actors):
    def change(xml: str) -> str:
        wide = '<row r="5"><c r="XFD5" t="inlineStr"><is><t>宽</t></is></c></row>'
        return xml.replace("</sheetData>", wide + "</sheetData>")

    data = rewrite(xlsx([HEADER_ZH, row(title="窄")]), "xl/worksheets/sheet1.xml", change)
    result = plan(data, actors["admin"])
    assert [r.data["title"] for r in result.rows] == ["窄"]


def test_parsing_that_outlasts_its_time_budget_is_stopped_with_a_clear_message(app, actors):
    app.config["IMPORT_PARSE_SECONDS"] = 0.001
    result = plan(xlsx([HEADER_ZH, row()]), actors["admin"])
    assert "took too long to read" in result.file_error


def test_parsing_that_outgrows_its_memory_budget_is_stopped_with_a_clear_message(app, actors):
    def change(xml: str) -> str:
        huge = '<row r="3"><c r="B3" t="inlineStr"><is><t>' + "长" * (20 * 2**20) + "</t></is></c></row>"
        return xml.replace("</sheetData>", huge + "</sheetData>")

    data = rewrite(xlsx([HEADER_ZH, row()]), "xl/worksheets/sheet1.xml", change)
    assert len(data) < 100_000  # one 60 MB cell
    app.config["IMPORT_PARSE_MEMORY_MB"] = 128
    result = plan(data, actors["admin"])
    assert "too large to read" in result.file_error


def test_a_zip_bomb_under_the_inflation_ratio_is_refused_by_its_absolute_size(actors):
    data = zip_bomb(160 * 2**20)
    assert len(data) < 2 * 2**20  # well under the 10 MB upload limit, so the ratio alone allows 1 GB
    result = plan(data, actors["admin"])
    assert "too large to read" in result.file_error


def test_the_upload_page_answers_the_hostile_files_without_tying_up_the_worker(client, world):
    login(client, "lead")
    for name, data in (("far.xlsx", far_row_workbook()), ("bomb.xlsx", zip_bomb(160 * 2**20))):
        started = time.perf_counter()
        response = client.post("/import", data={"file": (BytesIO(data), name)})
        assert time.perf_counter() - started < 10
        assert response.status_code in (200, 422)
        assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("maker", [far_row_workbook, lambda: zip_bomb(160 * 2**20)], ids=["far-row", "zip-bomb"])
def test_the_cli_does_not_hang_on_hostile_files(runner, world, tmp_path, maker):
    path = tmp_path / "hostile.xlsx"
    path.write_bytes(maker())
    started = time.perf_counter()
    result = runner.invoke(args=["import-xlsx", str(path), "--dry-run"])
    assert time.perf_counter() - started < 10
    assert "Traceback" not in result.output


def test_the_working_day_import_reads_hostile_sheets_within_the_same_bounds(app, client, world):
    """The other workbook upload: a far row and a cell in column XFD cost nothing but the real cells."""
    from datetime import date

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["日期", "上班", "名称"])
    book.active.append([date(2027, 10, 1), "休息", "国庆节"])
    out = BytesIO()
    book.save(out)

    def change(xml: str) -> str:
        xml = re.sub(r"<dimension[^>]*/>", "", xml)
        wide = '<row r="3"><c r="XFD3" t="inlineStr"><is><t>宽</t></is></c></row>'
        far = f'<row r="{FAR_ROW}"><c r="A{FAR_ROW}" t="inlineStr"><is><t>远处</t></is></c></row>'
        return xml.replace("</sheetData>", wide + far + "</sheetData>")

    data = rewrite(out.getvalue(), "xl/worksheets/sheet1.xml", change)
    login(client, "admin")
    started = time.perf_counter()
    response = client.post(
        "/admin/working-days/import",
        data={"year": "2027", "file": (BytesIO(data), "2027.xlsx")},
        content_type="multipart/form-data",
    )
    assert time.perf_counter() - started < 10
    assert response.status_code == 302, response.get_data(as_text=True)
