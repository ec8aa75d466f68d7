from functools import partial

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import permissions
from tracker.board import cache as board_cache
from tracker.clock import utcnow
from tracker.errors import Conflict, ValidationFailed
from tracker.event.services import local_today as today_for
from tracker.extensions import db
from tracker.files.store import store
from tracker.forms import show_errors
from tracker.groups import services as group_services
from tracker.groups.models import WorkGroup
from tracker.home.nav import page_around
from tracker.i18n import is_english
from tracker.items import closure_form, duties, evidence, extension_views, history, labels, rules, services
from tracker.items.forms import ItemForm, ProgressForm, TransitionForm, carry_version
from tracker.items.models import Evidence, Item, LedgerEntry
from tracker.items.owner_picker import owner_choices
from tracker.items.status import item_light
from tracker.lists import pages as list_pages
from tracker.lists.queries import ItemFilters
from tracker.milestones.models import Milestone
from tracker.routing import page_number
from tracker.spreadsheets.filter_text import describe_filters
from tracker.workdays.notes import warn_if_day_off

bp = Blueprint("items", __name__)

LISTS = {
    "problems": ("items/problems.html", _l("Problem list")),
    "responsibilities": ("items/responsibilities.html", _l("Responsibility list")),
    "ledger": ("items/ledger.html", _l("Rectification ledger")),
}


def _list(view: str):
    filters = ItemFilters.from_args(request.args)
    version = board_cache.data_version()  # before ``today``: it reads the event along
    today = today_for(utcnow())
    page = page_number(request.args)
    per_page = current_app.config["ITEMS_PER_PAGE"]
    template, title = LISTS[view]
    last = []

    def render() -> str | None:
        found = list_pages.page_ids(current_user, filters, today, page, per_page, version=version)
        if page > found.last_page(per_page):  # nothing to show, nor to keep
            last.append(found.last_page(per_page))
            return None
        return render_template(
            template,
            items=list_pages.load(found.ids, Item.supporting_groups, Item.milestone),
            total=found.total,
            page=page,
            per_page=per_page,
            filters=filters,
            view=view,
            today=today,
            choices=_filter_choices(),
            light=item_light,
        )

    cacheable = list_pages.cacheable(filters)
    if cacheable:
        # Everything the list's text depends on: the items and the board's reference data (group
        # names, milestones, the event), the day, the language, the address, what the reader may
        # see and do (their id, role and groups), the filters and the page.
        key = (
            view,
            version,
            today,
            str(get_locale()),
            request.script_root,
            list_pages.viewer(current_user),
            filters,
            page,
            per_page,
        )
        body = list_pages.rendered(key, render)
    else:
        body = render()
    if body is None:  # an old link or a typed number past the end: the last page, not an empty one
        return redirect(url_for(request.endpoint, **filters.as_args(page=last[0])))
    # The filters in words, for the printed page's header: they name groups, people and
    # milestones, so they are kept by the same data version.
    language = "en" if is_english() else "zh_CN"
    describe = partial(describe_filters, filters, language)
    key = ("filter text", version, language, filters)
    filter_text = list_pages.rendered(key, describe) if cacheable else describe()
    return page_around("items/list.html", body, title=title, filter_text=filter_text)


def _filter_choices() -> dict:
    return {
        "groups": group_services.ordered_groups(),
        "milestones": db.session.scalars(select(Milestone)).all(),
    }


@bp.route("/problems")
@login_required
def problems():
    return _list("problems")


@bp.route("/responsibilities")
@login_required
def responsibilities():
    return _list("responsibilities")


@bp.route("/ledger")
@login_required
def ledger():
    return _list("ledger")


