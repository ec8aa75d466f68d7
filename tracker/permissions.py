"""Who may do what: PRODUCT.md's role table, in one place.

Every view, API endpoint, export and reminder asks here. The functions take
plain values (anything with the attributes used), so they are tested without
an app or a database; ``visible_items`` turns the same rule into SQL.
"""

from sqlalchemy import false, or_, true

ADMIN, COMMITTEE, LEAD, MEMBER, EXTERNAL = "admin", "committee", "lead", "member", "external"
OVERSIGHT = frozenset({ADMIN, COMMITTEE})
# Actions on items, by who may take them.
OWNER_ACTIONS = frozenset({"start", "submit"})
COMMITTEE_ACTIONS = frozenset({"verify", "reject", "reopen", "cancel"})


def _in_group(user, group_id) -> bool:
    return group_id in user.group_ids


def _is_owner(user, item) -> bool:
    return item.owner_id is not None and item.owner_id == user.id


def is_admin(user) -> bool:
    return user.role == ADMIN


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


def visible_items(query, user, item_model):
    """Restrict an Item query to what ``user`` may read (the SQL form of can_view_item)."""
    if user.role in OVERSIGHT:
        return query.where(true())
    is_owner = item_model.owner_id == user.id
    if user.role == EXTERNAL:
        return query.where(is_owner)
    own_groups = item_model.group_id.in_(user.group_ids) if user.group_ids else false()
    return query.where(or_(item_model.is_confidential.is_(False), own_groups, is_owner))


def may_create_items(user) -> bool:
    return user.role in OVERSIGHT or user.role == LEAD


def can_create_item(user, group_id) -> bool:
    return user.role in OVERSIGHT or leads_group(user, group_id)


def can_edit_item(user, item) -> bool:
    """Change the item's fields (title, measures, deadline, owner …)."""
    if item.status in ("closed", "cancelled"):
        return False
    return user.role in OVERSIGHT or leads_group(user, item.group_id)


def can_move_item_to(user, group_id) -> bool:
    """A lead may only keep an item inside their own groups."""
    return user.role in OVERSIGHT or leads_group(user, group_id)


def can_own(candidate, group_id) -> bool:
    """Who may be the responsible person (责任人) of an item of ``group_id``."""
    if not candidate.is_active:
        return False
    if candidate.role == EXTERNAL:
        return True
    return candidate.role != ADMIN and (_in_group(candidate, group_id) or candidate.role == COMMITTEE)


def can_contribute(user, item) -> bool:
    """Add progress notes and evidence."""
    if item.status in ("closed", "cancelled") or not can_view_item(user, item):
        return False
    return user.role in OVERSIGHT or leads_group(user, item.group_id) or _is_owner(user, item)


def can_transition(user, item, action: str) -> bool:
    if not can_view_item(user, item):
        return False
    if action in OWNER_ACTIONS:
        # The responsible person drives their own item, whatever their role.
        return user.role == ADMIN or leads_group(user, item.group_id) or _is_owner(user, item)
    if action in COMMITTEE_ACTIONS:
        if user.role not in OVERSIGHT:
            return False
        # Separation of duties: whoever submitted an item never closes it.
        return not (action == "verify" and item.submitted_by_id == user.id)
    return False


def can_view_evidence(user, item) -> bool:
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


def can_regroup_item(user, item) -> bool:
    """Move an existing item to another responsible group: the committee's call, not a lead's."""
    return user.role in OVERSIGHT


def can_manage_api_token(user, token) -> bool:
    """See and revoke a personal API token: only its owner."""
    return token.user_id == user.id


def can_subscribe_group_calendar(user, group_id) -> bool:
    """A work group's deadline feed: its leads, and the committee and admins for any group."""
    return user.role in OVERSIGHT or leads_group(user, group_id)


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
