"""Extensions under concurrency: two decisions, a request against a decision, two requests.

Each pair is sent at once from two threads through the API (a barrier releases them
together), over several items so the two transactions really overlap on PostgreSQL;
on SQLite the writers queue (BEGIN IMMEDIATE) and the second one finds the first's
result. Either way exactly one wins, the other gets 409, and the ledger holds one entry.
"""

import threading
from datetime import date

import pytest
import time_machine

from tests.api.test_api import make_tokens
from tests.factories import NOW, make_item
from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import ledger
from tracker.items.models import ExtensionRequest, Item, LedgerEntry

pytestmark = pytest.mark.slow  # concurrency

ROUNDS = 4


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _items(app, world, n: int) -> list[int]:
    with app.app_context():
        lead = db.session.get(User, world.lead.id)
        group = db.session.get(WorkGroup, world.cs.id)
        ids = [make_item(lead, group, title=f"并发{n}", owner_id=world.member.id).id for n in range(n)]
        db.session.commit()
        return ids


def _at_once(app, calls: list[tuple]) -> list[int]:
    """Send each (token, method, path, json) from its own thread, released together; their statuses."""
    barrier = threading.Barrier(len(calls))
    statuses: list = [None] * len(calls)

    def send(index, token, method, path, body):
        client = app.test_client()
        barrier.wait()
        response = client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {token}"})
        statuses[index] = response.status_code

    threads = [threading.Thread(target=send, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _request(app, token, item_id, deadline="2026-07-31") -> int:
    response = app.test_client().post(
        f"/api/v1/items/{item_id}/extension-requests",
        json={"deadline": deadline, "reason": "材料延误"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _kinds(item_id: int) -> list[str]:
    entries = db.session.scalars(db.select(LedgerEntry.kind).where(LedgerEntry.item_id == item_id)).all()
    return [k for k in entries if k.startswith("extension_")]


def test_two_decisions_race_one_wins(app, world):
    tokens = make_tokens(app)
    for item_id in _items(app, world, ROUNDS):
        request_id = _request(app, tokens["member"], item_id)
        path = f"/api/v1/extension-requests/{request_id}/decision"
        statuses = _at_once(
            app,
            [
                (tokens["committee"], "POST", path, {"decision": "approve"}),
                (tokens["admin"], "POST", path, {"decision": "refuse", "note": "理由不充分"}),
            ],
        )
        assert sorted(statuses) == [200, 409]
        with app.app_context():
            request = db.session.get(ExtensionRequest, request_id)
            item = db.session.get(Item, item_id)
            decisions = [k for k in _kinds(item_id) if k != "extension_requested"]
            assert decisions == [f"extension_{request.status}"]  # one decision, the winner's
            expected = (date(2026, 7, 31), 1) if request.status == "approved" else (date(2026, 6, 30), 0)
            assert (item.deadline, item.extensions) == expected
    with app.app_context():
        assert ledger.verify_chain().ok


def test_a_request_racing_a_decision_never_leaves_a_stale_request(app, world):
    tokens = make_tokens(app)
    for item_id in _items(app, world, ROUNDS):
        first = _request(app, tokens["member"], item_id)
        statuses = _at_once(
            app,
            [
                (tokens["committee"], "POST", f"/api/v1/extension-requests/{first}/decision", {"decision": "approve"}),
                (
                    tokens["lead"],
                    "POST",
                    f"/api/v1/items/{item_id}/extension-requests",
                    {"deadline": "2026-08-31", "reason": "再次延误"},
                ),
            ],
        )
        assert statuses[0] == 200  # the decision always lands
        assert statuses[1] in (201, 409)  # the request either follows it, or sees the pending one: a conflict
        with app.app_context():
            item = db.session.get(Item, item_id)
            assert (item.deadline, item.extensions) == (date(2026, 7, 31), 1)
            requests = db.session.scalars(
                db.select(ExtensionRequest).where(ExtensionRequest.item_id == item_id).order_by(ExtensionRequest.id)
            ).all()
            assert [r.status for r in requests] == (["approved", "pending"] if statuses[1] == 201 else ["approved"])
            if statuses[1] == 201:
                assert requests[1].from_deadline == date(2026, 7, 31)  # asked against the moved deadline
            assert _kinds(item_id).count("extension_approved") == 1
            assert _kinds(item_id).count("extension_requested") == len(requests)


def test_two_requests_race_one_is_pending(app, world):
    tokens = make_tokens(app)
    for item_id in _items(app, world, ROUNDS):
        path = f"/api/v1/items/{item_id}/extension-requests"
        statuses = _at_once(
            app,
            [
                (tokens["member"], "POST", path, {"deadline": "2026-07-31", "reason": "材料延误"}),
                (tokens["lead"], "POST", path, {"deadline": "2026-08-15", "reason": "人手不足"}),
            ],
        )
        assert sorted(statuses) == [201, 409]
        with app.app_context():
            pending = db.session.scalars(db.select(ExtensionRequest).where(ExtensionRequest.item_id == item_id)).all()
            assert [r.status for r in pending] == ["pending"]
            assert _kinds(item_id) == ["extension_requested"]
    with app.app_context():
        assert ledger.verify_chain().ok
