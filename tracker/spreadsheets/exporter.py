"""Export the ledger in the 台账 layout: .xlsx ready to print, or CSV for other tools.

The rows come from the caller's permission-checked, filtered item query, so an
export never shows more than the list it was started from. Every text cell is
neutralised against formula injection; ``import-xlsx`` reads the file back.
"""

import io
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from tracker.auth.models import User
from tracker.clock import local_date
from tracker.event.services import current_event, event_timezone
from tracker.extensions import db
from tracker.items.models import Item, LedgerEntry
from tracker.items.rules import Status
from tracker.lists.queries import filtered_items
from tracker.spreadsheets import layout, writer
from tracker.spreadsheets.filter_text import describe_filters

COLUMNS = [c.key for c in layout.COLUMNS]
WRAPPED = {"title", "description", "measures", "acceptance", "latest_note", "remarks"}
DATES = {"deadline", "original_deadline", "found_on", "closed_on"}
A3 = 8  # the paperSize code for A3 in SpreadsheetML
TITLE = {"zh": "整改台账", "en": "Rectification ledger"}
EXPORTED_AT = {"zh": "导出时间", "en": "Exported"}
FILTERS = {"zh": "筛选条件", "en": "Filters"}
PAGE = {"zh": "第 &P 页 / 共 &N 页", "en": "Page &P of &N"}


def ledger_rows(query: Select, *, lang: str, tz: str) -> Iterator[dict]:
    """One dict per item in the query's order, keyed by column; values are text, numbers or dates."""
    query = query.options(selectinload(Item.supporting_groups), selectinload(Item.milestone))
    items = db.session.scalars(query).unique().all()
    notes = latest_notes(query)
    owner_names = _owner_names()
    english = lang == "en"
    for seq, item in enumerate(items, start=1):
        group = item.group
        yield {
            "seq": seq,
            "code": item.code or "",
            "title": item.title,
            "description": item.description or "",
            "kind": layout.value_name("kind", item.kind, lang),
            "source": layout.value_name("source", item.source, lang) if item.source else "",
            "key_area": layout.value_name("key_area", item.key_area, lang) if item.key_area else "",
            "severity": layout.value_name("severity", item.severity, lang),
            "measures": item.measures or "",
            "group": _group_name(group, english),
            "supporting": "、".join(_group_name(g, english) for g in sorted(item.supporting_groups, key=_order)),
            "owner": owner_names.get(item.owner_id, "") if item.owner_id else "",
            "deadline": item.deadline,
            "original_deadline": item.original_deadline,
            "extensions": item.extensions or 0,
            "acceptance": item.acceptance_criteria or "",
            "found_on": item.found_on,
            "venue": item.venue or "",
            "milestone": _milestone_name(item.milestone, english),
            "confidential": layout.value_name("confidential", item.is_confidential, lang),
            "remarks": item.remarks or "",
            "status": layout.value_name("status", item.status, lang),
            "progress": item.progress,
            "latest_note": notes.get(item.id, ""),
            "closed_on": local_date(item.closed_at, tz) if item.status == Status.CLOSED and item.closed_at else None,
            "version": item.version,
        }


def _order(group) -> tuple:
    return (group.sort_order, group.code)


def _group_name(group, english: bool) -> str:
    return (group.name_en if english and group.name_en else group.name) or group.code


def _milestone_name(milestone, english: bool) -> str:
    if milestone is None:
        return ""
    return milestone.title_en if english and milestone.title_en else milestone.title


def latest_notes(query: Select) -> dict[int, str]:
    """The newest non-empty ledger note of each exported item, in one query."""
    ids = query.with_only_columns(Item.id).order_by(None)
    newest = (
        select(func.max(LedgerEntry.id))
        .where(LedgerEntry.item_id.in_(ids), LedgerEntry.note != "")
        .group_by(LedgerEntry.item_id)
    )
    rows = db.session.execute(select(LedgerEntry.item_id, LedgerEntry.note).where(LedgerEntry.id.in_(newest)))
    return dict(rows.all())


def _owner_names() -> dict[int, str]:
    """Display names, or the username where a display name would not name one person."""
    users = db.session.execute(select(User.id, User.username, User.display_name)).all()
    usernames = {layout.squash(u.username) for u in users}
    seen: dict[str, int] = {}
    for user in users:
        key = layout.squash(user.display_name)
        seen[key] = seen.get(key, 0) + 1
    names = {}
    for user in users:
        key = layout.squash(user.display_name)
        unique = key and seen[key] == 1 and (key not in usernames or key == layout.squash(user.username))
        names[user.id] = user.display_name.strip() if unique else user.username
    return names


