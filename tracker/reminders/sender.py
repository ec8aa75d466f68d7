"""Deliver queued reminders: claim, check again, send, record — each delivery committed on its own.

Guarantees: in-app notifications are exactly once (the notification and the ``sent``
mark share one transaction, and ``notification.delivery_id`` is UNIQUE). Email and
webhooks are at least once with a stable key: a crash between the server's "accepted"
and our commit resends with the same Message-ID / dedupe key.
"""

import json
import logging
import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select

from tracker import permissions
from tracker.clock import local_date
from tracker.event.services import current_event
from tracker.extensions import db
from tracker.groups import robots
from tracker.items.models import Item
from tracker.reminders import messages, notices, rules, smtp, webhook
from tracker.reminders.messages import force_locale
from tracker.reminders.outbox import Batch, claim, finish, load_batch, notify_once, release, snapshot_item

log = logging.getLogger(__name__)
DIGEST_LIMIT = 50


def _locale(user) -> str:
    if user is not None and user.locale:
        return user.locale
    event = current_event()
    return event.default_locale if event else current_app.config["BABEL_DEFAULT_LOCALE"]


def _digest_items(user, today: date, policy: rules.Policy) -> list:
    window_end = today + timedelta(days=policy.digest_window_days)
    lead_groups = user.group_ids if user.role == permissions.LEAD else frozenset()
    candidates = permissions.visible_items(
        select(Item).where(Item.status.in_(rules.OPEN_STATUSES), Item.deadline <= window_end), user, Item
    )
    scope = [Item.owner_id == user.id]
    if lead_groups:
        scope.append(Item.group_id.in_(lead_groups))
    if user.role != permissions.COMMITTEE:
        candidates = candidates.where(or_(*scope))
    items = [snapshot_item(i) for i in db.session.scalars(candidates.order_by(Item.deadline, Item.id))]
    return [
        item
        for item in items
        if rules.in_digest(
            item.status,
            item.deadline,
            today,
            policy,
            as_owner=item.owner_id == user.id,
            as_lead=item.group_id in lead_groups,
            as_committee=user.role == permissions.COMMITTEE,
        )
    ]


def _milestone_items(milestone_id: int, user) -> list:
    """Open items of the reader's groups tied to the milestone, those the reader may read."""
    query = select(Item).where(
        Item.milestone_id == milestone_id, Item.status.in_(rules.OPEN_STATUSES), Item.group_id.in_(user.group_ids)
    )
    query = permissions.visible_items(query, user, Item).order_by(Item.deadline, Item.id)
    return [snapshot_item(i) for i in db.session.scalars(query)]


def compose(row, batch: Batch, today: date, policy: rules.Policy, *, absolute: bool) -> messages.Message | None:
    """The message for one user row, in the recipient's language; None when there is nothing to say.

    Whatever the rule, only items the recipient may read right now go into the text
    (``permissions.readable_items``), whatever the sweep saw when it queued the row.
    """
    user = batch.users[row.user_id]
    with force_locale(_locale(user)):
        if row.rule == "digest":
            items = permissions.readable_items(user, _digest_items(user, today, policy))
            return messages.digest_message(items, today, absolute=absolute, limit=DIGEST_LIMIT) if items else None
        if row.rule in notices.RULES:
            return notices.message(row, today, absolute=absolute)
        if row.milestone_id:
            milestone = batch.milestones[row.milestone_id]
            items = permissions.readable_items(user, _milestone_items(milestone.id, user))
            if not items:
                return None
            return messages.milestone_message(milestone, row.local_date, items, today, absolute=absolute)
        item = batch.items.get(row.item_id)
        if item is None or not permissions.readable_items(user, [item]):
            return None
        return messages.item_message(row.rule, item, today, absolute=absolute)


def deliver_inapp(row, batch: Batch, now: datetime, today: date, policy: rules.Policy) -> str:
    message = compose(row, batch, today, policy, absolute=False)
    if message is None:
        finish(row, "skipped", now, policy, "nothing to report")
        return "skipped"
    # The claim check and the notification commit together: exactly once.
    return notify_once(
        row,
        now,
        milestone_id=row.milestone_id,
        subject=messages.clean(message.subject)[:400],
        body=messages.as_text(message),
        data=json.dumps(message.data, ensure_ascii=False) if message.data else None,
        url=message.url[:300],
    )


