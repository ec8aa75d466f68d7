"""The Para Games demo: it loads into an empty install, today is its as-of day (T-112),
its history is a valid ledger, and every page renders for every demo role."""

import re
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from tests.conftest import make_config
from tests.factories import NOW, login
from tracker import create_app
from tracker.auth.models import User
from tracker.clock import local_date
from tracker.demo.dataset import LIGHTS, Placement, dataset, moments
from tracker.demo.seed import DemoAlreadyLoaded, load_demo
from tracker.event.models import Event
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items.ledger import verify_chain
from tracker.items.models import Item, LedgerEntry
from tracker.items.status import item_light
from tracker.milestones.models import Milestone

TZ = "Asia/Shanghai"
DEMO_ROLES = ("admin", "committee", "lead", "member", "external")
# Pages every signed-in role must see; the rest of the GET routes must at least not fail.
CORE_PAGES = ("/", "/problems", "/responsibilities", "/ledger", "/milestones")


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory, pg_url):
    """On SQLite the demo is loaded once per module into a file each test copies (PostgreSQL: None)."""
    if pg_url:
        return None
    folder = tmp_path_factory.mktemp("demo")
    app = create_app(make_config(f"sqlite:///{folder / 'demo.db'}", folder))
    with time_machine.travel(NOW, tick=False), app.app_context():
        db.create_all()
        accounts = load_demo(now=NOW)
        db.session.commit()
        db.engine.dispose()
    return folder / "demo.db", accounts


@pytest.fixture
def database_url(request, pg_url, tmp_path):
    """The test's own database; a copy of the loaded demo for tests that ask for it, on SQLite."""
    if pg_url:
        return pg_url
    if "demo" in request.fixturenames:
        shutil.copyfile(request.getfixturevalue("demo_template")[0], tmp_path / "test.db")
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def demo(app, frozen_now, demo_template):
    """The demo loaded at the data set's as-of moment; returns the sign-ins by role."""
    if demo_template:
        accounts = demo_template[1]
    else:
        with app.app_context():
            accounts = load_demo(now=frozen_now)
            db.session.commit()
    return {role: (username, password) for username, password, role in accounts}


def _items_by_code() -> dict[str, Item]:
    return {item.code: item for item in db.session.scalars(select(Item))}


def _source_items() -> dict[str, dict]:
    return {row["code"]: row for row in dataset()["items"]}


def test_demo_loads_groups_people_milestones_and_items(app, demo):
    with app.app_context():
        count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(Event) == 1
        assert count(WorkGroup) == 12
        assert count(Milestone) == 15
        assert count(Item) == 60
        assert count(User) == len(dataset()["people"])
        codes = [g.code for g in db.session.scalars(select(WorkGroup).order_by(WorkGroup.sort_order))]
        assert codes[:3] == ["ZH", "JS", "CG"]


def test_demo_returns_one_sign_in_per_role(app, demo):
    assert set(demo) == set(DEMO_ROLES)
    with app.app_context():
        for role, (username, password) in demo.items():
            user = db.session.scalars(select(User).where(User.username == username)).one()
            assert user.role == role
            assert user.check_password(password)


def test_countdown_shows_112_days_on_the_as_of_day(app, client, demo):
    with app.app_context():
        event = db.session.scalars(select(Event)).one()
        assert event.days_to_opening(NOW) == 112
        assert event.opening_at.astimezone(UTC) == datetime(2026, 9, 18, 12, 0, tzinfo=UTC)  # 20:00 local
    login(client, *demo["member"])
    page = client.get("/").get_data(as_text=True)
    countdown = re.search(r'class="countdown-days">([^<]*)<', page)
    assert countdown and "112" in countdown.group(1)


def test_opening_day_follows_today(app, time_machine):
    later = NOW + timedelta(days=40)
    time_machine.move_to(later, tick=False)
    with app.app_context():
        load_demo(now=later)
        db.session.commit()
        event = db.session.scalars(select(Event)).one()
        assert event.days_to_opening(later) == 112
        first_test_event = db.session.scalars(select(Milestone).where(Milestone.offset_days == -70)).one()
        assert first_test_event.date == event.opening_date - timedelta(days=70)


