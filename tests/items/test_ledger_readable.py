"""The ledger reads like a ledger: names and words in the viewer's language, never ids or codes,
for entries stored before names were kept and for new entries after a rename or deletion."""

import pytest

from tests.factories import NOW, login
from tracker.auth.models import User
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import ledger, services
from tracker.items.ledger import verify_chain
from tracker.items.models import Item
from tracker.milestones.models import Milestone

pytestmark = pytest.mark.usefixtures("frozen_now")


def history(client, item_id: int, lang: str) -> str:
    client.post("/language", data={"language": lang, "next": "/"})
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    return page[page.index('id="history-h"') :]


@pytest.fixture
def named(app, world):
    """The member is 吴静 (wujing); a milestone to point at."""
    with app.app_context():
        member = db.session.get(User, world.member.id)
        member.display_name = "吴静"
        milestone = Milestone(event_id=world.event.id, title="综合演练", title_en="Full rehearsal", offset_days=-30)
        db.session.add(milestone)
        db.session.commit()
        return milestone.id


def test_entries_stored_with_bare_ids_and_codes_read_as_names_and_words(app, client, world, named):
    """Entries written before names were kept hold only ids and codes: they are read through today's rows."""
    item_id = world.items["unowned"].id
    with app.app_context():
        item = db.session.get(Item, item_id)
        actor = db.session.get(User, world.lead.id)
        old_style = [
            ("owner_id", None, str(world.member.id)),
            ("group_id", str(world.cs.id), str(world.js.id)),
            ("supporting_groups", "", "CG,JS"),
            ("milestone_id", None, str(named)),
            ("is_confidential", "no", "yes"),
            ("source", "", "public_feedback"),
            ("key_area", None, "accessibility"),
            ("severity", "medium", "high"),
        ]
        for field, before, after in old_style:
            ledger.append(item, "field_changed", actor=actor, now=NOW, field=field, before=before, after=after)
        db.session.commit()
    login(client, "lead")
    zh = history(client, item_id, "zh_CN")
    assert "责任人: — → 吴静 (member)" in zh
    assert "CG · 场馆建设与无障碍环境组 → JS · 竞赛组织组" in zh
    assert "— → CG · 场馆建设与无障碍环境组; JS · 竞赛组织组" in zh
    assert "— → 综合演练" in zh
    assert "不涉密 → 涉密" in zh
    assert "— → 群众反馈" in zh and "— → 无障碍环境改造" in zh
    for raw in ("public_feedback", "accessibility<", "→ yes", f"→ {world.member.id}<", "CG,JS"):
        assert raw not in zh
    en = history(client, item_id, "en")
    assert "Responsible person: — → 吴静 (member)" in en
    assert "CG · Venues &amp; Accessible Environment → JS · Competition Organization" in en
    assert "— → Full rehearsal" in en
    assert "Not confidential → Confidential" in en
    assert "— → Public feedback" in en and "Medium → High" in en


def test_new_entries_keep_the_names_of_their_moment(app, client, world, named):
    item_id = world.items["unowned"].id
    with app.app_context():
        item = db.session.get(Item, item_id)
        lead = db.session.get(User, world.lead.id)
        services.update_item(
            item,
            {"owner_id": world.member.id, "milestone_id": named, "supporting_group_ids": [world.js.id]},
            actor=lead,
            now=NOW,
            version=item.version,
        )
        db.session.commit()
        # later: the person is renamed, the group renamed, the milestone deleted
        db.session.get(User, world.member.id).display_name = "吴静（已调离）"
        db.session.get(WorkGroup, world.js.id).name = "竞赛组织部"
        db.session.get(Item, item_id).milestone_id = None
        db.session.delete(db.session.get(Milestone, named))
        db.session.commit()
        assert verify_chain().ok  # the kept names are covered by the hash chain
    login(client, "lead")
    zh = history(client, item_id, "zh_CN")
    assert "— → 吴静 (member)" in zh and "已调离" not in zh
    assert "— → JS · 竞赛组织组" in zh and "竞赛组织部" not in zh
    assert "— → 综合演练" in zh
    en = history(client, item_id, "en")
    assert "— → Full rehearsal" in en and "— → JS · Competition Organization" in en


def test_a_deleted_reference_without_kept_names_says_so(app, client, world):
    item_id = world.items["unowned"].id
    with app.app_context():
        item = db.session.get(Item, item_id)
        ledger.append(item, "field_changed", actor=None, now=NOW, field="milestone_id", before=None, after="999")
        db.session.commit()
    login(client, "lead")
    assert "— → #999（已删除）" in history(client, item_id, "zh_CN")
