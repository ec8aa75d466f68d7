"""Plain data builders with sensible defaults; override what a test cares about."""

from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime

from werkzeug.security import generate_password_hash

from tracker.auth.models import User
from tracker.event.models import Event
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import ledger, services
from tracker.items.models import Item

PASSWORD = "correct-horse-1"
# Cheap hash for test users only; the app itself uses Werkzeug's default (scrypt).
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
NOW = datetime(2026, 5, 29, 2, 0, tzinfo=UTC)  # 10:00 in Maoming, T-112


def make_event(**overrides) -> Event:
    values = dict(
        name="广东省第十届残疾人运动会",
        name_en="10th Guangdong Provincial Games for Persons with Disabilities",
        host_city="茂名",
        opening_at=datetime(2026, 9, 18, 12, 0, tzinfo=UTC),  # 20:00 local
        closing_at=datetime(2026, 9, 24, 12, 0, tzinfo=UTC),
        timezone="Asia/Shanghai",
    )
    values.update(overrides)
    event = Event(**values)
    db.session.add(event)
    db.session.flush()
    return event


def make_group(code: str, name: str | None = None, **overrides) -> WorkGroup:
    group = WorkGroup(
        code=code, name=name or f"{code}组", name_en=overrides.pop("name_en", f"{code} group"), **overrides
    )
    db.session.add(group)
    db.session.flush()
    return group


def make_user(username: str, role: str, groups=(), **overrides) -> User:
    user = User(username=username, role=role, display_name=overrides.pop("display_name", username), **overrides)
    user.password_hash = PASSWORD_HASH
    user.groups = list(groups)
    db.session.add(user)
    db.session.flush()
    return user


def make_item(actor: User, group: WorkGroup, now: datetime = NOW, **overrides) -> Item:
    data = dict(
        kind="problem",
        title="无障碍坡道坡度超标",
        group_id=group.id,
        severity="medium",
        deadline=date(2026, 6, 30),
        measures="重新浇筑坡道",
    )
    data.update(overrides)
    item = services.create_item(data, actor=actor, now=now)
    db.session.flush()
    return item


@dataclass
class World:
    event: Event
    cs: WorkGroup  # venues & accessibility
    js: WorkGroup  # competition
    admin: User
    committee: User
    lead: User  # leads CS
    member: User  # in CS, owns `owned`
    other_lead: User  # leads JS
    other_member: User  # in JS
    external: User  # third-party, owns `external_item`
    items: dict = field(default_factory=dict)
    extra_ids: dict = field(default_factory=dict)

    def keys(self) -> dict:
        """Each object by model and id, the rest as it is: what ``load`` needs to read it back."""
        keys = {
            f.name: (type(value), value.id)
            for f in fields(self)
            if isinstance(value := getattr(self, f.name), db.Model)
        }
        return keys | {
            "items": {name: item.id for name, item in self.items.items()},
            "extra_ids": dict(self.extra_ids),
        }

    @classmethod
    def load(cls, keys: dict) -> "World":
        objects = {name: db.session.get(*key) for name, key in keys.items() if name not in ("items", "extra_ids")}
        items = {name: db.session.get(Item, item_id) for name, item_id in keys["items"].items()}
        return cls(**objects, items=items, extra_ids=dict(keys["extra_ids"]))


def make_world() -> World:
    event = make_event()
    cs = make_group("CG", "场馆建设与无障碍环境组", name_en="Venues & Accessible Environment")
    js = make_group("JS", "竞赛组织组", name_en="Competition Organization")
    w = World(
        event=event,
        cs=cs,
        js=js,
        admin=make_user("admin", "admin"),
        committee=make_user("committee", "committee"),
        lead=make_user("lead", "lead", [cs]),
        member=make_user("member", "member", [cs]),
        other_lead=make_user("otherlead", "lead", [js]),
        other_member=make_user("othermember", "member", [js]),
        external=make_user("external", "external"),
    )
    w.items["owned"] = make_item(w.lead, cs, owner_id=w.member.id, title="坡道整改")
    w.items["unowned"] = make_item(w.lead, cs, title="盲道修复")
    w.items["confidential"] = make_item(w.lead, cs, title="安检通道漏洞", is_confidential=True)
    w.items["other_group"] = make_item(w.other_lead, js, title="计时设备调试", owner_id=w.other_member.id)
    w.items["other_confidential"] = make_item(w.other_lead, js, title="兴奋剂检查站保密", is_confidential=True)
    # Assigned directly, as rows from before the owner rule are: a vendor in no group owns nothing new.
    w.items["external_item"] = make_item(w.committee, cs, title="舞美搭建")
    w.items["external_item"].owner_id = w.external.id
    ledger.append(
        w.items["external_item"], "field_changed", actor=w.committee, now=NOW, field="owner_id", after=w.external.id
    )  # recorded like any change, so the ledger still replays to the item
    w.extra_ids.update(make_world_notices(w))
    db.session.flush()
    return w


def make_notice(world, item: Item, sequence: int, level: str = "blue", **overrides):
    """A notice row as arranged data (no ledger entry, no notifications): for pages and permissions."""
    from tracker.notices.models import Notice

    values = dict(
        event_id=world.event.id,
        year=2026,
        sequence=sequence,
        number=f"督办〔2026〕第{sequence}号",
        item_id=item.id,
        group_id=item.group_id,
        level=level,
        status="issued",
        text="请加快整改并按时回复",
        reply_by=date(2026, 6, 5),
        issued_by_id=world.committee.id,
        issued_at=NOW,
    )
    values.update(overrides)
    notice = Notice(**values)
    db.session.add(notice)
    db.session.flush()
    return notice


def make_world_notices(w) -> dict:
    """Open notices for the route matrix: two on the member's item, one on the other group's, a red one."""
    return {
        "notice": make_notice(w, w.items["owned"], 9001).id,
        "notice_api": make_notice(w, w.items["owned"], 9002).id,
        "notice_other": make_notice(w, w.items["other_group"], 9003).id,
        "notice_red": make_notice(w, w.items["unowned"], 9004, level="red").id,
    }


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def kept_uploads(app) -> list[str]:
    """The tokens of the import uploads waiting for confirmation, in whichever store the app uses."""
    from tracker.files.store import store

    with app.app_context():
        return sorted(f.name.split("-", 1)[1].removesuffix(".xlsx") for f in store().listing("imports"))
