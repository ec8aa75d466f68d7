"""The extensions migration fills original_deadline (and the count) from each item's ledger."""

from contextlib import ExitStack
from datetime import date

from flask_migrate import downgrade, upgrade

from tests import factories
from tests.conftest import PG_URL, pg_database
from tracker import create_app
from tracker.extensions import db
from tracker.items import services
from tracker.items.models import Item

BEFORE = "d8666e35a70a"  # the revision before extensions


def _history(world) -> dict[str, int]:
    """Deadline changes as they were recorded before extensions existed."""
    owned = world.items["owned"]
    for deadline in (date(2026, 7, 15), date(2026, 7, 31)):  # two later moves
        _move(owned, deadline, world.committee)
    late_set = factories.make_item(world.lead, world.cs, title="后定时限", deadline=None)
    _move(late_set, date(2026, 7, 1), world.lead)  # the first deadline ever recorded
    _move(late_set, date(2026, 6, 20), world.committee)  # brought forward: not an extension
    return {"owned": owned.id, "late_set": late_set.id, "unowned": world.items["unowned"].id}


def _move(item, deadline, actor):
    services.update_item(
        item, {"deadline": deadline}, actor=actor, now=factories.NOW, version=item.version, reason="调整"
    )


def test_migration_fills_original_deadline_from_the_ledger(tmp_path):
    with ExitStack() as stack:
        url = (
            stack.enter_context(pg_database("extmig", with_schema=False))
            if PG_URL
            else f"sqlite:///{tmp_path / 'x.db'}"
        )
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
        with app.app_context():
            upgrade()
            world = factories.make_world()
            ids = _history(world)
            db.session.commit()
            db.session.remove()
            downgrade(revision=BEFORE)  # as an install was before: no original_deadline, no count
            upgrade()
            found = {
                name: db.session.execute(
                    db.select(Item.deadline, Item.original_deadline, Item.extensions).where(Item.id == item_id)
                ).one()
                for name, item_id in ids.items()
            }
            db.session.remove()
            db.engine.dispose()
    assert tuple(found["owned"]) == (date(2026, 7, 31), date(2026, 6, 30), 2)
    assert tuple(found["late_set"]) == (date(2026, 6, 20), date(2026, 7, 1), 0)
    assert tuple(found["unowned"]) == (date(2026, 6, 30), date(2026, 6, 30), 0)
