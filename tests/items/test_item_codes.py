"""编号: unique within the event, the next free number of the group, renumbering by admins only."""

from contextlib import ExitStack
from datetime import UTC, datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from tests.factories import NOW, login, make_item
from tracker.auth.models import User
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import codes, services
from tracker.items.ledger import verify_chain
from tracker.items.models import Item, LedgerEntry
from tracker.items.renumber import renumber


@pytest.fixture
def w(ctx, world):
    for name in ("admin", "committee", "lead"):
        setattr(world, name, db.session.get(User, getattr(world, name).id))
    world.cs, world.js = db.session.get(WorkGroup, world.cs.id), db.session.get(WorkGroup, world.js.id)
    return world


def test_next_free_is_one_more_than_the_highest_number_of_the_group():
    assert codes.next_free([], "CG") == "CG-001"
    assert codes.next_free(["CG-001", "CG-009", "JS-020", "CG-003-2", "XCG-050"], "CG") == "CG-010"
    assert codes.next_free(["CG-999"], "CG") == "CG-1000"


def test_an_item_created_without_a_code_gets_the_next_free_number_of_its_group(w):
    assert sorted(i.code for i in db.session.scalars(select(Item))) == [
        "CG-001",
        "CG-002",
        "CG-003",
        "CG-004",
        "JS-001",
        "JS-002",
    ]
    assert make_item(w.lead, w.cs).code == "CG-005"
    assert make_item(w.lead, w.cs, code="CG-020").code == "CG-020"
    assert make_item(w.lead, w.cs, code="").code == "CG-021"


def test_a_code_already_used_is_refused(w):
    with pytest.raises(ValidationFailed) as refused:
        make_item(w.lead, w.cs, code="JS-001")
    assert "code" in refused.value.fields


def test_the_database_refuses_a_duplicate_code(w):
    item = db.session.scalars(select(Item).where(Item.code == "CG-002")).one()
    item.code = "CG-001"
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_lead_cannot_renumber_through_the_edit_form(w):
    item = db.session.scalars(select(Item).where(Item.code == "CG-002")).one()
    with pytest.raises(ValidationFailed) as refused:
        services.update_item(item, {"code": "CG-099"}, actor=w.lead, now=NOW, version=item.version)
    with force_locale("en"):
        assert "Only an admin" in str(refused.value.fields["code"])
    # A blank No. field keeps the reference instead of clearing it.
    assert services.update_item(item, {"code": "", "remarks": "备注"}, actor=w.lead, now=NOW, version=item.version) == [
        "remarks"
    ]
    assert item.code == "CG-002"


def test_admin_renumbers_with_a_ledger_entry(w):
    item = db.session.scalars(select(Item).where(Item.code == "CG-002")).one()
    renumber(item, "CG-102", actor=w.admin, now=NOW, reason="与纸质台账对齐")
    db.session.commit()
    entry = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id.desc())).first()
    assert (entry.kind, entry.field, entry.before, entry.after, entry.note) == (
        "field_changed",
        "code",
        "CG-002",
        "CG-102",
        "与纸质台账对齐",
    )
    with pytest.raises(ValidationFailed):
        renumber(item, "CG-001", actor=w.admin, now=NOW)
    with pytest.raises(ValidationFailed):
        renumber(item, "CG-103", actor=w.committee, now=NOW)


def test_renumber_page(client, world):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, "admin")
    response = client.post(f"/admin/items/{world.items['unowned'].id}/renumber", data={"code": "CG-200", "reason": "x"})
    assert response.status_code == 302
    response = client.post(f"/admin/items/{world.items['owned'].id}/renumber", data={"code": "CG-200"})
    assert response.status_code == 422 and "already used" in response.get_data(as_text=True)
    other = client.application.test_client()
    login(other, "lead")
    assert other.get(f"/admin/items/{world.items['owned'].id}/renumber").status_code == 403


def test_migration_renames_duplicates_keeping_the_oldest_with_ledger_entries(tmp_path):
    from flask_migrate import upgrade

    from tests.conftest import PG_URL, pg_database
    from tracker import create_app

    with ExitStack() as stack:
        url = (
            stack.enter_context(pg_database("codes", with_schema=False))
            if PG_URL
            else f"sqlite:///{tmp_path / 'codes.db'}"
        )
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
        with app.app_context():
            upgrade(revision="d8666e35a70a")
            _old_install_with_duplicates()
            upgrade()
            rows = db.session.execute(text("SELECT id, code, version FROM item ORDER BY id")).all()
            assert [(r.code, r.version) for r in rows] == [
                ("CG-003", 1),
                ("CG-003-2", 2),
                ("CG-004", 2),
                ("CG-003-3", 2),
                ("JS-001", 1),
            ]
            entries = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
            assert [(e.item_id, e.before, e.after, e.item_version) for e in entries] == [
                (2, "CG-003", "CG-003-2", 1),
                (3, None, "CG-004", 1),
                (4, "CG-003", "CG-003-3", 1),
            ]
            assert "CG-003" in entries[0].note
            assert verify_chain().ok
            db.session.remove()
            db.engine.dispose()


def _old_install_with_duplicates() -> None:
    """Items as an old install could hold them: CG-003 three times (oldest first by created_at), one without code."""
    at = datetime(2026, 5, 1, tzinfo=UTC)
    sqlite = db.engine.dialect.name == "sqlite"
    stamp = (lambda d: d.replace(tzinfo=None)) if sqlite else (lambda d: d)
    db.session.execute(
        text(
            "INSERT INTO event (id, name, name_en, host_city, opening_at, timezone, default_locale, created_at) "
            "VALUES (1, '残运会', 'Games', '茂名', :at, 'Asia/Shanghai', 'zh_CN', :at)"
        ),
        {"at": stamp(at)},
    )
    for gid, code in ((1, "CG"), (2, "JS")):
        db.session.execute(
            text(
                "INSERT INTO work_group (id, code, name, name_en, sort_order, webhook_format)"
                " VALUES (:id, :code, :code, :code, 0, 'generic')"
            ),
            {"id": gid, "code": code},
        )
    rows = [
        (1, 1, "CG-003", 0),
        (2, 1, "CG-003", 1),
        (3, 1, None, 2),
        (4, 1, "CG-003", 3),
        (5, 2, "JS-001", 4),
    ]
    for item_id, group_id, code, day in rows:
        db.session.execute(
            text(
                "INSERT INTO item (id, event_id, code, kind, title, description, source, severity, group_id,"
                " measures, acceptance_criteria, venue, remarks, is_confidential, status, progress, version,"
                " created_at, updated_at) VALUES (:id, 1, :code, 'problem', :title, '', '', 'medium', :group,"
                " '', '', '', '', :no, 'open', 0, 1, :at, :at)"
            ),
            {
                "id": item_id,
                "code": code,
                "title": f"事项{item_id}",
                "group": group_id,
                "no": False,
                "at": stamp(at.replace(day=1 + day)),
            },
        )
    db.session.commit()
