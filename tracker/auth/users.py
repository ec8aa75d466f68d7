"""User accounts as administrators keep them: create, change, list, and the install's sign-in rule.

Changes take the actor and ``now``, check permissions and write their audit row in the
caller's transaction; callers commit. Signing in and one's own account are in services.py.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from tracker import permissions
from tracker.audit import services as audit
from tracker.auth import two_factor
from tracker.auth.models import User
from tracker.auth.rules import normalise_username
from tracker.auth.services import check_user_fields, password_changed
from tracker.errors import PermissionDenied, ValidationFailed
from tracker.extensions import db
from tracker.groups import services as groups


def ordered_users() -> list[User]:
    """Every account, by username as people read it (case left aside)."""
    return list(db.session.scalars(select(User).order_by(func.lower(User.username))))


def create_user(
    *,
    username: str,
    password: str,
    role: str,
    group_codes: list[str],
    email: str | None = None,
    display_name: str = "",
) -> User:
    """The command line's account creation (the first administrator has no one to act for them)."""
    username = normalise_username(username)
    errors, email = check_user_fields(username=username, password=password, role=role, email=email)
    found, missing = groups.by_codes([c.strip() for c in group_codes if c.strip()])
    if missing:
        errors["group"] = _l("Unknown work group: %(codes)s", codes=", ".join(missing))
    if len(display_name) > 100:
        errors["name"] = _l("At most %(n)s characters.", n=100)
    if errors:
        raise ValidationFailed(_l("The user was not created."), errors)
    user = User(username=username, role=role, email=email, display_name=display_name.strip())
    user.set_password(password)
    user.groups = found
    db.session.add(user)
    db.session.flush()
    return user


def save_user(user: User | None, data: dict, *, actor, now: datetime) -> User:
    """Create (``user`` None) or change a user. Role, password or deactivation end their sessions;
    a new password also revokes their API tokens. ``group_ids`` sets their work groups."""
    if not permissions.can_administer(actor):
        raise PermissionDenied(_l("Only administrators change users."))
    password = data.get("password") or None
    if user is None and not password:
        raise ValidationFailed(_l("Please correct the marked fields."), {"password": _l("Set a password.")})
    errors, email = check_user_fields(
        username=normalise_username(data["username"]),
        password=password,
        role=data["role"],
        email=data.get("email"),
        user=user,
    )
    if user is not None and user.id == actor.id and (data["role"] != "admin" or not data["is_active_account"]):
        errors["role"] = _l("You cannot remove your own admin access.")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    if user is None:
        user = User(password_hash="")
        db.session.add(user)
    elif password or user.role != data["role"] or (user.is_active_account and not data["is_active_account"]):
        user.end_sessions()
    user.username = normalise_username(data["username"])
    user.display_name = (data.get("display_name") or "").strip()
    user.email = email
    user.role = data["role"]
    user.is_active_account = bool(data["is_active_account"])
    if password:
        user.set_password(password)
        if user.id is not None:
            password_changed.send(user, now=now)
    user.groups = groups.by_ids(data.get("group_ids"))
    db.session.flush()
    audit.record(
        "user_saved",
        actor=actor,
        target=user.username,
        detail=f"role={user.role} groups={','.join(sorted(g.code for g in user.groups))} "
        f"active={user.is_active_account}",
        now=now,
    )
    return user


def set_totp_required(required: bool, *, actor, now: datetime) -> None:
    """Require (or stop requiring) two-factor sign-in for administrators and committee reviewers."""
    if not permissions.can_administer(actor):
        raise PermissionDenied(_l("Only administrators change security settings."))
    two_factor.set_required(required)
    audit.record("security_saved", actor=actor, detail=f"require_totp={required}", now=now)
