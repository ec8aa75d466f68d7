"""Who may do what: PRODUCT.md's role table, in one place.

Every view, API endpoint, export and reminder asks here. The functions take
plain values (anything with the attributes used), so they are tested without
an app or a database; ``visible_items`` turns the same rule into SQL.
"""

from types import SimpleNamespace

from sqlalchemy import and_, exists, false, or_, select, true

ADMIN, COMMITTEE, LEAD, MEMBER, EXTERNAL = "admin", "committee", "lead", "member", "external"
OVERSIGHT = frozenset({ADMIN, COMMITTEE})
# Actions on items, by who may take them.
OWNER_ACTIONS = frozenset({"start", "submit"})
COMMITTEE_ACTIONS = frozenset({"verify", "reject", "reopen", "cancel"})


def _in_group(user, group_id) -> bool:
    return group_id in user.group_ids


def _is_owner(user, item) -> bool:
    return item.owner_id is not None and item.owner_id == user.id


def leads_group(user, group_id) -> bool:
    return user.role == LEAD and _in_group(user, group_id)


def can_view_item(user, item) -> bool:
    if user.role in OVERSIGHT or _is_owner(user, item):
        return True
    if user.role == EXTERNAL:
        return False
    if item.is_confidential:
        return _in_group(user, item.group_id)
    return True


def item_visibility(user, item_model):
    """The SQL condition on ``item_model``'s columns under which ``user`` may read a row."""
    if user.role in OVERSIGHT:
        return true()
    is_owner = item_model.owner_id == user.id if user.id is not None else false()
    if user.role == EXTERNAL:
        return is_owner
    # Plain comparisons, not IN: an IN list is expanded again on every run of a statement,
    # even a kept one (the header's counts), which cost more than the database's work.
    own_groups = [item_model.group_id == group_id for group_id in sorted(user.group_ids)]
    return or_(item_model.is_confidential.is_(False), *own_groups, is_owner)


def visible_items(query, user, item_model):
    """Restrict an Item query to what ``user`` may read (the SQL form of can_view_item)."""
    return query.where(item_visibility(user, item_model))


def readable_items(user, items) -> list:
    """The items of ``items`` (plain objects) that ``user`` may read, in their order.

    Every text sent to someone (reminders, notifications, digests, robot messages) is
    built only from what passes here or through ``visible_items``.
    """
    return [item for item in items if can_view_item(user, item)]


def item_readable_by(item_model, user_model, membership):
    """``can_view_item`` with the reader as a column: for set-based queries over (user, item) pairs.

    ``membership`` is the user ↔ work group table (user_id, group_id).
    """
    member = membership.alias("reader_membership")  # the outer query may join the same table
    in_group = exists(
        select(member.c.user_id).where(member.c.user_id == user_model.id, member.c.group_id == item_model.group_id)
    )
    return or_(
        user_model.role.in_(sorted(OVERSIGHT)),
        item_model.owner_id == user_model.id,
        and_(user_model.role != EXTERNAL, or_(item_model.is_confidential.is_(False), in_group)),
    )


def chat_robot_reader():
    """Who reads a work group's chat robot: anyone may be in that chat, so no one in particular.

    A signed-in member without groups or items of their own: non-confidential items
    only, whatever group the robot belongs to.
    """
    return SimpleNamespace(id=None, role=MEMBER, group_ids=frozenset())


def may_create_items(user) -> bool:
    return user.role in OVERSIGHT or user.role == LEAD


def can_create_item(user, group_id) -> bool:
    return user.role in OVERSIGHT or leads_group(user, group_id)


def can_edit_item(user, item) -> bool:
    """Change the item's fields (title, measures, deadline, owner …)."""
    if item.is_finished:
        return False
    return user.role in OVERSIGHT or leads_group(user, item.group_id)


def can_move_item_to(user, group_id) -> bool:
    """A lead may only keep an item inside their own groups."""
    return user.role in OVERSIGHT or leads_group(user, group_id)