def test_milestones_move_with_opening_day(app, demo):
    with app.app_context():
        milestones = db.session.scalars(select(Milestone)).all()
        assert all(m.fixed_date is None and m.offset_days is not None for m in milestones)
        assert {m.kind for m in milestones} <= {"countdown", "rehearsal", "test_event", "ceremony", "handover"}
        event = db.session.scalars(select(Event)).one()
        event.opening_at += timedelta(days=7)
        db.session.flush()
        t100 = next(m for m in milestones if m.offset_days == -100)
        assert t100.date == event.opening_date - timedelta(days=100)
        assert t100.t_label == "T-100"


def test_items_keep_the_data_sets_fields(app, demo):
    with app.app_context():
        items = _items_by_code()
        ramp = items["CG-003"]
        source = _source_items()["CG-003"]
        assert ramp.kind == "problem"
        assert ramp.severity == "high"  # critical
        assert ramp.group.code == "CG"
        assert ramp.owner.display_name == "吴静"
        assert ramp.measures == "\n".join(source["measuresZh"])
        assert ramp.venue == "茂名市体育职业学校(市体校新校区)"
        assert ramp.milestone.offset_days == -90
        place = Placement.around(NOW, dataset()["meta"])
        assert ramp.deadline == place.day(source["deadline"])
        assert ramp.found_on == place.day(source["foundDate"])
        assert items["ZH-005"].key_area == "third_party"
        assert [g.code for g in items["ZH-001"].supporting_groups] == ["JD"]


def test_statuses_and_progress_match_the_data_set(app, demo):
    expected = {
        "draft": "open",
        "assigned": "open",
        "not_started": "open",
        "in_progress": "in_progress",
        "long_term": "in_progress",
        "pending_verification": "submitted",
        "closed": "closed",
        "cancelled": "cancelled",
    }
    with app.app_context():
        items = _items_by_code()
        for code, source in _source_items().items():
            item = items[code]
            assert item.status == expected[source["status"]], code
            assert item.progress == source["progressPercent"], code
            if source["closedDate"]:
                place = Placement.around(NOW, dataset()["meta"])
                assert local_date(item.closed_at, TZ) == place.day(source["closedDate"]), code
        counts = Counter(item.status for item in items.values())
        assert counts == {"in_progress": 35, "open": 14, "closed": 7, "submitted": 3, "cancelled": 1}


def test_history_is_a_valid_chronological_ledger(app, runner, demo):
    with app.app_context():
        report = verify_chain()
        assert report.ok
        assert report.checked > 300
        times = db.session.scalars(select(LedgerEntry.created_at).order_by(LedgerEntry.id)).all()
        assert times == sorted(times)
        assert times[-1] <= NOW
        rejected = _items_by_code()["CG-009"]
        statuses = [(e.before, e.after) for e in rejected.ledger if e.kind == "status"]
        assert statuses == [("open", "in_progress"), ("in_progress", "submitted"), ("submitted", "in_progress")]
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output


def test_closing_respects_separation_of_duties(app, demo):
    with app.app_context():
        for item in _items_by_code().values():
            if item.status == "closed":
                assert item.closed_by_id != item.submitted_by_id, item.code


def test_light_spread_is_roughly_the_data_sets(app, demo):
    with app.app_context():
        today = local_date(NOW, TZ)
        items = _items_by_code()
        ours = {code: item_light(item, today) for code, item in items.items()}
        theirs = {code: LIGHTS[row["derived"]["light"]] for code, row in _source_items().items()}
    overdue = {code for code, row in _source_items().items() if row["derived"]["overdue"]}
    red = {code for code, light in ours.items() if light == "red"}
    assert overdue == {"ZH-002", "CG-003", "KB-002"}
    assert overdue <= red <= {code for code, light in theirs.items() if light == "red"}
    assert sum(ours[code] == theirs[code] for code in ours) >= 40
    assert Counter(ours.values())["green"] >= 35


