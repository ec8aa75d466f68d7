"""Optional TOTP two-factor sign-in (RFC 6238 via pyotp), with one-time recovery codes.

Admins can require it for the admin and committee roles; such users are sent to
set it up before they can do anything else.
"""

import hashlib
import hmac
import json
import secrets
from datetime import datetime

import pyotp
from flask import g
from sqlalchemy import select

from tracker.audit import services as audit
from tracker.auth.models import Setting, User
from tracker.extensions import db

ISSUER = "Wallchart"
REQUIRE_KEY = "require_totp_for_oversight"
RECOVERY_CODES = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def matched_step(secret: str, code: str, now: datetime) -> int | None:
    """The TOTP time step (30 s) ``code`` belongs to, within one step of ``now``; None if none."""
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_is_valid(secret: str, code: str, now: datetime) -> bool:
    return matched_step(secret, code, now) is not None


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).hexdigest()


def enable(user: User, secret: str, step: int | None = None, *, now: datetime) -> list[str]:
    """Turn 2FA on; returns the recovery codes, shown once and stored only as hashes.

    ``step`` is the time step of the code that confirmed the set-up: it is used up.
    """
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    user.totp_secret = secret
    user.totp_last_step = step
    user.recovery_codes = json.dumps([_hash(c) for c in codes])
    user.end_sessions()
    audit.record("two_factor_changed", actor=user, detail="on", now=now)
    return codes


def disable(user: User, *, now: datetime) -> None:
    user.totp_secret = None
    user.recovery_codes = "[]"
    user.end_sessions()
    audit.record("two_factor_changed", actor=user, detail="off", now=now)


def use_recovery_code(user: User, code: str) -> bool:
    hashes = json.loads(user.recovery_codes or "[]")
    wanted = _hash(code or "")
    if wanted not in hashes:
        return False
    hashes.remove(wanted)
    user.recovery_codes = json.dumps(hashes)
    return True


def use_code(user: User, code: str, now: datetime) -> bool:
    """Accept a TOTP code once: its time step must be later than the last one accepted."""
    step = matched_step(user.totp_secret, code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def verify(user: User, code: str, now: datetime) -> bool:
    return bool(user.totp_secret) and (use_code(user, code, now) or use_recovery_code(user, code))


def required_column():
    """The install's requirement as a SQL value ("1" when required), to read along with the user."""
    return select(Setting.value).where(Setting.key == REQUIRE_KEY).scalar_subquery()


def note_required(value: str | None) -> None:
    """Keep the requirement read with the signed-in user for the rest of this request."""
    g.two_factor_required = value == "1"


def is_required() -> bool:
    if "two_factor_required" in g:
        return g.two_factor_required
    return db.session.scalar(select(required_column())) == "1"


def set_required(required: bool) -> None:
    row = db.session.scalar(select(Setting).where(Setting.key == REQUIRE_KEY))
    if row is None:
        row = Setting(key=REQUIRE_KEY)
        db.session.add(row)
    row.value = "1" if required else "0"
    note_required(row.value)


def must_enrol_role(user: User) -> bool:
    """The install requires two-factor sign-in for this user's role."""
    return user.role in ("admin", "committee") and is_required()


def must_enrol(user: User) -> bool:
    return not user.totp_secret and must_enrol_role(user)
