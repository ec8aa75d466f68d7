"""Work groups: the one place that reads them in board order, finds them by code, and changes them.

Changes take the actor and ``now``, check permissions, and write their audit row in
the caller's transaction; callers commit.
"""

from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from tracker import permissions
from tracker.audit import services as audit
from tracker.errors import PermissionDenied, ValidationFailed
from tracker.extensions import db
from tracker.groups import robots, rules
from tracker.groups.models import WorkGroup


def ordered_groups(ids: Iterable[int] | None = None) -> list[WorkGroup]:
    """Every work group (or those with ``ids``), in the order the board shows them."""
    query = select(WorkGroup).order_by(WorkGroup.sort_order, WorkGroup.code)
    if ids is not None:
        query = query.where(WorkGroup.id.in_(list(ids)))
    return list(db.session.scalars(query))


def by_code(code: str) -> WorkGroup | None:
    return db.session.scalars(select(WorkGroup).where(WorkGroup.code == code)).first()


def by_codes(codes: list[str]) -> tuple[list[WorkGroup], list[str]]:
    """The groups named by ``codes``, and the codes no group has."""
    found = db.session.scalars(select(WorkGroup).where(WorkGroup.code.in_(codes))).all() if codes else []
    missing = sorted(set(codes) - {g.code for g in found})
    return list(found), missing


def by_ids(ids) -> list[WorkGroup]:
    return list(db.session.scalars(select(WorkGroup).where(WorkGroup.id.in_(list(ids or [])))))


def create_group(data: dict, *, actor, now: datetime) -> WorkGroup:
    return _save(None, data, actor=actor, now=now)


def update_group(group: WorkGroup, data: dict, *, actor, now: datetime) -> WorkGroup:
    return _save(group, data, actor=actor, now=now)


def _save(group: WorkGroup | None, data: dict, *, actor, now: datetime) -> WorkGroup:
    """Create (``group`` None) or change a group: ``code``, ``name``, optional ``name_en`` and ``sort_order``."""
    if not permissions.can_administer(actor):
        raise PermissionDenied(_l("Only administrators change work groups."))
    code = rules.normalise_code(data["code"])
    if not rules.is_valid_code(code):
        raise ValidationFailed(
            _l("Please correct the marked fields."),
            {"code": _l("A code is a letter followed by up to 15 letters, digits, - or _ (for example CG or JS-2).")},
        )
    taken = by_code(code)
    if taken is not None and taken is not group:
        raise ValidationFailed(_l("Please correct the marked fields."), {"code": _l("This code is taken.")})
    if group is None:
        group = WorkGroup()
        db.session.add(group)
    group.code = code
    group.name = data["name"].strip()
    group.name_en = (data.get("name_en") or "").strip()
    if data.get("sort_order") is not None:
        group.sort_order = data["sort_order"]
    elif group.sort_order is None:  # a new group without a place: after the groups already configured
        with db.session.no_autoflush:
            group.sort_order = (db.session.scalar(select(func.max(WorkGroup.sort_order))) or 0) + 1
    db.session.flush()
    audit.record("group_saved", actor=actor, target=group.code, now=now)
    return group


def save_robot(group: WorkGroup, *, url: str, fmt: str, secret: str, allowed_hosts, actor, now: datetime) -> WorkGroup:
    """Set (or with an empty ``url``, remove) a group's chat robot; ``allowed_hosts`` is the admins'
    allowlist. An empty ``secret`` keeps the current one; a robot that is removed, or whose format
    cannot sign (WeCom), keeps none."""
    if not permissions.can_administer(actor):
        raise PermissionDenied(_l("Only administrators set chat robots."))
    if fmt not in robots.FORMATS:
        raise ValidationFailed(_l("Please correct the marked fields."), {"webhook_format": _l("Choose a format.")})
    url = (url or "").strip()
    if url:
        try:
            url = robots.check_url(url, allowed_hosts, fmt, current_app.config.get("WEBHOOK_INTERNAL_HOSTS", ()))
        except ValueError as error:
            raise ValidationFailed(
                _l("Please correct the marked fields."), {"webhook_url": _l("Not allowed: %(why)s.", why=str(error))}
            ) from None
    secret = (secret or "").strip()
    if secret and fmt not in robots.SIGNED_FORMATS:
        raise ValidationFailed(
            _l("Please correct the marked fields."),
            {"webhook_secret": _l("WeCom robots do not sign messages: leave the secret empty.")},
        )
    group.webhook_url = url or None
    group.webhook_format = fmt
    if not url or fmt not in robots.SIGNED_FORMATS:
        group.webhook_secret = None
    elif secret:
        group.webhook_secret = secret
    detail = f"format={fmt} url={robots.mask_url(group.webhook_url) or '-'} signed={group.webhook_secret is not None}"
    audit.record("group_robot_saved", actor=actor, target=group.code, detail=detail, now=now)
    return group
