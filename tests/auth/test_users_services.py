"""Users as administrators keep them: create, change, the sign-in rule; each change audited with the actor."""

import pytest
from sqlalchemy import select

from tests.factories import NOW, make_user
from tracker.audit.models import AuditEvent
from tracker.auth import two_factor, users
from tracker.auth.models import User
from tracker.errors import PermissionDenied, ValidationFailed
from tracker.extensions import db


def user(name: str) -> User:
    return db.session.scalars(select(User).where(User.username == name)).one()


def rows(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def data(**overrides) -> dict:
    values = {
        "username": "wang.fang",
        "display_name": "王芳",
        "email": "",
        "role": "member",
        "password": "long-enough-1",
        "is_active_account": True,
        "group_ids": [],
    }
    return values | overrides


def test_creating_a_user_records_role_groups_and_who(ctx, world):
    created = users.save_user(None, data(group_ids=[world.cs.id, world.js.id]), actor=user("admin"), now=NOW)
    assert sorted(g.code for g in created.groups) == ["CG", "JS"]
    (row,) = rows("user_saved")
    assert (row.username, row.target, row.detail) == ("admin", "wang.fang", "role=member groups=CG,JS active=True")


def test_the_audit_row_goes_with_the_change(ctx, world):
    users.save_user(None, data(), actor=user("admin"), now=NOW)
    db.session.rollback()
    assert rows("user_saved") == [] and db.session.scalars(select(User).where(User.username == "wang.fang")).all() == []


@pytest.mark.parametrize("role", ["committee", "lead", "member", "external"])
def test_only_an_administrator_changes_users(ctx, world, role):
    with pytest.raises(PermissionDenied):
        users.save_user(user("member"), data(username="member", role="admin"), actor=user(role), now=NOW)
    assert user("member").role == "member" and rows("user_saved") == []


def test_an_administrator_cannot_remove_their_own_access(ctx, world):
    admin = user("admin")
    with pytest.raises(ValidationFailed) as refused:
        users.save_user(admin, data(username="admin", role="committee", password=""), actor=admin, now=NOW)
    assert "role" in refused.value.fields and rows("user_saved") == []


def test_a_role_change_ends_the_users_sessions(ctx, world):
    lead = user("lead")
    token = lead.session_token
    users.save_user(
        lead, data(username="lead", role="member", password="", group_ids=[world.cs.id]), actor=user("admin"), now=NOW
    )
    assert lead.session_token != token


def test_users_are_listed_by_name_whatever_the_case(ctx):
    for name in ("Bo", "al", "Cy"):
        make_user(name, "member")
    assert [u.username for u in users.ordered_users()] == ["al", "Bo", "Cy"]


def test_the_command_line_names_unknown_groups(ctx, world):
    with pytest.raises(ValidationFailed) as refused:
        users.create_user(username="li.lei", password="long-enough-1", role="lead", group_codes=["CG", " XX "])
    assert "XX" in str(refused.value.fields["group"])


def test_requiring_two_factor_is_an_audited_administrator_action(ctx, world):
    with pytest.raises(PermissionDenied):
        users.set_totp_required(True, actor=user("committee"), now=NOW)
    assert not two_factor.is_required()
    users.set_totp_required(True, actor=user("admin"), now=NOW)
    assert two_factor.is_required()
    assert [(r.username, r.detail) for r in rows("security_saved")] == [("admin", "require_totp=True")]
