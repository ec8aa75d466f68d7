"""The event's own services: set up once, changed by administrators only, every change audited."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.factories import NOW, make_user
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.errors import PermissionDenied, ValidationFailed
from tracker.event import services
from tracker.event.models import Event
from tracker.extensions import db
from tracker.workdays.models import WorkingDay

DATA = {
    "name": "广东省第十届残疾人运动会",
    "name_en": " Provincial Games ",
    "host_city": "茂名",
    "opening_at": datetime(2026, 9, 18, 12, 0, tzinfo=UTC),
    "closing_at": datetime(2026, 9, 24, 12, 0, tzinfo=UTC),
    "timezone": "Asia/Shanghai",
    "default_locale": "zh_CN",
}


def user(name: str) -> User:
    return db.session.scalars(select(User).where(User.username == name)).one()


def event_rows() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "event_saved")))


def test_setting_up_the_event_seeds_its_holidays_and_is_audited(ctx):
    admin = make_user("admin", "admin")
    event = services.save_event(DATA, actor=admin, now=NOW)
    assert event.name_en == "Provincial Games" and services.current_event() is event
    assert db.session.scalar(select(func.count(WorkingDay.id)).where(WorkingDay.event_id == event.id)) > 0
    assert [(r.target, r.username) for r in event_rows()] == [(DATA["name"], "admin")]


def test_changing_the_event_keeps_one_event(ctx, world):
    services.save_event(DATA | {"name": "省残运会"}, actor=user("admin"), now=NOW)
    assert db.session.scalar(select(func.count(Event.id))) == 1
    assert services.current_event().name == "省残运会"
    assert len(event_rows()) == 1


def test_the_audit_row_goes_with_the_change(ctx, world):
    services.save_event(DATA | {"name": "省残运会"}, actor=user("admin"), now=NOW)
    db.session.rollback()
    assert event_rows() == [] and db.session.get(Event, world.event.id).name != "省残运会"


@pytest.mark.parametrize("role", ["committee", "lead", "member", "external"])
def test_only_an_administrator_changes_the_event(ctx, world, role):
    with pytest.raises(PermissionDenied):
        services.save_event(DATA, actor=user(role), now=NOW)
    assert event_rows() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"opening_at": None}, "opening_at"),
        ({"closing_at": datetime(2026, 9, 1, tzinfo=UTC)}, "closing_at"),
        ({"opening_at": datetime(2998, 9, 18, tzinfo=UTC), "closing_at": None}, "opening_at"),
    ],
)
def test_bad_dates_and_zones_are_refused_by_field(ctx, world, change, field):
    with pytest.raises(ValidationFailed) as refused:
        services.save_event(DATA | change, actor=user("admin"), now=NOW)
    assert field in refused.value.fields and event_rows() == []
