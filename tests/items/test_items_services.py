"""Services: every change is checked, lands in the ledger, and stale writes change nothing."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests import factories
from tests.factories import NOW, make_item
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.errors import Conflict, PermissionDenied, ValidationFailed
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import ledger, services
from tracker.items.models import Item, LedgerEntry


def reload(model, obj):
    return db.session.get(model, obj.id)


@pytest.fixture
def w(ctx, world):
    """The world, attached to this test's session."""
    for name in ("admin", "committee", "lead", "member", "other_lead", "other_member", "external"):
        setattr(world, name, reload(User, getattr(world, name)))
    world.items = {k: reload(Item, v) for k, v in world.items.items()}
    return world


def kinds(item):
    return [e.kind for e in db.session.scalars(db.select(LedgerEntry).where(LedgerEntry.item_id == item.id))]


def test_create_writes_a_created_entry(w):
    item = make_item(w.lead, w.cs, title="轮椅通道被占用")
    assert item.status == "open" and item.version == 1
    assert kinds(item) == ["created"]


def test_create_accepts_a_past_deadline(w):
    item = make_item(w.lead, w.cs, deadline=date(2026, 1, 1))
    assert item.deadline == date(2026, 1, 1)


def test_lead_cannot_create_in_another_group(w):
    with pytest.raises(ValidationFailed) as error:
        make_item(w.lead, w.js)
    assert "group_id" in error.value.fields


def test_member_cannot_create(w):
    with pytest.raises(PermissionDenied):
        make_item(w.member, w.cs)


def test_invalid_values_are_all_reported_and_nothing_written(w):
    before = db.session.scalar(db.select(db.func.count(Item.id)))
    with pytest.raises(ValidationFailed) as error:
        services.create_item(
            {"title": "", "group_id": w.cs.id, "severity": "huge", "owner_id": w.other_member.id, "kind": "x"},
            actor=w.lead,
            now=NOW,
        )
    assert {"title", "severity", "owner_id", "kind"} <= set(error.value.fields)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Item.id))) == before


def test_unknown_fields_are_refused(w):
    with pytest.raises(ValidationFailed) as error:
        services.create_item({"title": "x", "group_id": w.cs.id, "status": "closed"}, actor=w.lead, now=NOW)
    assert "status" in error.value.fields


def test_field_edit_records_before_and_after(w):
    item = w.items["unowned"]
    services.update_item(item, {"title": "盲道全线修复"}, actor=w.lead, now=NOW, version=item.version)
    entry = item.ledger[-1]
    assert (entry.kind, entry.field, entry.before, entry.after) == (
        "field_changed",
        "title",
        "盲道修复",
        "盲道全线修复",
    )
    assert item.version == 2


def test_deadline_change_needs_a_reason(w):
    item = w.items["unowned"]
    later = item.deadline + timedelta(days=10)
    with pytest.raises(ValidationFailed) as error:
        services.update_item(item, {"deadline": later}, actor=w.committee, now=NOW, version=item.version)
    assert "reason" in error.value.fields
    services.update_item(
        item, {"deadline": later}, actor=w.committee, now=NOW, version=item.version, reason="材料延迟到货"
    )
    entry = item.ledger[-1]
    assert entry.kind == "deadline_changed" and entry.note == "材料延迟到货"


def test_stale_version_conflicts_and_changes_nothing(w):
    item = w.items["unowned"]
    services.update_item(item, {"title": "第一人修改"}, actor=w.lead, now=NOW, version=1)
    db.session.commit()
    with pytest.raises(Conflict) as error:
        services.update_item(item, {"title": "第二人修改"}, actor=w.committee, now=NOW, version=1)
    assert error.value.current_version == 2
    assert [e.after for e in error.value.changes] == ["第一人修改"]
    db.session.rollback()
    assert reload(Item, item).title == "第一人修改"


