"""Which reminders are due: pure functions over plain values and an explicit ``today``.

Days are the event's local calendar days. A reminder is identified by its rule and an
*occurrence* date, which goes into the outbox's dedupe key:

- ``before-N`` (owner, N days before the deadline): the occurrence is the deadline, so
  a moved deadline gives new reminders and a missed one is caught up once (the most
  recent threshold only — never one per missed day);
- ``overdue`` (owner, every day while overdue): the occurrence is today;
- ``lead`` / ``committee`` escalations, once per deadline when the item is N days
  overdue (caught up for ``catch_up_days`` after that): the occurrence is the deadline;
- ``milestone-N`` (members of groups with open items tied to it): the milestone's day;
- ``digest``: today, from the configured local time on.

The sweep turns the same windows into SQL (``threshold_windows``), and the sender
checks a row against ``item_reminders`` again before delivering it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from tracker import permissions
from tracker.items.rules import OPEN_STATUSES  # submitted, closed and cancelled are never reminded
from tracker.notices.rules import LATE_RULES as NOTICE_RULES
from tracker.workdays.rules import WorkCalendar


@dataclass(frozen=True)
class Policy:
    owner_days: tuple[int, ...] = (7, 3, 1, 0)
    lead_overdue_days: int = 1
    committee_overdue_days: int = 3
    milestone_days: tuple[int, ...] = (7, 1)
    digest_at: time = time(8, 30)
    digest_window_days: int = 7
    max_attempts: int = 8
    retry_base_seconds: int = 60
    # Escalations missed while the app was down are caught up for this many days; an item
    # imported long overdue is not escalated item by item (it is in the leads' and committee's digest).
    catch_up_days: int = 7
    # Count the days above in working days (节假日与调休), and what a reminder falling on a day
    # off does: "before" goes out on the last working day before it, "on" anyway, "after" on the next.
    working_days: bool = False
    day_off_shift: str = "on"
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    # Where deliveries may go, read with the rest once per run: the hosts chat robots may post
    # to, and the SMTP server (``outbox.mail.MailConfig``; None sends no email).
    webhook_hosts: tuple[str, ...] = ()
    mail: Any = None

    def days_between(self, start: date, end: date) -> int:
        """``end - start`` in the policy's unit: calendar days, or working days by the calendar."""
        return self.calendar.working_days_left(start, end) if self.working_days else (end - start).days


@dataclass(frozen=True)
class Due:
    rule: str
    audience: str  # owner | lead | committee | members | everyone
    occurrence: date


def parse_days(text: str) -> tuple[int, ...]:
    """ "7, 3,1,0" → (7, 3, 1, 0): distinct, non-negative, largest first."""
    values = {int(part) for part in text.replace("，", ",").split(",") if part.strip()}
    if any(v < 0 or v > 365 for v in values):
        raise ValueError("days must be between 0 and 365")
    return tuple(sorted(values, reverse=True))


