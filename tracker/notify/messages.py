"""What a workflow notification says, in the reader's language: who did what to which item, and a link.

Kept apart from the deadline reminders' texts (tracker.reminders.messages) but built on
the same plain ``Message``/``Line`` data, so the bell, email and chat robots share words.
"""

from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import format_date, ngettext
from flask_babel import gettext as _

from tracker.outbox import rules
from tracker.reminders.messages import Line, Message, base_url, clean, force_locale, item_path


@dataclass(frozen=True)
class EventView:
    """A plain snapshot of an event with what its texts need."""

    id: int
    kind: str
    item_id: int
    item_title: str
    item_code: str
    actor: str  # display name
    actor_username: str
    target: str
    before: str | None
    after: str | None
    note: str
    created_at: object


def _day(text: str | None) -> str:
    if not text:
        return _("no deadline")
    try:
        return format_date(date.fromisoformat(text), "medium")
    except ValueError:
        return text


def sentence(event: EventView) -> str:
    """One line: who did what to which item (without the item, see ``subject``)."""
    actor, title = clean(event.actor), clean(event.item_title)
    if event.kind == rules.ASSIGNED:
        return _("%(actor)s made you responsible for %(title)s", actor=actor, title=title)
    if event.kind == rules.UNASSIGNED:
        return _("%(actor)s gave %(title)s to someone else: you are no longer responsible", actor=actor, title=title)
    if event.kind == rules.SUBMITTED:
        return _("%(actor)s submitted %(title)s for verification (待验收)", actor=actor, title=title)
    if event.kind == rules.VERIFIED:
        return _("%(actor)s verified and closed %(title)s (已销号)", actor=actor, title=title)
    if event.kind == rules.REJECTED:
        return _("%(actor)s returned %(title)s (已退回)", actor=actor, title=title)
    if event.kind == rules.REOPENED:
        return _("%(actor)s reopened %(title)s", actor=actor, title=title)
    if event.kind == rules.CANCELLED:
        return _("%(actor)s cancelled %(title)s", actor=actor, title=title)
    if event.kind == rules.DEADLINE:
        return _(
            "%(actor)s moved the deadline of %(title)s from %(old)s to %(new)s",
            actor=actor,
            title=title,
            old=_day(event.before),
            new=_day(event.after),
        )
    if event.kind == rules.PROGRESS:
        if event.after is not None:
            return _("%(actor)s reported progress on %(title)s: %(n)s%%", actor=actor, title=title, n=event.after)
        return _("%(actor)s added a progress note or evidence to %(title)s", actor=actor, title=title)
    if event.kind == rules.MENTIONED:
        return _("%(actor)s mentioned you on %(title)s", actor=actor, title=title)
    if event.kind == rules.EXTENSION_REQUESTED:
        return _(
            "%(actor)s asks to move the deadline of %(title)s from %(old)s to %(new)s (延期申请)",
            actor=actor,
            title=title,
            old=_day(event.before),
            new=_day(event.after),
        )
    if event.kind == rules.EXTENSION_DECIDED and event.after:  # approved: the new date is named
        return _(
            "%(actor)s approved moving the deadline of %(title)s from %(old)s to %(new)s",
            actor=actor,
            title=title,
            old=_day(event.before),
            new=_day(event.after),
        )
    if event.kind == rules.EXTENSION_DECIDED:
        return _("%(actor)s refused the extension of %(title)s: the deadline stays", actor=actor, title=title)
    return _("%(actor)s changed %(title)s", actor=actor, title=title)


def detail(event: EventView) -> str:
    """The reason or note that came with the event, labelled."""
    note = clean(event.note)[:500]
    if not note:
        return ""
    if event.kind in (rules.REJECTED, rules.REOPENED, rules.CANCELLED, rules.DEADLINE):
        return _("Reason: %(reason)s", reason=note)
    return _("Note: %(note)s", note=note)


def item_url(item_id: int, *, absolute: bool) -> str:
    return (base_url() if absolute else "") + item_path(item_id)


def inapp(event: EventView) -> tuple[str, str, str]:
    """(subject, body, url) for the bell."""
    why = detail(event)
    body = "\n".join(part for part in (why, item_url(event.item_id, absolute=False)) if part)
    subject = sentence(event)
    if why and event.kind in (rules.REJECTED, rules.REOPENED, rules.CANCELLED):
        subject = f"{subject} — {why}"  # the reason travels with the one-line message
    return clean(subject)[:400], body, item_url(event.item_id, absolute=False)


def _line(event: EventView, key: str = "") -> Line:
    return Line(
        title=clean(sentence(event)),
        url=item_url(event.item_id, absolute=True),
        deadline=None,
        state=detail(event),
        code=clean(event.item_code or ""),
        key=key,
    )


def bundle(events: list[EventView]) -> Message:
    """Several events on one item as one email."""
    first = events[0]
    title = clean(first.item_title)
    if len(events) == 1:
        subject = sentence(first)
    else:
        subject = _("%(num)s changes to %(title)s", num=len(events), title=title)
    return Message(
        subject=clean(subject),
        intro=_("What happened to %(title)s:", title=title),
        lines=[_line(e) for e in events],
        url=item_url(first.item_id, absolute=True),
    )


def robot(group_name: str, events: list[tuple[EventView, str]]) -> Message:
    """A group's chat message: one line per event, the dedupe key on each."""
    subject = ngettext("%(group)s: %(num)s change", "%(group)s: %(num)s changes", len(events), group=clean(group_name))
    return Message(subject=subject, intro="", lines=[_line(e, key) for e, key in events], url=base_url() + "/problems")


def digest(events: list[EventView], day: date) -> Message:
    subject = ngettext(
        "Yesterday on your items (%(date)s): %(num)s change",
        "Yesterday on your items (%(date)s): %(num)s changes",
        len(events),
        date=format_date(day, "medium"),
    )
    return Message(
        subject=clean(subject),
        intro=_("Changes others made to items you own or watch."),
        lines=[_line(e) for e in events],
        url=base_url() + "/notifications",
    )


def email_parts(message: Message, locale: str) -> tuple[str, str, str]:
    """(subject, text, HTML) from this module's templates; the HTML is autoescaped."""
    env = current_app.jinja_env
    with force_locale(locale):
        subject = clean(_("[Wallchart] %(subject)s", subject=message.subject))
        settings_url = base_url() + "/notifications/settings"
        text = env.get_template("notify/email.txt").render(message=message, settings_url=settings_url)
        html = env.get_template("notify/email.html").render(
            message=message, settings_url=settings_url, lang="en" if locale.startswith("en") else "zh-CN"
        )
    return subject, text, html
