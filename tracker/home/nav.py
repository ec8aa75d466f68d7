"""The main navigation: only links the signed-in user may follow and that exist."""

from typing import NamedTuple

from flask import current_app
from flask_babel import get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from tracker import permissions
from tracker.assets import address
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


def nav_links() -> list[tuple[str, str, str]]:
    """The main menu's links the user may follow: (endpoint, address, label)."""
    return _links(tuple(endpoint for endpoint, _label, allowed in LINKS if allowed is None or allowed(current_user)))


ACCOUNT_LINKS = (
    ("auth.account", _l("My account")),
    ("reminders.preferences", _l("Reminder channels and daily digest")),
    ("calendar.index", _l("Calendar feed for your phone")),
    ("api_pages.tokens", _l("My API tokens")),
    ("api_pages.docs", _l("API reference")),
    ("auth.two_factor", _l("Two-factor sign-in")),
    ("auth.change_password", _l("Change password")),
)
LABELS = {endpoint: label for endpoint, label, *_ in LINKS + ACCOUNT_LINKS}


def account_links() -> list[tuple[str, str, str]]:
    """The account menu: the pages about oneself, (endpoint, address, label)."""
    return _links(tuple(endpoint for endpoint, _label in ACCOUNT_LINKS))


def _links(endpoints: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Each endpoint that exists in this install, with its address and its label in the reader's
    language, made once per process: a lazy label costs more than the rest of a link."""
    menus = current_app.extensions.setdefault("nav_menus", {})
    key = (endpoints, str(get_locale()))
    if key not in menus:
        exist = current_app.view_functions
        menus[key] = [(endpoint, str(LABELS[endpoint])) for endpoint in endpoints if endpoint in exist]
    return [(endpoint, address(endpoint), label) for endpoint, label in menus[key]]


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