def threshold_windows(thresholds: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """For each threshold N, the days-left range [low, N] in which N is the latest one passed.

    (7, 3, 1, 0) → [(0, 0, 0), (1, 1, 1), (3, 2, 3), (7, 4, 7)]: with 5 days left the
    7-day reminder is the one due (sent on day 7, or caught up on day 5).
    """
    ordered = sorted(set(thresholds))
    windows = []
    low = 0
    for value in ordered:
        windows.append((value, low, value))
        low = value + 1
    return windows


def threshold_for(days_left: int, thresholds: tuple[int, ...]) -> int | None:
    for value, low, high in threshold_windows(thresholds):
        if low <= days_left <= high:
            return value
    return None


def days_overdue(deadline: date, today: date) -> int:
    """0 on the deadline day itself (the whole day is allowed), 1 the day after, …"""
    return (today - deadline).days


def _before(day: date, today: date, thresholds: tuple[int, ...], policy: Policy) -> int | None:
    """The threshold whose "N days before ``day``" reminder goes out today, if any.

    The days left are counted from the day whose reminders go out today: under the
    ``before`` shift a working day also sends what falls due on the days off after it.
    """
    if day < today:
        return None
    send_for = policy.calendar.reminder_day(today, policy.day_off_shift)
    if send_for is None:
        return None
    return threshold_for(max(policy.days_between(send_for, day), 0), thresholds)


def _quiet_day(today: date, policy: Policy) -> bool:
    """A day off on which daily reminders wait (the working day before or after sends them)."""
    return policy.day_off_shift != "on" and not policy.calendar.is_working(today)


def item_reminders(status: str, deadline: date | None, today: date, policy: Policy) -> list[Due]:
    """The reminders an item calls for today, each with the occurrence of its dedupe key."""
    if status not in OPEN_STATUSES or deadline is None:
        return []
    if deadline >= today:
        threshold = _before(deadline, today, policy.owner_days, policy)
        return [Due(f"before-{threshold}", "owner", deadline)] if threshold is not None else []
    if _quiet_day(today, policy):
        return []
    late = policy.days_between(deadline, today)
    due = [Due("overdue", "owner", today)]
    if policy.lead_overdue_days <= late <= policy.lead_overdue_days + policy.catch_up_days:
        due.append(Due("lead", "lead", deadline))
    if policy.committee_overdue_days <= late <= policy.committee_overdue_days + policy.catch_up_days:
        due.append(Due("committee", "committee", deadline))
    return due


def milestone_reminder(milestone_day: date, today: date, policy: Policy) -> Due | None:
    threshold = _before(milestone_day, today, policy.milestone_days, policy)
    return Due(f"milestone-{threshold}", "members", milestone_day) if threshold is not None else None


def before_rules(today: date, thresholds: tuple[int, ...], policy: Policy) -> dict[date, str]:
    """Every deadline day that has a ``before-N`` reminder due today, with its rule (for the sweep's SQL)."""
    send_for = policy.calendar.reminder_day(today, policy.day_off_shift)
    if not thresholds or send_for is None:
        return {}
    furthest = send_for + timedelta(days=max(thresholds))
    if policy.working_days:  # N working days can span weekends and a week of holidays
        furthest = policy.calendar.add_working_days(send_for, max(thresholds))
        furthest = policy.calendar.next_working_day(furthest + timedelta(days=1)) - timedelta(days=1)
    horizon = (furthest - today).days
    result = {}
    for offset in range(horizon + 1):
        day = today + timedelta(days=offset)
        threshold = _before(day, today, thresholds, policy)
        if threshold is not None:
            result[day] = f"before-{threshold}"
    return result


def escalation_deadlines(today: date, days: int, catch_up: int, policy: Policy) -> list[date]:
    """Deadlines that became ``days`` overdue since the sweep ``catch_up`` days ago (escalation is an event).

    In calendar days: the deadlines from ``today - days - catch_up`` to ``today - days``.
    """
    if _quiet_day(today, policy):
        return []
    before = today - timedelta(days=catch_up)
    if policy.day_off_shift != "on":  # the days off since the last working day sent nothing
        last_working = today - timedelta(days=1)
        while not policy.calendar.is_working(last_working) and (today - last_working).days < policy.catch_up_days:
            last_working -= timedelta(days=1)
        before = min(before, last_working)
    span = (days + (today - before).days) * 2 + 30 if policy.working_days else days + (today - before).days
    result = []
    for offset in range(span + 1):
        deadline = today - timedelta(days=offset)
        if policy.days_between(deadline, today) >= days and policy.days_between(deadline, before) <= days:
            result.append(deadline)
    return result


def digest_due(local_now: datetime, policy: Policy) -> Due | None:
    """From the digest time on, today's digest is due (caught up once if the app was down)."""
    if local_now.time() < policy.digest_at:
        return None
    return Due("digest", "everyone", local_now.date())


def in_digest(
    status: str,
    deadline: date | None,
    today: date,
    policy: Policy,
    *,
    as_owner: bool,
    as_lead: bool,
    as_committee: bool,
) -> bool:
    """Whether an item belongs in a user's digest: due within the window or overdue, by role."""
    if status not in OPEN_STATUSES or deadline is None:
        return False
    late = days_overdue(deadline, today)
    if as_owner and deadline <= today + timedelta(days=policy.digest_window_days):
        return True
    return (as_lead and late >= policy.lead_overdue_days) or (as_committee and late >= policy.committee_overdue_days)


def retry_at(now: datetime, attempts: int, policy: Policy) -> datetime | None:
    """When to try again after ``attempts`` failures (exponential, capped at 6 h); None: give up."""
    if attempts >= policy.max_attempts:
        return None
    delay = min(policy.retry_base_seconds * 2 ** max(attempts - 1, 0), 6 * 3600)
    return now + timedelta(seconds=delay)


def is_current(rule: str, occurrence: date, due: list[Due]) -> bool:
    """A queued row is still worth sending when today's rules still produce it."""
    return any(d.rule == rule and d.occurrence == occurrence for d in due)


class Loaded(Protocol):
    """What the sender loaded for a batch of queued rows (``outbox.Batch``), by id."""

    users: dict
    groups: dict
    items: dict
    milestones: dict
    milestone_groups: dict  # milestone id → groups with open items tied to it
    milestone_public_groups: dict  # the same, counting only items a group chat may show


def stale_reason(row, batch: Loaded, today: date, policy: Policy) -> str | None:
    """Why a queued row must not be sent any more (None: send it). Checked just before sending.

    Late-reply rows pass here on their recipient; their notice is checked by ``notices.stale_reason``.
    """
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
    if row.rule in NOTICE_RULES:
        return None
    if row.milestone_id:
        return _stale_milestone(row, batch, user, today, policy)
    item = batch.items.get(row.item_id)
    if item is None:
        return "item deleted"
    if not is_current(row.rule, row.local_date, item_reminders(item.status, item.deadline, today, policy)):
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


def _stale_milestone(row, batch: Loaded, user, today: date, policy: Policy) -> str | None:
    milestone = batch.milestones.get(row.milestone_id)
    if milestone is None or milestone.date is None:
        return "milestone deleted"
    due = milestone_reminder(milestone.date, today, policy)
    if due is None or (due.rule, due.occurrence) != (row.rule, row.local_date):
        return "milestone reminder no longer due"
    if row.group_id:
        groups = batch.milestone_public_groups.get(milestone.id, set())
        return None if row.group_id in groups else "no open items of the group tied to the milestone"
    groups = batch.milestone_groups.get(milestone.id, set())
    if not user.group_ids & groups:
        return "no open items of the recipient's groups tied to the milestone"
    return None  # which of them the recipient may read is decided when composing
