"""The append-only, hash-chained rectification ledger (整改台账).

Each entry's hash covers the previous entry's hash and the entry's content, so an
edited, removed or inserted row breaks the chain. Against someone who can write
to the database and recompute the chain, three more anchors hold:

* **The key.** With ``TRACKER_LEDGER_KEY`` set, new entries are chained with
  HMAC-SHA256 under that key (scheme ``k1``), and the head row carries a MAC of
  (count, newest hash). The key lives in the environment, never in the database,
  so the chain cannot be recomputed from the database alone. Without the key new
  entries use plain SHA-256 (scheme ``p2``) and ``ledger verify`` says so.
  Entries from before schemes existed (scheme empty) keep verifying as written.
  Once a keyed entry exists, an unkeyed entry after it, a keyed entry with the
  key missing or different, or a head without a valid MAC fails verification:
  re-keying is never silent.
* **Checkpoints.** ``checkpoint()`` (newest hash @ count) is printed on every
  weekly briefing; ``ledger verify --checkpoint HASH@N`` checks that the first N
  entries still end in HASH, which holds even against someone who has the key.
* **Replay.** New entries cover the whole item as created (``snapshot``) and the
  SHA-256 of every evidence file; ``verify_items`` replays the ledger and
  compares every item's current fields with it, and ``verify_evidence`` hashes
  the stored files again.
"""

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from tracker.extensions import db
from tracker.files.store import sha256_of
from tracker.items.models import Evidence, Item, LedgerEntry, LedgerHead

GENESIS = "0" * 64
# (import batch id, sheet row) while an imported sheet's row is being applied.
_ORIGIN: ContextVar[tuple[int, int] | None] = ContextVar("ledger_origin", default=None)
# Inside ``batched``: chained entries waiting for their one INSERT.
_PENDING: ContextVar[list[dict] | None] = ContextVar("ledger_pending", default=None)
KINDS = (
    "created",
    "field_changed",
    "status",
    "progress",
    "evidence",
    "comment",
    "deadline_changed",
    "notice",  # a supervision notice step (tracker/notices)
    "extension_requested",
    "extension_approved",
    "extension_refused",
)
# The entries after which an item's deadline differs: its ``before`` is the deadline until then.
DEADLINE_MOVES = ("deadline_changed", "extension_approved")


KEYED = "k1"  # HMAC-SHA256 under TRACKER_LEDGER_KEY over the full payload
PLAIN = "p2"  # SHA-256 over the full payload (no key configured)
# Scheme None: written before schemes existed; SHA-256 over the first payload.

# The item fields a "created" entry records, so replaying the ledger rebuilds the item.
SNAPSHOT_FIELDS = (
    "code",
    "kind",
    "title",
    "description",
    "source",
    "key_area",
    "severity",
    "group_id",
    "supporting_groups",
    "owner_id",
    "measures",
    "deadline",
    "acceptance_criteria",
    "found_on",
    "venue",
    "milestone_id",
    "is_confidential",
    "remarks",
    "status",
    "progress",
)


class KeyMissing(Exception):
    """A keyed entry cannot be checked or written without TRACKER_LEDGER_KEY."""


