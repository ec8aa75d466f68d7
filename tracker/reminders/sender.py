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
from tracker.extensions import db
from tracker.groups import robots
from tracker.items.models import Item
from tracker.reminders import messages, notices, rules, smtp, webhook
from tracker.reminders.messages import force_locale
from tracker.reminders.outbox import Batch, claim, finish, load_batch, notify_once, release, snapshot_item

log = logging.getLogger(__name__)
DIGEST_LIMIT = 50


def stale_reason(row, batch: Batch, today: date, policy: rules.Policy) -> str | None:
    """Why a queued row must not be sent any more (None: send it). Checked just before sending."""
    user = batch.users.get(row.user_id) if row.user_id else None
    if row.user_id:
        if user is None or not user.is_active:
            return "recipient inactive or removed"
        if row.channel == "email" and (not user.email or not user.email_enabled):
            return "recipient turned email off"
        if row.rule == "digest" and user.digest_mode == "singles":
            return "recipient does not want the digest"
        if row.rule != "digest" and user.digest_mode == "digest":
            return "recipient gets the digest instead"
    if row.group_id:
        group = batch.groups.get(row.group_id)
        if group is None or not group.url:
            return "work group has no webhook any more"
    if row.rule == "digest":
        return None if row.local_date == today else "superseded by a newer digest"
    if row.rule in notices.RULES:
        return notices.stale_reason(row, user, today)
    if row.milestone_id:
        return _stale_milestone(row, batch, user, today, policy)
    item = batch.items.get(row.item_id)
    if item is None:
        return "item deleted"
    if not rules.is_current(row.rule, row.local_date, rules.item_reminders(item.status, item.deadline, today, policy)):
        return f"no longer due (item {item.status}, deadline {item.deadline})"
    if row.group_id:
        if item.group_id != row.group_id:
            return "item moved to another work group"
        if not permissions.can_view_item(permissions.chat_robot_reader(), item):
            return "item may not be shown in a group chat"
        return None
    if row.rule == "lead" and not permissions.leads_group(user, item.group_id):
        return "recipient no longer leads the item's group"
    if row.rule == "committee" and user.role != permissions.COMMITTEE:
        return "recipient is no longer on the committee"
    if row.rule not in ("lead", "committee") and item.owner_id != user.id:
        return "item reassigned"
    if not permissions.can_view_item(user, item):
        return "item no longer visible to the recipient"
    return None


def _stale_milestone(row, batch: Batch, user, today: date, policy: rules.Policy) -> str | None:
    milestone = batch.milestones.get(row.milestone_id)
    if milestone is None or milestone.date is None:
        return "milestone deleted"
    due = rules.milestone_reminder(milestone.date, today, policy)
    if due is None or (due.rule, due.occurrence) != (row.rule, row.local_date):
        return "milestone reminder no longer due"
    if row.group_id:
        groups = batch.milestone_public_groups.get(milestone.id, set())
        return None if row.group_id in groups else "no open items of the group tied to the milestone"
    groups = batch.milestone_groups.get(milestone.id, set())
    if not user.group_ids & groups:
        return "no open items of the recipient's groups tied to the milestone"
    return None  # which of them the recipient may read is decided when composing


def _locale(user) -> str:
    from tracker.event.services import current_event

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
    config = smtp.mail_config(current_app.config)
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
    hosts = _webhook_hosts()
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


def _webhook_hosts() -> list[str]:
    from tracker.reminders.services import webhook_hosts

    return webhook_hosts()


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
            reason = stale_reason(row, batch, today, policy)
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
