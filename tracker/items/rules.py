"""The workflow and the lights, as pure functions over plain values."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Status(StrEnum):
    """An item's place in the workflow; the values are what the database stores."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    CLOSED = "closed"
    CANCELLED = "cancelled"


ACTIONS = ("start", "submit", "verify", "reject", "reopen", "cancel")

TRANSITIONS: dict[tuple[str, str], Status] = {
    (Status.OPEN, "start"): Status.IN_PROGRESS,
    (Status.IN_PROGRESS, "submit"): Status.SUBMITTED,
    (Status.SUBMITTED, "verify"): Status.CLOSED,
    (Status.SUBMITTED, "reject"): Status.IN_PROGRESS,
    (Status.CLOSED, "reopen"): Status.IN_PROGRESS,
    (Status.OPEN, "cancel"): Status.CANCELLED,
    (Status.IN_PROGRESS, "cancel"): Status.CANCELLED,
    (Status.SUBMITTED, "cancel"): Status.CANCELLED,
}

REASON_REQUIRED = frozenset({"reject", "reopen", "cancel"})

# How long each text may be. The forms, the API's fields and the services all read these.
TEXT_LIMITS = {
    "title": 300,
    "description": 5000,
    "source": 200,
    "measures": 5000,
    "acceptance_criteria": 2000,
    "venue": 200,
    "remarks": 2000,
    "code": 32,
}
NOTE_LIMIT = 5000  # a progress note, a transition's reason, an extension decision's note
DEADLINE_REASON_LIMIT = 500  # why an editor moves the deadline (kept in the ledger)
EXTENSION_REASON_LIMIT = 2000  # why more time is asked for (延期申请)
OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)
# Statuses that still count as work not done (submitted is waiting on the committee).
ACTIVE_STATUSES = (*OPEN_STATUSES, Status.SUBMITTED)
COUNTED_STATUSES = (*ACTIVE_STATUSES, Status.CLOSED)  # what the board counts: all but cancelled
FINISHED_STATUSES = (Status.CLOSED, Status.CANCELLED)
# Filter values that stand for several statuses (lists, the API, the board's links).
STATUS_GROUPS = {"active": ACTIVE_STATUSES, "counted": COUNTED_STATUSES}


class TransitionError(ValueError):
    pass


def next_status(status: str, action: str) -> str:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise TransitionError(f"cannot {action} an item that is {status}") from None


def actions_from(status: str) -> list[str]:
    return [action for (frm, action) in TRANSITIONS if frm == status]


def path_to(status: str, target: str) -> list[str] | None:
    """The shortest list of actions that takes an item from ``status`` to ``target``; None if none does."""
    paths: dict[str, list[str]] = {status: []}
    frontier = [status]
    while frontier and target not in paths:
        following = []
        for current in frontier:
            for (frm, action), to in TRANSITIONS.items():
                if frm == current and to not in paths:
                    paths[to] = [*paths[current], action]
                    following.append(to)
        frontier = following
    return paths.get(target)


def is_overdue(status: str, deadline: date | None, today: date) -> bool:
    """Deadline passed (the whole deadline day is allowed) and not yet handed in."""
    return deadline is not None and status in OPEN_STATUSES and today > deadline


@dataclass(frozen=True)
class LightThresholds:
    red_lag: int = 30
    amber_lag: int = 10
    amber_days: int = 3


def expected_progress(issued: date, deadline: date, today: date) -> float:
    """The elapsed share of the time from issue to deadline, in percent (序时进度).

    Multiplying before dividing keeps whole-number results exact (3 of 10 days is
    exactly 30, not 30.000000000000004), so a lag of exactly 30 points stays amber.
    """
    total = (deadline - issued).days
    if total <= 0:
        return 100.0 if today >= deadline else 0.0
    elapsed = min(max((today - issued).days, 0), total)
    return elapsed * 100 / total


def light(
    status: str,
    progress: int,
    issued: date,
    deadline: date | None,
    today: date,
    thresholds: LightThresholds = LightThresholds(),
) -> str:
    """Red / amber / green (红黄绿灯) for one item; see PRODUCT.md, Lights."""
    if status not in OPEN_STATUSES or deadline is None:
        return "green"
    if today > deadline:
        return "red"
    lag = expected_progress(issued, deadline, today) - progress
    if lag > thresholds.red_lag:
        return "red"
    if (deadline - today).days <= thresholds.amber_days or lag >= thresholds.amber_lag:
        return "amber"
    return "green"


LIGHT_ORDER = {"green": 0, "amber": 1, "red": 2}


def worst_light(lights) -> str:
    return max(lights, key=LIGHT_ORDER.__getitem__, default="green")


def normalise_text(value: str | None, *, multiline: bool = True) -> str:
    """Text as it is stored: Unix line endings, no trailing spaces on any line, no blank
    lines around it; a one-line field keeps no line breaks at all.

    Browsers post textareas with CRLF and sheets carry stray spaces: without this, saving
    an unchanged form would record "changed" with the same text before and after.
    """
    lines = [line.rstrip() for line in (value or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    if not multiline:
        return " ".join(line.strip() for line in lines if line.strip())
    return "\n".join(lines).strip()


# --- deadline extensions (延期) ---------------------------------------------

EXTENSION_DECISIONS = ("approve", "refuse")


def extension_request_problems(
    status: str, current: date | None, requested: date | None, today: date, reason: str
) -> dict[str, str]:
    """What stops a request to move ``current`` to ``requested``, as field → problem code; empty when none.

    ``item`` names a problem with the item itself (finished, or no deadline yet to extend).
    """
    if status in FINISHED_STATUSES:
        return {"item": "finished"}
    if current is None:
        return {"item": "no_deadline"}
    problems = {}
    if requested is None:
        problems["deadline"] = "required"
    elif requested < today:
        problems["deadline"] = "before_today"
    elif requested <= current:
        problems["deadline"] = "not_later"
    if not (reason or "").strip():
        problems["reason"] = "required"
    return problems


def counts_as_extension(old: date | None, new: date | None) -> bool:
    """Moving a set deadline later is an extension; setting a first one or bringing it forward is not."""
    return old is not None and new is not None and new > old


def overdue_against_original(status: str, original: date | None, deadline: date | None, today: date) -> bool:
    """Late by the first deadline ever set, though an extension moved it (what the red list alone hides)."""
    return (
        original is not None
        and status in OPEN_STATUSES
        and today > original
        and (deadline is None or deadline > original)
    )


def creation_warnings(owner_id: int | None, deadline: date | None, today: date) -> list[str]:
    """What a new item may lack but is still saved with (PRODUCT.md: old sheets are full of these):
    the form asks for a confirmation first."""
    found = []
    if owner_id is None:
        found.append("no_owner")
    if deadline is not None and deadline < today:
        found.append("past_deadline")
    return found
