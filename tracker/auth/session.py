"""Flask-Login wiring. The session id carries a per-user token that logout rotates."""

from flask import Flask

from tracker.extensions import db, login_manager


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please sign in to see this page.")


@login_manager.user_loader
def load_user(user_id: str):
    from tracker.auth.models import User

    user_pk, _, token = user_id.partition(":")
    if not user_pk.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_pk))
    if user is None or user.session_token != token or not user.is_active:
        return None
    return user
