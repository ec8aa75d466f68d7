"""The working-day calendar: the admin page, and what templates read (days left in working days)."""

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import permissions
from tracker.clock import utcnow
from tracker.errors import ValidationFailed
from tracker.event.services import current_event, local_today
from tracker.extensions import db
from tracker.forms import show_errors
from tracker.spreadsheets.workdays import MAX_BYTES, read_arrangement
from tracker.workdays import services
from tracker.workdays.forms import DayForm, ImportForm, YearForm

bp = Blueprint("workdays", __name__, url_prefix="/admin/working-days")


@bp.before_request
@login_required
def require_admin():
    if not permissions.can_administer(current_user):
        abort(403)


@bp.app_template_global()
def working_days_until(day: date) -> int:
    """Working days from today to ``day`` (negative when past), by the event's calendar."""
    return services.calendar().working_days_left(local_today(utcnow()), day)


@bp.app_template_global()
def working_days_to_opening() -> int | None:
    event = current_event()
    return working_days_until(event.opening_date) if event else None


@bp.app_template_filter("weekday")
def weekday(day: date) -> str:
    return format_date(day, "EEEE")


@bp.app_template_global()
def day_off_name(day: date | None) -> str | None:
    """None for a working day; otherwise the holiday's name, or '' for a plain weekend."""
    if day is None:
        return None
    cal = services.calendar()
    return None if cal.is_working(day) else cal.name(day)


def _year() -> int:
    raw = request.args.get("year", "")
    today = local_today(utcnow())
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else today.year


def _page(year: int, *, day_form=None, year_form=None, import_form=None, status: int = 200):
    event = current_event()
    rows = services.exceptions_between(event, date(year, 1, 1), date(year, 12, 31)) if event else []
    return render_template(
        "workdays/index.html",
        event=event,
        year=year,
        rows=rows,
        day_form=day_form or DayForm(),
        year_form=year_form or YearForm(year=year),
        import_form=import_form or ImportForm(year=year),
        library_years=services.library_years(),
    ), status


@bp.route("/")
def index():
    return _page(_year())


def _event():
    event = current_event()
    if event is None:
        flash(_("Set up the event first."), "error")
    return event


@bp.route("/day", methods=["POST"])
def set_day():
    form = DayForm()
    event = _event()
    if event is None:
        return redirect(url_for("admin.event"))
    if form.validate_on_submit():
        try:
            services.set_day(
                event,
                form.day.data,
                working=form.working.data == "1",
                name=form.name.data,
                actor=current_user,
                now=utcnow(),
            )
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("%(day)s saved.", day=form.day.data.isoformat()), "success")
            return redirect(url_for("workdays.index", year=form.day.data.year))
    return _page(form.day.data.year if form.day.data else _year(), day_form=form, status=422)


@bp.route("/day/<day>/reset", methods=["POST"])
def reset_day(day: str):
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        abort(404)
    event = _event()  # the app's CSRF protection has checked the POST
    if event is not None:
        services.reset_day(event, parsed, actor=current_user, now=utcnow())
        db.session.commit()
        flash(_("%(day)s is back to the Monday-to-Friday rule.", day=parsed.isoformat()), "success")
    return redirect(url_for("workdays.index", year=parsed.year))


@bp.route("/seed", methods=["POST"])
def seed():
    form = YearForm()
    event = _event()
    if event is None:
        return redirect(url_for("admin.event"))
    if form.validate_on_submit():
        try:
            stored = services.seed_from_library(event, form.year.data, actor=current_user, now=utcnow())
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("%(year)s: %(n)s days taken from the holiday library.", year=form.year.data, n=stored), "success")
            return redirect(url_for("workdays.index", year=form.year.data))
    return _page(_year(), year_form=form, status=422)


@bp.route("/import", methods=["POST"])
def import_year():
    form = ImportForm()
    event = _event()
    if event is None:
        return redirect(url_for("admin.event"))
    upload = request.files.get("file")
    if form.validate_on_submit():
        if upload is None or not upload.filename:
            form.file.errors = [_("Choose a file.")]
        else:
            try:
                days = read_arrangement(upload.read(MAX_BYTES + 1), upload.filename)
                stored = services.apply_year(
                    event, form.year.data, days, actor=current_user, now=utcnow(), source=upload.filename[:100]
                )
            except ValidationFailed as error:
                db.session.rollback()
                show_errors(form, error)
            else:
                db.session.commit()
                flash(_("%(year)s: %(n)s days imported.", year=form.year.data, n=stored), "success")
                return redirect(url_for("workdays.index", year=form.year.data))
    return _page(form.year.data if form.year.data else _year(), import_form=form, status=422)
