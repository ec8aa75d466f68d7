"""Open an uploaded workbook safely and find the 台账 table in it by its header row."""

import zipfile
from dataclasses import dataclass, field
from io import BytesIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from openpyxl.utils import get_column_letter

from tracker.spreadsheets import layout
from tracker.spreadsheets.cellscan import Limits, ScanFailed, scan_isolated

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEADER_SCAN_ROWS = 30
# A zip that inflates far beyond its size is a zip bomb, not a ledger: refused by
# ratio and, whatever the ratio, above IMPORT_MAX_INFLATED_BYTES.
MAX_INFLATION = 100


class SheetError(Exception):
    """The file as a whole cannot be read; the message is for the person who sent it."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class Sheet:
    title: str
    header_row: int
    columns: dict[str, int]  # column key → 0-based position
    headers: dict[str, str]  # column key → the header text as written in the file
    ignored: list[str]  # headers of columns we do not read
    rows: list[tuple[int, tuple]] = field(default_factory=list)  # (Excel row number, cell values)

    def label(self, key: str) -> str:
        """How to name a column in a message: its header as written and its letter."""
        if key not in self.columns:
            return layout.header(key, "zh")
        return f"{self.headers[key]} ({get_column_letter(self.columns[key] + 1)})"


def check_container(data: bytes, *, max_bytes: int) -> None:
    if not data:
        raise SheetError(_l("The file is empty."))
    if len(data) > max_bytes:
        raise SheetError(size_error(len(data), max_bytes))
    if data.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise SheetError(
                _l("The workbook is password-protected. Remove the password in Excel and upload it again.")
            )
        raise SheetError(_l("This is an old .xls workbook. Save it as .xlsx (Excel Workbook) and upload it again."))
    if not data.startswith(b"PK\x03\x04"):
        raise SheetError(_l("This is not an Excel workbook (.xlsx). Save the sheet as .xlsx and upload it again."))
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = set(archive.namelist())
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise SheetError(_l("The workbook is damaged and cannot be opened.")) from None
    if "xl/workbook.xml" not in names:
        raise SheetError(_l("This is not an Excel workbook (.xlsx). Save the sheet as .xlsx and upload it again."))
    absolute = current_app.config["IMPORT_MAX_INFLATED_BYTES"]
    if inflated > min(max(max_bytes, len(data)) * MAX_INFLATION, absolute):
        raise SheetError(_l("The workbook is too large to read."))


def size_error(size: int, max_bytes: int):
    return _l("The file is too large (%(size)s MB; at most %(max)s MB).", size=_mb(size), max=_mb(max_bytes))


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".rstrip("0").rstrip(".")


def read_sheet(data: bytes, *, max_bytes: int, max_rows: int) -> Sheet:
    """The first worksheet that has a 台账 header row, with its data rows (blank rows dropped).

    The cells are read in a separate process with a time and memory budget
    (``cellscan``), so a hostile file costs at most that budget.
    """
    check_container(data, max_bytes=max_bytes)
    config = current_app.config
    limits = Limits(max_rows=2 * max_rows + HEADER_SCAN_ROWS)
    try:
        sheets = scan_isolated(
            data,
            limits,
            seconds=config["IMPORT_PARSE_SECONDS"],
            memory_mb=config["IMPORT_PARSE_MEMORY_MB"],
        )
    except ScanFailed as failed:
        raise SheetError(_scan_error(failed.code, max_rows)) from None
    return _first_ledger(sheets, max_rows)


def _scan_error(code: str, max_rows: int):
    if code == "too_many_rows":
        return _l("The sheet has more than %(n)s rows; split it into smaller files.", n=max_rows)
    if code == "too_slow":
        return _l("The workbook took too long to read. Save it again in Excel, or split it into smaller files.")
    if code == "too_big":
        return _l("The workbook is too large to read.")
    return _l("The workbook is damaged and cannot be opened.")


def _first_ledger(sheets: list[dict], max_rows: int) -> Sheet:
    missing_everywhere = None
    any_cells = False
    for worksheet in sheets:
        head = [(n, values) for n, values in worksheet["rows"] if n <= HEADER_SCAN_ROWS]
        any_cells = any_cells or bool(worksheet["rows"])
        found = _find_header(head)
        if found is None:
            continue
        number, values = found
        missing = [key for key in layout.REQUIRED if key not in _mapping(values)[0]]
        if missing:
            missing_everywhere = missing
            continue
        sheet = _sheet(worksheet["title"], number, values)
        sheet.rows = _data_rows(sheet, [(n, v) for n, v in worksheet["rows"] if n > number], max_rows)
        return sheet
    if missing_everywhere:
        names = "、".join(f"{layout.BY_KEY[k].zh} / {layout.BY_KEY[k].en}" for k in missing_everywhere)
        raise SheetError(_l("The header row lacks a required column: %(names)s.", names=names))
    if not any_cells:
        raise SheetError(_l("The workbook has no data: every sheet is empty."))
    raise SheetError(
        _l(
            "No header row found. The sheet needs a row of column titles such as "
            "序号, 问题描述, 整改措施, 责任单位, 责任人, 整改时限 (or Item, Responsible group, Deadline)."
        )
    )


def _filled(values) -> bool:
    return any(v is not None and str(v).strip() for v in values or ())


def _mapping(values) -> tuple[dict[str, int], dict[str, str], list[str]]:
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for position, value in enumerate(values or ()):
        if value is None or not str(value).strip():
            continue
        key = layout.column_for_header(value)
        if key is None or key in columns:
            ignored.append(str(value).strip())
            continue
        columns[key] = position
        headers[key] = " ".join(str(value).split())
    return columns, headers, ignored


def _find_header(head):
    """The row naming the most known columns (at least two), the first such on a tie."""
    best, best_score = None, 1
    for number, values in head:
        score = len(_mapping(values)[0])
        if score > best_score:
            best, best_score = (number, values), score
    return best


def _sheet(title: str, number: int, values) -> Sheet:
    columns, headers, ignored = _mapping(values)
    return Sheet(title=title, header_row=number, columns=columns, headers=headers, ignored=ignored)


def _data_rows(sheet: Sheet, body, max_rows: int) -> list[tuple[int, tuple]]:
    wanted = [p for k, p in sheet.columns.items() if layout.BY_KEY[k].imported]
    out = []
    for number, values in body:
        if values and any(p < len(values) and _present(values[p]) for p in wanted):
            if len(out) >= max_rows:
                raise SheetError(_l("The sheet has more than %(n)s rows; split it into smaller files.", n=max_rows))
            out.append((number, values))
    return out


def _present(value) -> bool:
    return value is not None and (not isinstance(value, str) or value.strip() != "")
