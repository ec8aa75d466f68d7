"""Open an uploaded workbook safely and find the 台账 table in it by its header row."""

import zipfile
from dataclasses import dataclass, field
from io import BytesIO

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from tracker.spreadsheets import layout

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEADER_SCAN_ROWS = 30
# A zip that inflates far beyond its size is a zip bomb, not a ledger.
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
    if inflated > max(max_bytes, len(data)) * MAX_INFLATION:
        raise SheetError(_l("The workbook is too large to read."))


def size_error(size: int, max_bytes: int):
    return _l("The file is too large (%(size)s MB; at most %(max)s MB).", size=_mb(size), max=_mb(max_bytes))


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".rstrip("0").rstrip(".")


def read_sheet(data: bytes, *, max_bytes: int, max_rows: int) -> Sheet:
    """The first worksheet that has a 台账 header row, with its data rows (blank rows dropped)."""
    check_container(data, max_bytes=max_bytes)
    try:
        workbook = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged file; all mean the same to the user
        raise SheetError(_l("The workbook is damaged and cannot be opened.")) from None
    try:
        return _first_ledger(workbook, max_rows)
    except SheetError:
        raise
    except Exception:
        raise SheetError(_l("The workbook is damaged and cannot be opened.")) from None
    finally:
        workbook.close()


def _first_ledger(workbook, max_rows: int) -> Sheet:
    missing_everywhere = None
    any_cells = False
    for worksheet in workbook.worksheets:
        rows = worksheet.iter_rows(values_only=True)
        head = []
        for number, values in enumerate(rows, start=1):
            head.append((number, values))
            if len(head) >= HEADER_SCAN_ROWS:
                break
        any_cells = any_cells or any(_filled(values) for _, values in head)
        found = _find_header(head)
        if found is None:
            continue
        number, values = found
        missing = [key for key in layout.REQUIRED if key not in _mapping(values)[0]]
        if missing:
            missing_everywhere = missing
            continue
        sheet = _sheet(worksheet.title, number, values)
        body = [(n, v) for n, v in head if n > number]
        sheet.rows = _data_rows(sheet, body, rows, max_rows)
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


def _data_rows(sheet: Sheet, body, rest, max_rows: int) -> list[tuple[int, tuple]]:
    wanted = [p for k, p in sheet.columns.items() if layout.BY_KEY[k].imported]
    out = []

    def take(n, values):
        if values and any(p < len(values) and _present(values[p]) for p in wanted):
            if len(out) >= max_rows:
                raise SheetError(_l("The sheet has more than %(n)s rows; split it into smaller files.", n=max_rows))
            out.append((n, values))

    for number, values in body:
        take(number, values)
    start = (body[-1][0] if body else sheet.header_row) + 1
    for number, values in enumerate(rest, start=start):
        take(number, values)
    return out


def _present(value) -> bool:
    return value is not None and (not isinstance(value, str) or value.strip() != "")
