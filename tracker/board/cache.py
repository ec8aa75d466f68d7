"""The board's cache: one entry per (data version, event-local date, visibility).

The data version is read from two single-row counters (in the statement that reads
the event), both written in the same transaction as the change they count, so a write
in any process gives every process a new key and nobody has to clear anything:

- the ledger head: every change to an item appends to the ledger;
- the reference version: bumped by any flush that adds, changes or deletes the
  event, a work group, a milestone or a working day, or renames a person, whichever
  door made it.
"""

import time
from functools import cache

from flask import current_app, g
from sqlalchemy import event as sa_event
from sqlalchemy import insert, inspect, select, update

from tracker.auth.models import User
from tracker.board.models import ReferenceVersion
from tracker.event.models import Event
from tracker.event.services import current_event_with
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items.models import LedgerHead
from tracker.milestones.models import Milestone
from tracker.workdays.models import WorkingDay

REFERENCE_MODELS = (Event, WorkGroup, Milestone, WorkingDay)
SHOWN_USER_FIELDS = ("display_name", "username")
CACHE_LIMIT = 512


@cache
def version_columns() -> tuple:
    """(ledger entries, last hash, reference version) as SQL values, to read along with other rows.

    Built once per process: the same objects every time let the statements that carry them be
    built once too (``current_event_with``), and building them cost more than reading them."""

    def one(column, model):
        return select(column).where(model.id == 1).scalar_subquery()

    return (
        one(LedgerHead.entries, LedgerHead),
        one(LedgerHead.last_hash, LedgerHead),
        one(ReferenceVersion.version, ReferenceVersion),
    )


def data_version() -> tuple:
    """(ledger entries, last hash, reference version), changing with every write a page shows.

    Read in the statement that reads the event when the request has not read it yet (a list
    page needs both: one statement instead of two).
    """
    if "event" not in g:
        event, version = current_event_with(*version_columns())
        if event is not None:  # without one, the values come back empty: read them alone
            return tuple(version)
    return tuple(db.session.execute(select(*version_columns())).one())


def _changes_reference(obj) -> bool:
    if isinstance(obj, REFERENCE_MODELS):
        return True
    # A person's name shows in lists and the owner filter matches it; their other columns
    # (the last activity, written every minute) must not empty every cache.
    return isinstance(obj, User) and any(inspect(obj).attrs[name].history.has_changes() for name in SHOWN_USER_FIELDS)


def _bump_on_reference_change(session, _flush_context, _instances) -> None:
    if not any(_changes_reference(obj) for obj in (*session.new, *session.dirty, *session.deleted)):
        return
    connection = session.connection()
    table = ReferenceVersion.__table__
    bumped = connection.execute(update(table).where(table.c.id == 1).values(version=table.c.version + 1))
    if bumped.rowcount == 0:  # a database made without migrations (tests); the migration adds the row
        connection.execute(insert(table).values(id=1, version=1))


def watch_reference_data() -> None:
    """Bump the reference version from every session flush that touches reference data."""
    if not sa_event.contains(db.session, "before_flush", _bump_on_reference_change):
        sa_event.listen(db.session, "before_flush", _bump_on_reference_change)


def _entries() -> dict:
    return current_app.extensions.setdefault("board_cache", {})


def cached(key: tuple, compute):
    """The value for ``key``, computed at most once per ``BOARD_CACHE_SECONDS`` in this process."""
    entries = _entries()
    hit = entries.get(key)
    clock = time.monotonic()
    if hit is not None and hit[0] > clock:
        return hit[1]
    value = compute()
    if len(entries) >= CACHE_LIMIT:
        entries.clear()
    entries[key] = (clock + current_app.config["BOARD_CACHE_SECONDS"], value)
    return value
