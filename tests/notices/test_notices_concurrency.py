"""Two reviewers issuing at once never get the same number (SQLite and PostgreSQL)."""

import threading
from datetime import date

import pytest
from sqlalchemy import delete, select

from tests.factories import NOW, make_item
from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import ledger
from tracker.items.models import Item
from tracker.notices import services
from tracker.notices.models import Notice

pytestmark = pytest.mark.slow  # concurrency

ROUNDS = 12


def _reviewer(app, user_id, item_ids, barrier, errors):
    try:
        barrier.wait(timeout=30)
        for item_id in item_ids:
            with app.app_context():
                actor = db.session.get(User, user_id)
                item = db.session.get(Item, item_id)
                services.issue([item], level="blue", text="请加快", reply_by=date(2026, 6, 5), actor=actor, now=NOW)
                db.session.commit()
    except Exception as error:  # noqa: BLE001 - reported by the test
        errors.append(repr(error))


def test_two_reviewers_issuing_at_once_get_distinct_numbers(app, world):
    with app.app_context():
        db.session.execute(delete(Notice))
        lead = db.session.get(User, world.lead.id)
        group = db.session.get(WorkGroup, world.cs.id)
        ids = [make_item(lead, group, title=f"并发督办{n}").id for n in range(2 * ROUNDS)]
        db.session.commit()
    barrier = threading.Barrier(2)
    errors: list[str] = []
    threads = [
        threading.Thread(target=_reviewer, args=(app, world.committee.id, ids[:ROUNDS], barrier, errors)),
        threading.Thread(target=_reviewer, args=(app, world.admin.id, ids[ROUNDS:], barrier, errors)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        numbers = db.session.scalars(select(Notice.sequence).order_by(Notice.sequence)).all()
        assert numbers == list(range(1, 2 * ROUNDS + 1))
        assert ledger.verify_chain().ok
