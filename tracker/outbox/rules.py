"""Workflow notifications as pure rules: the event kinds, who hears each, and what may be turned off.

Plain values only, so the table below is tested without an app or a database.
"""

import re
from datetime import datetime, timedelta

ASSIGNED = "item_assigned"
UNASSIGNED = "item_unassigned"
SUBMITTED = "item_submitted"
VERIFIED = "item_verified"
REJECTED = "item_rejected"
REOPENED = "item_reopened"
CANCELLED = "item_cancelled"
DEADLINE = "deadline_changed"
PROGRESS = "progress_added"
MENTIONED = "mentioned"
EXTENSION_REQUESTED = "extension_requested"
EXTENSION_DECIDED = "extension_decided"

KINDS = (
    ASSIGNED,
    UNASSIGNED,
    SUBMITTED,
    VERIFIED,
    REJECTED,
    REOPENED,
    CANCELLED,
    DEADLINE,
    PROGRESS,
    MENTIONED,
    EXTENSION_REQUESTED,
    EXTENSION_DECIDED,
)
# Outbox rows of these rules are workflow notifications (plus the daily activity digest),
# delivered by tracker.notify.sender; every other rule is a deadline reminder.
ACTIVITY_DIGEST = "activity"
OUTBOX_RULES = (*KINDS, ACTIVITY_DIGEST)

# Who hears each kind, besides anyone named on the event itself (the new or previous
# owner, a mentioned user). The actor never hears of their own act.
AUDIENCES: dict[str, frozenset[str]] = {
    ASSIGNED: frozenset({"target"}),
    UNASSIGNED: frozenset({"target"}),
    SUBMITTED: frozenset({"committee", "leads"}),
    VERIFIED: frozenset({"owner", "leads", "watchers"}),
    REJECTED: frozenset({"owner", "leads"}),
    REOPENED: frozenset({"owner", "leads", "watchers"}),
    CANCELLED: frozenset({"owner", "leads", "watchers"}),
    DEADLINE: frozenset({"owner", "watchers"}),
    PROGRESS: frozenset({"owner", "watchers"}),
    MENTIONED: frozenset({"target"}),
    # 延期: the reviewers decide a request; the requester (target), owner and leads hear the decision.
    EXTENSION_REQUESTED: frozenset({"committee", "owner", "leads"}),
    EXTENSION_DECIDED: frozenset({"target", "owner", "leads"}),
}

ACTION_KINDS = {
    "submit": SUBMITTED,
    "verify": VERIFIED,
    "reject": REJECTED,
    "reopen": REOPENED,
    "cancel": CANCELLED,
}

MODES = ("email", "inapp", "off")
DEFAULT_MODE = "email"
# A person must always learn in the app that work landed on them or came back to them.
ALWAYS_IN_APP = frozenset({ASSIGNED, REJECTED})

# Email and chat wait this long for more events on the same item, so a burst of changes
# is one message; a steady stream is still sent at most this long after its first event.
BUNDLE_WAIT = timedelta(minutes=3)
BUNDLE_MAX = timedelta(minutes=15)

MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_.\-]{1,64})")


def audience(kind: str) -> frozenset[str]:
    return AUDIENCES[kind]


def mode_allows(kind: str, mode: str | None, channel: str) -> bool:
    """Whether a person's choice for ``kind`` lets a message go out on ``channel``."""
    mode = mode or DEFAULT_MODE
    if channel == "inapp":
        return mode != "off" or kind in ALWAYS_IN_APP
    return mode == "email"


def mentions(text: str) -> list[str]:
    """Usernames named as ``@name`` in a note, in order, each once."""
    names = (m.rstrip(".-") for m in MENTION.findall(text or ""))
    return list(dict.fromkeys(n for n in names if n))


def send_after(now: datetime) -> datetime:
    """When an email or chat row for an event at ``now`` becomes due (bundling window)."""
    return now + BUNDLE_WAIT


def bundle_since(now: datetime) -> datetime:
    """Rows queued since then are pushed back to wait for the newest event on their item."""
    return now - BUNDLE_MAX + BUNDLE_WAIT