def display(value) -> str | None:
    """A field value as the ledger records it (before → after)."""
    if value is None:
        return None
    if isinstance(value, list | tuple | set):
        return ",".join(sorted(getattr(g, "code", str(g)) for g in value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def ledger_key() -> bytes | None:
    key = current_app.config.get("LEDGER_KEY") if current_app else None
    return str(key).encode() if key else None


def entry_hash(prev_hash: str, entry: LedgerEntry, key: bytes | None = None) -> str:
    """The entry's hash under its own scheme; a keyed entry needs ``key``."""
    if entry.scheme is None:
        return hashlib.sha256(_payload_v1(prev_hash, entry)).hexdigest()
    payload = _payload_v2(prev_hash, entry)
    if entry.scheme == KEYED:
        if key is None:
            raise KeyMissing
        return hmac.new(key, payload, hashlib.sha256).hexdigest()
    return hashlib.sha256(payload).hexdigest()


def _payload_v2(prev_hash: str, entry: LedgerEntry) -> bytes:
    evidence = [[e.sha256, e.filename, e.size, e.content_type] for e in entry.evidence]
    return json.dumps(
        [
            entry.scheme,
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
            entry.snapshot,
            evidence,
            entry.import_batch_id,  # an imported sheet's row seals where the change came from
            entry.import_row,
            # the names behind ids (items/history.py), only where kept: older entries verify as before
            *([entry.names] if entry.names is not None else []),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def _head_mac(key: bytes, head: LedgerHead) -> str:
    return hmac.new(key, f"head:{head.entries}:{head.last_hash}".encode(), hashlib.sha256).hexdigest()


def _payload_v1(prev_hash: str, entry: LedgerEntry) -> bytes:
    payload = json.dumps(
        [
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
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return payload.encode()


def lock() -> None:
    """Take the ledger's lock now (it is held until the transaction ends)."""
    _locked_head()


def data_version() -> str:
    """Changes with every ledger entry, i.e. with every change to any item (a cache key)."""
    head = db.session.execute(select(LedgerHead.last_hash, LedgerHead.entries).where(LedgerHead.id == 1)).first()
    return f"{head[0]}:{head[1]}" if head else "empty"


def _locked_head() -> LedgerHead:
    # Locked once per transaction: the lock holds until it ends, so a bulk import's
    # thousands of entries do not each ask the database again.
    transaction = db.session().get_transaction()
    held = db.session.info.get("ledger_head")
    if held is not None and held[0] is transaction and transaction is not None:
        return held[1]
    head = db.session.scalars(select(LedgerHead).where(LedgerHead.id == 1).with_for_update()).first()
    if head is None:
        head = LedgerHead(id=1, last_hash=GENESIS, entries=0)
        db.session.add(head)
    db.session.info["ledger_head"] = (db.session().get_transaction(), head)
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
    evidence: list[Evidence] | None = None,
    names: str | None = None,
) -> LedgerEntry:
    """Add one entry in the caller's transaction, chained to the newest one.

    ``evidence``: the entry's files, whose digests its hash covers. ``names``: the JSON
    snapshot of the names behind ``before``/``after`` (history.names_for)."""
    if item.id is None:
        db.session.flush()
    pending = _PENDING.get()
    if pending is not None:
        if kind != "created" and not evidence:
            return _chain_pending(pending, item, kind, actor, now, note, field, before, after, names)
        _write(pending)  # what waits comes first in the chain
    entry = _entry(item, kind, actor, now, note, field, before, after)
    entry.names = names
    if kind == "created":
        entry.snapshot = snapshot(item)
    if evidence:
        entry.evidence.extend(evidence)
    _chain(_locked_head(), [entry])
    return entry


@contextmanager
def batched() -> Iterator[None]:
    """Bulk changes (an imported sheet): entries are chained as they come and written
    by one INSERT when the block ends, in chain order, instead of one object each."""
    pending: list[dict] = []
    token = _PENDING.set(pending)
    try:
        yield
    finally:
        _PENDING.reset(token)
    _write(pending)


def _write(pending: list[dict]) -> None:
    if pending:
        # Ids follow the parameters' order, so the chain reads in id order as always.
        db.session.execute(insert(LedgerEntry).returning(LedgerEntry.id, sort_by_parameter_order=True), pending)
        pending.clear()


def _chain_pending(pending, item, kind, actor, now, note, field, before, after, names) -> dict:
    head, key = _locked_head(), ledger_key()
    batch_id, row = _ORIGIN.get() or (None, None)
    values = {
        "import_batch_id": batch_id,
        "import_row": None if isinstance(row, list) else row,
        "item_id": item.id,
        "author_id": actor.id if actor is not None else None,
        "created_at": now,
        "kind": kind,
        "item_version": item.version,
        "field": field,
        "before": None if before is None else str(before),
        "after": None if after is None else str(after),
        "note": note or "",
        "names": names,
        "snapshot": None,
        "scheme": KEYED if key else PLAIN,
        "prev_hash": head.last_hash,
    }
    values["hash"] = entry_hash(head.last_hash, _Unsaved(**values), key)
    head.last_hash = values["hash"]
    head.entries += 1
    head.mac = _head_mac(key, head) if key else None
    pending.append(values)
    return values


class _Unsaved(SimpleNamespace):
    """An entry not yet an object: what ``entry_hash`` reads of it."""

    evidence = ()


def append_created(items: list, *, actor, now: datetime) -> list[LedgerEntry]:
    """The "created" entries of many new items under one lock of the head (bulk imports)."""
    origin = _ORIGIN.get()
    entries = []
    for item in items:
        entry = _entry(item, "created", actor, now, "", None, None, item.title)
        entry.snapshot = snapshot(item)
        entries.append(entry)
    if origin is not None and isinstance(origin[1], list):  # one sheet row per created item
        for entry, row in zip(entries, origin[1], strict=True):
            entry.import_row = row
    _chain(_locked_head(), entries)
    return entries


@contextmanager
def imported_from(batch_id: int, row: int | list[int]) -> Iterator[None]:
    """Mark every entry written inside as coming from row ``row`` of an imported sheet.

    A list gives the rows of the items ``append_created`` writes, in order.
    """
    token = _ORIGIN.set((batch_id, row))
    try:
        yield
    finally:
        _ORIGIN.reset(token)


def snapshot(item) -> str:
    """The item's fields as created, as the ledger records values."""
    return json.dumps({name: display(getattr(item, name)) for name in SNAPSHOT_FIELDS}, ensure_ascii=False)


def _entry(item, kind, actor, now, note, field, before, after) -> LedgerEntry:
    assert kind in KINDS, kind
    batch_id, row = _ORIGIN.get() or (None, None)
    row = None if isinstance(row, list) else row
    return LedgerEntry(
        import_batch_id=batch_id,
        import_row=row,
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
    key = ledger_key()
    for entry in entries:
        entry.scheme = KEYED if key else PLAIN
        entry.prev_hash = head.last_hash
        entry.hash = entry_hash(head.last_hash, entry, key)
        head.last_hash = entry.hash
        head.entries += 1
    head.mac = _head_mac(key, head) if key else None
    db.session.add_all(entries)


def seal_head() -> None:
    """Key the head the first time TRACKER_LEDGER_KEY is set; the caller has verified the chain.

    Refuses a head that is keyed already: changing the key is never silent."""
    key = ledger_key()
    if key is None:
        raise KeyMissing
    head = _locked_head()
    if head.mac:
        raise ValueError("the ledger head is keyed already")
    head.mac = _head_mac(key, head)


def checkpoint() -> str:
    """The newest hash and the number of entries, as ``HASH@N``: keep it outside the database."""
    head = db.session.get(LedgerHead, 1)
    return f"{head.last_hash}@{head.entries}" if head is not None else f"{GENESIS}@0"


def parse_checkpoint(text: str) -> tuple[str, int]:
    """``HASH@N`` → (hash, N); raises ValueError when it is not one."""
    digest, _, count = (text or "").strip().partition("@")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()) or not count.isdigit():
        raise ValueError("a checkpoint looks like HASH@N: 64 hex digits, @, the number of entries")
    return digest.lower(), int(count)


@dataclass
class ChainReport:
    ok: bool
    checked: int
    bad_entry_id: int | None = None
    reason: str = ""
    schemes: dict = field(default_factory=dict)  # scheme (None: the first one) → entries
    checkpoint_ok: bool | None = None  # None: no checkpoint asked for


def verify_chain(batch: int = 5000, checkpoint: tuple[str, int] | None = None) -> ChainReport:
    """Walk the whole ledger in id order and recompute every hash (keyed ones with the key)."""
    key = ledger_key()
    prev = GENESIS
    checked = 0
    last_id = 0
    schemes: dict = {}
    keyed_seen = False
    report = ChainReport(True, 0, schemes=schemes)
    if checkpoint is not None and checkpoint[1] == 0:
        report.checkpoint_ok = checkpoint[0] == GENESIS
    while True:
        rows = db.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.id > last_id)
            .order_by(LedgerEntry.id)
            .limit(batch)
            .options(selectinload(LedgerEntry.evidence))
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.prev_hash != prev:
                return _broken(report, checked, entry.id, "link to the previous entry is broken")
            if entry.scheme not in (None, PLAIN, KEYED):
                return _broken(report, checked, entry.id, f"unknown hash scheme {entry.scheme!r}")
            if keyed_seen and entry.scheme != KEYED:
                return _broken(report, checked, entry.id, "entry is not keyed although an earlier entry is")
            try:
                expected = entry_hash(prev, entry, key)
            except KeyMissing:
                return _broken(report, checked, entry.id, "entry is keyed: set TRACKER_LEDGER_KEY to verify it")
            if expected != entry.hash:
                why = "content does not match its hash"
                if entry.scheme == KEYED:
                    why += " (or TRACKER_LEDGER_KEY is not the key it was written with)"
                return _broken(report, checked, entry.id, why)
            keyed_seen = keyed_seen or entry.scheme == KEYED
            schemes[entry.scheme] = schemes.get(entry.scheme, 0) + 1
            prev = entry.hash
            checked += 1
            last_id = entry.id
            if checkpoint is not None and checked == checkpoint[1]:
                report.checkpoint_ok = prev == checkpoint[0]
        db.session.expunge_all()
    report.checked = checked
    head = db.session.get(LedgerHead, 1)
    if head is not None and (head.last_hash != prev or head.entries != checked):
        return _broken(report, checked, None, "entries were removed from the end of the ledger")
    if key is not None and head is not None and head.entries:
        if not head.mac:
            return _broken(
                report,
                checked,
                None,
                "the ledger head carries no key check (if TRACKER_LEDGER_KEY was just set, "
                "run `flask --app tracker ledger seal` once)",
            )
        if not hmac.compare_digest(head.mac, _head_mac(key, head)):
            return _broken(report, checked, None, "the ledger head's key check does not match")
    if checkpoint is not None and report.checkpoint_ok is None:
        report.checkpoint_ok = False  # fewer entries than the checkpoint counted
    return report


def _broken(report: ChainReport, checked: int, entry_id: int | None, reason: str) -> ChainReport:
    report.ok, report.checked, report.bad_entry_id, report.reason = False, checked, entry_id, reason
    return report


@dataclass
class Mismatch:
    item_id: int
    field: str
    ledger: str | None
    current: str | None


# The kinds whose ``field`` takes the value ``after`` (a refused extension names the deadline too,
# but leaves it where it was).
FIELD_SETTERS = ("field_changed", "status", "progress", *DEADLINE_MOVES)


def replayed_state(entries) -> dict[int, dict[str, str | None]]:
    """Each item's fields as its ledger entries (in id order) leave them."""
    state: dict[int, dict[str, str | None]] = {}
    for entry in entries:
        fields = state.setdefault(entry.item_id, {})
        if entry.kind == "created":
            if entry.snapshot:
                fields.update(json.loads(entry.snapshot))
            else:  # written before snapshots: the title is all it recorded
                fields.update(title=entry.after, status="open", progress="0")
        elif entry.field and entry.kind in FIELD_SETTERS:
            fields[entry.field] = entry.after
            if entry.field == "status" and entry.after == "closed":
                fields["progress"] = "100"  # verification closes at 100 % without a progress entry
    return state


def verify_items(batch: int = 5000) -> list[Mismatch]:
    """Replay the ledger and compare every item's current fields with it."""
    columns = (LedgerEntry.id, LedgerEntry.item_id, LedgerEntry.kind, LedgerEntry.field, LedgerEntry.after)
    rows = db.session.execute(
        select(*columns, LedgerEntry.snapshot).order_by(LedgerEntry.id).execution_options(yield_per=batch)
    )
    state = replayed_state(rows)
    mismatches = []
    ids = sorted(state)
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        items = db.session.scalars(
            select(Item).where(Item.id.in_(chunk)).options(selectinload(Item.supporting_groups))
        ).all()
        for item in items:
            for name, expected in state[item.id].items():
                if name not in SNAPSHOT_FIELDS:
                    continue  # a field the ledger names that the item does not keep
                current = display(getattr(item, name))
                if current != expected:
                    mismatches.append(Mismatch(item.id, name, expected, current))
        db.session.expunge_all()
    missing = set(ids) - set(db.session.scalars(select(Item.id)))
    mismatches += [Mismatch(item_id, "(item)", "exists", None) for item_id in sorted(missing)]
    return mismatches


@dataclass(frozen=True)
class FileProblem:
    evidence_id: int
    item_id: int
    entry_id: int
    filename: str
    problem: str


def verify_evidence(files, batch: int = 1000) -> list[FileProblem]:
    """Every evidence file in ``files`` (a file store) hashed again against its ledger entry's SHA-256."""
    problems = []
    last_id = 0
    columns = (Evidence.id, Evidence.item_id, Evidence.entry_id, Evidence.filename, Evidence.storage_name)
    while True:
        rows = db.session.execute(
            select(*columns, Evidence.sha256).where(Evidence.id > last_id).order_by(Evidence.id).limit(batch)
        ).all()
        if not rows:
            return problems
        for evidence_id, item_id, entry_id, filename, storage_name, sha256 in rows:
            last_id = evidence_id
            try:
                digest = sha256_of(files.open("evidence", storage_name))
            except FileNotFoundError:
                problems.append(FileProblem(evidence_id, item_id, entry_id, filename, "file is missing"))
                continue
            if digest != sha256:
                problems.append(
                    FileProblem(evidence_id, item_id, entry_id, filename, "file does not match its SHA-256")
                )
