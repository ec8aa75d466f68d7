"""编号: every item's reference, unique within its event (``CG-011``).

An item created without one gets the next free number of its group: one more
than the highest ``<group code>-<number>`` already used in the event, so numbers
are never handed out twice even when items move between groups.
"""

import re
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker import permissions
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.items.models import Item

WIDTH = 3  # CG-001 … CG-999, then CG-1000
CHUNK = 5000  # stay under the databases' bound-parameter limits


def number_in_group(code: str, prefix: str) -> int | None:
    """The number of ``code`` when it is written ``<prefix>-<digits>``, else None."""
    match = re.fullmatch(re.escape(prefix) + r"-(\d+)", code or "")
    return int(match.group(1)) if match else None


def next_free(taken: Iterable[str], prefix: str) -> str:
    """The next free number of ``prefix`` given the codes in use (a pure rule)."""
    taken = set(taken)
    highest = max((n for n in (number_in_group(c, prefix) for c in taken) if n is not None), default=0)
    number = highest + 1
    while f"{prefix}-{number:0{WIDTH}d}" in taken:  # only for odd spellings like CG-0012 next to CG-012
        number += 1
    return f"{prefix}-{number:0{WIDTH}d}"


class Allocator:
    """Hands out free codes in one event; one query per group prefix, however many items.

    Callers hold the ledger lock (``ledger.lock()``) so two writers never pick
    the same number; the unique constraint is the last guard.
    """

    def __init__(self, event_id: int, reserved: Iterable[str] = ()):
        self.event_id = event_id
        self.reserved = set(reserved)  # codes given explicitly in the same batch
        self._taken: dict[str, set[str]] = {}
        self._highest: dict[str, int] = {}

    def _load(self, prefix: str) -> set[str]:
        if prefix not in self._taken:
            query = select(Item.code).where(
                Item.event_id == self.event_id, Item.code.startswith(f"{prefix}-", autoescape=True)
            )
            taken = set(db.session.scalars(query)) | {c for c in self.reserved if c.startswith(f"{prefix}-")}
            self._taken[prefix] = taken
            numbers = (number_in_group(c, prefix) for c in taken)
            self._highest[prefix] = max((n for n in numbers if n is not None), default=0)
        return self._taken[prefix]

    def next(self, prefix: str) -> str:
        taken = self._load(prefix)
        number = self._highest[prefix] + 1
        while f"{prefix}-{number:0{WIDTH}d}" in taken:
            number += 1
        code = f"{prefix}-{number:0{WIDTH}d}"
        self._highest[prefix] = number
        taken.add(code)
        return code


def holders(event_id: int, codes: Iterable[str]) -> dict[str, int]:
    """The ids of the items that hold these codes in the event (code → item id)."""
    codes = sorted(set(codes))
    found: dict[str, int] = {}
    for start in range(0, len(codes), CHUNK):
        chunk = codes[start : start + CHUNK]
        rows = db.session.execute(select(Item.code, Item.id).where(Item.event_id == event_id, Item.code.in_(chunk)))
        found.update(dict(rows.all()))
    return found


def check_renumber(item: Item, code: str, *, actor) -> None:
    """Raise unless ``actor`` may give ``item`` the free reference ``code``."""
    if not permissions.can_renumber_item(actor, item):
        raise ValidationFailed(
            _l("Please correct the marked fields."), {"code": _l("Only an admin can renumber an item (编号).")}
        )
    if not code:
        raise ValidationFailed(_l("Please correct the marked fields."), {"code": _l("Every item needs a No.")})
    holder = holders(item.event_id, [code]).get(code)
    if holder is not None and holder != item.id:
        raise ValidationFailed(
            _l("Please correct the marked fields."), {"code": _l("The No. %(code)s is already used.", code=code)}
        )
