"""What each API call accepts, and how API names become the services' names.

Clients name groups by code, people by username and milestones by id; the
services take ids. Limits mirror the columns and the HTML forms, so input the
database would reject never reaches it.
"""

from flask_babel import gettext as _
from sqlalchemy import func, select

from tracker.api.errors import ApiError
from tracker.api.payload import Field
from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups import services as group_services
from tracker.items.models import KEY_AREAS, KINDS, SEVERITIES, STATUSES
from tracker.items.rules import (
    ACTIONS,
    DEADLINE_REASON_LIMIT,
    EXTENSION_REASON_LIMIT,
    NOTE_LIMIT,
    STATUS_GROUPS,
)
from tracker.items.rules import TEXT_LIMITS as LIMITS
from tracker.lists.queries import SORTS
from tracker.milestones.models import KINDS as MILESTONE_KINDS
from tracker.routing import MAX_PAGE

MAX_PER_PAGE = 200
LOCALES = ("zh_CN", "en")

PAGINATION = {
    "page": Field("integer", "Page number, from 1.", minimum=1, maximum=MAX_PAGE),
    "per_page": Field("integer", f"Rows per page, at most {MAX_PER_PAGE}.", minimum=1, maximum=MAX_PER_PAGE),
}

ITEM_FILTERS = {
    "group": Field("string", "Responsible group's code.", max_length=16),
    "status": Field(
        "string",
        "A status; `active` for open, in progress and submitted; `counted` for all but cancelled (the board's totals).",
        enum=STATUSES + tuple(STATUS_GROUPS),
    ),
    "owner": Field("string", "Responsible person's username, or else display name.", max_length=100),
    "overdue": Field("boolean", "Only overdue items (true) or only items that are not (false)."),
    "extended": Field("boolean", "Only items whose deadline was extended (true) or never extended (false)."),
    "due_before": Field("date", "Deadline on or before this day."),
    "day_off": Field("boolean", "Only items due on a weekend or holiday (by the working-day calendar)."),
    "milestone": Field("integer", "Milestone id."),
    "kind": Field("string", enum=KINDS),
    "key_area": Field("string", enum=KEY_AREAS),
    "severity": Field("string", enum=SEVERITIES),
    "notice": Field(
        "string",
        "Items with an open supervision notice of this level (or any: `open`).",
        enum=("blue", "orange", "red", "open"),
    ),
    "q": Field(
        "string",
        "Words, all of which must appear in the title, number, description, measures, venue or owner's name.",
        max_length=100,
    ),
    "sort": Field(
        "string",
        "Sort key; a leading '-' sorts descending. Without it: closed and cancelled last, then by deadline.",
        enum=tuple(SORTS) + tuple(f"-{k}" for k in SORTS),
    ),
}

ITEM = {
    "code": Field("string", "The sheet's number (序号).", nullable=True, max_length=LIMITS["code"]),
    "kind": Field("string", enum=KINDS),
    "title": Field("string", min_length=1, max_length=LIMITS["title"]),
    "description": Field("string", max_length=LIMITS["description"]),
    "source": Field("string", max_length=LIMITS["source"]),
    "key_area": Field("string", nullable=True, enum=KEY_AREAS),
    "severity": Field("string", enum=SEVERITIES),
    "group": Field("string", "Responsible group's code (责任单位).", max_length=16),
    "supporting_groups": Field(
        "array", "Supporting groups' codes (配合单位).", items=Field("string", max_length=16), max_items=50
    ),
    "owner": Field("string", "Responsible person's username (责任人).", nullable=True, max_length=64),
    "measures": Field("string", max_length=LIMITS["measures"]),
    "deadline": Field("date", "End of this day in the event's time zone (整改时限).", nullable=True),
    "acceptance_criteria": Field("string", max_length=LIMITS["acceptance_criteria"]),
    "found_on": Field("date", nullable=True),
    "venue": Field("string", max_length=LIMITS["venue"]),
    "remarks": Field("string", max_length=LIMITS["remarks"]),
    "milestone": Field("integer", "Milestone id.", nullable=True),
    "confidential": Field("boolean", "Only the group, the committee and admins see it."),
}
ITEM_PATCH = {
    **ITEM,
    "version": Field("integer", "The version you edited (or send If-Match)."),
    "reason": Field("string", "Why the deadline changes; required when it does.", max_length=DEADLINE_REASON_LIMIT),
}

TRANSITION = {
    "action": Field("string", enum=ACTIONS),
    "note": Field("string", "Reason; required for reject, reopen and cancel.", max_length=NOTE_LIMIT),
}
PROGRESS = {
    "note": Field("string", max_length=NOTE_LIMIT),
    "progress": Field("integer", "Progress in percent.", minimum=0, maximum=100),
}

EVENT = {
    "name": Field("string", min_length=1, max_length=200),
    "name_en": Field("string", max_length=200),
    "host_city": Field("string", max_length=100),
    "opening_at": Field("date-time", "With its UTC offset."),
    "closing_at": Field("date-time", nullable=True),
    "timezone": Field("string", "An IANA time zone such as Asia/Shanghai.", min_length=1, max_length=64),
    "default_locale": Field("string", enum=LOCALES),
}
EVENT_REQUIRED = ("name", "opening_at", "timezone")