def deliver_emails(rows, batch: Batch, now: datetime, today: date, policy: rules.Policy) -> Counter:
    outcome: Counter = Counter()
    config = policy.mail
    if config is None:
        for row in rows:
            finish(row, "skipped", now, policy, "SMTP is not configured")
            outcome["skipped"] += 1
        return outcome
    with smtp.Mailer(config) as mailer:
        for row in rows:
            message = compose(row, batch, today, policy, absolute=True)
            if message is None:
                finish(row, "skipped", now, policy, "nothing to report")
                outcome["skipped"] += 1
                continue
            user = batch.users[row.user_id]
            locale = _locale(user)
            subject, text, html = messages.email_parts(message, locale)
            mail = smtp.build_message(
                mail_from=config.mail_from,
                to_addr=user.email,
                to_name=user.name,
                subject=subject,
                text=text,
                html=html,
                key=row.dedupe_key,
                now=now,
            )
            try:
                mailer.send(mail, messages.clean(user.email))
            except (OSError, smtp.smtplib.SMTPException) as error:
                mailer.close()
                log.warning("reminder email %s failed: %s", row.id, smtp.describe(error))
                finish(row, "failed", now, policy, smtp.describe(error))
                outcome["failed"] += 1
                continue
            outcome["sent" if finish(row, "sent", now, policy) else "lost"] += 1
    return outcome


def deliver_webhooks(rows, batch: Batch, now: datetime, today: date, policy: rules.Policy, posted: Counter) -> Counter:
    """One robot at a time: its reminders batched into a few messages, under the robot's rate limit.

    ``posted`` counts messages per robot over the whole run, across claim batches.
    """
    outcome: Counter = Counter()
    hosts = policy.webhook_hosts
    by_group = defaultdict(list)
    for row in rows:
        by_group[row.group_id].append(row)
    session = webhook.new_session()
    for group_id, group_rows in by_group.items():
        group = batch.groups[group_id]
        try:
            internal = current_app.config.get("WEBHOOK_INTERNAL_HOSTS", ())
            url = robots.check_url(group.url, hosts, group.format, internal)
        except ValueError as error:
            for row in group_rows:
                finish(row, "skipped", now, policy, f"webhook not allowed: {error}")
                outcome["skipped"] += 1
            continue
        locale = _locale(None)
        lines = []
        reader = permissions.chat_robot_reader()
        with force_locale(locale):
            for row in group_rows:
                if row.milestone_id:
                    line = messages.milestone_line(batch.milestones[row.milestone_id], today, key=row.dedupe_key)
                elif permissions.readable_items(reader, [batch.items[row.item_id]]):
                    line = messages.item_line(batch.items[row.item_id], today, absolute=True, key=row.dedupe_key)
                else:
                    finish(row, "skipped", now, policy, "item may not be shown in a group chat")
                    outcome["skipped"] += 1
                    continue
                lines.append((row, line))
        chunks = [lines[i : i + webhook.LINES_PER_MESSAGE] for i in range(0, len(lines), webhook.LINES_PER_MESSAGE)]
        for chunk in chunks:
            if posted[group_id] >= webhook.MESSAGES_PER_ROBOT_PER_RUN:
                for row, _line in chunk:
                    release(row, now)
                    outcome["deferred"] += 1
                continue
            posted[group_id] += 1
            with force_locale(locale):
                message = messages.robot_message(group.name, [line for _row, line in chunk])
            try:
                data = webhook.payload(group.format, message)
                webhook.post(session, *webhook.signed(group.format, url, data, group.secret, now))
            except webhook.WebhookError as error:
                log.warning("webhook to %s failed: %s", robots.mask_url(url), error)
                for row, _line in chunk:
                    finish(row, "failed", now, policy, str(error))
                    outcome["failed"] += 1
                continue
            for row, _line in chunk:
                outcome["sent" if finish(row, "sent", now, policy) else "lost"] += 1
    session.close()
    return outcome


def send_due(now: datetime, tz: str, policy: rules.Policy, *, limit: int | None = None) -> Counter:
    """Deliver everything due at ``now``; never raises for a delivery's failure."""
    token = uuid.uuid4().hex
    today = local_date(now, tz)
    outcome: Counter = Counter()
    posted: Counter = Counter()
    while limit is None or sum(outcome.values()) < limit:
        ids = claim(now, token)
        if not ids:
            break
        batch = load_batch(ids)
        ready = defaultdict(list)
        for row in batch.rows:
            reason = rules.stale_reason(row, batch, today, policy)
            if reason is None and row.rule in notices.RULES:
                reason = notices.stale_reason(row, batch.users.get(row.user_id), today)
            if reason:
                finish(row, "skipped", now, policy, reason)
                outcome["skipped"] += 1
            else:
                ready[row.channel].append(row)
        for row in ready["inapp"]:
            outcome[deliver_inapp(row, batch, now, today, policy)] += 1
        if ready["email"]:
            outcome.update(deliver_emails(ready["email"], batch, now, today, policy))
        if ready["webhook"]:
            outcome.update(deliver_webhooks(ready["webhook"], batch, now, today, policy, posted))
    return outcome
