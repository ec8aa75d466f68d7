"""The Para Games demo data set and how its vocabulary maps onto ours.

The data set (``para-games-demo.json``, a copy of the shared demo data) dates
everything relative to opening day. ``Placement`` moves it so that the demo's
as-of day (``meta.asOfOffsetDays``, T-112) is today.
"""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from tracker.clock import local_date

DATA_FILE = Path(__file__).with_name("para-games-demo.json")
TIMEZONE = "Asia/Shanghai"
OPENING_TIME = time(20, 0)  # the opening ceremony starts in the evening
# Historical changes are placed during office hours of their day, in this order.
WORKDAY_START = time(9, 0)
WORKDAY_MINUTES = 9 * 60

ROLES = {
    "admin": "admin",
    "committee_leader": "committee",
    "office_supervisor": "committee",
    "discipline_supervisor": "committee",
    "verifier": "committee",
    "viewer": "committee",
    "group_lead": "lead",
    "group_liaison": "member",
    "unit_handler": "member",
    "vendor_contact": "external",
}
# Usernames say what the person does and where: lead-cg, liaison-js, vendor-kb …
USERNAME_PREFIX = {
    "admin": "admin",
    "committee_leader": "leader",
    "office_supervisor": "office",
    "discipline_supervisor": "discipline",
    "verifier": "verifier",
    "viewer": "viewer",
    "group_lead": "lead",
    "group_liaison": "liaison",
    "unit_handler": "handler",
    "vendor_contact": "vendor",
}
# The people whose sign-ins the demo hands out, one per role of ours.
DEMO_ACCOUNTS = {
    "admin": "P35",  # 系统管理员
    "committee": "P02",  # 周明辉, office supervisor: dispatches, verifies and closes
    "lead": "P06",  # 梁国栋, lead of the venues & accessibility group
    "member": "P07",  # 吴静, that group's liaison, owns its overdue ramp item
    "external": "P29",  # 孙伟, ceremony production vendor
}
STATUSES = {
    "draft": "open",
    "assigned": "open",
    "not_started": "open",
    "in_progress": "in_progress",
    "long_term": "in_progress",
    "pending_verification": "submitted",
    "closed": "closed",
    "cancelled": "cancelled",
}
SEVERITIES = {"critical": "high", "major": "medium", "general": "low"}
KEY_AREAS = {"thirdParty": "third_party"}
MILESTONE_KINDS = {
    "org": "handover",
    "countdown": "countdown",
    "readiness": "countdown",
    "test_event": "test_event",
    "rehearsal": "rehearsal",
    "drill": "rehearsal",
    "games": "ceremony",
}
# The data set's lights as ours: amber is its yellow; done and cancelled items are green.
LIGHTS = {"red": "red", "yellow": "amber", "green": "green", "done": "green", "void": "green"}


@cache
def dataset() -> dict:
    with DATA_FILE.open(encoding="utf-8") as f:
        return json.load(f)


def by_id(rows: list[dict]) -> dict[str, dict]:
    return {row["id"]: row for row in rows}


@dataclass(frozen=True)
class Placement:
    """Where the data set's opening day lands: today is its as-of day."""

    data_opening: date
    opening: date

    @classmethod
    def around(cls, now: datetime, meta: dict) -> "Placement":
        today = local_date(now, TIMEZONE)
        return cls(
            data_opening=date.fromisoformat(meta["openingDate"]),
            opening=today - timedelta(days=meta["asOfOffsetDays"]),
        )

    def day(self, value: str | None) -> date | None:
        """A date of the data set, moved by the same distance as opening day."""
        if not value:
            return None
        return self.opening + (date.fromisoformat(value) - self.data_opening)

    def at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, ZoneInfo(TIMEZONE)).astimezone(UTC)

    @property
    def opening_at(self) -> datetime:
        return self.at(self.opening, OPENING_TIME)


def moments(day_start: datetime, count: int, now: datetime) -> list[datetime]:
    """``count`` increasing times for one day's changes: office hours, never after ``now``.

    ``day_start`` is midnight of that day. On today the changes are spread
    between midnight and ``now`` when office hours have not yet come.
    """
    step = timedelta(minutes=min(10, WORKDAY_MINUTES / max(count, 1)))
    first = day_start + timedelta(hours=WORKDAY_START.hour, minutes=WORKDAY_START.minute)
    times = [first + step * i for i in range(count)]
    if times and times[-1] > now:
        span = max(now - day_start, timedelta(0))
        times = [day_start + span * (i + 1) / (count + 1) for i in range(count)]
    return times