def owner_scope(candidate) -> tuple[frozenset[int], frozenset[int]]:
    """Where ``candidate`` may be the responsible person (责任人): the groups whose items they may own
    as the responsible group, and the groups through which they may own an item as a supporting
    group (配合单位).

    The rule: an active member or lead of the item's responsible group or of one of its supporting
    groups. A third-party account (``external``) only for the groups it is attached to, as the
    responsible group: a vendor contracted by one group does not own another group's item, even one
    its group supports. Admins and accounts in no group own nothing. The owner picker and the
    server's check both read this one function.
    """
    if not candidate.is_active or candidate.role == ADMIN:
        return frozenset(), frozenset()
    groups = frozenset(candidate.group_ids)
    return groups, (frozenset() if candidate.role == EXTERNAL else groups)


def can_own(candidate, group_id, supporting_group_ids=()) -> bool:
    """Whether ``candidate`` may own an item of ``group_id`` supported by ``supporting_group_ids``."""
    as_responsible, as_supporting = owner_scope(candidate)
    return group_id in as_responsible or any(g in as_supporting for g in supporting_group_ids)


def _supporting_ids(item) -> frozenset[int]:
    return frozenset(g.id for g in getattr(item, "supporting_groups", ()))


def can_contribute(user, item) -> bool:
    """Add progress notes and evidence: the owner, the group's leads, oversight, and the members of
    the supporting groups (配合单位), who do part of the work."""
    if item.is_finished or not can_view_item(user, item):
        return False
    if user.role in OVERSIGHT or leads_group(user, item.group_id) or _is_owner(user, item):
        return True
    return user.role in (LEAD, MEMBER) and bool(user.group_ids & _supporting_ids(item))


def has_part_in(user, item, progress_recorders=frozenset()) -> bool:
    """谁整改不验收: whoever owns an item, submitted it or recorded its progress does not verify it."""
    return user.id in (item.owner_id, item.submitted_by_id) or user.id in progress_recorders


def is_verify_override(user, item, action: str, progress_recorders=frozenset()) -> bool:
    """An admin verifying an item they had a part in: allowed, but the service records the override."""
    return action == "verify" and user.role == ADMIN and has_part_in(user, item, progress_recorders)


def can_transition(user, item, action: str, *, progress_recorders=frozenset()) -> bool:
    """``progress_recorders``: ids of whoever recorded progress or evidence on the item."""
    if not can_view_item(user, item):
        return False
    if action in OWNER_ACTIONS:
        # The responsible person drives their own item, whatever their role.
        return user.role == ADMIN or leads_group(user, item.group_id) or _is_owner(user, item)
    if action in COMMITTEE_ACTIONS:
        if user.role not in OVERSIGHT:
            return False
        if action == "verify" and has_part_in(user, item, progress_recorders):
            return user.role == ADMIN  # the recorded override
        return True
    return False


def can_view_evidence(user, item) -> bool:
    return can_view_item(user, item)


def can_print_closure_form(user, item) -> bool:
    """The closure form (销号审批表) shows no more than the item page: whoever reads the item may print it."""
    return can_view_item(user, item)


def can_import(user) -> bool:
    return user.role in OVERSIGHT or user.role == LEAD


def can_manage_milestones(user) -> bool:
    return user.role in OVERSIGHT


def can_view_reports(user) -> bool:
    return user.role in OVERSIGHT or user.role == LEAD


def can_administer(user) -> bool:
    return user.role == ADMIN


def visibility_scope(user) -> tuple:
    """Equal for two users exactly when ``visible_items`` shows them the same items (a cache key)."""
    if user.role in OVERSIGHT:
        return ("all",)
    if user.role == EXTERNAL:
        return (EXTERNAL, user.id)
    return ("member", user.id, tuple(sorted(user.group_ids)))


