"""What a reminder says: what, by when, how late, and a link — rendered in the reader's language.

Messages are plain data (``Message`` with ``Line``s) so the same words go to the bell,
to email (text and HTML, autoescaped) and to chat robots.
"""

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from types import SimpleNamespace

from babel import Locale
from flask import current_app
from flask_babel import force_locale as _force_locale
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from tracker.i18n import readable_date
from tracker.routing import base_url


@lru_cache(maxsize=16)
def _parsed(locale: str) -> Locale:
    return Locale.parse(locale)


def force_locale(locale: str):
    """flask_babel.force_locale with the locale parsed once (parsing dominated a batch's time)."""
    return _force_locale(_parsed(locale or current_app.config["BABEL_DEFAULT_LOCALE"]))


@dataclass(frozen=True)
class Line:
    title: str
    url: str
    deadline: date | None
    state: str  # "due in 3 days (30 Jun 2026)", "5 days overdue (deadline …)"
    group: str = ""
    code: str = ""
    key: str = ""  # the dedupe key of the outbox row this line came from (webhooks)


@dataclass
class Message:
    subject: str
    intro: str
    lines: list[Line] = field(default_factory=list)
    url: str = ""  # the main link: the item, the milestone's items, or the notifications page
    more: int = 0  # lines left out to keep the message short
    # What the message was made from, language-free (JSON-safe): ``rebuild`` makes it again
    # in whatever language its reader uses when reading it (the bell page).
    data: dict = field(default_factory=dict)


def item_path(item_id: int) -> str:
    return f"/items/{item_id}"


def clean(text: str) -> str:
    """One line of text: no CR/LF (they would split a mail header or a chat line)."""
    return " ".join(str(text).split())


def state_text(deadline: date | None, today: date) -> str:
    if deadline is None:
        return _("no deadline")
    on = readable_date(deadline)
    days = (deadline - today).days
    if days > 0:
        return ngettext("due in %(num)s day, on %(date)s", "due in %(num)s days, on %(date)s", days, date=on)
    if days == 0:
        return _("due today, %(date)s", date=on)
    return ngettext(
        "%(num)s day overdue (deadline %(date)s)", "%(num)s days overdue (deadline %(date)s)", -days, date=on
    )


def _english() -> bool:
    return str(get_locale()).startswith("en")


def _in_language(text: str, text_en: str | None) -> str:
    return text_en if text_en and _english() else text


def item_line(item, today: date, *, absolute: bool, key: str = "") -> Line:
    url = (base_url() if absolute else "") + item_path(item.id)
    return Line(
        title=clean(item.title),
        url=url,
        deadline=item.deadline,
        state=state_text(item.deadline, today),
        group=clean(_in_language(item.group_name, getattr(item, "group_name_en", ""))),
        code=clean(item.code or ""),
        key=key,
    )


def item_message(rule: str, item, today: date, *, absolute: bool) -> Message:
    line = item_line(item, today, absolute=absolute)
    title = line.title
    days = (item.deadline - today).days if item.deadline else 0
    if rule.startswith("before-"):
        if days == 0:
            subject = _("Due today: %(title)s", title=title)
        else:
            subject = ngettext("Due in %(num)s day: %(title)s", "Due in %(num)s days: %(title)s", days, title=title)
        intro = _("You are responsible for this item. Please finish it and submit it before the deadline.")
    elif rule == "overdue":
        subject = ngettext(
            "Overdue by %(num)s day: %(title)s", "Overdue by %(num)s days: %(title)s", -days, title=title
        )
        intro = _("This item you are responsible for is past its deadline. Please update it or ask for an extension.")
    else:  # lead / committee escalation
        subject = ngettext(
            "Escalation: %(title)s is %(num)s day overdue",
            "Escalation: %(title)s is %(num)s days overdue",
            -days,
            title=title,
        )
        intro = _("An item of %(group)s is overdue and has been escalated to you.", group=line.group)
    data = {"kind": "item", "rule": rule, "today": today.isoformat(), "items": [_item_data(item)]}
    return Message(subject=subject, intro=intro, lines=[line], url=line.url, data=data)


