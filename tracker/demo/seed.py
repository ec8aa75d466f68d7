"""Load the Para Games demo: event, work groups, people, milestones, items and their history.

Never load it in production: it creates sign-ins with published passwords.
"""

from datetime import date, datetime, timedelta

from flask import g, has_app_context
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from tracker import permissions
from tracker.auth.models import User
from tracker.demo.dataset import (
    DEMO_ACCOUNTS,
    KEY_AREAS,
    MILESTONE_KINDS,
    OPENING_TIME,
    ROLES,
    SEVERITIES,
    TIMEZONE,
    USERNAME_PREFIX,
    Placement,
    by_id,
    dataset,
)
from tracker.demo.history import Replay
from tracker.event.models import Event
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import ledger, services
from tracker.items.models import Item
from tracker.milestones.models import Milestone
from tracker.workdays import services as workdays
from tracker.workdays.models import WorkingDay


class DemoAlreadyLoaded(Exception):
    pass


def demo_password(role: str) -> str:
    return f"demo-{role}"


def load_demo(*, now: datetime) -> list[tuple[str, str, str]]:
    """Load the demo into an empty database, as of ``now``; the caller commits.

    Returns the demo sign-ins, one per role: (username, password, role).
    """
    for model in (Event, WorkGroup, User):
        if db.session.scalars(select(model).limit(1)).first() is not None:
            raise DemoAlreadyLoaded(
                f"The database already holds data ({model.__tablename__}); the demo loads only into an empty one."
            )
    data = dataset()
    place = Placement.around(now, data["meta"])
    event = _event(data, place)
    groups = _groups(data)
    people = _people(data, groups)
    milestones = _milestones(data, event, groups)
    creator = ItemCreator(data, place, groups, people, milestones)
    Replay(data, place, people, creator.create, leads=_leads(data, groups, people)).build().run(now)
    db.session.flush()
    return [(people[person].username, demo_password(role), role) for role, person in DEMO_ACCOUNTS.items()]


def _event(data: dict, place: Placement) -> Event:
    source = data["event"]
    closing = place.day(source["closingDate"])
    event = Event(
        name=source["nameZh"],
        name_en=source["nameEn"],
        host_city=source["hostCityZh"],
        opening_at=place.opening_at,
        closing_at=place.at(closing, OPENING_TIME) if closing else None,
        timezone=TIMEZONE,
    )
    db.session.add(event)
    db.session.flush()
    if has_app_context():
        g.pop("event", None)  # current_event() may have cached "no event" earlier in this context
    workdays.seed_event(event)
    for day, (working, name) in DEMO_2027_HOLIDAYS.items():
        db.session.add(WorkingDay(event_id=event.id, day=day, working=working, name=name))
    return event


# The library knows the official arrangements up to 2026. An office enters the next year's
# by hand when the State Council publishes it; the demo shows such an entry (an example,
# not the official 2027 arrangement).
DEMO_2027_HOLIDAYS = {
    **{date(2027, 1, d): (False, "元旦（示例）") for d in (1, 2, 3)},
    **{date(2027, 2, 5) + timedelta(days=n): (False, "春节（示例）") for n in range(9)},
    date(2027, 1, 31): (True, "春节 调休上班（示例）"),
    date(2027, 2, 20): (True, "春节 调休上班（示例）"),
}


def _groups(data: dict) -> dict[str, WorkGroup]:
    groups = {}
    for row in data["workGroups"]:
        groups[row["id"]] = WorkGroup(
            code=row["code"], name=row["nameZh"], name_en=row["nameEn"], sort_order=row["sortOrder"]
        )
    db.session.add_all(groups.values())
    return groups


def _people(data: dict, groups: dict[str, WorkGroup]) -> dict[str, User]:
    """Every person as a user; all of one role share that role's demo password."""
    hashes = {role: generate_password_hash(demo_password(role)) for role in DEMO_ACCOUNTS}
    people, taken = {}, set()
    for row in data["people"]:
        role = ROLES[row["role"]]
        group = groups.get(row["groupId"])
        username = _username(row, group, taken)
        user = User(username=username, display_name=row["nameZh"], role=role, password_hash=hashes[role])
        user.groups = [group] if group is not None else []
        people[row["id"]] = user
    db.session.add_all(people.values())
    db.session.flush()
    return people


