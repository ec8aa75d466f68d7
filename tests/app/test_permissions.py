"""PRODUCT.md's role table as pure checks over plain values."""

from types import SimpleNamespace as NS

import pytest

from tracker import permissions as p
from tracker.items.rules import FINISHED_STATUSES

CG, JS = 1, 2


def user(role, groups=(), id=10, is_active=True):
    return NS(id=id, role=role, group_ids=frozenset(groups), is_active=is_active)


def item(group=CG, owner=None, confidential=False, status="in_progress", submitted_by=None, supporting=()):
    return NS(
        group_id=group,
        owner_id=owner,
        is_confidential=confidential,
        status=status,
        is_finished=status in FINISHED_STATUSES,
        submitted_by_id=submitted_by,
        supporting_groups=[NS(id=g) for g in supporting],
    )


ADMIN, COMMITTEE = user("admin", id=1), user("committee", id=2)
LEAD, MEMBER = user("lead", [CG], id=3), user("member", [CG], id=4)
OTHER_LEAD, EXTERNAL = user("lead", [JS], id=5), user("external", id=99)


def test_everyone_signed_in_reads_ordinary_items_of_all_groups():
    for who in (ADMIN, COMMITTEE, LEAD, MEMBER, OTHER_LEAD):
        assert p.can_view_item(who, item(group=JS))


def test_confidential_items_only_for_their_group_committee_and_admin():
    secret = item(confidential=True)
    assert p.can_view_item(LEAD, secret) and p.can_view_item(MEMBER, secret)
    assert p.can_view_item(COMMITTEE, secret) and p.can_view_item(ADMIN, secret)
    assert not p.can_view_item(OTHER_LEAD, secret)


def test_external_sees_only_items_assigned_to_them():
    assert p.can_view_item(EXTERNAL, item(owner=99))
    assert not p.can_view_item(EXTERNAL, item())


def test_lead_creates_and_edits_only_in_own_group():
    assert p.can_create_item(LEAD, CG) and not p.can_create_item(LEAD, JS)
    assert p.can_edit_item(LEAD, item(group=CG))
    assert not p.can_edit_item(LEAD, item(group=JS))
    assert not p.can_move_item_to(LEAD, JS)


def test_members_and_externals_cannot_create_or_edit():
    for who in (MEMBER, EXTERNAL):
        assert not p.may_create_items(who)
        assert not p.can_edit_item(who, item(owner=who.id))


def test_committee_creates_in_any_group():
    assert p.can_create_item(COMMITTEE, JS)


def test_closed_items_are_not_editable():
    assert not p.can_edit_item(ADMIN, item(status="closed"))


@pytest.mark.parametrize("action", ["start", "submit"])
def test_owner_and_group_lead_start_and_submit(action):
    mine = item(owner=MEMBER.id)
    assert p.can_transition(MEMBER, mine, action)
    assert p.can_transition(LEAD, mine, action)
    assert not p.can_transition(OTHER_LEAD, mine, action)
    assert not p.can_transition(MEMBER, item(owner=None), action)


def test_lead_cannot_close_own_group_item():
    assert not p.can_transition(LEAD, item(status="submitted"), "verify")


@pytest.mark.parametrize("action", ["verify", "reject", "reopen", "cancel"])
def test_only_committee_and_admin_review(action):
    for who in (LEAD, MEMBER, EXTERNAL, OTHER_LEAD):
        assert not p.can_transition(who, item(owner=who.id), action)
    assert p.can_transition(COMMITTEE, item(), action)


def test_whoever_submitted_never_verifies_but_an_admin_may_override():
    submitted = item(status="submitted", submitted_by=COMMITTEE.id)
    assert not p.can_transition(COMMITTEE, submitted, "verify")
    assert p.can_transition(ADMIN, item(status="submitted", submitted_by=ADMIN.id), "verify")
    assert p.is_verify_override(ADMIN, item(status="submitted", submitted_by=ADMIN.id), "verify")


def test_whoever_owns_or_recorded_progress_never_verifies():
    """谁整改不验收: not only the submitter."""
    other = user("committee", id=7)
    owned = item(status="submitted", owner=COMMITTEE.id, submitted_by=LEAD.id)
    assert not p.can_transition(COMMITTEE, owned, "verify")
    assert p.can_transition(other, owned, "verify")
    reported = item(status="submitted", submitted_by=LEAD.id)
    assert not p.can_transition(COMMITTEE, reported, "verify", progress_recorders=frozenset({COMMITTEE.id}))
    assert p.can_transition(COMMITTEE, reported, "verify", progress_recorders=frozenset({other.id}))
    # Rejecting stays open to them: only verifying is someone else's call.
    assert p.can_transition(COMMITTEE, owned, "reject")
    assert not p.is_verify_override(other, owned, "verify")


def test_supporting_group_members_contribute_to_items_their_group_supports():
    supported = item(group=JS, supporting=[CG])
    assert p.can_contribute(MEMBER, supported) and p.can_contribute(LEAD, supported)
    assert not p.can_contribute(MEMBER, item(group=JS))
    assert not p.can_contribute(MEMBER, item(group=JS, supporting=[CG], status="closed"))
    # Supporting an item is no right to drive it.
    assert not p.can_transition(MEMBER, supported, "submit")
    assert not p.can_edit_item(LEAD, supported)


def test_contributing_needs_ownership_or_lead():
    assert p.can_contribute(MEMBER, item(owner=MEMBER.id))
    assert not p.can_contribute(MEMBER, item(owner=None))
    assert p.can_contribute(EXTERNAL, item(owner=99))
    assert not p.can_contribute(OTHER_LEAD, item())


def test_owner_must_belong_to_the_responsible_or_a_supporting_group():
    assert p.can_own(MEMBER, CG)
    assert not p.can_own(MEMBER, JS)
    assert p.can_own(MEMBER, JS, [CG])
    assert p.can_own(OTHER_LEAD, JS)
    assert not p.can_own(ADMIN, CG)
    assert not p.can_own(COMMITTEE, CG)  # oversight is no group membership
    assert not p.can_own(user("member", [CG], is_active=False), CG)


def test_a_vendor_owns_only_items_of_the_group_it_works_for():
    vendor = user("external", [CG], id=98)
    assert p.can_own(vendor, CG)
    assert not p.can_own(vendor, JS)
    assert not p.can_own(vendor, JS, [CG])  # supporting is not enough for a third party
    assert not p.can_own(EXTERNAL, JS)  # attached to no group


def test_a_committee_member_who_owns_an_item_starts_and_submits_it_but_never_verifies_it():
    mine = item(owner=COMMITTEE.id)
    assert p.can_transition(COMMITTEE, mine, "start") and p.can_transition(COMMITTEE, mine, "submit")
    assert not p.can_transition(
        COMMITTEE, item(owner=COMMITTEE.id, status="submitted", submitted_by=COMMITTEE.id), "verify"
    )
