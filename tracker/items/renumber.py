"""Renumbering (改编号): an admin gives an item another 编号, recorded in the ledger."""

from datetime import datetime

from flask_babel import lazy_gettext as _l

from tracker.errors import ValidationFailed
from tracker.items import codes, ledger, rules, services
from tracker.items.models import Item


def renumber(item: Item, code: str, *, actor, now: datetime, reason: str = "") -> Item:
    code, reason = (code or "").strip(), (reason or "").strip()
    if len(code) > rules.TEXT_LIMITS["code"]:
        raise ValidationFailed(_l("Please correct the marked fields."), {"code": _l("At most %(n)s characters.", n=32)})
    if len(reason) > 500:
        raise ValidationFailed(
            _l("Please correct the marked fields."), {"reason": _l("At most %(n)s characters.", n=500)}
        )
    ledger.lock()  # nobody takes the code between the check and the write
    codes.check_renumber(item, code, actor=actor)
    if code == item.code:
        raise ValidationFailed(_l("Please correct the marked fields."), {"code": _l("That is already its No.")})
    ledger.append(item, "field_changed", actor=actor, now=now, field="code", before=item.code, after=code, note=reason)
    item.code, item.updated_at = code, now
    services._flush_versioned(item)  # the same stale-write guard as every edit
    return item