def test_second_load_refuses(app, runner, demo):
    with app.app_context():
        with pytest.raises(DemoAlreadyLoaded):
            load_demo(now=NOW)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "already" in result.output


def test_demo_refuses_a_database_with_users(app, world):
    with app.app_context():
        with pytest.raises(DemoAlreadyLoaded):
            load_demo(now=NOW)


def test_item_page_shows_the_history_in_words(app, client, demo):
    login(client, *demo["lead"])
    with app.app_context():
        returned = _items_by_code()["CG-009"]
    page = client.get(f"/items/{returned.id}").get_data(as_text=True)
    assert "验收不通过,退回整改" in page
    assert "轮椅通道宽度不足" in page  # the verification record's opinion


def test_seed_demo_command_prints_the_sign_ins(app, runner, frozen_now):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "admin / demo-admin" in result.output
    assert "lead-cg / demo-lead" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Item)) == 60


def test_history_before_office_hours_stays_in_the_past(app, time_machine):
    """Loaded just after midnight, today's changes still happen before now."""
    early = datetime(2026, 5, 28, 16, 5, tzinfo=UTC)  # 00:05 in Maoming
    time_machine.move_to(early, tick=False)
    with app.app_context():
        load_demo(now=early)
        db.session.commit()
        latest = db.session.scalar(select(func.max(LedgerEntry.created_at)))
        assert latest <= early
        assert verify_chain().ok


def test_moments_are_increasing_and_never_after_now():
    midnight = datetime(2026, 5, 28, 16, 0, tzinfo=UTC)
    now = midnight + timedelta(minutes=3)
    times = moments(midnight, 5, now)
    assert times == sorted(times) and len(set(times)) == 5
    assert times[0] > midnight and times[-1] < now
    office = moments(midnight, 3, midnight + timedelta(hours=12))
    assert local_date(office[0], TZ).isoformat() == "2026-05-29"
    assert office[0].astimezone(UTC).hour == 1  # 09:00 local


def _declared_get_pages() -> dict[str, dict]:
    """The route table's expectations for GET pages without URL parameters, by path."""
    from tests.app.test_route_matrix import TABLE

    return {row.path: row.expect for row in TABLE if row.method == "GET" and "{" not in row.path}


def _get_routes(app) -> list[str]:
    """Every GET page without URL parameters (the API and board included)."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static":
            paths.append(rule.rule)
    return sorted(set(paths))


def _item_routes(app, item_id: int) -> list[str]:
    """GET pages of one item (detail, edit …): the only URL parameter is the item id."""
    return sorted(
        rule.rule.replace("<int:item_id>", str(item_id))
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and rule.arguments == {"item_id"}
    )


@pytest.mark.parametrize("role", DEMO_ROLES)
def test_every_page_renders_for_every_demo_role(app, demo, role):
    """With the demo's data, each page answers what the route table promises the role
    (200 where it may look), the core pages and an item of its own render, nothing fails."""
    client = app.test_client()
    username, password = demo[role]
    response = login(client, username, password)
    assert response.status_code in (302, 303), f"{role} cannot sign in"
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == username)).one()
        mine = Item.owner_id == user.id if role != "lead" else Item.group_id.in_(user.group_ids)
        item_id = db.session.scalars(select(Item.id).where(mine).limit(1)).first()
        if role == "admin":  # admins own nothing; any item will do
            item_id = db.session.scalars(select(Item.id).limit(1)).first()
    assert item_id is not None
    declared = _declared_get_pages()
    failures = []
    for path in [*CORE_PAGES, f"/items/{item_id}"]:
        status = client.get(path).status_code
        if status != 200:
            failures.append(f"{path}: {status}")
    for path in [*_get_routes(app), *_item_routes(app, item_id)]:
        status = client.get(path).status_code
        expected = declared.get(path, {}).get(role)
        if status >= 500 or (expected is not None and status not in expected):
            failures.append(f"{path}: {status}, expected {sorted(expected or [])}")
    assert not failures, f"as {role}: " + ", ".join(failures)
