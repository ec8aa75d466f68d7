import secrets
from datetime import datetime

import email_validator
from blinker import Namespace
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.audit import services as audit
from tracker.auth import rules, two_factor
from tracker.auth.models import ROLES, User
from tracker.auth.rules import normalise_username
from tracker.errors import ValidationFailed
from tracker.extensions import db

MIN_PASSWORD = 8
# Sent inside the transaction that changes a user's password (by themselves or an admin),
# with ``now``: other areas drop what the old password vouched for (API tokens).
password_changed = Namespace().signal("password-changed")
EMAIL_MAX = 200

# Work mail on an office intranet often lives under ``.local`` (RFC 6762 reserves it for
# multicast DNS, so email-validator refuses it by default; its documented switch is this list).
email_validator.SPECIAL_USE_DOMAIN_NAMES = [d for d in email_validator.SPECIAL_USE_DOMAIN_NAMES if d != "local"]


def normalise_email(email: str) -> str | None:
    """The address in its normal form, or None when it is not one (intranet domains are fine)."""
    if len(email) > EMAIL_MAX:
        return None
    try:
        return validate_email(email, check_deliverability=False, globally_deliverable=False).normalized
    except EmailNotValidError:
        return None


def check_user_fields(
    *, username: str | None, password: str | None, role: str, email: str | None, user=None
) -> tuple[dict, str | None]:
    errors: dict = {}
    if username is not None:
        username = normalise_username(username)
        if (
            not username
            or len(username) > 64
            or not username.replace("_", "").replace(".", "").replace("-", "").isalnum()
        ):
            errors["username"] = _l("Letters, digits, '.', '-' and '_' only, at most 64.")
        elif rules.is_mixed_script(username):
            errors["username"] = _l("Use letters of one script (for example Latin or Chinese), not a mix.")
        else:
            taken = db.session.scalars(select(User).where(func.lower(User.username) == username.lower())).first()
            if taken is not None and taken is not user:
                errors["username"] = _l("This username is taken.")
    if password is not None and len(password) < MIN_PASSWORD:
        errors["password"] = _l("At least %(n)s characters.", n=MIN_PASSWORD)
    if role not in ROLES:
        errors["role"] = _l("Choose a role.")
    normalised = None
    if email:
        normalised = normalise_email(email)
        if normalised is None:
            errors["email"] = _l("Not a valid email address.")
    return errors, normalised


def _dummy_hash() -> str:
    """A hash made like real ones (Werkzeug's default, scrypt), checked for unknown usernames."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))
    return _DUMMY_HASH


_DUMMY_HASH: str | None = None


def _password_matches(user: User | None, password: str) -> bool:
    """Always one hash check, user or not, so the answer's time does not tell which usernames exist."""
    matches = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password or "")
    return matches and user is not None


def _count_failure(user: User, counter, now: datetime) -> int:
    """Add one to ``counter`` in the database (an atomic UPDATE) and start the cool-down it calls for."""
    failures = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values({counter: counter + 1})
        .returning(counter)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    cooldown = rules.cooldown_after(failures)
    if cooldown:
        db.session.execute(
            update(User)
            .where(User.id == user.id)
            .values(throttled_until=now + cooldown)
            .execution_options(synchronize_session=False)
        )
    db.session.expire(user, ["failed_logins", "totp_failures", "throttled_until"])
    return failures


def sign_in(username: str, password: str, *, now: datetime) -> User | None:
    """Check a sign-in; count failures per account and apply the soft cool-down."""
    username = normalise_username(username)
    user = db.session.scalars(select(User).where(func.lower(User.username) == username.lower())).first()
    matches = _password_matches(user, password)
    if user is None:
        audit.record("login_failed", username=username, detail="unknown user", now=now)
        return None
    if rules.is_throttled(user.throttled_until, now):
        audit.record("login_throttled", actor=user, now=now)
        return None
    if not user.is_active or not matches:
        failures = _count_failure(user, User.failed_logins, now)
        audit.record("login_failed", actor=user, detail=f"failures={failures}", now=now)
        return None
    user.failed_logins = 0
    user.throttled_until = None
    audit.record("login", actor=user, now=now)
    return user


def remember_for(user: User, duration, *, now: datetime) -> None:
    """After a sign-in: the account is active now; with remember-me, it may be restored until
    ``now + duration`` (None: this sign-in asked for no remember-me, an earlier one's period stays)."""
    user.seen_at = now
    if duration is not None:
        user.remember_until = now + duration


def confirm_password(user: User, password: str, *, now: datetime, action: str, detail: str = "") -> bool:
    """Check a signed-in user's password again (re-authentication, password change).

    Guesses count towards the same per-account cool-down as sign-in, and every failure is audited.
    """
    if rules.is_throttled(user.throttled_until, now):
        audit.record("login_throttled", actor=user, detail=detail, now=now)
        return False
    if not _password_matches(user, password):
        failures = _count_failure(user, User.failed_logins, now)
        audit.record(action, actor=user, detail=f"{detail} failures={failures}".strip(), now=now)
        return False
    user.failed_logins = 0
    return True


def change_own_password(user: User, current: str, new: str, *, now: datetime) -> bool:
    """Every other session ends and every API token of the user is revoked (``password_changed``)."""
    if not confirm_password(user, current, now=now, action="login_failed", detail="on password change"):
        return False
    if len(new) < MIN_PASSWORD:
        return False
    user.set_password(new)
    user.end_sessions()
    password_changed.send(user, now=now)
    audit.record("password_changed", actor=user, target=user.username, now=now)
    return True


def change_own_email(user: User, email: str, *, now: datetime) -> None:
    """Set or clear one's own address; reminders by email go there from now on."""
    email = (email or "").strip()
    normalised = normalise_email(email) if email else None
    if email and normalised is None:
        raise ValidationFailed(_l("The address was not saved."), {"email": _l("Not a valid email address.")})
    if normalised != user.email:
        audit.record("email_changed", actor=user, target=user.username, now=now)
        user.email = normalised


def verify_second_factor(user_id: int, code: str, *, now: datetime) -> User | None:
    """Check a TOTP or recovery code.

    Failures are counted on their own (``totp_failures``) across sign-ins: the right
    password does not reset them, only a right code does.
    """
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    if rules.is_throttled(user.throttled_until, now):
        audit.record("login_throttled", actor=user, now=now)
        return None
    if not two_factor.verify(user, code, now):
        failures = _count_failure(user, User.totp_failures, now)
        audit.record("login_failed", actor=user, detail=f"wrong second factor, failures={failures}", now=now)
        return None
    user.failed_logins = 0
    user.totp_failures = 0
    audit.record("login", actor=user, detail="with second factor", now=now)
    return user
