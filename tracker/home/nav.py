"""The page header: the main navigation (only links the signed-in user may follow and that
exist), its to-do and unread counts, and the header rendered once per reader, page and counts."""

import secrets
from typing import NamedTuple

from flask import current_app, g, has_request_context, render_template, request, session
from flask_babel import get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import select

from tracker import permissions
from tracker.assets import address
from tracker.board.cache import version_columns
from tracker.clock import utcnow
from tracker.event.services import carried, local_today, read_along
from tracker.extensions import db, kept
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
    language, made once per process and base path: a lazy label costs more than the rest of a link."""
    menus = current_app.extensions.setdefault("nav_menus", {})
    key = (endpoints, str(get_locale()), request.script_root)
    if key not in menus:
        exist = current_app.view_functions
        menus[key] = [(e, address(e), str(LABELS[e])) for e in endpoints if e in exist]
    return menus[key]


class NavCounts(NamedTuple):
    to_do: int  # items waiting on the user (待办), beside "My work"
    unread: int  # unread notifications, on the bell


def nav_counts() -> NavCounts:
    """The page header's two counts, once per request.

    The unread count is read fresh, along with the event when the request reads it (else in
    a statement of its own, with the data version). The to-do count is kept per data version,
    day and reader: it counts every item awaiting the reader, which for a committee reviewer
    at 50,000 items cost 2 ms a page on PostgreSQL, and any change to an item moves the
    version (it appends to the ledger in the same transaction).
    """
    if "nav_counts" not in g:
        reader = _reader(current_user)
        values = carried(reader)
        if values is None:
            values = db.session.execute(kept("nav_fresh", reader, lambda: select(*_fresh(current_user)))).one()
        *version, unread = values
        g.nav_counts = NavCounts(_to_do(reader, tuple(version), local_today(utcnow())), unread)
    return g.nav_counts


def _reader(user) -> tuple:
    """All the counts depend on besides the data and the day: the reader's id, role and groups."""
    return ("nav counts", user.id, user.role, frozenset(user.group_ids))


def _fresh(user) -> tuple:
    """The data version and the unread count, as SQL values."""
    return (*version_columns(), reminders.unread(user))


def _to_do(reader: tuple, version: tuple, today) -> int:
    def count() -> int:
        statement = kept("nav_to_do_statements", (reader, today), lambda: select(inbox.waiting(current_user, today)))
        return db.session.scalar(statement)

    return kept("nav_to_do", (reader, version, today), count)


def _offer_counts():
    """The data version and the unread count, offered to the statement that reads the event on
    a signed-in page."""
    if not has_request_context() or request.method != "GET" or request.path.startswith("/api/"):
        return None
    if not current_user.is_authenticated:
        return None
    user = current_user._get_current_object()
    return _reader(user), lambda: _fresh(user)


# Stand-ins for the values that change with every page, filled in when a kept header or layout
# is served: random per process, so no text a user wrote can contain them.
TOKEN_SLOT, NEXT_SLOT, PRINTED_SLOT, BODY_SLOT = (f"slot-{secrets.token_hex(12)}" for _ in range(4))


def page_header() -> Markup:
    """The page header (menus, counts, bell, language switch, account menu), rendered once per
    reader, language, page and counts in each process; the form token and the address to
    return to after switching language are filled in on every page.

    Jinja's calls for the header's forty links and labels cost more than the rest of a cached
    list page. The key holds all the header shows: who reads (their name and, through the role,
    their menu), the counts, the page (the current-page marker), the language and base path.
    """
    key = _header_key()
    text = kept(
        "page_headers",
        key,
        lambda: render_template(
            "_header.html", here=request.endpoint, header_counts=key[-1], csrf=TOKEN_SLOT, next_path=NEXT_SLOT
        ),
    )
    return Markup(text if g.get("keeping_layout") else _fill(text))  # noqa: S704 - our own template's output


def _header_key() -> tuple:
    user = current_user if current_user.is_authenticated else None
    counts = nav_counts() if user else None
    return (str(get_locale()), request.script_root, request.endpoint, user and (user.id, user.name, user.role), counts)


def page_around(template: str, body: str, **context) -> str:
    """``template`` (a page whose content block is ``body``) with the layout around the body
    (head, header, printed-page header, footer) rendered once per reader, page, counts and
    ``context`` in each process, the values of the moment filled in on every page.

    A list's body is kept already (``lists.pages.rendered``); rendering the layout around it
    cost as much again. A page with messages to show once is rendered whole and not kept.
    """
    if "_flashes" in session:
        return render_template(template, body=Markup(body), **context)  # noqa: S704 - our own rendered text
    key = (template, _header_key(), tuple((name, str(value)) for name, value in sorted(context.items())))
    before, after = kept("page_layouts", key, lambda: _layout(template, context))
    return _fill(before) + body + after


def _layout(template: str, context: dict) -> tuple[str, str]:
    """The page's text before and after its body, with stand-ins for the values of the moment."""
    g.keeping_layout = True
    try:
        text = render_template(template, body=Markup(BODY_SLOT), **context)  # noqa: S704 - a stand-in
    finally:
        g.pop("keeping_layout")
    before, after = text.split(BODY_SLOT)
    return before, after


def _fill(text: str) -> str:
    """The values of this request in a kept header or layout: the form token, the address to
    return to after switching language, and the printing time."""
    next_path = request.full_path if request.method == "GET" else ""
    return (
        text.replace(TOKEN_SLOT, escape(generate_csrf()))
        .replace(NEXT_SLOT, escape(next_path))
        .replace(PRINTED_SLOT, escape(printed_at()))
    )


def printed_at() -> str:
    """Now, in the event's time zone, for the header of a printed page: written once a minute per
    language and zone in each process (Babel's formatting costs more than the rest of the header)."""
    if g.get("keeping_layout"):
        return PRINTED_SLOT
    minute = utcnow().replace(second=0, microsecond=0)
    kept = current_app.extensions.get("printed_at")
    if kept is None or kept[0] != minute:
        kept = current_app.extensions["printed_at"] = (minute, {})
    zone = str(get_timezone())
    key = (str(get_locale()), zone)
    if key not in kept[1]:
        kept[1][key] = f"{readable_moment(minute)} ({zone})"
    return kept[1][key]


def register(app) -> None:
    app.jinja_env.globals["printed_at"] = printed_at
    app.jinja_env.globals["nav_links"] = nav_links
    app.jinja_env.globals["account_links"] = account_links
    app.jinja_env.globals["page_header"] = page_header
    read_along(app, _offer_counts)
    # What a page may offer, from the one module that decides it (never role lists in templates).
    app.jinja_env.globals.update(
        may_create_items=permissions.may_create_items,
        can_administer=permissions.can_administer,
    )