def _fill_choices(form: ItemForm, item: Item | None) -> None:
    groups = group_services.ordered_groups()
    allowed = [g for g in groups if permissions.can_move_item_to(current_user, g.id)]
    if item is not None and item.group not in allowed:
        allowed.insert(0, item.group)
    locale = str(get_locale())

    def label(group: WorkGroup) -> str:
        return f"{group.code} · {group.display_name(locale)}"

    form.group_id.choices = [(None, "—")] + [(g.id, label(g)) for g in allowed]
    form.supporting_group_ids.choices = [(g.id, label(g)) for g in groups]
    form.owner_id.choices = owner_choices(
        groups, locale, current=item.owner if item else None, blank="—", third_party=_("third party")
    )
    milestones = sorted(db.session.scalars(select(Milestone)).all(), key=lambda m: m.date)
    form.milestone_id.choices = [(None, "—")] + [(m.id, f"{m.t_label} {m.display_title(locale)}") for m in milestones]
    current_source = item.source if item is not None else ""
    if current_source and current_source not in labels.SOURCE:
        form.source.choices = [*form.source.choices, (current_source, current_source)]


@bp.route("/items/new", methods=["GET", "POST"])
@login_required
def new():
    if not permissions.may_create_items(current_user):
        abort(403)
    form = ItemForm()
    _fill_choices(form, None)
    if request.method == "GET" and request.args.get("group"):
        group = group_services.by_code(request.args["group"])
        form.group_id.data = group.id if group else None
    warnings = []
    if request.method == "POST" and request.form.get("confirm_warnings") != "1":
        warnings = rules.creation_warnings(form.owner_id.data, form.deadline.data, today_for(utcnow()))
    if form.validate_on_submit():
        try:
            if warnings:  # errors first, then the warnings; nothing is written before the confirmation
                services.check_new_item(form.item_data(), actor=current_user)
            item = None if warnings else services.create_item(form.item_data(), actor=current_user, now=utcnow())
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            if item is not None:
                db.session.commit()
                flash(_("Item %(ref)s added.", ref=item.code or item.id), "success")
                warn_if_day_off(item.deadline)
                return redirect(url_for("items.detail", item_id=item.id))
    status = 422 if form.errors else 200
    return render_template("items/form.html", form=form, item=None, conflict=None, warnings=warnings), status


def _past(form: ItemForm) -> bool:
    deadline = form.deadline.data
    return bool(deadline and deadline < today_for(utcnow()))


@bp.route("/items/<int:item_id>")
@login_required
def detail(item_id: int):
    item = services.get_visible_item(item_id, actor=current_user)
    return _render_detail(item)


def _render_detail(item: Item, progress_form=None, transition_form=None, status=200, conflict=None, **extra):
    today = today_for(utcnow())
    entries = db.session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.item_id == item.id)
        .options(selectinload(LedgerEntry.author), selectinload(LedgerEntry.evidence))
        .order_by(LedgerEntry.id.desc())
    ).all()
    recorders = frozenset(e.author_id for e in entries if e.kind in duties.PROGRESS_KINDS and e.author_id)
    actions = [
        a
        for a in rules.actions_from(item.status)
        if permissions.can_transition(current_user, item, a, progress_recorders=recorders)
    ]
    locale = str(get_locale())
    return render_template(
        "items/detail.html",
        item=item,
        history=history.readable(entries, locale),
        actions=actions,
        can_edit=permissions.can_edit_item(current_user, item),
        can_contribute=permissions.can_contribute(current_user, item),
        # Both forms post a "note": the one not sent starts empty, not with the other's text.
        progress_form=progress_form or ProgressForm(formdata=None),
        transition_form=transition_form or TransitionForm(formdata=None),
        light=item_light(item, today),
        today=today,
        verify_override=permissions.is_verify_override(current_user, item, "verify", recorders),
        conflict=None if conflict is None else history.readable(conflict, locale),
        **extra,
    ), status


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit(item_id: int):
    item = services.get_visible_item(item_id, actor=current_user)
    if not permissions.can_edit_item(current_user, item):
        abort(403)
    form = ItemForm(obj=item if request.method == "GET" else None)
    _fill_choices(form, item)
    if request.method == "GET":
        form.supporting_group_ids.data = [g.id for g in item.supporting_groups]
        form.version.data = item.version
    conflict = None
    if form.validate_on_submit():
        try:
            version = form.version.data or 0
            changed = services.update_item(
                item,
                form.item_data(),
                actor=current_user,
                now=utcnow(),
                version=version,
                reason=form.reason.data or "",
            )
        except Conflict:
            db.session.rollback()
            item = services.get_visible_item(item_id, actor=current_user)
            conflict = history.readable(services.changes_since(item, version), str(get_locale()))
            carry_version(form, item.version)
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            warn_if_day_off(item.deadline)
            return redirect(url_for("items.detail", item_id=item.id))
    status = 409 if conflict is not None else (422 if form.errors else 200)
    return render_template(
        "items/form.html", form=form, item=item, conflict=conflict, past_deadline=_past(form)
    ), status


