"""Work groups' own services: board order, lookups, create and change, the chat robot; each change audited."""

import pytest
from sqlalchemy import func, select

from tests.factories import NOW
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.errors import PermissionDenied, ValidationFailed
from tracker.extensions import db
from tracker.groups import services
from tracker.groups.models import WorkGroup

HOOK = "http://127.0.0.1/hook?access_token=abcdefghijklmnopqrstuvwxyz"


def user(name: str) -> User:
    return db.session.scalars(select(User).where(User.username == name)).one()


def audit_rows(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_ordered_groups_follow_board_order_then_code(ctx, world):
    admin = user("admin")
    services.create_group({"code": "AB", "name": "甲组", "sort_order": 0}, actor=admin, now=NOW)
    services.update_group(
        db.session.get(WorkGroup, world.cs.id), {"code": "CG", "name": "场馆组", "sort_order": 5}, actor=admin, now=NOW
    )
    assert [g.code for g in services.ordered_groups()] == ["AB", "JS", "CG"]
    assert [g.code for g in services.ordered_groups([world.cs.id, world.js.id])] == ["JS", "CG"]


def test_a_new_group_without_a_place_comes_after_the_others(ctx, world):
    group = services.create_group({"code": "zh", "name": "综合组"}, actor=user("admin"), now=NOW)
    assert group.code == "ZH"
    assert services.ordered_groups()[-1] is group


def test_by_code_and_by_codes_name_what_is_missing(ctx, world):
    assert services.by_code("CG").id == world.cs.id
    assert services.by_code("XX") is None
    found, missing = services.by_codes(["CG", "XX", "JS"])
    assert sorted(g.code for g in found) == ["CG", "JS"] and missing == ["XX"]


def test_creating_a_group_writes_its_audit_row_in_the_same_transaction(ctx, world):
    services.create_group({"code": "ZH", "name": "综合组"}, actor=user("admin"), now=NOW)
    assert [(r.target, r.username) for r in audit_rows("group_saved")] == [("ZH", "admin")]
    db.session.rollback()
    assert audit_rows("group_saved") == []
    assert services.by_code("ZH") is None


@pytest.mark.parametrize("role", ["committee", "lead", "member", "external"])
def test_only_an_administrator_changes_groups(ctx, world, role):
    with pytest.raises(PermissionDenied):
        services.create_group({"code": "ZH", "name": "综合组"}, actor=user(role), now=NOW)
    assert db.session.scalar(select(func.count(WorkGroup.id))) == 2 and audit_rows("group_saved") == []


@pytest.mark.parametrize("code", ["CG", "cg ", "2X", "A B", "组"])
def test_a_taken_or_malformed_code_is_refused(ctx, world, code):
    with pytest.raises(ValidationFailed) as refused:
        services.create_group({"code": code, "name": "综合组"}, actor=user("admin"), now=NOW)
    assert "code" in refused.value.fields and audit_rows("group_saved") == []


def test_saving_a_robot_audits_its_masked_address_never_the_secret(ctx, world):
    group = db.session.get(WorkGroup, world.cs.id)
    services.save_robot(
        group,
        url=HOOK,
        fmt="dingtalk",
        secret="SECabcdef123456",
        allowed_hosts=["127.0.0.1"],
        actor=user("admin"),
        now=NOW,
    )
    assert group.webhook_url == HOOK and group.webhook_secret == "SECabcdef123456"
    (row,) = audit_rows("group_robot_saved")
    assert row.target == "CG" and "signed=True" in row.detail
    assert "abcdefghijklmnopqrstuvwxyz" not in row.detail and "SECabcdef" not in row.detail


def test_a_robot_off_the_allowlist_is_refused_and_not_audited(ctx, world):
    group = db.session.get(WorkGroup, world.cs.id)
    with pytest.raises(ValidationFailed) as refused:
        services.save_robot(
            group,
            url=HOOK,
            fmt="generic",
            secret="",
            allowed_hosts=["oapi.dingtalk.com"],
            actor=user("admin"),
            now=NOW,
        )
    assert "webhook_url" in refused.value.fields and audit_rows("group_robot_saved") == []


def test_only_an_administrator_sets_a_robot(ctx, world):
    with pytest.raises(PermissionDenied):
        services.save_robot(
            db.session.get(WorkGroup, world.cs.id),
            url="",
            fmt="generic",
            secret="",
            allowed_hosts=[],
            actor=user("lead"),
            now=NOW,
        )
