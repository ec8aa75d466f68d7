"""The append-only, hash-chained rectification ledger (整改台账)."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from tracker.extensions import db
from tracker.items.models import LedgerEntry, LedgerHead

GENESIS = "0" * 64
KINDS = (
    "created",
    "field_changed",
    "status",
    "progress",
    "evidence",
    "comment",
    "deadline_changed",
    "extension_requested",
    "extension_approved",
    "extension_refused",
)
# The entries after which an item's deadline differs: its ``before`` is the deadline until then.
DEADLINE_MOVES = ("deadline_changed", "extension_approved")


def entry_hash(prev_hash: str, entry: LedgerEntry) -> str:
    """The entry's hash; the names snapshot counts only where there is one (older entries have none)."""
    fields = [
        prev_hash,
        entry.item_id,
        entry.author_id,
        entry.created_at.isoformat(timespec="microseconds"),
        entry.kind,
        entry.item_version,
        entry.field,
        entry.before,
        entry.after,
        entry.note,
    ]
    if entry.names is not None:
        fields.append(entry.names)
    payload = json.dumps(
        fields,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _locked_head() -> LedgerHead:
    head = db.session.scalars(select(LedgerHead).where(LedgerHead.id == 1).with_for_update()).first()
    if head is None:
        head = LedgerHead(id=1, last_hash=GENESIS, entries=0)
        db.session.add(head)
    return head


def append(
    item,
    kind: str,
    *,
    actor,
    now: datetime,
    note: str = "",
    field: str | None = None,
    before=None,
    after=None,
    names: str | None = None,
) -> LedgerEntry:
    """Add one entry in the caller's transaction, chained to the newest one.

    ``names`` is the JSON snapshot of the names behind ``before``/``after`` (history.names_for).
    """
    if item.id is None:
        db.session.flush()
    entry = _entry(item, kind, actor, now, note, field, before, after)
    entry.names = names
    _chain(_locked_head(), [entry])
    return entry


def append_created(items: list, *, actor, now: datetime) -> list[LedgerEntry]:
    """The "created" entries of many new items under one lock of the head (bulk imports)."""
    entries = [_entry(item, "created", actor, now, "", None, None, item.title) for item in items]
    _chain(_locked_head(), entries)
    return entries


def _entry(item, kind, actor, now, note, field, before, after) -> LedgerEntry:
    assert kind in KINDS, kind
    return LedgerEntry(
        item_id=item.id,
        author_id=actor.id if actor is not None else None,
        created_at=now,
        kind=kind,
        item_version=0 if kind == "created" else item.version,
        field=field,
        before=None if before is None else str(before),
        after=None if after is None else str(after),
        note=note or "",
    )


def _chain(head: LedgerHead, entries: list[LedgerEntry]) -> None:
    for entry in entries:
        entry.prev_hash = head.last_hash
        entry.hash = entry_hash(head.last_hash, entry)
        head.last_hash = entry.hash
        head.entries += 1
    db.session.add_all(entries)


@dataclass
class ChainReport:
    ok: bool
    checked: int
    bad_entry_id: int | None = None
    reason: str = ""


def verify_chain(batch: int = 5000) -> ChainReport:
    """Walk the whole ledger in id order and recompute every hash."""
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.id > last_id).order_by(LedgerEntry.id).limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.prev_hash != prev:
                return ChainReport(False, checked, entry.id, "link to the previous entry is broken")
            if entry_hash(prev, entry) != entry.hash:
                return ChainReport(False, checked, entry.id, "content does not match its hash")
            prev = entry.hash
            checked += 1
            last_id = entry.id
        db.session.expunge_all()
    head = db.session.get(LedgerHead, 1)
    if head is not None and (head.last_hash != prev or head.entries != checked):
        return ChainReport(False, checked, None, "entries were removed from the end of the ledger")
    return ChainReport(True, checked)
