from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import permissions
from tracker.audit import services as audit
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.i18n import is_english
from tracker.items.models import ImportBatch
from tracker.lists.queries import ItemFilters
from tracker.spreadsheets import exporter, importer, uploads
from tracker.spreadsheets.forms import ConfirmImportForm, ImportForm
from tracker.spreadsheets.reader import size_error

bp = Blueprint("spreadsheets", __name__)

MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
PREVIEW_ROWS = 300
PREVIEW_PROBLEMS = 500
CHANGING = ("new", "update", "conflict", "kept", "error")  # rows the preview lists one by one


@bp.app_template_global("can_import_sheets")
def can_import_sheets() -> bool:
    return current_user.is_authenticated and permissions.can_import(current_user)


@bp.app_template_global("import_batch")
def import_batch(batch_id: int) -> ImportBatch | None:
    """The import a list is filtered by, to say so above the list."""
    return db.session.get(ImportBatch, batch_id) if 0 < batch_id < 2**31 else None


def _require_import() -> None:
    if not permissions.can_import(current_user):
        abort(403)


def _max_bytes() -> int:
    return current_app.config["IMPORT_MAX_BYTES"]


@bp.route("/import", methods=["GET", "POST"])
@login_required
def upload():
    _require_import()
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("spreadsheets/import.html", form=form), 422 if form.errors else 200
    storage = form.file.data
    storage.stream.seek(0, 2)
    size = storage.stream.tell()
    if size > _max_bytes():  # refuse before reading it into memory
        form.file.errors = [str(size_error(size, _max_bytes()))]
        return render_template("spreadsheets/import.html", form=form), 422
    storage.stream.seek(0)
    data = storage.stream.read()
    now = utcnow()
    plan = importer.plan_import(data, actor=current_user, now=now, filename=storage.filename or "")
    if plan.file_error:
        form.file.errors = [plan.file_error]
        return render_template("spreadsheets/import.html", form=form), 422
    token = uploads.keep(current_user.id, data, now=now) if plan.ok or plan.resolvable else None
    db.session.commit()  # the kept upload, for a confirmation on any app host
    return _preview(plan, token)


def _preview(plan: importer.ImportPlan, token: str | None, problems=None):
    problems = problems if problems is not None else plan.problems
    confirm = ConfirmImportForm(token=token) if token else None
    return render_template(
        "spreadsheets/preview.html",
        plan=plan,
        problems=problems,
        shown=[r for r in plan.rows if r.kind in CHANGING][:PREVIEW_ROWS],
        changing=sum(r.kind in CHANGING for r in plan.rows),
        problem_limit=PREVIEW_PROBLEMS,
        confirm=confirm,
    ), (200 if token and not problems and not plan.conflicts else 422)


def _keep_newer() -> frozenset[int]:
    """The conflicting rows the user chose to leave out, keeping the item as it is now."""
    return frozenset(int(v) for v in request.form.getlist("keep_newer") if v.isdigit() and len(v) <= 7)


@bp.route("/import/confirm", methods=["POST"])
@login_required
def confirm():
    _require_import()
    form = ConfirmImportForm()
    data = uploads.claim(current_user.id, form.token.data) if form.validate_on_submit() else None
    if data is None:
        flash(_("That upload is no longer available. Please upload the file again."), "error")
        return redirect(url_for("spreadsheets.upload"))
    now = utcnow()
    filename = (request.form.get("filename") or "")[:200]
    plan = importer.plan_import(data, actor=current_user, now=now, filename=filename, keep_newer=_keep_newer())
    if plan.resolvable:  # conflicts left undecided: ask again, the upload stays
        uploads.release(current_user.id, form.token.data)
        flash(_("Each conflict needs a choice: keep the newer, or export the sheet again."), "error")
        return _preview(plan, form.token.data)
    if not plan.ok:
        uploads.discard(current_user.id, form.token.data)
        db.session.commit()
        return _preview(plan, None)
    try:
        result = importer.apply_import(plan, actor=current_user, now=now)
    except importer.ImportRejected as rejected:
        db.session.rollback()
        uploads.discard(current_user.id, form.token.data)
        db.session.commit()
        return _preview(plan, None, rejected.problems)
    db.session.commit()
    uploads.discard(current_user.id, form.token.data)
    db.session.commit()
    counts = plan.counts()
    flash(
        _(
            "Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.",
            created=counts["new"],
            updated=counts["update"],
            unchanged=result.unchanged,
        ),
        "success",
    )
    if not result.created and not result.updated:
        return redirect(url_for("items.ledger"))
    return redirect(url_for("items.ledger", batch=result.batch_id))


@bp.route("/export.<any(xlsx, csv):fmt>")
@login_required
def export(fmt: str):
    """The ledger with the list's current filters, as the signed-in user may see it."""
    filters = ItemFilters.from_args(request.args)
    lang = "en" if is_english() else "zh"
    data, name, count = exporter.export_ledger(current_user, filters, fmt=fmt, lang=lang, now=utcnow())
    audit.record_now(
        "ledger_exported", actor=current_user, target=request.full_path, detail=f"{count} items", now=utcnow()
    )
    response = send_file(BytesIO(data), mimetype=MIMETYPES[fmt], as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response
