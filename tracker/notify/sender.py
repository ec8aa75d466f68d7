"""Deliver workflow notifications from the shared outbox (rows whose rule is an event kind).

Same guarantees as the reminders' sender, on the same claim/finish mechanics: rows are
claimed under a lease with a compare-and-set, in-app notifications are written in the
transaction that marks their row sent (exactly once), email and chat are at least once
with a stable Message-ID / dedupe key. Before sending, every row is checked again: the
recipient must still be active and still allowed to read the item; a chat row never
carries a confidential item. Email rows for one person and one item that are due
together become one message; chat rows for one group become one message.
"""

import logging
import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased, selectinload

from tracker import permissions
from tracker.auth.models import User
from tracker.clock import local_date, start_of_day
from tracker.event.services import current_event, event_timezone
from tracker.extensions import db
from tracker.groups import robots
from tracker.groups.models import WorkGroup
from tracker.items.models import Item
from tracker.notify import messages
from tracker.notify.messages import EventView
from tracker.outbox import rules
from tracker.outbox.models import Delivery, ItemEvent, ItemWatch
from tracker.reminders import rules as reminder_rules
from tracker.reminders import smtp, webhook
from tracker.reminders.messages import force_locale
from tracker.reminders.outbox import claim, finish, notify_once, release, snapshot_item

log = logging.getLogger(__name__)
DIGEST_LIMIT = 50


def _locale(user) -> str:
    if user is not None and user.locale:
        return user.locale
    event = current_event()
    return event.default_locale if event else current_app.config["BABEL_DEFAULT_LOCALE"]


def _user(user: User) -> SimpleNamespace:
    return SimpleNamespace(
        id=user.id,
        name=user.name,
        username=user.username,
        role=user.role,
        email=user.email,
        locale=user.locale,
        is_active=user.is_active,
        group_ids=user.group_ids,
    )


def event_views(query) -> list[EventView]:
    """Plain snapshots of the events ``query`` (a select of ItemEvent) finds, with names and titles."""
    actor, target = aliased(User), aliased(User)
    stmt = (
        query.add_columns(Item.title, Item.code, actor.display_name, actor.username, target.display_name)
        .join(Item, Item.id == ItemEvent.item_id)
        .outerjoin(actor, actor.id == ItemEvent.actor_id)
        .outerjoin(target, target.id == ItemEvent.target_id)
    )
    views = []
    for event, title, code, actor_name, actor_username, target_name in db.session.execute(stmt):
        views.append(
            EventView(
                id=event.id,
                kind=event.kind,
                item_id=event.item_id,
                item_title=title,
                item_code=code or "",
                actor=actor_name or actor_username or "?",
                actor_username=actor_username or "",
                target=target_name or "",
                before=event.before,
                after=event.after,
                note=event.note or "",
                created_at=event.created_at,
            )
        )
    return views


def _load(ids: list[int]):
    rows = [
        SimpleNamespace(**r._asdict())
        for r in db.session.execute(
            select(
                Delivery.id,
                Delivery.dedupe_key,
                Delivery.channel,
                Delivery.rule,
                Delivery.user_id,
                Delivery.group_id,
                Delivery.item_id,
                Delivery.event_id,
                Delivery.local_date,
                Delivery.attempts,
                Delivery.claim_token,
            )
            .where(Delivery.id.in_(ids))
            .order_by(Delivery.id)
        )
    ]
    items = {
        i.id: snapshot_item(i)
        for i in db.session.scalars(select(Item).where(Item.id.in_({r.item_id for r in rows if r.item_id})))
    }
    users = {
        u.id: _user(u)
        for u in db.session.scalars(
            select(User).where(User.id.in_({r.user_id for r in rows if r.user_id})).options(selectinload(User.groups))
        )
    }
    groups = {
        g.id: SimpleNamespace(id=g.id, name=g.name, url=g.webhook_url, format=g.webhook_format, secret=g.webhook_secret)
        for g in db.session.scalars(select(WorkGroup).where(WorkGroup.id.in_({r.group_id for r in rows if r.group_id})))
    }
    events = {
        e.id: e
        for e in event_views(select(ItemEvent).where(ItemEvent.id.in_({r.event_id for r in rows if r.event_id})))
    }
    actors = dict(
        db.session.execute(select(ItemEvent.id, ItemEvent.actor_id).where(ItemEvent.id.in_(list(events)))).all()
    )
    db.session.commit()  # end the read transaction; sending may take a while
    return rows, items, users, groups, events, actors


