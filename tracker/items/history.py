"""The ledger as a person reads it: names instead of ids, words instead of codes.

Entries store the raw before/after values (ids, codes, ISO dates) the hash chain covers.
New entries that name a person, a group or a milestone also keep a snapshot of those
names (``LedgerEntry.names``), so a later rename or deletion does not rewrite history;
older entries are read through today's rows.
"""

import json
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.i18n import readable_date
from tracker.items import labels
from tracker.items.models import LedgerEntry
from tracker.milestones.models import Milestone

LOCALES = ("zh_CN", "en")
REFERENCE_FIELDS = ("owner_id", "group_id", "milestone_id", "supporting_groups")
CODED = {
    "status": labels.STATUS,
    "kind": labels.KIND,
    "severity": labels.SEVERITY,
    "key_area": labels.KEY_AREA,
    "source": labels.SOURCE,
}
CONFIDENTIAL = {"yes": _l("Confidential"), "no": _l("Not confidential")}


@dataclass
class ReadableEntry:
    entry: LedgerEntry
    field: str
    before: str
    after: str


# -- snapshots, taken when an entry is written --------------------------------------------


def person_label(user: User | None) -> str | None:
    """Display name and username, so two people with one name stay apart."""
    if user is None:
        return None
    name = (user.display_name or "").strip()
    return f"{name} ({user.username})" if name and name != user.username else user.username


def group_label(group: WorkGroup, locale: str) -> str:
    return f"{group.code} · {group.display_name(locale)}"


def snapshot(field: str, value) -> dict | str | None:
    """The names a reference stands for, in every language: what the entry keeps."""
    if value is None or value == []:
        return None
    if field == "owner_id":
        return person_label(value if isinstance(value, User) else db.session.get(User, value))
    if field == "group_id":
        group = value if isinstance(value, WorkGroup) else db.session.get(WorkGroup, value)
        return {loc: group_label(group, loc) for loc in LOCALES} if group else None
    if field == "milestone_id":
        milestone = value if isinstance(value, Milestone) else db.session.get(Milestone, value)
        return {loc: milestone.display_title(loc) for loc in LOCALES} if milestone else None
    if field == "supporting_groups":
        groups = sorted(value, key=lambda g: g.code)
        return {loc: "; ".join(group_label(g, loc) for g in groups) for loc in LOCALES}
    return None


def names_for(field: str | None, before, after) -> str | None:
    """The JSON an entry keeps for a change of ``field`` from ``before`` to ``after``."""
    if field not in REFERENCE_FIELDS:
        return None
    return json.dumps(
        {"before": snapshot(field, before), "after": snapshot(field, after)},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


# -- reading ------------------------------------------------------------------------------


def readable(entries: list[LedgerEntry], locale: str) -> list[ReadableEntry]:
    """Each entry with its field and values in ``locale``, in a fixed number of queries."""
    current = _current_names(entries, locale)
    rows = []
    for entry in entries:
        kept = json.loads(entry.names) if getattr(entry, "names", None) else {}
        rows.append(
            ReadableEntry(
                entry=entry,
                field=str(labels.FIELD.get(entry.field, entry.field or "")),
                before=_value(entry.field, entry.before, kept.get("before"), current, locale),
                after=_value(entry.field, entry.after, kept.get("after"), current, locale),
            )
        )
    return rows


def readable_value(field: str | None, raw: str | None, locale: str) -> str:
    """One stored value in words, looked up on its own (exports, messages)."""
    entry = LedgerEntry(field=field, before=raw)
    return _value(field, raw, None, _current_names([entry], locale), locale)


def _value(field: str | None, raw: str | None, kept, current: dict, locale: str) -> str:
    if raw is None or raw == "":
        return "—"
    if kept:
        return (kept.get(locale) or kept.get("zh_CN") or "—") if isinstance(kept, dict) else kept
    if field in CODED:
        label = CODED[field].get(raw)
        return str(label) if label is not None else raw
    if field == "is_confidential":
        return str(CONFIDENTIAL.get(raw, raw))
    if field in ("deadline", "found_on"):
        try:
            return readable_date(date.fromisoformat(raw))
        except ValueError:
            return raw
    if field == "progress":
        return f"{raw}%"
    if field == "supporting_groups":
        return "; ".join(current["group_codes"].get(code, code) for code in raw.split(",") if code)
    if field in ("owner_id", "group_id", "milestone_id"):
        return current[field].get(raw) or gettext("#%(id)s (deleted)", id=raw)
    return raw


def _current_names(entries: list[LedgerEntry], locale: str) -> dict:
    """Today's names of everything old entries refer to by id or code: one query per kind."""
    wanted: dict[str, set] = {"owner_id": set(), "group_id": set(), "milestone_id": set(), "group_codes": set()}
    for entry in entries:
        if getattr(entry, "names", None):
            continue
        for raw in (entry.before, entry.after):
            if not raw:
                continue
            if entry.field in ("owner_id", "group_id", "milestone_id") and raw.isdigit():
                wanted[entry.field].add(int(raw))
            elif entry.field == "supporting_groups":
                wanted["group_codes"].update(raw.split(","))
    found: dict[str, dict] = {name: {} for name in wanted}
    if wanted["owner_id"]:
        for user in db.session.scalars(select(User).where(User.id.in_(wanted["owner_id"]))):
            found["owner_id"][str(user.id)] = person_label(user)
    if wanted["group_id"] or wanted["group_codes"]:
        query = select(WorkGroup).where(
            WorkGroup.id.in_(wanted["group_id"]) | WorkGroup.code.in_(wanted["group_codes"])
        )
        for group in db.session.scalars(query):
            found["group_id"][str(group.id)] = group_label(group, locale)
            found["group_codes"][group.code] = group_label(group, locale)
    if wanted["milestone_id"]:
        for milestone in db.session.scalars(select(Milestone).where(Milestone.id.in_(wanted["milestone_id"]))):
            found["milestone_id"][str(milestone.id)] = milestone.display_title(locale)
    return found
