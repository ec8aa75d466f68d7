"""Per work group: open items whose deadline was extended, and extension requests waiting (延期).

One ``GROUP BY`` over the items the actor may see, like the rest of the board.
"""

from sqlalchemy import and_, case, exists, func, select

from tracker import permissions
from tracker.event.models import Event
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items.models import ExtensionRequest, Item
from tracker.items.rules import ACTIVE_STATUSES

EMPTY = {"extended": 0, "extension_requests": 0}


def extension_counts(actor, event: Event) -> dict[int, dict[str, int]]:
    """``{group_id: {"extended": n, "extension_requests": m}}`` for the items not yet closed."""
    pending = exists().where(ExtensionRequest.item_id == Item.id, ExtensionRequest.status == "pending")
    query = select(
        Item.group_id,
        func.sum(case((Item.extensions > 0, 1), else_=0)),
        func.sum(case((pending, 1), else_=0)),
    ).where(and_(Item.event_id == event.id, Item.status.in_(ACTIVE_STATUSES)))
    query = permissions.visible_items(query, actor, Item).group_by(Item.group_id)
    return {
        group_id: {"extended": int(extended or 0), "extension_requests": int(waiting or 0)}
        for group_id, extended, waiting in db.session.execute(query)
    }


def per_group(actor, event: Event, groups: list[dict]) -> list[dict]:
    """The board's rows in the board's group order (``code`` and ``name`` from the summary), then the total."""
    counts = extension_counts(actor, event)
    codes = dict(db.session.execute(select(WorkGroup.code, WorkGroup.id)).all())
    rows = [{"code": g["code"], "name": g["name"], **counts.get(codes.get(g["code"]), EMPTY)} for g in groups]
    total = {key: sum(row[key] for row in rows) for key in EMPTY}
    return [*rows, {"code": None, "name": None, **total}]