def _username(person: dict, group: WorkGroup | None, taken: set) -> str:
    prefix = USERNAME_PREFIX[person["role"]]
    base = prefix if group is None or prefix == "admin" else f"{prefix}-{group.code.lower()}"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name


def _leads(data: dict, groups: dict[str, WorkGroup], people: dict[str, User]) -> dict[int, User]:
    """Each group's lead, where the data set's lead has our lead role (纪检监督组 has none)."""
    leads = {groups[row["id"]].id: people[row["leadPersonId"]] for row in data["workGroups"]}
    return {group_id: user for group_id, user in leads.items() if user.role == "lead"}


def _milestones(data: dict, event: Event, groups: dict[str, WorkGroup]) -> dict[str, Milestone]:
    """Milestones relative to opening day, so they move with it."""
    milestones = {}
    for row in data["milestones"]:
        group = groups.get(row["ownerGroupId"])
        milestones[row["id"]] = Milestone(
            event=event,
            title=row["nameZh"],
            title_en=row["nameEn"],
            kind=MILESTONE_KINDS[row["type"]],
            offset_days=row["offsetDays"],
            group_id=group.id if group else None,
        )
    db.session.add_all(milestones.values())
    db.session.flush()
    return milestones


class ItemCreator:
    """Turns one item of the data set into the fields our items have, and creates it."""

    def __init__(self, data, place, groups, people, milestones):
        self.place = place
        self.groups = groups
        self.people = people
        self.milestones = milestones
        self.venues = by_id(data["venues"])
        # A cooperating unit stands for the work group it leads (U04 housing → CG …);
        # units that lead several groups (the sports bureau, the DPF) name none.
        led: dict[str, list[WorkGroup]] = {}
        for row in data["workGroups"]:
            for unit in row["leadUnitIds"]:
                led.setdefault(unit, []).append(groups[row["id"]])
        self.group_of_unit = {unit: found[0] for unit, found in led.items() if len(found) == 1}

    def fields(self, item: dict) -> dict:
        group = self.groups[item["leadGroupId"]]
        supporting = {self.group_of_unit[u].id: None for u in item["cooperatingUnitIds"] if u in self.group_of_unit}
        supporting.pop(group.id, None)
        milestone = self.milestones.get(item["milestoneId"])
        return {
            "code": item["code"],
            "kind": item["type"],
            "title": item["titleZh"],
            "description": item["descriptionZh"],
            "source": item["source"],
            "key_area": KEY_AREAS.get(item["keyArea"], item["keyArea"]),
            "severity": SEVERITIES[item["severity"]],
            "group_id": group.id,
            "supporting_group_ids": list(supporting),
            "measures": "\n".join(item["measuresZh"]),
            "deadline": self.place.day(item["deadline"]),
            "acceptance_criteria": item["acceptanceCriteriaZh"] or "",
            "found_on": self.place.day(item["foundDate"]),
            "venue": "、".join(self.venues[v]["nameZh"] for v in item["venueIds"]),
            "milestone_id": milestone.id if milestone else None,
            "remarks": item["remarksZh"] or "",
        }

    def create(self, item: dict, actor: User, now: datetime) -> Item:
        values = self.fields(item)
        owner = self.people[item["responsiblePersonId"]]
        # Our role table assigns owners from the item's group (or committee,
        # or a vendor); the data set sometimes names someone from another group.
        assignable = permissions.can_own(owner, values["group_id"], values["supporting_group_ids"])
        if assignable:
            values["owner_id"] = owner.id
        created = services.create_item(values, actor=actor, now=now)
        if not assignable:
            # Outside the role rules, so recorded like any change: the ledger replays to the item.
            ledger.append(created, "field_changed", actor=actor, now=now, field="owner_id", after=owner.id)
            created.owner_id = owner.id
        return created