WORKING_DAYS_RANGE = {
    "from": Field("date", "First day (default: 1 January of this year)."),
    "to": Field("date", "Last day (default: 31 December of the same year); at most three years after `from`."),
}
WORKING_DAY = {
    "working": Field("boolean", "true: a working day (e.g. a 调休 Saturday); false: a day off."),
    "name": Field("string", "The holiday's name, e.g. 春节 or 国庆节 调休上班.", max_length=60),
}

GROUP = {
    "code": Field(
        "string",
        "Short code: a letter, then up to 15 letters, digits, - or _; stored upper-case.",
        min_length=1,
        max_length=16,
    ),
    "name": Field("string", "Chinese name.", min_length=1, max_length=100),
    "name_en": Field("string", max_length=100),
    "sort_order": Field("integer", "Position on the board.", minimum=0, maximum=9999),
}

MILESTONE = {
    "title": Field("string", min_length=1, max_length=200),
    "title_en": Field("string", max_length=200),
    "kind": Field("string", enum=MILESTONE_KINDS),
    "date": Field("date", "A fixed date; or give offset_days instead.", nullable=True),
    "offset_days": Field(
        "integer", "Days from opening day (T-30 is -30); moves with it.", nullable=True, minimum=-1000, maximum=1000
    ),
    "group": Field("string", "A group's code, if the milestone is one group's.", nullable=True, max_length=16),
}


def item_read_only(updating: bool = False) -> dict:
    """Fields a client sees but may not send, with the reason it is told."""
    fixed = _("Set by the server.")
    server_set = ("id", "overdue", "created_at", "updated_at", "original_deadline", "extensions")
    read_only = {name: fixed for name in server_set}
    read_only["status"] = _("Change the status with POST /items/{id}/transitions.")
    read_only["progress"] = _("Report progress with POST /items/{id}/ledger.")
    if not updating:
        read_only["version"] = fixed
    return read_only


def _invalid(name: str, message) -> ApiError:
    return ApiError(422, "validation_failed", _("Please correct the marked fields."), {name: message})


def _group_id(code: str) -> int:
    group = group_services.by_code(code)
    if group is None:
        raise _invalid("group", _("Unknown work group: %(code)s", code=code))
    return group.id


def item_data(values: dict) -> dict:
    """API field names and references to the names and ids ``items.services`` takes."""
    data = {}
    for name, value in values.items():
        if name == "group":
            data["group_id"] = _group_id(value)
        elif name == "supporting_groups":
            codes = list(dict.fromkeys(value))
            found, missing = group_services.by_codes(codes)
            if missing:
                raise _invalid(name, _("Unknown work group: %(code)s", code=", ".join(missing)))
            data["supporting_group_ids"] = [g.id for g in found]
        elif name == "owner":
            data["owner_id"] = None if value is None else _user_id(value)
        elif name == "milestone":
            data["milestone_id"] = value
        elif name == "confidential":
            data["is_confidential"] = value
        else:
            data[name] = value
    return data


def _user_id(username: str) -> int:
    user = db.session.scalars(select(User).where(func.lower(User.username) == username.lower())).first()
    if user is None:
        raise _invalid("owner", _("No such user: %(name)s", name=username))
    return user.id


def milestone_data(values: dict) -> dict:
    """Exactly one of ``date`` (fixed) and ``offset_days`` (from opening day) places a milestone."""
    fixed, offset = values.get("date"), values.get("offset_days")
    if (fixed is None) == (offset is None):
        raise _invalid("date", _("Give either a date or offset_days (days from opening day), not both."))
    return {
        "title": values.get("title"),
        "title_en": values.get("title_en", ""),
        "kind": values.get("kind", "countdown"),
        "date_mode": "fixed" if fixed is not None else "relative",
        "fixed_date": fixed,
        "offset_days": offset,
        "group_id": _group_id(values["group"]) if values.get("group") is not None else None,
    }


NOTIFICATIONS_READ = {
    "ids": Field(
        "array",
        "Notification ids to mark read; leave out to mark all read.",
        items=Field("integer"),
        max_items=500,
    ),
}
INBOX_LIMIT = 100  # items per inbox section
EXTENSION_REQUEST = {
    "deadline": Field("date", "The new deadline asked for: not before today, later than the current one."),
    "reason": Field("string", "Why more time is needed (required).", min_length=1, max_length=EXTENSION_REASON_LIMIT),
}
EXTENSION_DECISION = {
    "decision": Field("string", enum=("approve", "refuse")),
    "note": Field("string", "The reviewer's note; required to refuse.", max_length=NOTE_LIMIT),
}
EXTENSION_FILTERS = {
    "status": Field("string", enum=("pending", "approved", "refused")),
    "item": Field("integer", "Only the requests on this item."),
}
