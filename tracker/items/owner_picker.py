"""The 责任人 picker's options: the people ``permissions.owner_scope`` lets own items, by work group.

Every option carries the groups it is valid for (``data-responsible``: as the item's
group; ``data-supporting``: through a supporting group), taken from the same rule the
service checks, so the script that narrows the list to the chosen groups applies the
server's answer instead of a copy of the rule. Without the script the full grouped
list still works and the server refuses a wrong choice with a message.
"""

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from tracker import permissions
from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import WorkGroup

ROLE_ORDER = {"lead": 0, "member": 1, "committee": 2, "external": 3}


def _ids(group_ids) -> str:
    return " ".join(str(i) for i in sorted(group_ids))


def _label(user: User, third_party: str) -> str:
    label = f"{user.name} ({user.username})"
    return f"{label} · {third_party}" if user.role == permissions.EXTERNAL else label


def owner_choices(groups: list[WorkGroup], locale: str, *, current: User | None, blank: str, third_party: str):
    """``[blank] + one <optgroup> per work group (in the board's order) of the people who may own its items``.

    ``current`` (the item's owner) stays choosable even if the rule no longer lists them, so
    saving an unchanged item keeps its owner.
    """
    users = db.session.scalars(
        select(User).where(User.is_active_account.is_(True)).options(selectinload(User.groups))
    ).all()
    choices = [SelectChoice(None, blank)]
    listed = set()
    for group in groups:
        label = f"{group.code} · {group.display_name(locale)}"
        members = []
        for user in users:
            as_responsible, as_supporting = permissions.owner_scope(user)
            if group.id in as_responsible or group.id in as_supporting:
                members.append((user, as_responsible, as_supporting))
        members.sort(key=lambda m: (ROLE_ORDER.get(m[0].role, 9), m[0].name, m[0].username))
        for user, as_responsible, as_supporting in members:
            attrs = {
                "data-group": str(group.id),
                "data-responsible": _ids(as_responsible),
                "data-supporting": _ids(as_supporting),
            }
            choices.append(SelectChoice(user.id, _label(user, third_party), attrs, optgroup=label))
            listed.add(user.id)
    if current is not None and current.id not in listed:
        choices.insert(1, SelectChoice(current.id, _label(current, third_party)))
    return choices
