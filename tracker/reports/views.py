from io import BytesIO

from flask import Blueprint, abort, render_template, request, send_file
from flask_login import current_user, login_required

from tracker import permissions
from tracker.clock import utcnow
from tracker.event.services import current_event
from tracker.i18n import is_english
from tracker.items import ledger
from tracker.reports.services import parse_week, weekly_report
from tracker.reports.xlsx import weekly_workbook

bp = Blueprint("reports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report():
    if not permissions.can_view_reports(current_user):
        abort(403)
    event = current_event()
    if event is None:
        abort(404)
    now = utcnow()
    week = parse_week(request.args.get("week"), event.today(now))
    return weekly_report(current_user, event, week, now=now)


def group_name(row) -> str:
    return row.name_en if is_english() and row.name_en else row.name


@bp.route("/reports/weekly")
@login_required
def weekly():
    """The weekly briefing (周通报) for ``?week=2026-W22`` or any date in it; this week by default."""
    report = _report()
    return render_template("reports/weekly.html", report=report, group_name=group_name, checkpoint=ledger.checkpoint())


@bp.route("/reports/weekly.xlsx")
@login_required
def weekly_xlsx():
    report = _report()
    data = weekly_workbook(report, group_name, checkpoint=ledger.checkpoint())
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"weekly-{report.week.label}.xlsx")
