"""The main navigation: only links the signed-in user may follow and that exist."""

from typing import NamedTuple

from flask import current_app
from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from tracker import permissions
from tracker.clock import utcnow
from tracker.event.services import local_today
from tracker.extensions import db
from tracker.i18n import readable_moment
from tracker.notify import inbox
from tracker.reminders import services as reminders

LINKS = (
    ("home.index", _l("My work"), None),
    ("board.index", _l("Wall chart"), None),
    ("items.problems", _l("Problem list"), None),
    ("items.responsibilities", _l("Responsibility list"), None),
    ("items.ledger", _l("Rectification ledger"), None),
    ("milestones.index", _l("Milestones"), None),
    ("exercises.index", _l("Exercises"), None),
    ("notices.index", _l("Supervision notices"), None),
    ("reports.weekly", _l("Weekly briefing"), permissions.can_view_reports),
    ("admin.index", _l("Admin"), permissions.can_administer),
)


def nav_links() -> list[tuple[str, str]]:
    return [
        (endpoint, label)
        for endpoint, label, allowed in LINKS
        if endpoint in current_app.view_functions and (allowed is None or allowed(current_user))
    ]


ACCOUNT_LINKS = (
    ("auth.account", _l("My account")),
    ("reminders.preferences", _l("Reminder channels and daily digest")),
    ("calendar.index", _l("Calendar feed for your phone")),
    ("api_pages.tokens", _l("My API tokens")),
    ("api_pages.docs", _l("API reference")),
    ("auth.two_factor", _l("Two-factor sign-in")),
    ("auth.change_password", _l("Change password")),
)


def account_links() -> list[tuple[str, str]]:
    """The account menu: the pages about oneself that exist in this install."""
    return [(endpoint, label) for endpoint, label in ACCOUNT_LINKS if endpoint in current_app.view_functions]


class NavCounts(NamedTuple):
    to_do: int  # items waiting on the user (待办), beside "My work"
    unread: int  # unread notifications, on the bell


COUNTS_STATEMENTS = 1000  # at most this many built statements kept per process


def nav_counts() -> NavCounts:
    """The page header's two counts, read in one statement, fresh on every page."""
    return NavCounts(*db.session.execute(_counts_statement(current_user, local_today(utcnow()))).one())


def _counts_statement(user, today):
    """The counts' statement, built once per reader and day in each process.

    Only the statement is kept, never a count: building it (five sections, each with
    the reader's visibility) cost more than running it. It depends on nothing but the
    reader's id, role and groups and the day, which make the key.
    """
    statements = current_app.extensions.setdefault("nav_counts_statements", {})
    key = (user.id, user.role, frozenset(user.group_ids), today)
    statement = statements.get(key)
    if statement is None:
        if len(statements) >= COUNTS_STATEMENTS:
            statements.clear()
        statement = statements[key] = select(inbox.waiting(user, today), reminders.unread(user))
    return statement


def printed_at() -> str:
    """Now, in the event's time zone, for the header of a printed page."""
    return f"{readable_moment(utcnow())} ({get_timezone()})"


def register(app) -> None:
    app.jinja_env.globals["printed_at"] = printed_at
    app.jinja_env.globals["nav_links"] = nav_links
    app.jinja_env.globals["account_links"] = account_links
    app.jinja_env.globals["nav_counts"] = nav_counts
    # What a page may offer, from the one module that decides it (never role lists in templates).
    app.jinja_env.globals.update(
        may_create_items=permissions.may_create_items,
        can_administer=permissions.can_administer,
    )
