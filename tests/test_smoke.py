from tests.factories import login


def test_pages_render_for_lead(client, world):
    login(client, "lead")
    for path in [
        "/",
        "/problems",
        "/responsibilities",
        "/ledger",
        "/milestones",
        f"/items/{world.items['owned'].id}",
        "/items/new",
    ]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.data[:3000])
