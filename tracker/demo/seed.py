"""Placeholder until the full Para Games demo loader lands."""

from datetime import datetime, timedelta

from tracker.auth.models import User
from tracker.event.models import Event
from tracker.extensions import db


class DemoAlreadyLoaded(Exception):
    pass


def load_demo(*, now: datetime) -> list[tuple[str, str, str]]:
    if db.session.query(Event).first() is not None:
        raise DemoAlreadyLoaded("The database already holds an event; the demo loads only into an empty one.")
    db.session.add(Event(name="广东省第十届残疾人运动会", opening_at=now + timedelta(days=112)))
    user = User(username="admin", role="admin")
    user.set_password("demo-admin")
    db.session.add(user)
    return [("admin", "demo-admin", "admin")]
