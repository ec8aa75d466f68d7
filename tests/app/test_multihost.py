"""Two app hosts behind nginx, two schedulers, one PostgreSQL: the multi-host install on loopback.

``bench/cluster.py`` starts Debian's nginx (unprivileged, its own prefix) with the
deployment kit's site in front of two gunicorn "hosts" with separate instance folders,
and two ``flask --app tracker scheduler`` processes, on a PostgreSQL database of this
module's own and Redis for the sign-in counters. Whatever one host stored, the other
serves; counters and leases hold across hosts; the soak through nginx loses nothing; and
when the working scheduler is killed, the other takes over and every reminder arrives.
"""

import os
import re
import threading
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import requests

from bench import soak
from bench.board import _sign_in
from bench.cluster import Cluster, wait_until
from tests import factories
from tests.conftest import pg_database
from tracker.clock import local_date, utcnow

PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not PG_URL, reason="the multi-host install runs on PostgreSQL: set TRACKER_TEST_DATABASE_URL"),
]
LEASE_SECONDS = 10  # short, so a takeover is seen within the test; the clock is real
SIGN_IN_LIMIT = 6
SOAK_SECONDS = 60
DUE_ITEMS = 80


@pytest.fixture(scope="module")
def mail():
    sink = soak.MailSink()
    sink.controller.start()
    yield sink
    sink.controller.stop()


@pytest.fixture(scope="module")
def cluster(mail, tmp_path_factory):
    settings = {
        "TRACKER_SMTP_HOST": "127.0.0.1",
        "TRACKER_SMTP_PORT": str(mail.port),
        "TRACKER_SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS),
        "TRACKER_LOGIN_RATE_LIMIT": f"{SIGN_IN_LIMIT} per minute",
    }
    with pg_database("multihost") as url:
        running = Cluster(url, tmp_path_factory.mktemp("cluster"), settings=settings)
        with running:
            yield running
        assert running.leftovers() == [], "processes outlived the cluster"


@pytest.fixture(scope="module")
def people(cluster):
    """The soak's install, seeded through nginx: an event, two groups, 20 users with tokens, 24 items."""
    from tracker.api.services import create_token
    from tracker.auth.users import create_user
    from tracker.extensions import db

    app = cluster.app()
    with app.app_context():
        admin = create_user(username="admin", password=soak.PASSWORD, role="admin", group_codes=[])
        token = create_token(admin, "multihost", now=utcnow())[1]
        db.session.commit()
        db.engine.dispose()
    today = local_date(utcnow(), soak.TZ)
    return soak.seed(cluster.base, token, cluster.database_url, 20, 24, today)


def served(cluster: Cluster, n: int, request_line: str) -> int:
    """How many requests starting with ``request_line`` host n has logged."""
    return cluster.log(f"host-{n}").count(f'"{request_line}')


