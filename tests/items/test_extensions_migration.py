"""The extensions migration fills original_deadline (and the count) from each item's ledger."""

from contextlib import ExitStack
from datetime import date

from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from tests import factories
from tests.conftest import PG_URL, pg_database
from tracker import create_app
from tracker.extensions import db
from tracker.items import services
from tracker.items.models import Item

REVISION = "e7a1c9d2b4f6"  # extension requests, original_deadline, extensions


def _before_extensions() -> str:
    """The revision the extensions migration follows (migrations are re-chained as branches merge)."""
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_revision(REVISION).down_revision


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
            downgrade(revision=_before_extensions())  # as an install was before: no original_deadline, no count
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
