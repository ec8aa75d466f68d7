"""A year's holiday arrangement from a CSV or xlsx sheet: 日期, 上班/休息, 名称 (one day a row).

All or nothing: any bad row rejects the file, with the row named.
"""

import csv
import io
from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l

from tracker.errors import ValidationFailed
from tracker.spreadsheets.cellscan import Limits, ScanFailed, scan_isolated
from tracker.spreadsheets.reader import SheetError, check_container

MAX_BYTES = 512 * 1024
MAX_ROWS = 400
HEADERS = {
    "day": ("日期", "date", "day"),
    "working": ("上班", "是否上班", "类型", "working", "type"),
    "name": ("名称", "节日", "name", "holiday"),
}
WORKING = {"1", "true", "yes", "是", "上班", "工作日", "working", "work"}
OFF = {"0", "false", "no", "否", "休息", "休", "放假", "off", "holiday"}


def read_arrangement(data: bytes, filename: str) -> dict[date, tuple[bool, str]]:
    rows = _xlsx_rows(data) if filename.lower().endswith(".xlsx") else _csv_rows(data)
    if not rows:
        raise ValidationFailed(_l("The arrangement was not saved."), {"file": _l("The file is empty.")})
    header = [str(cell or "").strip().lower() for cell in rows[0]]
    columns = {}
    for key, names in HEADERS.items():
        for index, text in enumerate(header):
            if text in names:
                columns[key] = index
    if "day" not in columns or "working" not in columns:
        raise ValidationFailed(
            _l("The arrangement was not saved."),
            {"file": _l("The first row must name the columns 日期 (date), 上班 (working) and 名称 (name).")},
        )
    days: dict[date, tuple[bool, str]] = {}
    errors = []
    for number, row in enumerate(rows[1 : MAX_ROWS + 1], start=2):
        cells = list(row) + [None] * 3
        raw_day, raw_working = cells[columns["day"]], cells[columns["working"]]
        name = str(cells[columns["name"]] or "").strip() if "name" in columns else ""
        if raw_day in (None, "") and raw_working in (None, ""):
            continue
        day = _day(raw_day)
        working = str(raw_working if raw_working is not None else "").strip().lower()
        if day is None:
            errors.append(_l("Row %(row)s: %(value)s is not a date like 2027-02-06.", row=number, value=raw_day))
        elif working not in WORKING | OFF:
            errors.append(_l("Row %(row)s: write 上班 or 休息 in the working column.", row=number))
        elif day in days:
            errors.append(_l("Row %(row)s: %(day)s is listed twice.", row=number, day=day.isoformat()))
        else:
            days[day] = (working in WORKING, name)
    if len(rows) > MAX_ROWS + 1:
        errors.append(_l("The sheet has more than %(n)s rows; one year's arrangement is far shorter.", n=MAX_ROWS))
    if errors:
        raise ValidationFailed(_l("The arrangement was not saved."), {"file": [str(e) for e in errors[:20]]})
    return days


def _day(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip().replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))
    except ValueError:
        return None


def _csv_rows(data: bytes) -> list[list]:
    if len(data) > MAX_BYTES:
        raise ValidationFailed(_l("The arrangement was not saved."), {"file": _l("The file is too large.")})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ValidationFailed(
                _l("The arrangement was not saved."), {"file": _l("Save the CSV file as UTF-8.")}
            ) from None
    return [row for _, row in zip(range(MAX_ROWS + 2), csv.reader(io.StringIO(text)), strict=False)]


def _xlsx_rows(data: bytes) -> list[list]:
    """The first sheet's rows by position (row 1 first), read in the bounded parsing process."""
    try:
        check_container(data, max_bytes=MAX_BYTES)
        sheets = scan_isolated(
            data,
            Limits(max_rows=MAX_ROWS + 2, max_columns=16, max_sheets=1),
            seconds=current_app.config["IMPORT_PARSE_SECONDS"],
            memory_mb=current_app.config["IMPORT_PARSE_MEMORY_MB"],
        )
    except SheetError as error:
        raise ValidationFailed(_l("The arrangement was not saved."), {"file": error.message}) from None
    except ScanFailed as failed:
        if failed.code == "too_many_rows":
            message = _l("The sheet has more than %(n)s rows; one year's arrangement is far shorter.", n=MAX_ROWS)
        else:
            message = _l("This is not an Excel workbook (.xlsx).")
        raise ValidationFailed(_l("The arrangement was not saved."), {"file": message}) from None
    found = sheets[0]["rows"] if sheets else []
    rows: list[list] = [[] for _ in range(min(found[-1][0], MAX_ROWS + 2))] if found else []
    for number, values in found:
        if number <= len(rows):
            rows[number - 1] = list(values)
    return rows
