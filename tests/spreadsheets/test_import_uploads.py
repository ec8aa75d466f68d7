"""Uploads kept between preview and confirmation: confirmed once, and capped per user."""

from io import BytesIO

import pytest
from sqlalchemy import func, select

from tests.factories import NOW, login
from tests.spreadsheets.test_spreadsheets_import import HEADER_ZH, row, xlsx
from tracker.extensions import db
from tracker.files.store import store
from tracker.items.models import Item
from tracker.spreadsheets import uploads


@pytest.fixture
def config(config, tmp_path):
    config["IMPORT_DIR"] = str(tmp_path / "imports")
    return config


def kept(app) -> list[str]:
    with app.app_context():
        return sorted(f.name for f in store().listing("imports"))


def item_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Item.id)))


def upload(client, title: str) -> str:
    response = client.post("/import", data={"file": (BytesIO(xlsx([HEADER_ZH, row(title=title)])), "a.xlsx")})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True).split('name="token" type="hidden" value="')[1].split('"')[0]


def test_two_concurrent_confirmations_of_one_upload_import_it_once(app, client, world, monkeypatch):
    """The second confirmation arrives after the first committed but before it removed the file."""
    login(client, "lead")
    token = upload(client, "看台扶手松动")
    before = item_count(app)
    second = app.test_client()
    with client.session_transaction() as session, second.session_transaction() as copy:
        copy.update(session)
    answers = []
    discard = uploads.discard

    def slow_discard(user_id, token_):
        if not answers:
            answers.append(second.post("/import/confirm", data={"token": token_}))
        discard(user_id, token_)

    monkeypatch.setattr(uploads, "discard", slow_discard)
    first = client.post("/import/confirm", data={"token": token})
    assert first.status_code == 302
    assert answers and answers[0].status_code == 302
    assert answers[0].headers["Location"].endswith("/import")
    assert item_count(app) == before + 1


def test_claiming_an_upload_succeeds_once(app):
    with app.test_request_context():
        token = uploads.keep(7, b"PK", now=NOW)
        assert uploads.claim(7, token) == b"PK"
        assert uploads.claim(7, token) is None
        assert uploads.claim(8, token) is None
        uploads.discard(7, token)
        db.session.commit()
        assert store().listing("imports") == []


def test_unconfirmed_uploads_are_capped_per_user_oldest_removed(app, client, world):
    app.config["IMPORT_KEEP_PER_USER"] = 3
    login(client, "lead")
    tokens = [upload(client, f"问题{i}") for i in range(5)]
    assert sorted(f"{world.lead.id}-{t}.xlsx" for t in tokens[2:]) == kept(app)
    before = item_count(app)
    assert client.post("/import/confirm", data={"token": tokens[0]}).headers["Location"].endswith("/import")
    assert item_count(app) == before
    assert client.post("/import/confirm", data={"token": tokens[4]}).status_code == 302
    assert item_count(app) == before + 1


def test_unconfirmed_uploads_are_capped_per_user_in_bytes(app, client, world):
    size = len(xlsx([HEADER_ZH, row(title="问题")]))
    app.config["IMPORT_KEEP_BYTES_PER_USER"] = int(size * 2.5)
    login(client, "lead")
    for i in range(4):
        upload(client, f"问题{i}")
    assert len(kept(app)) == 2
    other = app.test_client()
    login(other, "committee")
    upload(other, "别人的")
    assert len(kept(app)) == 3  # one user's quota never removes another's files