def can_renumber_item(user, item) -> bool:
    """Change an item's 编号, the key imported sheets update by: an admin's action."""
    return user.role == ADMIN


def can_regroup_item(user, item) -> bool:
    """Move an existing item to another responsible group: the committee's call, not a lead's."""
    return user.role in OVERSIGHT


def can_manage_api_token(user, token) -> bool:
    """See and revoke a personal API token: only its owner."""
    return token.user_id == user.id


def can_subscribe_group_calendar(user, group_id) -> bool:
    """A work group's deadline feed: its leads, and the committee and admins for any group."""
    return user.role in OVERSIGHT or leads_group(user, group_id)


def item_readers(item_model, user_model, in_item_group):
    """SQL condition on ``user_model`` and ``item_model`` rows: who may read which item
    (can_view_item turned around).

    ``in_item_group`` is the caller's condition "the user is in the item's group"; used
    to send a notification only to people who may open what it links to.
    """
    return or_(
        user_model.role.in_(OVERSIGHT),
        user_model.id == item_model.owner_id,
        and_(user_model.role != EXTERNAL, or_(item_model.is_confidential.is_(False), in_item_group)),
    )


# --- Supervision notices (督办单): as visible as their item ----------------------------


def can_issue_notices(user) -> bool:
    """Issue, close, escalate notices and record interviews: committee reviewers and admins."""
    return user.role in OVERSIGHT


def can_view_notice(user, notice) -> bool:
    return can_view_item(user, notice.item)


def can_answer_notice(user, notice) -> bool:
    """Sign for (签收) and reply (回复): the addressed group's leads and the item's responsible person."""
    if not can_view_notice(user, notice):
        return False
    return leads_group(user, notice.group_id) or _is_owner(user, notice.item)


def can_decide_notice(user, notice) -> bool:
    return can_issue_notices(user) and can_view_notice(user, notice)


def visible_notices(query, user, item_model):
    """Restrict a notice query joined to its Item to the notices whose item ``user`` may read."""
    return visible_items(query, user, item_model)


def can_change_deadline_directly(user, item) -> bool:
    """Set a deadline without a request: the committee and admins always, others only while there is none.

    ``item`` is None for an item not created yet. Once an item has a deadline, a lead or
    member moves it only by an extension request that the committee approves (延期).
    """
    if user.role in OVERSIGHT:
        return True
    return item is None or item.deadline is None


def can_request_extension(user, item) -> bool:
    """Ask for a later deadline: the item's responsible person or a lead of its group."""
    if not can_view_item(user, item):
        return False
    return leads_group(user, item.group_id) or _is_owner(user, item)


def can_decide_extension(user, item, request=None) -> bool:
    """Approve or refuse an extension: the committee and admins, never on their own request."""
    if user.role not in OVERSIGHT or not can_view_item(user, item):
        return False
    return request is None or request.requested_by_id != user.id


def can_plan_exercise(user, group_id) -> bool:
    """Plan an exercise (演练/测试赛/检查) and turn its findings into items: committee, or a lead of its group."""
    return user.role in OVERSIGHT or leads_group(user, group_id)


def _invited(user, exercise) -> bool:
    return any(p.user_id == user.id for p in exercise.participants)


def can_view_exercise(user, exercise) -> bool:
    """Every staff account reads exercises; an external tester only the one they are invited to."""
    if user.role == EXTERNAL:
        return _invited(user, exercise)
    return True


def can_record_exercise(user, exercise) -> bool:
    """Record check results: committee, the exercise group's leads and members, invited external testers."""
    if user.role in OVERSIGHT:
        return True
    if user.role == EXTERNAL:
        return _invited(user, exercise)
    return _in_group(user, exercise.group_id) or _invited(user, exercise)


def can_manage_checklists(user) -> bool:
    """Keep checklist templates (import, export): admins and the committee."""
    return user.role in OVERSIGHT
