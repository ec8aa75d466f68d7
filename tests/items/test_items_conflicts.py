"""Forms and conflicts: an alert only after a real conflict, a second save that works,
lost races on the item page that keep what was typed, and no-op saves that record nothing."""

import re
from datetime import timedelta

import pytest

from tests.factories import NOW, login
from tracker.auth.models import User
from tracker.extensions import db
from tracker.items import services
from tracker.items.models import Item, LedgerEntry
from tracker.items.rules import normalise_text

pytestmark = pytest.mark.usefixtures("frozen_now")


def edit_form(item: Item, **overrides) -> dict:
    data = {
        "kind": item.kind,
        "code": item.code or "",
        "title": item.title,
        "description": item.description,
        "source": item.source,
        "key_area": item.key_area or "",
        "severity": item.severity,
        "group_id": str(item.group_id),
        "owner_id": str(item.owner_id or ""),
        "measures": item.measures,
        "deadline": item.deadline.isoformat() if item.deadline else "",
        "acceptance_criteria": item.acceptance_criteria,
        "venue": item.venue,
        "remarks": item.remarks,
        "version": str(item.version),
    }
    data.update(overrides)
    return data


def load(app, item_id: int) -> Item:
    with app.app_context():
        item = db.session.get(Item, item_id)
        db.session.expunge(item)
        return item


def entries(app, item_id: int) -> list[LedgerEntry]:
    with app.app_context():
        return db.session.scalars(db.select(LedgerEntry).where(LedgerEntry.item_id == item_id)).all()


def rival_edit(app, item_id: int, actor_name: str, **values) -> None:
    """Another person's save, committed in between."""
    with app.app_context():
        actor = db.session.scalar(db.select(User).where(User.username == actor_name))
        item = db.session.get(Item, item_id)
        services.update_item(item, values, actor=actor, now=NOW, version=item.version)
        db.session.commit()


def test_new_item_form_shows_no_conflict_alert(client, world):
    login(client, "lead")
    for lang in ("zh_CN", "en"):
        client.post("/language", data={"language": lang, "next": "/"})
        page = client.get("/items/new").get_data(as_text=True)
        assert 'class="conflict"' not in page and 'role="alert"' not in page