def stale_reason(row, items, users, groups, events) -> str | None:
    """Why a claimed row must not go out (None: send it)."""
    if row.rule == rules.ACTIVITY_DIGEST:
        user = users.get(row.user_id)
        return None if user is not None and user.is_active else "recipient inactive or removed"
    item = items.get(row.item_id)
    if item is None or row.event_id not in events:
        return "item or event deleted"
    if row.group_id:
        group = groups.get(row.group_id)
        if group is None or not group.url:
            return "work group has no webhook any more"
        if item.is_confidential:
            return "item is confidential"
        return None if item.group_id == row.group_id else "item moved to another work group"
    user = users.get(row.user_id)
    if user is None or not user.is_active:
        return "recipient inactive or removed"
    if row.channel == "email" and not user.email:
        return "recipient has no email address"
    if not permissions.can_view_item(user, item):
        return "item no longer visible to the recipient"
    return None


def _send_mail(mailer, config, user, message, key: str, now: datetime) -> str | None:
    locale = _locale(user)
    subject, text, html = messages.email_parts(message, locale)
    mail = smtp.build_message(
        mail_from=config.mail_from,
        to_addr=user.email,
        to_name=user.name,
        subject=subject,
        text=text,
        html=html,
        key=key,
        now=now,
    )
    try:
        mailer.send(mail, messages.clean(user.email))
    except (OSError, smtp.smtplib.SMTPException) as error:
        mailer.close()
        return smtp.describe(error)
    return None


def _deliver_emails(rows, users, events, now: datetime, today: date, policy) -> Counter:
    outcome: Counter = Counter()
    config = policy.mail
    if config is None:
        for row in rows:
            finish(row, "skipped", now, policy, "SMTP is not configured")
            outcome["skipped"] += 1
        return outcome
    bundles = defaultdict(list)
    for row in rows:
        bundles[(row.user_id, row.item_id, row.rule == rules.ACTIVITY_DIGEST)].append(row)
    with smtp.Mailer(config) as mailer:
        for (user_id, _item_id, is_digest), group in bundles.items():
            user = users[user_id]
            with force_locale(_locale(user)):
                if is_digest:
                    found = digest_events(user, group[0].local_date - timedelta(days=1))
                    message = messages.digest(found, group[0].local_date - timedelta(days=1)) if found else None
                else:
                    message = messages.bundle([events[r.event_id] for r in group])
            if message is None:
                for row in group:
                    finish(row, "skipped", now, policy, "nothing to report")
                    outcome["skipped"] += 1
                continue
            error = _send_mail(mailer, config, user, message, group[0].dedupe_key, now)
            for row in group:
                if error:
                    finish(row, "failed", now, policy, error)
                    outcome["failed"] += 1
                else:
                    outcome["sent" if finish(row, "sent", now, policy) else "lost"] += 1
    return outcome


