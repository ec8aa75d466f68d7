"""The notice ladder as pure functions over plain values: steps, numbering, suggestions, late replies."""

from dataclasses import dataclass
from datetime import date

from tracker.items import rules as item_rules

LEVELS = ("blue", "orange", "red")
NEXT_LEVEL = {"blue": "orange", "orange": "red"}
OPEN_STATUSES = ("issued", "acknowledged", "replied")
AWAITING_REPLY = ("issued", "acknowledged")  # signed for or not, but not answered yet
ACTIONS = ("acknowledge", "reply", "close", "escalate", "interview")
# Who acts: the addressed group's leads and the item's owner answer, the committee decides.
ADDRESSEE_ACTIONS = frozenset({"acknowledge", "reply"})
COMMITTEE_ACTIONS = frozenset({"close", "escalate", "interview"})
TRANSITIONS = {
    ("issued", "acknowledge"): "acknowledged",
    ("acknowledged", "reply"): "replied",
    ("issued", "close"): "closed",
    ("acknowledged", "close"): "closed",
    ("replied", "close"): "closed",
    ("issued", "escalate"): "escalated",
    ("acknowledged", "escalate"): "escalated",
    ("replied", "escalate"): "escalated",
}
LATE_RULES = ("notice-lead", "notice-committee")


class StepError(ValueError):
    pass


def next_status(status: str, action: str, level: str) -> str:
    if action == "escalate" and level not in NEXT_LEVEL:
        raise StepError("a red notice is the top of the ladder")
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise StepError(f"cannot {action} a notice that is {status}") from None


def can_interview(level: str, status: str, recorded: bool) -> bool:
    """约谈 belongs to red listed supervision, once, while the notice is not superseded."""
    return level == "red" and status != "escalated" and not recorded


def steps_from(status: str, level: str) -> list[str]:
    return [a for (s, a) in TRANSITIONS if s == status and (a != "escalate" or level in NEXT_LEVEL)]


def format_number(prefix: str, year: int, sequence: int) -> str:
    """督办〔2026〕第12号: the office's own style, with the prefix from the settings."""
    return f"{prefix}〔{year}〕第{sequence}号"


def awaiting(status: str) -> str | None:
    """What the addressee still owes: 待签收 (acknowledge) or 待回复 (reply)."""
    return {"issued": "acknowledge", "acknowledged": "reply"}.get(status)


@dataclass(frozen=True)
class SuggestionRules:
    """When the 督办 page suggests a notice (defaults from the meeting's practice)."""

    blue_due_days: int = 3  # due within this many days …
    blue_lag: int = 10  # … and lagging the time-proportional progress by this many points
    orange_overdue_days: int = 3
    red_overdue_days: int = 10
    red_after_oranges: int = 2  # the second orange on an item is a red
    auto_issue: bool = False
    reply_days: int = 3  # reply-by = today + this many days
    lead_after_days: int = 1  # late reply: leads reminded this many days after the reply-by date
    committee_after_days: int = 3  # … and the committee after this many


def suggest_level(
    status: str,
    progress: int,
    issued: date,
    deadline: date | None,
    today: date,
    rules: SuggestionRules,
    *,
    open_level: str | None,
    oranges: int,
) -> str | None:
    """The level the rules suggest for an item, or None (also when an open notice already covers it)."""
    if status not in item_rules.OPEN_STATUSES or deadline is None:
        return None
    late = (today - deadline).days
    level = None
    if late >= rules.red_overdue_days:
        level = "red"
    elif late >= rules.orange_overdue_days:
        level = "red" if oranges + 1 >= rules.red_after_oranges else "orange"
    elif 0 <= -late <= rules.blue_due_days:
        lag = item_rules.expected_progress(issued, deadline, today) - progress
        if lag >= rules.blue_lag:
            level = "blue"
    if level is None:
        return None
    if open_level is not None and LEVELS.index(open_level) >= LEVELS.index(level):
        return None
    return level


@dataclass(frozen=True)
class LateReply:
    rule: str  # notice-lead | notice-committee
    audience: str  # lead | committee
    occurrence: date  # the reply-by date: one reminder per rule and reply-by date


def is_reply_overdue(status: str, reply_by: date, today: date) -> bool:
    """The reply-by day has passed (the whole day is allowed) and no reply came."""
    return status in AWAITING_REPLY and today > reply_by


def late_reply_reminders(
    status: str, reply_by: date, today: date, rules: SuggestionRules, catch_up_days: int = 7
) -> list[LateReply]:
    """A reply-by date passed without a reply: the leads first, then the committee (each once)."""
    if status not in AWAITING_REPLY:
        return []
    late = (today - reply_by).days
    due = []
    if rules.lead_after_days <= late <= rules.lead_after_days + catch_up_days:
        due.append(LateReply("notice-lead", "lead", reply_by))
    if rules.committee_after_days <= late <= rules.committee_after_days + catch_up_days:
        due.append(LateReply("notice-committee", "committee", reply_by))
    return due
