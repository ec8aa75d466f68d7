"""Personal API tokens: create (the secret is returned once), authenticate, revoke."""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from tracker import permissions
from tracker.api.models import ApiToken
from tracker.audit import services as audit
from tracker.auth.services import password_changed
from tracker.errors import NotFound, ValidationFailed
from tracker.extensions import db

PREFIX = "wct_"
NAME_LIMIT = 100
# Recording every use would turn each read into a write; a minute's precision is enough.
USE_PRECISION = timedelta(minutes=1)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(user, name: str, *, now: datetime) -> tuple[ApiToken, str]:
    """A new token for ``user``; the caller shows the returned secret once and never again."""
    name = (name or "").strip()
    if not name or len(name) > NAME_LIMIT:
        raise ValidationFailed(
            _l("Please correct the marked fields."), {"name": _l("Between 1 and %(n)s characters.", n=NAME_LIMIT)}
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, hash=token_hash(secret), created_at=now)
    db.session.add(token)
    db.session.flush()
    audit.record("api_token_created", actor=user, target=name, now=now)
    return token, secret


def user_tokens(user) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id)
    return list(db.session.scalars(query))


def revoke_token(token_id: int, *, actor, now: datetime) -> ApiToken:
    token = db.session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if token is None or not permissions.can_manage_api_token(actor, token):
        raise NotFound(_l("No such token."))
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record("api_token_revoked", actor=actor, target=token.name, now=now)
    return token


def authenticate(secret: str, *, now: datetime):
    """The active user behind a bearer secret, or None for an unknown, revoked or disabled one."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    digest = token_hash(secret)
    query = select(ApiToken).where(ApiToken.hash == digest).options(joinedload(ApiToken.user))
    token = db.session.scalars(query).first()
    if token is None or token.revoked_at is not None:
        return None
    user = token.user
    if user is None or not user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= USE_PRECISION:
        _record_use(token.id, now)
    return user


def _record_use(token_id: int, now: datetime) -> None:
    """Write the token's last use as the first statement of a transaction of its own (the caller commits).

    This runs inside read requests. On SQLite a transaction that has read and then
    writes fails at once with "database is locked" when another writer committed
    meanwhile, busy timeout or not; one that starts by writing waits its turn. Nothing
    is pending while a request authenticates, so ending its read loses nothing.
    """
    db.session.rollback()
    db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


@password_changed.connect
def revoke_tokens_of(user, *, now: datetime, **_extra) -> int:
    """A new password revokes every API token of its user: a token made under the old one
    (perhaps by whoever knew it) must not outlive it. Runs in the password change's transaction."""
    return db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
