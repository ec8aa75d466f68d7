"""Chat-robot URLs: valid ports only, the platform's ports only, and no private addresses."""

import pytest
from sqlalchemy import update

from tests.factories import login
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.groups.robots import check_url, mask_url
from tracker.reminders import services

HOSTS = ["oapi.dingtalk.com", "robots.example.org", "localhost"]


def public(host, port):
    return ["93.184.216.34"]


@pytest.mark.parametrize(
    ("url", "fmt", "why"),
    [
        ("https://oapi.dingtalk.com:99999/robot/send", "dingtalk", "port"),
        ("https://oapi.dingtalk.com:0/robot/send", "dingtalk", "port"),
        ("https://oapi.dingtalk.com:abc/robot/send", "dingtalk", "port"),
        ("https://oapi.dingtalk.com:6379/robot/send", "dingtalk", "port 443"),
        ("http://oapi.dingtalk.com:22/robot/send", "generic", "port 443"),
        ("http://oapi.dingtalk.com/robot/send", "dingtalk", "https on port 443"),
        ("https://robots.example.org:8443/hook", "generic", "port 443"),
    ],
)
def test_ports_outside_the_platforms_are_refused(url, fmt, why):
    with pytest.raises(ValueError, match=why):
        check_url(url, HOSTS, fmt, resolve=public)


@pytest.mark.parametrize(
    ("url", "fmt"),
    [
        ("https://oapi.dingtalk.com/robot/send?access_token=x", "dingtalk"),
        ("https://oapi.dingtalk.com:443/robot/send", "wecom"),
        ("http://robots.example.org/hook", "generic"),
        ("https://robots.example.org/hook", "generic"),
    ],
)
def test_the_platforms_ports_are_accepted(url, fmt):
    assert check_url(url, HOSTS, fmt, resolve=public) == url


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.9", "172.16.5.5", "169.254.169.254", "::1", "::ffff:127.0.0.1", "0.0.0.0"],  # noqa: S104
)
def test_a_host_resolving_to_a_private_or_local_address_is_refused(address):
    with pytest.raises(ValueError, match="private or local"):
        check_url("https://robots.example.org/hook", HOSTS, "generic", resolve=lambda host, port: [address])


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    with pytest.raises(ValueError, match="private or local"):
        check_url(
            "https://robots.example.org/hook", HOSTS, "generic", resolve=lambda h, p: ["93.184.216.34", "10.0.0.1"]
        )


def test_hosts_the_operator_names_may_be_internal_on_any_port():
    url = "http://127.0.0.1:8080/hook"
    assert check_url(url, ["127.0.0.1"], "wecom", internal_hosts=["127.0.0.1"]) == url
    with pytest.raises(ValueError, match="private or local"):
        check_url("http://127.0.0.1/hook", ["127.0.0.1"], "generic")


def test_the_robot_page_refuses_a_bad_port_with_a_form_message(app, client, world):
    login(client, "admin")
    for url in ("https://oapi.dingtalk.com:99999/robot/send?access_token=x", "https://oapi.dingtalk.com:0/x"):
        response = client.post(
            f"/admin/groups/{world.cs.id}/webhook",
            data={"webhook_url": url, "webhook_format": "dingtalk"},
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 422
        assert "port" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(WorkGroup, world.cs.id).webhook_url is None


def test_the_robot_page_refuses_a_host_that_resolves_to_loopback(app, client, world):
    with app.app_context():
        settings = services.get_settings()
        settings.webhook_hosts += "\nlocalhost"
        db.session.add(settings)
        db.session.commit()
    login(client, "admin")
    response = client.post(
        f"/admin/groups/{world.cs.id}/webhook",
        data={"webhook_url": "https://localhost/hook", "webhook_format": "generic"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "private or local address" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "stored", ["https://oapi.dingtalk.com:99999/robot/send?access_token=abc", "http://[::1/x", "https://:0/"]
)
def test_no_robot_page_fails_on_a_stored_bad_url(app, client, world, stored):
    with app.app_context():
        db.session.execute(update(WorkGroup).where(WorkGroup.id == world.cs.id).values(webhook_url=stored))
        db.session.commit()
    login(client, "admin")
    assert client.get(f"/admin/groups/{world.cs.id}/webhook").status_code == 200
    assert client.get("/admin/groups").status_code == 200
    assert client.get("/admin/deliveries").status_code == 200
    response = client.post(
        f"/admin/groups/{world.cs.id}/webhook", data={"webhook_url": "", "webhook_format": "dingtalk"}
    )
    assert response.status_code == 422  # saving keeps the stored URL, which is checked and refused


def test_mask_url_never_raises():
    assert (
        mask_url("https://h.example:99999/x?access_token=abcdefghij")
        == "https://h.example:99999/x?access_token=•••ghij"
    )