def test_a_race_lost_at_the_database_is_a_conflict_with_the_real_version(w):
    """Both read version 1; the other writer commits between this one's check and its UPDATE."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite takes the write lock at BEGIN IMMEDIATE: no other writer can come between")
    item = w.items["unowned"]
    with db.engine.begin() as other:  # another request, on its own connection
        other.execute(db.update(Item).where(Item.id == item.id).values(title="抢先修改", version=Item.version + 1))
    with pytest.raises(Conflict) as error:
        services.update_item(item, {"title": "后到修改"}, actor=w.committee, now=NOW, version=1)
    assert error.value.current_version == 2
    db.session.rollback()
    assert reload(Item, item).title == "抢先修改"
    assert "field_changed" not in kinds(item)  # nothing of the lost write was kept


def test_lead_cannot_edit_another_groups_item(w):
    item = w.items["other_group"]
    with pytest.raises(PermissionDenied):
        services.update_item(item, {"title": "越权"}, actor=w.lead, now=NOW, version=item.version)


def test_lead_cannot_move_an_item_to_another_group(w):
    item = w.items["unowned"]
    with pytest.raises(ValidationFailed) as error:
        services.update_item(item, {"group_id": w.js.id}, actor=w.lead, now=NOW, version=item.version)
    assert "group_id" in error.value.fields


def test_full_workflow_to_closed(w):
    item = w.items["owned"]
    services.transition(item, "start", actor=w.member, now=NOW)
    services.transition(item, "submit", actor=w.member, now=NOW)
    services.transition(item, "verify", actor=w.committee, now=NOW, note="现场核查合格")
    assert item.status == "closed" and item.progress == 100 and item.closed_by_id == w.committee.id
    assert kinds(item) == ["created", "status", "status", "status"]


def test_reject_needs_a_reason_and_returns_to_in_progress(w):
    item = w.items["owned"]
    services.transition(item, "start", actor=w.member, now=NOW)
    services.transition(item, "submit", actor=w.member, now=NOW)
    with pytest.raises(ValidationFailed):
        services.transition(item, "reject", actor=w.committee, now=NOW, note="  ")
    services.transition(item, "reject", actor=w.committee, now=NOW, note="照片不清晰")
    assert item.status == "in_progress"


def test_submitter_cannot_verify(w):
    item = w.items["unowned"]
    item.owner_id = w.committee.id  # committee members drive items they own
    services.transition(item, "start", actor=w.committee, now=NOW)
    services.transition(item, "submit", actor=w.committee, now=NOW)
    with pytest.raises(PermissionDenied):
        services.transition(item, "verify", actor=w.committee, now=NOW)


def test_whoever_recorded_progress_cannot_verify(w):
    """谁整改不验收: a reviewer who reported progress on an item does not close it."""
    item = w.items["unowned"]
    services.add_progress(item, actor=w.committee, now=NOW, note="现场已整改一半", progress=50)
    services.transition(item, "start", actor=w.lead, now=NOW)
    services.transition(item, "submit", actor=w.lead, now=NOW)
    with pytest.raises(PermissionDenied):
        services.transition(item, "verify", actor=w.committee, now=NOW)
    other = factories.make_user("reviewer2", "committee")
    services.transition(item, "verify", actor=other, now=NOW)
    assert item.status == "closed"


def test_an_admins_override_needs_a_reason_and_is_audited(w):
    item = w.items["unowned"]
    services.transition(item, "start", actor=w.admin, now=NOW)
    services.transition(item, "submit", actor=w.admin, now=NOW)
    with pytest.raises(ValidationFailed):
        services.transition(item, "verify", actor=w.admin, now=NOW)
    services.transition(item, "verify", actor=w.admin, now=NOW, note="验收组缺员，经主任同意代验")
    assert item.status == "closed"
    override = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "verify_override")).one()
    assert override.actor_id == w.admin.id and "代验" in override.detail


def test_supporting_group_member_adds_progress(w):
    item = w.items["other_group"]
    item.supporting_groups = [db.session.get(WorkGroup, w.cs.id)]
    entry = services.add_progress(item, actor=w.member, now=NOW, note="配合单位已完成无障碍标识")
    assert entry.author_id == w.member.id
    with pytest.raises(PermissionDenied):
        services.transition(item, "start", actor=w.member, now=NOW)


def test_impossible_transition_is_a_validation_error(w):
    with pytest.raises(ValidationFailed):
        services.transition(w.items["owned"], "verify", actor=w.committee, now=NOW)


def test_progress_note_moves_progress_and_is_recorded(w):
    item = w.items["owned"]
    services.add_progress(item, actor=w.member, now=NOW, note="完成坡道拆除", progress=40)
    entry = item.ledger[-1]
    assert (entry.kind, entry.before, entry.after, entry.note) == ("progress", "0", "40", "完成坡道拆除")


def test_progress_out_of_range_is_refused(w):
    with pytest.raises(ValidationFailed):
        services.add_progress(w.items["owned"], actor=w.member, now=NOW, note="x", progress=101)


def test_member_cannot_add_progress_to_an_item_they_do_not_own(w):
    with pytest.raises(PermissionDenied):
        services.add_progress(w.items["unowned"], actor=w.member, now=NOW, note="x")


def test_every_change_keeps_the_chain_valid(w):
    item = w.items["owned"]
    services.transition(item, "start", actor=w.member, now=NOW)
    services.add_progress(item, actor=w.member, now=NOW, note="半程", progress=50)
    db.session.commit()
    report = ledger.verify_chain()
    assert report.ok and report.checked == db.session.scalar(db.select(db.func.count(LedgerEntry.id)))
