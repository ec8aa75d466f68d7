"""The ledger against someone with database access: items replayed, evidence hashed, the chain keyed
and anchored by checkpoints outside the database."""

import hashlib
import io
import json

import pytest
import time_machine
from sqlalchemy import select, text

from tests.factories import NOW, login
from tracker.extensions import db
from tracker.files.store import store
from tracker.items import ledger
from tracker.items.models import Evidence, LedgerEntry, LedgerHead

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
KEY = "a-ledger-key-kept-outside-the-database"


def verify(runner, *args):
    return runner.invoke(args=["ledger", "verify", *args])


def attach(client, world, data=PNG, name="ramp.png"):
    login(client, "member")
    response = client.post(
        f"/items/{world.items['owned'].id}/progress",
        data={"note": "照片", "files": [(io.BytesIO(data), name)]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def recompute_unkeyed(start_id: int = 1, scheme=ledger.PLAIN) -> None:
    """What an attacker with the public algorithm does: rehash every entry from ``start_id`` and the head."""
    db.session.expire_all()
    entries = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
    prev = ledger.GENESIS
    for entry in entries:
        if entry.id >= start_id:
            entry.scheme = scheme
            entry.prev_hash = prev
            # The public algorithm: SHA-256 over the payload, whatever the scheme marker says.
            entry.hash = (
                ledger.entry_hash(prev, entry)
                if scheme != ledger.KEYED
                else hashlib.sha256(ledger._payload_v2(prev, entry)).hexdigest()
            )
        prev = entry.hash
    head = db.session.get(LedgerHead, 1)
    head.last_hash, head.entries, head.mac = prev, len(entries), None
    db.session.commit()


# --- items replayed against their ledger ------------------------------------------------


def test_an_item_closed_by_sql_is_named(app, runner, world):
    item_id = world.items["owned"].id
    with app.app_context():
        db.session.execute(text("UPDATE item SET status = 'closed' WHERE id = :id"), {"id": item_id})
        db.session.commit()
    result = verify(runner)
    assert result.exit_code == 1
    assert f"Item {item_id}: status is 'closed', its ledger says 'open'" in result.output


@pytest.mark.parametrize(
    ("column", "value"),
    [("title", "'已整改'"), ("progress", "100"), ("deadline", "'2027-01-01'"), ("owner_id", "NULL")],
)
def test_any_replayed_field_changed_by_sql_is_named(app, runner, world, column, value):
    item_id = world.items["owned"].id
    with app.app_context():
        db.session.execute(text(f"UPDATE item SET {column} = {value} WHERE id = :id"), {"id": item_id})  # noqa: S608
        db.session.commit()
    result = verify(runner)
    assert result.exit_code == 1
    assert f"Item {item_id}: {column} is" in result.output


def test_the_untouched_world_verifies_with_every_check(runner, world):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "Ledger chain intact" in result.output and "Every item matches its ledger." in result.output


# --- evidence hashed into its entry and checked against the file ---------------------------


def test_a_changed_evidence_hash_or_name_breaks_its_entry(app, client, runner, world):
    attach(client, world)
    for column, value in (("sha256", "0" * 64), ("filename", "invoice.png")):
        with app.app_context():
            entry_id = db.session.scalar(select(Evidence.entry_id))
            old = db.session.scalar(text(f"SELECT {column} FROM evidence"))  # noqa: S608
            db.session.execute(text(f"UPDATE evidence SET {column} = :v"), {"v": value})  # noqa: S608
            db.session.commit()
        result = verify(runner)
        assert result.exit_code == 1
        assert f"Ledger BROKEN at entry {entry_id}" in result.output
        with app.app_context():
            db.session.execute(text(f"UPDATE evidence SET {column} = :v"), {"v": old})  # noqa: S608
            db.session.commit()
    assert verify(runner).exit_code == 0


def test_a_swapped_evidence_file_is_named(app, client, runner, world):
    attach(client, world)
    with app.app_context():
        record = db.session.scalar(select(Evidence))
        assert record.sha256 == hashlib.sha256(PNG).hexdigest()
        files = store()
        files.delete("evidence", record.storage_name)
        files.put("evidence", record.storage_name, io.BytesIO(PNG + b"x"), now=NOW)
        db.session.commit()
        named = f"Evidence {record.id} ({record.filename!r}, item {record.item_id}, ledger entry {record.entry_id})"
    result = verify(runner)
    assert result.exit_code == 1
    assert f"{named}: file does not match its SHA-256" in result.output


# --- the keyed chain ----------------------------------------------------------------------


@pytest.fixture
def keyed(app):
    app.config["LEDGER_KEY"] = KEY
    return app


def test_a_rewritten_and_recomputed_chain_is_caught_by_the_key(keyed, client, runner, world):
    app = keyed
    attach(client, world)  # written with the key
    with app.app_context():
        db.session.execute(text("UPDATE ledger_entry SET note = 'forged' WHERE id = 2"))
        db.session.commit()
        recompute_unkeyed(2, scheme=ledger.KEYED)  # keyed marker kept, public SHA-256 used
    result = verify(runner)
    assert result.exit_code == 1 and "Ledger BROKEN at entry 2" in result.output


def test_a_downgrade_to_unkeyed_entries_is_caught(keyed, client, runner, world):
    app = keyed
    attach(client, world)
    with app.app_context():
        last = db.session.scalar(select(LedgerEntry.id).order_by(LedgerEntry.id.desc()))
        db.session.execute(text("UPDATE ledger_entry SET note = 'forged' WHERE id = :id"), {"id": last})
        db.session.commit()
        recompute_unkeyed(last)
    result = verify(runner)
    assert result.exit_code == 1 and f"Ledger BROKEN at entry {last}" in result.output


def test_a_complete_unkeyed_rewrite_is_caught_by_the_missing_head_key(keyed, runner, world):
    app = keyed
    with app.app_context():
        db.session.execute(text("UPDATE ledger_entry SET note = 'forged' WHERE id = 1"))
        db.session.commit()
        recompute_unkeyed(1)
    result = verify(runner)
    assert result.exit_code == 1 and "no key check" in result.output


def test_keyed_entries_need_the_key_and_the_same_key(app, runner, world):
    app.config["LEDGER_KEY"] = KEY
    with app.app_context():
        db.session.execute(text("UPDATE ledger_entry SET scheme = NULL"))
        db.session.commit()
        recompute_unkeyed(1, scheme=None)
    app.config["LEDGER_KEY"] = None
    assert verify(runner).exit_code == 0
    # Keyed from now on: world entries are unkeyed, new ones keyed, both verify.
    app.config["LEDGER_KEY"] = KEY
    with app.app_context(), time_machine.travel(NOW):
        from tracker.auth.models import User
        from tracker.items import services
        from tracker.items.models import Item

        item = db.session.get(Item, world.items["owned"].id)
        services.add_progress(item, actor=db.session.get(User, world.member.id), now=NOW, note="keyed now")
        db.session.commit()
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "1 keyed (HMAC)" in result.output and "from before keying" in result.output
    app.config["LEDGER_KEY"] = None
    result = verify(runner)
    assert result.exit_code == 1 and "set TRACKER_LEDGER_KEY" in result.output
    app.config["LEDGER_KEY"] = "another-key"
    result = verify(runner)
    assert result.exit_code == 1 and "not the key it was written with" in result.output


def test_entries_from_before_schemes_still_verify(app, runner, world):
    """Rows written by the previous release: no scheme, no snapshot, the first payload."""
    with app.app_context():
        db.session.execute(text("UPDATE ledger_entry SET scheme = NULL, snapshot = NULL"))
        db.session.commit()
        recompute_unkeyed(1, scheme=None)
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "from before keying" in result.output


def test_setting_the_key_on_an_existing_ledger_needs_one_seal(app, runner, world):
    app.config["LEDGER_KEY"] = KEY
    result = verify(runner)
    assert result.exit_code == 1 and "ledger seal" in result.output
    assert runner.invoke(args=["ledger", "seal"]).exit_code == 0
    assert verify(runner).exit_code == 0
    resealed = runner.invoke(args=["ledger", "seal"])
    assert resealed.exit_code != 0 and "keyed already" in resealed.output


# --- checkpoints outside the database -------------------------------------------------------


def test_a_checkpoint_matches_and_a_rewrite_before_it_does_not(app, client, runner, world):
    with app.app_context():
        point = ledger.checkpoint()
    attach(client, world)  # the ledger grows after the checkpoint: still matches
    result = verify(runner, "--checkpoint", point)
    assert result.exit_code == 0, result.output
    assert f"Checkpoint {point} matches." in result.output
    with app.app_context():
        db.session.execute(text("UPDATE ledger_entry SET note = 'forged' WHERE id = 1"))
        db.session.commit()
        recompute_unkeyed(1)
    result = verify(runner, "--checkpoint", point)
    assert result.exit_code == 1 and "does NOT match" in result.output


def test_a_checkpoint_beyond_the_ledger_does_not_match(app, runner, world):
    with app.app_context():
        digest, count = ledger.parse_checkpoint(ledger.checkpoint())
    result = verify(runner, "--checkpoint", f"{digest}@{count + 5}")
    assert result.exit_code == 1 and "does NOT match" in result.output


@pytest.mark.parametrize("bad", ["abc@3", "f" * 64, "g" * 64 + "@1", "f" * 64 + "@-1"])
def test_a_malformed_checkpoint_is_a_usage_error(runner, world, bad):
    result = verify(runner, "--checkpoint", bad)
    assert result.exit_code == 2 and "HASH@N" in result.output


def test_the_weekly_briefing_prints_the_checkpoint(app, client, world):
    with app.app_context():
        point = ledger.checkpoint()
    with time_machine.travel(NOW):
        login(client, "committee")
        page = client.get("/reports/weekly").get_data(as_text=True)
        workbook = client.get("/reports/weekly.xlsx")
    assert point in page
    from openpyxl import load_workbook

    summary = load_workbook(io.BytesIO(workbook.data)).worksheets[0]
    assert [point] == [row[1] for row in summary.iter_rows(values_only=True) if row[1] == point]


def test_new_created_entries_carry_the_item_snapshot(app, world):
    with app.app_context():
        entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "created").order_by(LedgerEntry.id))
        fields = json.loads(entry.snapshot)
    assert fields["status"] == "open" and fields["title"]


def test_extension_decisions_replay_to_the_item(app, runner, world):
    """Approved extensions move the deadline in the replay; refused ones leave it."""
    from datetime import date

    from tracker.auth.models import User
    from tracker.items import extensions
    from tracker.items.models import Item

    with app.app_context(), time_machine.travel(NOW):
        item = db.session.get(Item, world.items["owned"].id)
        member = db.session.get(User, world.member.id)
        committee = db.session.get(User, world.committee.id)
        first = extensions.request_extension(item, actor=member, now=NOW, deadline=date(2026, 7, 15), reason="材料未到")
        db.session.commit()
        extensions.decide(first, actor=committee, now=NOW, decision="approve", note="同意")
        db.session.commit()
        second = extensions.request_extension(item, actor=member, now=NOW, deadline=date(2026, 7, 20), reason="再申请")
        db.session.commit()
        extensions.decide(second, actor=committee, now=NOW, decision="refuse", note="不行")
        db.session.commit()
    result = verify(runner)
    assert result.exit_code == 0, result.output
