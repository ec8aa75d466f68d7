"""The one writer of every spreadsheet the app produces (ledger export, weekly briefing, CSV).

Whatever a user typed — a title, a code, a group name, a note — reaches a cell
only through ``safe``, so text can never become a live formula in Excel or
LibreOffice (formula / CSV injection): text starting with ``=``, ``+``, ``-``,
``@`` or a control character gets a leading quote, which ``import-xlsx`` takes
away again (``layout.unneutralise``). Characters a workbook cannot hold are dropped.
"""

import csv
import io
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from tracker.spreadsheets import layout


def workbook(*, write_only: bool = False) -> Workbook:
    """A new workbook; fill it only through ``append`` (and ``cell``)."""
    return Workbook(write_only=write_only)


def to_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def safe(value):
    """A value as it may go into a cell: text neutralised, everything else unchanged."""
    if isinstance(value, str):
        return layout.neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def cell(sheet, value, **style) -> WriteOnlyCell:
    """A styled cell of a write-only sheet holding ``value`` made safe."""
    out = WriteOnlyCell(sheet, value=safe(value))
    for name, setting in style.items():
        setattr(out, name, setting)
    return out


def append(sheet, values: Iterable) -> None:
    """Append one row; plain values are made safe, and so is any cell that would hold a formula."""
    row = []
    for value in values:
        if hasattr(value, "data_type"):  # a cell (write-only or not)
            if value.data_type == "f" or (isinstance(value.value, str) and value.value.startswith("=")):
                value.value = safe(value.value)
        else:
            value = safe(value)
        row.append(value)
    sheet.append(row)


def csv_bytes(header: list[str], rows: Iterable[list]) -> bytes:
    """CSV with a byte-order mark, so Excel opens Chinese text as UTF-8; text made safe."""
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow([safe(h) for h in header])
    for row in rows:
        out.writerow(["" if v is None else safe(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")