def write_xlsx(rows, stream, *, lang: str, title: str, exported_at: datetime, tz: str, filters: str = "") -> int:
    """Write the workbook to ``stream``; returns the number of item rows."""
    workbook = writer.workbook(write_only=True)
    sheet = workbook.create_sheet(TITLE[lang])
    width = len(COLUMNS)
    last = get_column_letter(width)
    for number, key in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = layout.BY_KEY[key].width
    sheet.merged_cells.add(f"A1:{last}1")
    sheet.merged_cells.add(f"A2:{last}2")
    sheet.freeze_panes = "A4"
    sheet.print_title_rows = "3:3"
    _print_setup(sheet, lang=lang, title=title, stamp=_stamp(exported_at, tz))

    writer.append(sheet, [writer.cell(sheet, title, font=Font(bold=True, size=14))])
    note = f"{EXPORTED_AT[lang]}: {_stamp(exported_at, tz)}"
    if filters:
        note += f"    {FILTERS[lang]}: {filters}"
    writer.append(sheet, [note])
    writer.append(sheet, [_header_cell(sheet, layout.header(key, lang)) for key in COLUMNS])

    wrap = Alignment(wrap_text=True, vertical="top")
    count = 0
    for row in rows:
        cells = []
        for key in COLUMNS:
            value = row[key]
            if isinstance(value, str):
                value = value or None  # an empty cell is not written: less to read back
            if value is None:
                pass
            elif key in WRAPPED:
                value = writer.cell(sheet, value, alignment=wrap)
            elif key in DATES and value is not None:
                value = writer.cell(sheet, value, number_format="yyyy-mm-dd")
            cells.append(value)
        writer.append(sheet, cells)
        count += 1
    sheet.auto_filter.ref = f"A3:{last}{count + 3}"
    workbook.save(stream)
    return count


def _header_cell(sheet, text: str):
    thin = Side(style="thin", color="808080")
    return writer.cell(
        sheet,
        text,
        font=Font(bold=True),
        fill=PatternFill("solid", fgColor="DDE3EA"),
        alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"),
        border=Border(top=thin, bottom=thin, left=thin, right=thin),
    )


def _print_setup(sheet, *, lang: str, title: str, stamp: str) -> None:
    sheet.page_setup.paperSize = A3
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    # Header and footer codes treat "&" as a command: double it in our own text.
    sheet.oddHeader.center.text = title.replace("&", "&&")[:200]
    sheet.oddHeader.center.size = 14
    sheet.oddFooter.left.text = f"{EXPORTED_AT[lang]}: {stamp}".replace("&", "&&")
    sheet.oddFooter.right.text = PAGE[lang]


def _stamp(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") + f" ({tz})"


def write_csv(rows, *, lang: str) -> bytes:
    """CSV with a byte-order mark, so Excel opens the Chinese text as UTF-8."""
    return writer.csv_bytes(
        [layout.header(key, lang) for key in COLUMNS],
        ([_csv_value(key, row[key]) for key in COLUMNS] for row in rows),
    )


def _csv_value(key: str, value):
    return value.isoformat() if key in DATES and value is not None else value


def export_ledger(user, filters, *, fmt: str, lang: str, now: datetime) -> tuple[bytes, str, int]:
    """The ledger as ``user`` may see it with ``filters``: (file bytes, file name, item count)."""
    tz = event_timezone()
    query = filtered_items(user, filters, local_date(now, tz))
    rows = ledger_rows(query, lang=lang, tz=tz)
    stamp = now.astimezone(ZoneInfo(tz)).strftime("%Y%m%d-%H%M")
    name = f"{TITLE[lang]}-{stamp}.{fmt}" if lang == "zh" else f"ledger-{stamp}.{fmt}"
    if fmt == "csv":
        rows = list(rows)
        return write_csv(rows, lang=lang), name, len(rows)
    event = current_event()
    event_name = (event.name_en if lang == "en" and event.name_en else event.name) if event else ""
    title = f"{event_name} {TITLE[lang]}".strip()
    described = describe_filters(filters, lang)
    stream = io.BytesIO()
    count = write_xlsx(rows, stream, lang=lang, title=title, exported_at=now, tz=tz, filters=described)
    return stream.getvalue(), name, count
