"""Search finds substrings in Chinese and Latin text through the trigram index, in step with every write."""

from contextlib import ExitStack
from datetime import date

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, insert, inspect, select, update

from tests import factories
from tests.conftest import PG_URL, pg_database
from tracker import create_app
from tracker.auth.models import User
from tracker.extensions import db
from tracker.items import services
from tracker.items.models import EXPRESSION_INDEXES, Item
from tracker.lists.queries import ItemFilters, filtered_items

TODAY = date(2026, 5, 29)
BEFORE = "c3f9a7d41e20"  # the revision before the search index


def found(q: str, username: str = "committee") -> set[str]:
    user = db.session.scalar(select(User).where(User.username == username))
    return {item.title for item in db.session.scalars(filtered_items(user, ItemFilters(q=q), TODAY)).unique()}


@pytest.fixture
def texts(ctx, world):
    committee = db.session.get(User, world.committee.id)
    cs = db.session.get(type(world.cs), world.cs.id)
    factories.make_item(committee, cs, title="主体育场无障碍卫生间扶手缺失", venue="北区看台")
    factories.make_item(committee, cs, title="卫生间照明不足", description="Main RAMP signage missing")
    factories.make_item(committee, cs, title="无障碍坡道门宽不够")
    db.session.commit()
    return committee


def test_two_chinese_words_each_found_inside_longer_words(texts):
    assert found("无障碍 卫生间") == {"主体育场无障碍卫生间扶手缺失"}
    assert found("生间扶") == {"主体育场无障碍卫生间扶手缺失"}  # no word boundary needed


def test_latin_words_ignore_case(texts):
    assert found("ramp") == {"卫生间照明不足"}
    assert found("RAMP SIGNAGE") == {"卫生间照明不足"}


def test_words_shorter_than_a_trigram_still_match(texts):
    assert found("卫生") == {"主体育场无障碍卫生间扶手缺失", "卫生间照明不足"}
    assert found("扶") == {"主体育场无障碍卫生间扶手缺失"}
    assert found("无障碍 宽") == {"无障碍坡道门宽不够"}


def test_venue_and_owner_names_are_searched(texts, world):
    assert found("北区看台") == {"主体育场无障碍卫生间扶手缺失"}
    db.session.execute(update(User).where(User.id == world.member.id).values(display_name="吴静安"))
    assert "坡道整改" in found("吴静安")  # the world's item the member owns


def test_quotes_and_wildcards_are_plain_text(texts):
    assert found('"卫生间" OR x') == set()
    assert found("100%") == set()
    assert found("卫_间") == set()


def test_created_edited_and_deleted_items_are_found_at_once(texts):
    committee = texts
    item = services.create_item(
        {"title": "医疗站标识不清", "group_id": committee_group(), "deadline": date(2026, 6, 30)},
        actor=committee,
        now=factories.NOW,
    )
    assert found("医疗站标识") == {"医疗站标识不清"}  # same transaction, not yet committed
    services.update_item(item, {"title": "医疗站地面湿滑"}, actor=committee, now=factories.NOW, version=item.version)
    assert found("医疗站标识") == set()
    assert found("地面湿滑") == {"医疗站地面湿滑"}
    db.session.commit()
    bare = db.session.execute(
        insert(Item).values(event_id=item.event_id, group_id=item.group_id, title="临时搭建物").returning(Item.id)
    ).scalar_one()
    assert found("临时搭建") == {"临时搭建物"}
    db.session.execute(delete(Item).where(Item.id == bare))
    assert found("临时搭建") == set()


def committee_group() -> int:
    return db.session.scalar(select(Item.group_id).limit(1))


def test_members_do_not_find_what_they_may_not_read(texts, world):
    assert found("安检通道", "member") == {"安检通道漏洞"}  # confidential, their own group
    assert found("兴奋剂检查", "member") == set()  # confidential, another group
    assert found("兴奋剂检查", "committee") == {"兴奋剂检查站保密"}


def test_migration_builds_the_index_from_existing_items_and_removes_it(tmp_path):
    with ExitStack() as stack:
        if PG_URL:
            url = stack.enter_context(pg_database("searchmig", with_schema=False))
        else:
            url = f"sqlite:///{tmp_path / 's.db'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
        with app.app_context():
            upgrade(revision=BEFORE)
            factories.make_world()
            db.session.commit()
            upgrade()
            assert found("漏洞") == {"安检通道漏洞"}  # short word: LIKE
            assert found("安检通道") == {"安检通道漏洞"}  # the index, filled from the existing rows
            names = _search_objects()
            assert names  # the FTS table and its triggers, or the trigram index
            assert EXPRESSION_INDEXES <= _item_indexes()  # the models' order indexes, by name
            db.session.rollback()  # the migration needs the database to itself
            downgrade(revision=BEFORE)
            assert _search_objects() == set()
            db.session.rollback()
            upgrade()
            assert _search_objects() == names
            db.session.remove()
            db.engine.dispose()


def _item_indexes() -> set[str]:
    if db.engine.dialect.name == "sqlite":
        rows = db.session.execute(db.text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'item'"))
    else:
        rows = db.session.execute(db.text("SELECT indexname FROM pg_indexes WHERE tablename = 'item'"))
    return {name for (name,) in rows}


def _search_objects() -> set[str]:
    if db.engine.dialect.name == "sqlite":
        rows = db.session.execute(
            db.text("SELECT name FROM sqlite_master WHERE name LIKE 'item_search%' AND type IN ('table', 'trigger')")
        )
        return {name for (name,) in rows}
    return {i["name"] for i in inspect(db.engine).get_indexes("item") if i["name"] == "ix_item_search_trgm"}
