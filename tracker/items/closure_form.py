"""The closure form (销号审批表): one printed A4 page per item, for the lead's and the reviewer's signatures.

Registered on the items blueprint. It shows what the item page shows — the item, its measures,
the evidence on file and a summary of its history — and leaves room to sign and date by hand.
"""

from flask import Blueprint, abort, render_template
from flask_babel import get_locale
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker import permissions
from tracker.clock import utcnow
from tracker.event.services import current_event
from tracker.extensions import db
from tracker.items import history, services
from tracker.items.models import Evidence, LedgerEntry

# The steps a reviewer signs off on; progress notes are counted, not listed, so the form stays one page.
SUMMARY_KINDS = ("created", "status", "deadline_changed")
SUMMARY_LIMIT = 10
EVIDENCE_LIMIT = 12


def register(bp: Blueprint) -> None:
    @bp.route("/items/<int:item_id>/closure-form")
    @login_required
    def closure_form(item_id: int):
        item = services.get_visible_item(item_id, actor=current_user)
        if not permissions.can_print_closure_form(current_user, item):
            abort(404)
        steps = db.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.item_id == item.id, LedgerEntry.kind.in_(SUMMARY_KINDS))
            .options(selectinload(LedgerEntry.author))
            .order_by(LedgerEntry.id.desc())
            .limit(SUMMARY_LIMIT)
        ).all()
        notes = db.session.scalar(
            select(func.count()).where(LedgerEntry.item_id == item.id, LedgerEntry.kind == "progress")
        )
        files = db.session.scalars(
            select(Evidence).where(Evidence.item_id == item.id).order_by(Evidence.id).limit(EVIDENCE_LIMIT + 1)
        ).all()
        return render_template(
            "items/closure_form.html",
            item=item,
            event=current_event(),
            steps=history.readable(list(reversed(steps)), str(get_locale())),
            notes=notes,
            files=files[:EVIDENCE_LIMIT],
            more_files=len(files) > EVIDENCE_LIMIT,
            printed_on=utcnow(),
        )