def milestone_message(
    milestone, day: date, items, today: date, *, absolute: bool, limit: int = 50, total: int | None = None
) -> Message:
    """``total``: how many items there were when only the first ``limit`` are passed (``rebuild``)."""
    total = len(items) if total is None else total
    days = (day - today).days
    title = clean(_in_language(milestone.title, getattr(milestone, "title_en", "")))
    if days == 0:
        subject = _("Milestone today: %(title)s", title=title)
    else:
        subject = ngettext(
            "Milestone in %(num)s day: %(title)s", "Milestone in %(num)s days: %(title)s", days, title=title
        )
    intro = ngettext(
        "%(num)s open item is tied to this milestone (%(date)s).",
        "%(num)s open items are tied to this milestone (%(date)s).",
        total,
        date=readable_date(day),
    )
    lines = [item_line(item, today, absolute=absolute) for item in items[:limit]]
    url = (base_url() if absolute else "") + f"/problems?milestone={milestone.id}&status=active"
    data = {
        "kind": "milestone",
        "milestone": {"id": milestone.id, "title": milestone.title, "title_en": getattr(milestone, "title_en", "")},
        "day": day.isoformat(),
        "today": today.isoformat(),
        "items": [_item_data(item) for item in items[:limit]],
        "total": total,
    }
    return Message(subject=subject, intro=intro, lines=lines, url=url, more=max(total - limit, 0), data=data)


def digest_message(
    items, today: date, *, absolute: bool, limit: int = 50, total: int | None = None, overdue: int | None = None
) -> Message:
    """``total`` and ``overdue`` count all items when only the first ``limit`` are passed (``rebuild``)."""
    total = len(items) if total is None else total
    if overdue is None:
        overdue = sum(1 for item in items if item.deadline and item.deadline < today)
    subject = ngettext(
        "Daily digest: %(num)s item due soon or overdue", "Daily digest: %(num)s items due soon or overdue", total
    )
    intro = ngettext("%(num)s of them is overdue.", "%(num)s of them are overdue.", overdue)
    lines = [item_line(item, today, absolute=absolute) for item in items[:limit]]
    url = (base_url() if absolute else "") + "/notifications"
    data = {
        "kind": "digest",
        "today": today.isoformat(),
        "items": [_item_data(item) for item in items[:limit]],
        "total": total,
        "overdue": overdue,
    }
    return Message(subject=subject, intro=intro, lines=lines, url=url, more=max(total - limit, 0), data=data)


def _item_data(item) -> dict:
    return {
        "id": item.id,
        "code": item.code or "",
        "title": item.title,
        "deadline": item.deadline.isoformat() if item.deadline else None,
        "group_name": getattr(item, "group_name", ""),
        "group_name_en": getattr(item, "group_name_en", ""),
    }


def rebuild(data: dict) -> Message | None:
    """A stored message made again in the current language, with links relative to the site."""
    try:
        today = date.fromisoformat(data["today"])
        items = [
            SimpleNamespace(**{**i, "deadline": date.fromisoformat(i["deadline"]) if i["deadline"] else None})
            for i in data.get("items", [])
        ]
        if data["kind"] == "item":
            return item_message(data["rule"], items[0], today, absolute=False)
        if data["kind"] == "milestone":
            milestone = SimpleNamespace(**data["milestone"])
            day = date.fromisoformat(data["day"])
            return milestone_message(milestone, day, items, today, absolute=False, total=data["total"])
        if data["kind"] == "digest":
            return digest_message(items, today, absolute=False, total=data["total"], overdue=data["overdue"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None  # stored by an older version: the stored text is shown instead
    return None


def robot_message(group_name: str, lines: list[Line]) -> Message:
    subject = ngettext(
        "%(group)s: %(num)s reminder", "%(group)s: %(num)s reminders", len(lines), group=clean(group_name)
    )
    return Message(subject=subject, intro="", lines=lines, url=base_url() + "/responsibilities")


def milestone_line(milestone, today: date, *, key: str = "") -> Line:
    return Line(
        title=clean(_("Milestone: %(title)s", title=milestone.title)),
        url=base_url() + f"/problems?milestone={milestone.id}&status=active",
        deadline=milestone.date,
        state=state_text(milestone.date, today),
        key=key,
    )


def as_text(message: Message) -> str:
    parts = [message.intro] if message.intro else []
    for line in message.lines:
        head = f"{line.code} " if line.code else ""
        parts.append(f"- {head}{line.title} — {line.state}" + (f" [{line.group}]" if line.group else ""))
        parts.append(f"  {line.url}")
    if message.more:
        parts.append(ngettext("… and %(num)s more", "… and %(num)s more", message.more))
    if message.url and (len(message.lines) != 1 or message.url != message.lines[0].url):
        parts.append(message.url)
    return "\n".join(parts)


def email_parts(message: Message, locale: str) -> tuple[str, str, str]:
    """(subject, plain text, HTML); the HTML template is autoescaped, so titles cannot inject markup."""
    env = current_app.jinja_env
    with force_locale(locale):
        subject = clean(_("[Wallchart] %(subject)s", subject=message.subject))
        settings_url = base_url() + "/notifications/settings"
        text = env.get_template("reminders/email.txt").render(message=message, settings_url=settings_url)
        html = env.get_template("reminders/email.html").render(
            message=message, settings_url=settings_url, lang="en" if locale.startswith("en") else "zh-CN"
        )
    return subject, text, html
