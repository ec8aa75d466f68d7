"""Separation of duties (谁整改不验收): who had a part in an item's rectification.

``permissions.can_transition`` decides with these ids; the item service records
an admin's override in the audit log in the same transaction as the verification.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker import permissions
from tracker.audit import services as audit
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.items.models import LedgerEntry

# Ledger entries that record rectification work (a new percentage, evidence files). Plain
# comments do not count: a reviewer asking a question keeps the right to verify.
PROGRESS_KINDS = ("progress", "evidence")


def progress_recorders(item_id: int) -> frozenset[int]:
    """The ids of everyone who recorded progress or evidence on the item."""
    query = (
        select(LedgerEntry.author_id)
        .where(LedgerEntry.item_id == item_id, LedgerEntry.kind.in_(PROGRESS_KINDS))
        .distinct()
    )
    return frozenset(author for author in db.session.scalars(query) if author is not None)


def record_override(item, action: str, *, actor, now: datetime, note: str, recorders: frozenset[int]) -> None:
    """An admin verifying an item they had a part in must say why; the audit log keeps it."""
    if not permissions.is_verify_override(actor, item, action, recorders):
        return
    if not note:
        raise ValidationFailed(
            _l("A reason is required."),
            {"note": _l("You had a part in this item (谁整改不验收): say why you verify it yourself.")},
        )
    audit.record(
        "verify_override",
        actor=actor,
        target=f"item {item.id}",
        detail=note,
        now=now,
    )
