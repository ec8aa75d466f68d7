"""Two writers at once: both succeed, nothing is lost, the ledger chain stays whole."""

import threading

import pytest

from tests.factories import NOW
from tracker.auth.models import User
from tracker.extensions import db
from tracker.items import ledger, services
from tracker.items.models import Item, LedgerEntry

pytestmark = pytest.mark.slow  # concurrency

ROUNDS = 25


def _writer(app, user_id, item_id, errors):
    try:
        for n in range(ROUNDS):
            with app.app_context():
                actor = db.session.get(User, user_id)
                # Read first, then write: the pattern that fails under deferred SQLite transactions.
                item = db.session.get(Item, item_id)
                services.add_progress(item, actor=actor, now=NOW, note=f"第{n}次进展")
                db.session.commit()
    except Exception as error:  # noqa: BLE001 - reported by the test
        errors.append(repr(error))


def test_two_concurrent_writers_never_hit_database_locked(app, world):
    errors: list[str] = []
    threads = [
        threading.Thread(target=_writer, args=(app, world.member.id, world.items["owned"].id, errors)),
        threading.Thread(target=_writer, args=(app, world.lead.id, world.items["unowned"].id, errors)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        notes = db.session.scalar(db.select(db.func.count(LedgerEntry.id)).where(LedgerEntry.kind == "comment"))
        assert notes == 2 * ROUNDS
        assert ledger.verify_chain().ok