@bp.route("/items/<int:item_id>/transition", methods=["POST"])
@login_required
def transition(item_id: int):
    item = services.get_visible_item(item_id, actor=current_user)
    form = TransitionForm()
    if form.validate_on_submit():
        try:
            services.transition(
                item, form.action.data, actor=current_user, now=utcnow(), note=form.note.data, version=form.version.data
            )
        except Conflict:
            return _lost_race(item_id, form.version.data, transition_form=form)
        except ValidationFailed as error:
            db.session.rollback()
            item = services.get_visible_item(item_id, actor=current_user)
            show_errors(form, error)
            return _render_detail(item, transition_form=form, status=422)
        db.session.commit()
        flash(_("%(action)s: done.", action=_action_label(form.action.data)), "success")
    return redirect(url_for("items.detail", item_id=item.id))


def _lost_race(item_id: int, version: int | None, **forms):
    """The item page again after someone else's change won: what was typed stays in its form."""
    db.session.rollback()
    item = services.get_visible_item(item_id, actor=current_user)
    for form in forms.values():
        carry_version(form, item.version)
    changes = services.changes_since(item, version) if version is not None else []
    return _render_detail(item, status=409, conflict=changes, **forms)


def _action_label(action: str) -> str:
    return str(labels.ACTION.get(action, action))


@bp.route("/items/<int:item_id>/progress", methods=["POST"])
@login_required
def progress(item_id: int):
    item = services.get_visible_item(item_id, actor=current_user)
    form = ProgressForm()
    if form.validate_on_submit():
        uploads = [evidence.Upload(f.filename, f.read()) for f in form.files.data or [] if getattr(f, "filename", "")]
        try:
            services.add_progress(
                item,
                actor=current_user,
                now=utcnow(),
                note=form.note.data,
                progress=form.progress.data,
                uploads=uploads,
                version=form.version.data,
            )
        except Conflict:
            return _lost_race(item_id, form.version.data, progress_form=form)
        except ValidationFailed as error:
            db.session.rollback()
            item = services.get_visible_item(item_id, actor=current_user)
            show_errors(form, error)
            return _render_detail(item, progress_form=form, status=422)
        db.session.commit()
        flash(_("Progress recorded."), "success")
        return redirect(url_for("items.detail", item_id=item.id))
    item = services.get_visible_item(item_id, actor=current_user)
    return _render_detail(item, progress_form=form, status=422)


@bp.route("/items/<int:item_id>/evidence/<token>")
@login_required
def download_evidence(item_id: int, token: str):
    item = services.get_visible_item(item_id, actor=current_user)
    record = db.session.scalars(
        select(Evidence).where(Evidence.item_id == item.id, Evidence.storage_name == token)
    ).first()
    if record is None or not permissions.can_view_evidence(current_user, item):
        abort(404)
    try:
        content = store().open("evidence", record.storage_name)
    except FileNotFoundError:
        abort(404)
    response = send_file(
        content, mimetype=record.content_type, as_attachment=True, download_name=evidence.download_name(record)
    )
    response.content_length = content.size
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


extension_views.register(bp, _render_detail)
closure_form.register(bp)
