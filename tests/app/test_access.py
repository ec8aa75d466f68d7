"""Access control details: mass assignment and group removal take effect at once."""

from tests.factories import login
from tracker.auth.models import User
from tracker.extensions import db
from tracker.items.models import Item


def test_item_form_ignores_fields_it_does_not_offer(app, client, world):
    item_id = world.items["unowned"].id
    login(client, "lead")
    response = client.post(
        f"/items/{item_id}/edit",
        data={
            "title": "改标题",
            "group_id": str(world.cs.id),
            "kind": "problem",
            "severity": "low",
            "version": "1",
            "deadline": "2026-06-30",
            "status": "closed",
            "progress": "100",
            "created_by_id": "1",
            "closed_by_id": "1",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        item = db.session.get(Item, item_id)
        assert (item.title, item.status, item.progress, item.closed_by_id) == ("改标题", "open", 0, None)


def test_user_form_cannot_set_hidden_columns(app, client, world):
    login(client, "admin")
    client.post(
        "/admin/users/new",
        data={
            "username": "newbie",
            "role": "member",
            "password": "long-enough-1",
            "session_token": "fixed",
            "failed_logins": "99",
            "totp_secret": "AAAA",
        },
    )
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "newbie"))
        assert user.session_token != "fixed" and user.failed_logins == 0 and user.totp_secret is None


def test_removal_from_a_group_takes_effect_on_the_next_request(app, client, world):
    item_id = world.items["confidential"].id
    login(client, "lead")
    assert client.get(f"/items/{item_id}").status_code == 200
    admin = app.test_client()
    login(admin, "admin")
    admin.post(f"/admin/users/{world.lead.id}", data={"username": "lead", "role": "lead", "is_active_account": "y"})
    assert client.get(f"/items/{item_id}").status_code == 404
    assert client.get(f"/items/{world.items['unowned'].id}/edit").status_code == 403