def _deliver_webhooks(rows, groups, events, now: datetime, policy, posted: Counter) -> Counter:
    outcome: Counter = Counter()
    by_group = defaultdict(list)
    for row in rows:
        by_group[row.group_id].append(row)
    session = webhook.new_session()
    hosts = policy.webhook_hosts
    for group_id, group_rows in by_group.items():
        group = groups[group_id]
        try:
            internal = current_app.config["WEBHOOK_INTERNAL_HOSTS"]
            url = robots.check_url(group.url, hosts, group.format, internal)
        except ValueError as error:
            for row in group_rows:
                finish(row, "skipped", now, policy, f"webhook not allowed: {error}")
                outcome["skipped"] += 1
            continue
        if posted[group_id] >= webhook.MESSAGES_PER_ROBOT_PER_RUN:
            for row in group_rows:
                release(row, now)
                outcome["deferred"] += 1
            continue
        posted[group_id] += 1
        with force_locale(_locale(None)):
            message = messages.robot(group.name, [(events[r.event_id], r.dedupe_key) for r in group_rows])
        try:
            data = webhook.payload(group.format, message)
            webhook.post(session, *webhook.signed(group.format, url, data, group.secret, now))
        except webhook.WebhookError as error:
            log.warning("webhook to %s failed: %s", robots.mask_url(url), error)
            for row in group_rows:
                finish(row, "failed", now, policy, str(error))
                outcome["failed"] += 1
            continue
        for row in group_rows:
            outcome["sent" if finish(row, "sent", now, policy) else "lost"] += 1
    session.close()
    return outcome


def send_due(now: datetime, tz: str, policy: reminder_rules.Policy) -> Counter:
    """Deliver every workflow notification due at ``now``; never raises for a delivery's failure."""
    token = uuid.uuid4().hex
    today = local_date(now, tz)
    outcome: Counter = Counter()
    posted: Counter = Counter()
    while True:
        ids = claim(now, token, workflow=True)
        if not ids:
            break
        rows, items, users, groups, events, actors = _load(ids)
        ready = defaultdict(list)
        for row in rows:
            reason = stale_reason(row, items, users, groups, events)
            if reason:
                finish(row, "skipped", now, policy, reason)
                outcome["skipped"] += 1
            else:
                ready[row.channel].append(row)
        for row in ready["inapp"]:
            user = users[row.user_id]
            with force_locale(_locale(user)):
                if row.rule == rules.ACTIVITY_DIGEST:
                    day = row.local_date - timedelta(days=1)
                    found = digest_events(user, day)
                    if not found:
                        finish(row, "skipped", now, policy, "nothing to report")
                        outcome["skipped"] += 1
                        continue
                    message = messages.digest(found, day)
                    subject, body, url = (
                        message.subject,
                        "\n".join(line.title for line in message.lines),
                        "/notifications",
                    )
                    actor_id = None
                else:
                    subject, body, url = messages.inapp(events[row.event_id])
                    actor_id = actors.get(row.event_id)
            outcome[notify_once(row, now, actor_id=actor_id, subject=subject[:400], body=body, url=url[:300])] += 1
        if ready["email"]:
            outcome.update(_deliver_emails(ready["email"], users, events, now, today, policy))
        if ready["webhook"]:
            outcome.update(_deliver_webhooks(ready["webhook"], groups, events, now, policy, posted))
    return outcome


def digest_events(user, day: date) -> list[EventView]:
    """Events of local ``day`` on items the reader owns or watches, by others, that the reader may read."""
    tz = event_timezone()
    start, end = start_of_day(day, tz), start_of_day(day + timedelta(days=1), tz)
    watched = select(ItemWatch.item_id).where(ItemWatch.user_id == user.id)
    mine = permissions.visible_items(
        select(Item.id).where(or_(Item.owner_id == user.id, Item.id.in_(watched))), user, Item
    )
    query = (
        select(ItemEvent)
        .where(
            ItemEvent.item_id.in_(mine),
            ItemEvent.created_at >= start,
            ItemEvent.created_at < end,
            or_(ItemEvent.actor_id.is_(None), ItemEvent.actor_id != user.id),
        )
        .order_by(ItemEvent.item_id, ItemEvent.id)
        .limit(DIGEST_LIMIT)
    )
    return event_views(query)
