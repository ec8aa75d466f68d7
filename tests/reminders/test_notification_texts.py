"""Notification texts carry links, not bare paths, and read in the reader's language of the moment."""

import re

import pytest

from tests.factories import login
from tracker.auth.models import User
from tracker.extensions import db
from tracker.outbox.models import Notification

pytestmark = pytest.mark.usefixtures("frozen_now")


def bell(client, lang: str) -> str:
    client.post("/language", data={"language": lang, "next": "/"})
    html = client.get("/notifications").get_data(as_text=True)
    return html[html.index("<main") : html.index("</main>")]


def test_reminders_read_in_the_current_language_with_links(app, client, runner, world):
    with app.app_context():
        db.session.get(User, world.member.id).locale = "zh_CN"  # sent while the reader used Chinese
        db.session.commit()
    result = runner.invoke(args=["reminders", "run", "--now", "2026-06-30T08:35"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(
            db.select(db.func.count(Notification.id)).where(Notification.user_id == world.member.id)
        )
    login(client, "member")
    with app.app_context():
        db.session.get(User, world.member.id).locale = "en"
        db.session.commit()
    en = bell(client, "en")
    item_id = world.items["owned"].id
    assert re.search(rf'<li><a href="/items/{item_id}">[^<]*坡道整改</a>', en)  # the item, as a link
    assert f"/items/{item_id}<" not in en and f"/items/{item_id}\n" not in en  # never a bare path
    assert "overdue" in en.lower() or "due" in en.lower()
    assert "逾期" not in en and "到期" not in en
    with app.app_context():
        db.session.get(User, world.member.id).locale = "zh_CN"
        db.session.commit()
    zh = bell(client, "zh_CN")
    assert re.search(rf'<a href="/items/{item_id}">[^<]*坡道整改</a>', zh)
    assert "逾期" in zh or "到期" in zh


def test_older_notifications_turn_their_paths_into_links(app, client, world):
    with app.app_context():
        db.session.add(
            Notification(
                user_id=world.member.id,
                rule="overdue",
                subject="逾期 1 天：坡道整改",
                body="- 坡道整改 — 逾期 1 天\n  /items/1",
                url="/items/1",
            )
        )
        db.session.commit()
    login(client, "member")
    html = bell(client, "zh_CN")
    assert '<a href="/items/1">坡道整改 — 逾期 1 天</a>' in html
    assert "/items/1<" not in html and "/items/1\n" not in html