def query(cluster: Cluster, sql: str, *params) -> list[tuple]:
    """Read outside any app transaction (autocommit), so polling never queues behind a writer."""
    with psycopg.connect(cluster.database_url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def browser(base: str, username: str) -> requests.Session:
    """Signed in through one host; cookies carry to the others (same address, any port)."""
    session = requests.Session()
    for pair in _sign_in(base, username, soak.PASSWORD).split("; "):
        name, _, value = pair.partition("=")
        session.cookies.set(name, value, domain="127.0.0.1", path="/")
    return session


def files_on_disk(cluster: Cluster) -> list[Path]:
    """What the hosts wrote to their instance folders (the database store writes nothing there)."""
    return [f for host in ("host-A", "host-B") for f in (cluster.work_dir / host).rglob("*") if f.is_file()]


def test_evidence_uploaded_through_one_host_downloads_through_the_other(cluster, people):
    owner = next(p for p in people if p["role"] == "member" and p.get("own"))
    item_id = owner["own"][0]
    on_a, on_b = cluster.host_url(0), cluster.host_url(1)
    user = browser(on_a, owner["username"])  # the session is valid on every host
    photo = b"\x89PNG\r\n\x1a\n" + os.urandom(3 * 1024 * 1024)

    def evidence_links(base: str) -> set[str]:
        page = user.get(f"{base}/items/{item_id}", timeout=30).text
        return set(re.findall(rf'href="(/items/{item_id}/evidence/[^"]+)"', page))

    before = evidence_links(on_b)
    page = user.get(f"{on_a}/items/{item_id}", timeout=30).text
    response = user.post(
        f"{on_a}/items/{item_id}/progress",
        data={"note": "现场照片", "csrf_token": csrf_token(page)},
        files={"files": ("现场.png", photo, "image/png")},
        timeout=60,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    new = evidence_links(on_b) - before
    assert len(new) == 1, "host B's item page does not show the evidence uploaded through host A"
    link = new.pop()
    download = user.get(on_b + link, timeout=60)
    assert download.status_code == 200
    assert download.content == photo
    through_nginx = user.get(cluster.base + link, timeout=60)
    assert through_nginx.content == photo  # and past the proxy's buffering
    assert files_on_disk(cluster) == []


def test_an_import_previewed_on_one_host_is_confirmed_on_the_other(cluster, people):
    from tests.spreadsheets.test_spreadsheets_import import HEADER_ZH, row, xlsx

    lead = next(p for p in people if p["role"] == "lead" and p["group"] == "SA")
    on_a, on_b = cluster.host_url(0), cluster.host_url(1)
    user = browser(on_a, lead["username"])
    deadline = (local_date(utcnow(), soak.TZ) + timedelta(days=30)).isoformat()
    sheet = xlsx([HEADER_ZH, row(title="多主机导入的看台扶手", group="SA", deadline=deadline)])
    page = user.get(f"{on_a}/import", timeout=30).text
    preview = user.post(
        f"{on_a}/import",
        data={"csrf_token": csrf_token(page)},
        files={"file": ("台账.xlsx", sheet)},
        timeout=60,
    )
    assert preview.status_code == 200, preview.text[:500]
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview.text).group(1)
    confirmed = user.post(
        f"{on_b}/import/confirm",
        data={"token": token, "csrf_token": csrf_token(preview.text), "filename": "台账.xlsx"},
        timeout=60,
        allow_redirects=False,
    )
    assert confirmed.status_code == 302, confirmed.text[:500]
    assert not confirmed.headers["Location"].endswith("/import"), "host B did not find the upload"
    titles = query(cluster, "SELECT count(*) FROM item WHERE title = %s", "多主机导入的看台扶手")
    assert titles == [(1,)]
    assert files_on_disk(cluster) == []


def test_sign_in_throttling_counts_across_both_hosts(cluster, people):
    cluster.forget_counters()  # start from zero
    session = requests.Session()  # one connection: nginx sends its requests to the hosts in turn
    token = csrf_token(session.get(f"{cluster.base}/login").text)
    before = [served(cluster, n, "POST /login") for n in (0, 1)]
    try:
        statuses = [
            session.post(
                f"{cluster.base}/login",
                data={"username": f"nobody-{n}", "password": "wrong", "csrf_token": token},
                headers={"Referer": f"{cluster.base}/login"},
            ).status_code
            for n in range(SIGN_IN_LIMIT + 2)
        ]
    finally:
        cluster.forget_counters()  # the other tests sign in from the same address
    assert statuses == [200] * SIGN_IN_LIMIT + [429, 429]

    def logged() -> list[int] | None:  # gunicorn writes its access log line just after the answer
        counted = [served(cluster, n, "POST /login") - before[n] for n in (0, 1)]
        return counted if sum(counted) == len(statuses) else None

    counted = wait_until(logged, 10)
    assert counted and min(counted) >= SIGN_IN_LIMIT // 2 - 1, f"both hosts must have answered: {counted}"


def test_soak_through_nginx_loses_nothing_and_the_ledger_verifies(cluster, people):
    before = [served(cluster, n, "PATCH /api/v1/items/") for n in (0, 1)]
    started = time.monotonic()
    record = soak.Record(started)
    threads = [
        threading.Thread(
            target=soak.simulate,
            args=(person, soak.Api(cluster.base, person["token"], record), record, started + SOAK_SECONDS, 0.2, n),
            daemon=True,
        )
        for n, person in enumerate(people)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SOAK_SECONDS + 60)
    result = soak.check(cluster.database_url, record)
    verify = cluster.flask("ledger", "verify")

    statuses = record.statuses
    # Every user got through several requests (how many depends on the machine's load).
    assert sum(statuses.values()) > 20 * 10, f"too little load to mean anything: {statuses}"
    assert not [s for s in statuses if s is None or s >= 500], record.failures[:10]
    assert statuses[409] > 0, "the users never collided"
    problems = {k: v for k, v in result["problems"].items() if k != "details"}
    assert set(problems.values()) == {0}, result["problems"]
    assert verify.returncode == 0, verify.stdout + verify.stderr
    patched = [served(cluster, n, "PATCH /api/v1/items/") - before[n] for n in (0, 1)]
    assert min(patched) > 0, f"both hosts must have taken writes: {patched}"
    for n in (0, 1):
        assert "Traceback" not in cluster.log(f"host-{n}")


def test_sigkill_of_the_working_scheduler_the_other_takes_over_and_delivers_each_reminder(cluster, people, mail):
    from tracker.auth.models import User
    from tracker.extensions import db
    from tracker.groups.models import WorkGroup
    from tracker.reminders.smtp import message_id

    for process in cluster.schedulers:
        cluster.stop_process(process)  # SIGTERM: each releases the lease; the two below start afresh
    owner = next(p for p in people if p["role"] == "member" and p["group"] == "SA")
    lead = next(p for p in people if p["role"] == "lead" and p["group"] == "SA")
    app = cluster.app()
    with app.app_context():
        group = db.session.query(WorkGroup).filter_by(code="SA").one()
        actor = db.session.query(User).filter_by(username=lead["username"]).one()
        owner_id = db.session.query(User).filter_by(username=owner["username"]).one().id
        deadline = local_date(utcnow(), soak.TZ) + timedelta(days=3)
        items = [
            factories.make_item(actor, group, now=utcnow(), title=f"到期{n}", deadline=deadline, owner_id=owner_id)
            for n in range(DUE_ITEMS)
        ]
        item_ids = [item.id for item in items]
        db.session.commit()
        db.engine.dispose()

    def statuses() -> dict:
        rows = query(cluster, "SELECT status, count(*) FROM delivery WHERE item_id = ANY(%s) GROUP BY 1", item_ids)
        return dict(rows)

    def holder_pid() -> int | None:
        rows = query(cluster, "SELECT holder FROM scheduler_lease WHERE expires_at > now()")
        return int(rows[0][0].split(":")[1]) if rows else None

    first = cluster.start_scheduler()
    assert wait_until(lambda: holder_pid() == first.pid, 120), cluster.log("scheduler-2")  # slow to start when loaded
    second = cluster.start_scheduler()
    at_kill = wait_until(lambda: (s := statuses()).get("sent", 0) >= 10 and s, 60, step=0.01)
    assert at_kill, f"the scheduler never started delivering: {statuses()}"
    assert holder_pid() == first.pid, "the lease changed hands before the kill"
    cluster.stop_process(first, 9)
    killed_at = time.monotonic()
    at_kill = statuses()
    assert at_kill.get("sending", 0) + at_kill.get("pending", 0) > 0, f"killed too late: {at_kill}"

    assert wait_until(lambda: holder_pid() == second.pid, LEASE_SECONDS * 2), "no scheduler took over"
    took_over = time.monotonic() - killed_at
    # The lease runs out at most LEASE_SECONDS after the kill; the other looks every third of it.
    assert took_over <= LEASE_SECONDS * 4 / 3 + 5, took_over
    assert wait_until(lambda: set(statuses()) == {"sent"}, 90, step=0.5), statuses()

    deliveries = query(cluster, "SELECT channel, rule, dedupe_key FROM delivery WHERE item_id = ANY(%s)", item_ids)
    reminders = [d for d in deliveries if d[1].startswith("before-")]
    assert len([d for d in reminders if d[0] == "inapp"]) == DUE_ITEMS
    emails = [d for d in deliveries if d[0] == "email"]
    per_delivery = query(
        cluster,
        "SELECT d.id, count(n.id) FROM delivery d LEFT JOIN notification n ON n.delivery_id = d.id"
        " WHERE d.item_id = ANY(%s) AND d.channel = 'inapp' GROUP BY d.id",
        item_ids,
    )
    assert {count for _, count in per_delivery} == {1}  # in-app: exactly once
    assert len([d for d in reminders if d[0] == "email"]) == DUE_ITEMS
    received = set(mail.message_ids)
    missing = [key for _, _, key in emails if message_id(key, "wallchart@localhost") not in received]
    assert missing == []  # email: at least once, under the reminder's own Message-ID
    print(f"took over {took_over:.1f} s after the kill; at the kill {at_kill}")
