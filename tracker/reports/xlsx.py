"""The weekly briefing as a workbook: the per-group table and the red list, ready to print."""

from flask_babel import gettext as _
from openpyxl.styles import Font
from openpyxl.worksheet.page import PageMargins

from tracker.i18n import is_english
from tracker.reports.services import WeeklyReport
from tracker.spreadsheets import writer


def _sheet(book, title: str, header: list[str], rows: list[list], first: bool = False):
    sheet = book.active if first else book.create_sheet()
    sheet.title = title[:31]
    writer.append(sheet, header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        writer.append(sheet, row)
    sheet.freeze_panes = "A2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    sheet.print_title_rows = "1:1"
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(max(10, width * 1.6), 60)
    return sheet


def weekly_workbook(report: WeeklyReport, group_name, checkpoint: str = "") -> bytes:
    book = writer.workbook()
    groups = [
        [
            g.code,
            group_name(g),
            g.new,
            g.closed,
            g.overdue,
            g.still_open,
            g.overdue_change,
            g.open_change,
        ]
        for g in report.groups
    ]
    t = report.totals
    groups.append([_("All groups"), "", t.new, t.closed, t.overdue, t.still_open, t.overdue_change, t.open_change])
    summary = _sheet(
        book,
        _("Week %(week)s", week=report.week.label),
        [
            _("Code"),
            _("Work group"),
            _("New"),
            _("Closed"),
            _("Overdue"),
            _("Still open"),
            _("Overdue, change"),
            _("Still open, change"),
        ],
        groups,
        first=True,
    )
    _sheet(
        book,
        _("Overdue"),
        [_("No."), _("Title"), _("Work group"), _("Responsible person"), _("Deadline"), _("Days overdue"), _("New")],
        [
            [
                r.code or r.id,
                r.title,
                r.group_label(is_english()),
                r.owner or "",
                r.deadline,
                r.days_overdue,
                _("yes") if r.is_new else "",
            ]
            for r in report.red_list
        ],
    )
    _extension_sheet(book, report)
    if checkpoint:
        writer.append(summary, [])
        writer.append(summary, [_("Ledger checkpoint"), checkpoint])
    return writer.to_bytes(book)


def _extension_sheet(book, report: WeeklyReport) -> None:
    """The week's extensions (延期), and the items late against their original deadline."""
    ext = report.extensions
    kinds = ((_("Requested"), ext.requested), (_("Granted"), ext.granted), (_("Refused"), ext.refused))
    header = [
        "",
        _("No."),
        _("Title"),
        _("Work group"),
        _("Deadline"),
        _("New deadline"),
        _("Requested by"),
        _("Reason"),
        _("Decision note"),
    ]
    rows = [
        [
            kind,
            e.code or e.item_id,
            e.title,
            e.group,
            e.from_deadline,
            e.to_deadline,
            e.requested_by or "",
            e.reason,
            e.note,
        ]
        for kind, lines in kinds
        for e in lines
    ]
    _sheet(book, _("Deadline extensions"), header, rows)
    late = [
        [r.code or r.id, r.title, r.group, r.original_deadline, r.deadline, r.days_late]
        for r in ext.late_against_original
    ]
    header = [_("No."), _("Title"), _("Work group"), _("Original deadline"), _("Deadline"), _("Days past the original")]
    _sheet(book, _("Late vs original"), header, late)