def test_after_a_conflict_the_second_save_goes_through(app, client, world):
    item_id = world.items["unowned"].id
    stale = load(app, item_id)
    rival_edit(app, item_id, "committee", title="别人改过的标题")
    login(client, "lead")
    first = client.post(f"/items/{item_id}/edit", data=edit_form(stale, measures="我的措施"))
    assert first.status_code == 409
    page = first.get_data(as_text=True)
    assert "我的措施" in page  # what was typed is kept
    version = re.search(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"', page)
    assert int(version.group(1) or version.group(2)) == load(app, item_id).version
    current = str(load(app, item_id).version)
    resubmitted = {**edit_form(stale, measures="我的措施", title="别人改过的标题"), "version": current}
    second = client.post(f"/items/{item_id}/edit", data=resubmitted)
    assert second.status_code == 302
    assert load(app, item_id).measures == "我的措施"


def test_the_version_the_conflict_page_renders_is_the_current_one(app, client, world):
    """The hidden field must not echo the posted (stale) version."""
    item_id = world.items["unowned"].id
    stale = load(app, item_id)
    rival_edit(app, item_id, "committee", title="抢先")
    login(client, "lead")
    page = client.post(f"/items/{item_id}/edit", data=edit_form(stale)).get_data(as_text=True)
    hidden = re.search(r'<input[^>]*name="version"[^>]*>', page).group(0)
    assert f'value="{stale.version}"' not in hidden
    assert f'value="{load(app, item_id).version}"' in hidden


def test_a_status_change_that_lost_the_race_keeps_the_note_on_the_item_page(app, client, world):
    item_id = world.items["owned"].id
    seen = load(app, item_id).version
    rival_edit(app, item_id, "lead", title="负责人刚改了标题")
    login(client, "member")
    response = client.post(
        f"/items/{item_id}/transition", data={"action": "start", "note": "今天开工", "version": str(seen)}
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'class="conflict"' in page and "今天开工" in page
    assert "负责人刚改了标题" in page  # their change is named
    assert load(app, item_id).status == "open"
    # sent again from the page it now shows, it goes through
    again = client.post(
        f"/items/{item_id}/transition",
        data={"action": "start", "note": "今天开工", "version": str(load(app, item_id).version)},
    )
    assert again.status_code == 302 and load(app, item_id).status == "in_progress"


def test_a_progress_update_that_lost_the_race_keeps_the_note_on_the_item_page(app, client, world):
    item_id = world.items["owned"].id
    seen = load(app, item_id).version
    rival_edit(app, item_id, "lead", measures="新的措施")
    login(client, "member")
    response = client.post(
        f"/items/{item_id}/progress", data={"note": "完成一半", "progress": "50", "version": str(seen)}
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'class="conflict"' in page and "完成一半" in page and 'value="50"' in page
    assert load(app, item_id).progress == 0


def test_a_progress_note_racing_at_the_database_stays_on_the_item_page(app, client, world, monkeypatch, time_machine):
    """Both read the same version; the rival commits between the check and the UPDATE."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite takes the write lock at BEGIN IMMEDIATE: no other writer can come between")
    item_id = world.items["owned"].id
    real_append = services.ledger.append

    def append_after_a_rival(*args, **kwargs):
        with db.engine.begin() as other:
            other.execute(db.update(Item).where(Item.id == item_id).values(title="抢先", version=Item.version + 1))
        monkeypatch.setattr(services.ledger, "append", real_append)
        return real_append(*args, **kwargs)

    time_machine.move_to(NOW + timedelta(hours=2), tick=False)  # the note's moment differs from the last save's
    login(client, "member")
    monkeypatch.setattr(services.ledger, "append", append_after_a_rival)
    response = client.post(f"/items/{item_id}/progress", data={"note": "现场已清理"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'class="conflict"' in page and "现场已清理" in page
    assert [e.kind for e in entries(app, item_id)] == ["created"]


def test_saving_an_unchanged_form_records_nothing(app, client, world):
    item_id = world.items["unowned"].id
    rival_edit(app, item_id, "lead", measures="第一步：清理\n第二步：铺设", description="一处破损 ")
    item = load(app, item_id)
    before = len(entries(app, item_id))
    login(client, "lead")
    # a browser posts textareas with CRLF line endings
    response = client.post(
        f"/items/{item_id}/edit",
        data=edit_form(item, measures="第一步：清理\r\n第二步：铺设\r\n", description="一处破损\r\n"),
    )
    assert response.status_code == 302
    assert len(entries(app, item_id)) == before
    assert load(app, item_id).version == item.version


def test_text_is_stored_the_same_way_from_every_door(app, client, world):
    item_id = world.items["owned"].id
    login(client, "lead")
    item = load(app, item_id)
    response = client.post(f"/items/{item_id}/edit", data=edit_form(item, title=" 标题\r\n换行 ", measures="a \r\nb"))
    assert response.status_code == 302
    stored = load(app, item_id)
    assert (stored.title, stored.measures) == ("标题 换行", "a\nb")
    client.post(f"/items/{item_id}/progress", data={"note": "第一行  \r\n第二行\r\n\r\n"})
    assert entries(app, item_id)[-1].note == "第一行\n第二行"


def test_normalise_text_rules():
    assert normalise_text("a \r\nb\t\r\n\r\n") == "a\nb"
    assert normalise_text("a\rb") == "a\nb"
    assert normalise_text(" one\r\ntwo ", multiline=False) == "one two"
    assert normalise_text(None) == ""


def test_a_lost_status_change_does_not_copy_its_note_into_the_progress_form(app, client, world):
    item_id = world.items["owned"].id
    seen = load(app, item_id).version
    rival_edit(app, item_id, "lead", venue="东区看台")
    login(client, "member")
    page = client.post(
        f"/items/{item_id}/transition", data={"action": "start", "note": "今天开工", "version": str(seen)}
    ).get_data(as_text=True)
    assert page.count("今天开工") == 1  # in the action's own field only


def test_a_no_op_from_any_door_writes_nothing(app, world):
    """Same groups in another order, an empty code, the same text with other line endings."""
    with app.test_request_context("/"):
        item = db.session.get(Item, world.items["unowned"].id)
        lead = db.session.get(User, world.lead.id)
        first = {"supporting_group_ids": [world.js.id], "measures": "一\n二"}
        services.update_item(item, first, actor=lead, now=NOW, version=item.version)
        db.session.commit()
        version, count = item.version, len(item.ledger)
        changed = services.update_item(
            item,
            {"supporting_group_ids": [world.js.id, world.js.id], "code": "", "measures": "一 \r\n二\r\n"},
            actor=lead,
            now=NOW,
            version=item.version,
        )
        db.session.commit()
        db.session.refresh(item)
        assert changed == [] and item.version == version and len(item.ledger) == count
