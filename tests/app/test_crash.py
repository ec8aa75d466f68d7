"""kill -9 mid-write: of a web worker, of the whole web server, of the scheduler mid-delivery.

The app runs as it does in production, in its own processes (gunicorn with two workers;
``flask scheduler``), on a database of this module's own (SQLite in a temporary folder,
or PostgreSQL when TRACKER_TEST_DATABASE_URL is set). Afterwards: every write a client
saw acknowledged is there, every item row agrees with its ledger (no change without its
entry, no entry without its change), the hash chain verifies, and every due reminder is
delivered in-app exactly once.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from tests import factories
from tests.conftest import pg_database
from tracker.api.services import create_token
from tracker.auth.models import User
from tracker.clock import local_date, utcnow
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.items import ledger
from tracker.items.models import Item, LedgerEntry
from tracker.outbox.models import Delivery, Notification

pytestmark = pytest.mark.slow  # crash

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL")
WRITERS = 4
DUE_ITEMS = 300
# The scheduler under a moved clock: the process's wall clock starts at argv[1] and ticks on.
TRAVELLING_FLASK = (
    "import sys; from datetime import datetime; import time_machine; "
    "time_machine.travel(datetime.fromisoformat(sys.argv.pop(1)), tick=True).start(); "
    "from flask.cli import main; main()"
)


@pytest.fixture(scope="module")
def own_pg_url():
    """A PostgreSQL database for this module alone: the servers it starts connect to it."""
    if not PG_URL:
        yield None
        return
    with pg_database("crash") as url:
        yield url


@pytest.fixture
def database_url(own_pg_url, tmp_path):
    return own_pg_url or f"sqlite:///{tmp_path / 'crash.db'}"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """The servers a test starts, each in its own process group; all stopped at the end."""

    def __init__(self, database_url: str, tmp_path: Path):
        self.env = dict(
            os.environ,
            TRACKER_DATABASE_URL=database_url,
            TRACKER_SECRET_KEY="crash-test-secret-key-0123456789",
            TRACKER_SCHEDULER="off",
            PYTHONPATH=str(ROOT),
        )
        self.env.pop("TRACKER_SMTP_HOST", None)
        self.tmp_path = tmp_path
        self.running: list[subprocess.Popen] = []

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = (self.tmp_path / f"{name}.log").open("a")
        process = subprocess.Popen(  # noqa: S603 - our own executables
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.running.append(process)
        return process

    def gunicorn(self, port: int) -> subprocess.Popen:
        command = [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--graceful-timeout", "2"]
        command.append("--no-control-socket")  # each test server alone: no shared ~/.gunicorn/gunicorn.ctl
        process = self.start("gunicorn", [*command, "tracker:create_app()"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    return process
            except requests.RequestException:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not start:\n" + self.log("gunicorn"))

    def scheduler(self, at) -> subprocess.Popen:
        command = [sys.executable, "-c", TRAVELLING_FLASK, at.isoformat(), "--app", "tracker", "scheduler"]
        return self.start("scheduler", command)

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")

    def kill(self, process: subprocess.Popen, sig=signal.SIGKILL) -> None:
        """Signal the whole process group (gunicorn's master and workers alike)."""
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                self.kill(process, signal.SIGTERM)


@pytest.fixture
def processes(database_url, tmp_path):
    started = Processes(database_url, tmp_path)
    yield started
    started.stop_all()


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def kill_a_worker(master: subprocess.Popen) -> bool:
    workers = children(master.pid)
    if not workers:
        return False
    os.kill(workers[0], signal.SIGKILL)
    return True


class Writer(threading.Thread):
    """Read the item, PATCH its title with the version read, add a progress note; note every answer."""

    def __init__(self, port_box: list, token: str, item_id: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.port_box, self.item_id, self.stop = port_box, item_id, stop
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.acked: list[dict] = []
        self.unknown: list[dict] = []
        self.unexpected: list = []

    def send(self, method: str, path: str, body: dict | None = None):
        url = f"http://127.0.0.1:{self.port_box[0]}/api/v1/items/{self.item_id}{path}"
        try:
            response = self.session.request(method, url, json=body, timeout=20)
        except requests.RequestException:
            return None, None
        return response.status_code, response.json() if response.content else None

    def run(self) -> None:
        for n in range(100_000):
            if self.stop.is_set():
                return
            status, item = self.send("GET", "")
            if status != 200:
                time.sleep(0.05)
                continue
            write = {"kind": "patch", "sent": item["version"], "title": f"标题 {self.item_id}-{n}"}
            status, answer = self.send("PATCH", "", {"version": item["version"], "title": write["title"]})
            self.note(write, status, answer)
            write = {"kind": "progress", "progress": n % 100 + 1, "note": f"进展 {n}"}
            status, answer = self.send("POST", "/ledger", {"note": write["note"], "progress": write["progress"]})
            self.note(write, status, answer)

    def note(self, write: dict, status: int | None, answer: dict | None) -> None:
        if status is None or status >= 500:
            self.unknown.append(write)  # cut off mid-request: it may or may not have committed
        elif status < 300:
            self.acked.append({**write, "answer": answer})
        elif not (status == 409 and write["kind"] == "patch"):
            self.unexpected.append((status, answer))


def assert_row_matches_ledger(item: Item) -> None:
    """One version step per committed change, with its entries; the row is its ledger replayed."""
    log = db.session.scalars(select(LedgerEntry).where(LedgerEntry.item_id == item.id).order_by(LedgerEntry.id)).all()
    assert {e.item_version for e in log if e.kind != "created"} == set(range(1, item.version))
    state = {"title": log[0].after, "progress": "0", "status": "open"}
    for entry in log:
        if entry.field:
            state[entry.field] = entry.after
    assert (item.title, str(item.progress), item.status) == (state["title"], state["progress"], state["status"])


def test_kill_9_of_web_workers_and_the_server_loses_no_acknowledged_write(app, world, processes):
    with app.app_context():
        lead = db.session.get(User, world.lead.id)
        group = db.session.get(WorkGroup, world.cs.id)
        item_ids = [factories.make_item(lead, group, title=f"并发{n}").id for n in range(WRITERS)]
        token = create_token(lead, "crash", now=utcnow())[1]
        db.session.commit()
    port_box = [free_port()]
    server = processes.gunicorn(port_box[0])
    stop = threading.Event()
    writers = [Writer(port_box, token, item_id, stop) for item_id in item_ids]
    for writer in writers:
        writer.start()
    try:
        for _ in range(3):  # a worker dies mid-request; the master starts another
            time.sleep(1.2)
            assert kill_a_worker(server), processes.log("gunicorn")
        time.sleep(1.2)
        processes.kill(server)  # the whole server, workers and master, at once
        time.sleep(0.3)
        acked_before_restart = sum(len(w.acked) for w in writers)
        port_box[0] = free_port()
        processes.gunicorn(port_box[0])
        time.sleep(1.5)
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=30)
    assert [u for w in writers for u in w.unexpected] == []
    assert sum(len(w.unknown) for w in writers) > 0, "no kill landed on a request in flight"
    assert sum(len(w.acked) for w in writers) > acked_before_restart, "no write succeeded after the restart"

    with app.app_context():
        for writer in writers:
            item = db.session.get(Item, writer.item_id)
            changes = set(
                db.session.execute(
                    select(LedgerEntry.field, LedgerEntry.after, LedgerEntry.item_version).where(
                        LedgerEntry.item_id == item.id
                    )
                ).all()
            )
            entry_ids = set(db.session.scalars(select(LedgerEntry.id).where(LedgerEntry.item_id == item.id)))
            for write in writer.acked:
                if write["kind"] == "patch":
                    assert ("title", write["title"], write["sent"]) in changes
                else:
                    assert write["answer"]["id"] in entry_ids
            last_title = [w["title"] for w in writer.acked if w["kind"] == "patch"][-1]
            assert item.title in {last_title} | {w["title"] for w in writer.unknown if w["kind"] == "patch"}
            assert_row_matches_ledger(item)
        assert ledger.verify_chain().ok


def test_kill_9_of_the_scheduler_mid_delivery_delivers_each_reminder_once(app, world, processes):
    start = factories.NOW  # 10:00 in Maoming: past the 08:30 digest
    with app.app_context():
        lead = db.session.get(User, world.lead.id)
        group = db.session.get(WorkGroup, world.cs.id)
        deadline = local_date(start, "Asia/Shanghai") + timedelta(days=3)
        for n in range(DUE_ITEMS):
            factories.make_item(lead, group, title=f"到期{n}", deadline=deadline, owner_id=world.member.id)
        db.session.commit()

    def counts() -> dict:
        """Outbox rows by status, read without a transaction that would queue behind the scheduler's writes."""
        with app.app_context():
            conn = db.engine.raw_connection()
            try:
                cursor = conn.cursor()
                cursor.execute("SELECT status, count(*) FROM delivery GROUP BY status")
                rows = dict(cursor.fetchall())
                conn.rollback()
            finally:
                conn.close()
            return rows

    first = processes.scheduler(start)
    at_kill = {}
    deadline_at = time.monotonic() + 60
    while time.monotonic() < deadline_at and first.poll() is None:
        if counts().get("sent", 0) >= 20:
            processes.kill(first)
            at_kill = counts()
            break
        time.sleep(0.01)
    assert at_kill, "the scheduler never started delivering:\n" + processes.log("scheduler")
    assert at_kill.get("sending", 0) + at_kill.get("pending", 0) > 0, f"killed too late: {at_kill}"

    # Restarted once the dead process's leases (scheduler 3 min, claimed rows 5 min) have run out.
    later = processes.scheduler(start + timedelta(minutes=6))
    deadline_at = time.monotonic() + 60
    while time.monotonic() < deadline_at and set(counts()) != {"sent"}:
        time.sleep(0.2)
    processes.kill(later, signal.SIGTERM)

    with app.app_context():
        deliveries = db.session.scalars(select(Delivery)).all()
        assert {d.status for d in deliveries} == {"sent"}, processes.log("scheduler")
        assert {d.channel for d in deliveries} == {"inapp"}
        # The deadline reminders (the items' assignment notices are workflow rows beside them).
        owner_rows = [d for d in deliveries if d.user_id == world.member.id and d.rule.startswith("before-")]
        assert len(owner_rows) == DUE_ITEMS
        assert len(deliveries) > at_kill["sent"]
        per_delivery = select(Notification.delivery_id, func.count()).group_by(Notification.delivery_id)
        assert {n for _, n in db.session.execute(per_delivery)} == {1}
        assert db.session.scalar(select(func.count(Notification.id))) == len(deliveries)
        per_reminder = (
            select(func.count())
            .select_from(Notification)
            .join(Delivery, Delivery.id == Notification.delivery_id)
            .group_by(Delivery.user_id, Delivery.rule, Delivery.item_id, Delivery.local_date)
        )
        assert set(db.session.scalars(per_reminder)) == {1}
