"""Benchmark the reminder sweep and delivery: 100,000 items, 10,000 users, a month of history.

    python bench/reminders.py --db sqlite
    python bench/reminders.py --db postgresql
    python bench/reminders.py --db both --deliver 5000

Builds a fresh database (30 work groups, 10 of them with a chat robot; 10,000 users;
100,000 items of which ~40% are still open, deadlines from 20 days ago to 160 days
ahead), replays the last 30 days of 08:00 sweeps to leave a month of sent reminder
history, then measures, at 08:00 on the day:

1. the sweep (every rule's INSERT … SELECT … ON CONFLICT DO NOTHING, one transaction);
2. the same sweep again right after (nothing new to queue), ``--reruns`` times: the median
   wall time and the CPU seconds per re-run of this process and of the PostgreSQL backend
   (read from /proc, so only for a server on this machine), first with the statistics of
   before the day's sweep, then again after a fresh ANALYZE;
3. delivery of what the sweep queued: email to a loopback aiosmtpd server, in-app
   notifications, and robot posts to a loopback HTTP receiver.

Prints a Markdown table; targets: sweep < 0.5 s, re-run < 0.1 s, delivery >= 100 msg/s.
"""

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text, update  # noqa: E402

from tracker import create_app  # noqa: E402
from tracker.auth.models import User  # noqa: E402
from tracker.event.models import Event  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.groups.models import WorkGroup, group_membership  # noqa: E402
from tracker.items.models import Item  # noqa: E402
from tracker.outbox.models import Delivery  # noqa: E402
from tracker.reminders import sender, services, sweep  # noqa: E402
from tracker.reminders.models import ReminderSettings  # noqa: E402

TZ = "Asia/Shanghai"
TODAY = date(2026, 7, 1)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/"
GROUPS, ROBOTS, COMMITTEE, LEADS_PER_GROUP = 30, 10, 5, 2


def at_eight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 8, 0, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


def start_smtp_server(port: int) -> subprocess.Popen:
    """aiosmtpd in its own process (as a real mail server would be), accepting and discarding."""
    command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the loopback SMTP server did not start")


def start_robot_receiver() -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"errcode": 0}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(kind: str, pg_database: str) -> str:
    if kind == "sqlite":
        path = ROOT / "instance" / "bench_reminders.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{pg_database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{pg_database}"')
    return PG_URL + pg_database


def populate(items: int, users: int, robot_port: int, rng: random.Random) -> None:
    now = at_eight(TODAY - timedelta(days=40))
    db.session.add(
        Event(name="广东省第十届残疾人运动会", opening_at=datetime(2026, 9, 18, 12, tzinfo=UTC), timezone=TZ)
    )
    db.session.flush()
    event_id = db.session.scalar(select(Event.id))
    db.session.execute(
        insert(WorkGroup),
        [
            {
                "code": f"G{g:02d}",
                "name": f"第{g}工作组",
                "webhook_url": f"http://127.0.0.1:{robot_port}/robot/send?access_token=bench{g:02d}token0123456789"
                if g <= ROBOTS
                else None,
                "webhook_format": "dingtalk",
            }
            for g in range(1, GROUPS + 1)
        ],
    )
    group_ids = list(db.session.scalars(select(WorkGroup.id).order_by(WorkGroup.id)))
    rows = []
    for n in range(users):
        role = "committee" if n < COMMITTEE else "lead" if n < COMMITTEE + GROUPS * LEADS_PER_GROUP else "member"
        rows.append(
            {
                "username": f"u{n:05d}",
                "display_name": f"用户{n}",
                "email": f"u{n:05d}@example.org",
                "password_hash": "x",
                "role": role,
                "locale": "zh_CN",
                "session_token": f"{n:032x}",
                "created_at": now,
            }
        )
    db.session.execute(insert(User), rows)
    user_ids = list(db.session.scalars(select(User.id).order_by(User.id)))
    members_of = {g: [] for g in group_ids}
    memberships = []
    for n, uid in enumerate(user_ids[COMMITTEE:]):
        group = group_ids[n // LEADS_PER_GROUP] if n < GROUPS * LEADS_PER_GROUP else rng.choice(group_ids)
        memberships.append({"user_id": uid, "group_id": group})
        members_of[group].append(uid)
    db.session.execute(insert(group_membership), memberships)
    statuses = ["open"] * 25 + ["in_progress"] * 15 + ["submitted"] * 10 + ["closed"] * 45 + ["cancelled"] * 5
    batch = []
    for n in range(items):
        group = rng.choice(group_ids)
        status = rng.choice(statuses)
        batch.append(
            {
                "event_id": event_id,
                "kind": "problem",
                "title": f"整改事项{n}",
                "group_id": group,
                "owner_id": rng.choice(members_of[group]) if rng.random() < 0.9 else None,
                "deadline": TODAY + timedelta(days=rng.randint(-20, 160)),
                "is_confidential": rng.random() < 0.05,
                "status": status,
                "progress": 0,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        if len(batch) == 10000:
            db.session.execute(insert(Item), batch)
            batch = []
    if batch:
        db.session.execute(insert(Item), batch)
    db.session.add(ReminderSettings(id=1, webhook_hosts="127.0.0.1"))
    db.session.commit()


def replay_history(days: int) -> int:
    """The last month's 08:00 sweeps, all delivered: the outbox a running install would have."""
    policy = services.policy()
    for back in range(days, 0, -1):
        day = TODAY - timedelta(days=back)
        sweep.run_sweep(
            at_eight(day), day, policy, email=True, with_digest=False, last_swept_on=day - timedelta(days=1)
        )
        db.session.commit()
    db.session.execute(update(Delivery).values(status="sent", attempts=1, sent_at=Delivery.created_at))
    db.session.commit()
    return db.session.scalar(select(func.count(Delivery.id)))


def analyze() -> None:
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def timed_sweep(last_swept_on: date) -> tuple[float, int]:
    now = at_eight(TODAY)
    started = time.perf_counter()
    counts = sweep.run_sweep(now, TODAY, services.policy(), email=True, with_digest=False, last_swept_on=last_swept_on)
    db.session.commit()
    return time.perf_counter() - started, sum(counts.values())


def backend_cpu(pid: int | None) -> float:
    """CPU seconds of a PostgreSQL backend so far, read from /proc (0 when it runs elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_reruns(times: int) -> tuple[float, float, float, int]:
    """The re-run ``times`` times: median wall seconds, mean CPU seconds (this process, the backend), rows."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    pid = db.session.scalar(text("SELECT pg_backend_pid()")) if postgresql else None  # the pool keeps it
    walls, rows = [], 0
    cpu, server = time.process_time(), backend_cpu(pid)
    for _ in range(times):
        wall, queued = timed_sweep(TODAY)
        walls.append(wall)
        rows += queued
    return (
        statistics.median(walls),
        (time.process_time() - cpu) / times,
        (backend_cpu(pid) - server) / times,
        rows,
    )


def timed_delivery(limit: int | None) -> tuple[float, dict]:
    started = time.perf_counter()
    outcome = sender.send_due(at_eight(TODAY), TZ, services.policy(), limit=limit)
    return time.perf_counter() - started, dict(outcome)


def run(kind: str, items: int, users: int, history: int, deliver: int | None, reruns: int, pg_database: str) -> dict:
    rng = random.Random(20260701)
    smtp_port = free_port()
    smtp_server = start_smtp_server(smtp_port)
    robot = start_robot_receiver()
    url = fresh_database(kind, pg_database)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret-key-0123456789abcdef",
            "SCHEDULER": "off",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp_port,
            "BASE_URL": "https://wallchart.example",
        }
    )
    result = {"db": kind}
    try:
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            populate(items, users, robot.server_address[1], rng)
            result["history_rows"] = replay_history(history)
            analyze()
            result["setup_s"] = time.perf_counter() - started
            result["sweep_s"], result["queued"] = timed_sweep(TODAY - timedelta(days=1))  # first of the day
            result["rerun"] = timed_reruns(reruns)  # statistics from before the day's sweep
            analyze()
            result["rerun_analyzed"] = timed_reruns(reruns)
            result["deliver_s"], result["delivered"] = timed_delivery(deliver)
            result["emails"] = db.session.scalar(
                select(func.count(Delivery.id)).where(
                    Delivery.channel == "email", Delivery.status == "sent", Delivery.created_at >= at_eight(TODAY)
                )
            )
            sent = result["delivered"].get("sent", 0)
            result["rate"] = sent / result["deliver_s"] if result["deliver_s"] else 0.0
            db.session.remove()
            db.engine.dispose()
    finally:
        smtp_server.terminate()
        smtp_server.wait()
        robot.shutdown()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--history-days", type=int, default=30)
    parser.add_argument("--deliver", type=int, default=None, help="stop delivery after about this many rows")
    parser.add_argument("--reruns", type=int, default=7, help="re-runs measured, before and after ANALYZE")
    parser.add_argument("--pg-database", default="wallchart_reminders_bench", help="dropped and created again")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    results = [
        run(kind, args.items, args.users, args.history_days, args.deliver, args.reruns, args.pg_database)
        for kind in kinds
    ]
    print(f"\n{args.items:,} items, {args.users:,} users, {args.history_days} days of history\n")
    print(
        "| database | history rows | queued | sweep | re-run (stale statistics) | re-run (after ANALYZE) "
        "| delivered | emails | delivery |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|")

    def rerun(wall, cpu, server, rows):
        return f"{wall:.3f} s (cpu {cpu:.3f} + {server:.3f} s, {rows} new)"

    for r in results:
        delivered = ", ".join(f"{k} {v}" for k, v in sorted(r["delivered"].items()))
        print(
            f"| {r['db']} | {r['history_rows']:,} | {r['queued']:,} | {r['sweep_s']:.3f} s | "
            f"{rerun(*r['rerun'])} | {rerun(*r['rerun_analyzed'])} | {delivered} | {r['emails']:,} | "
            f"{r['rate']:.0f} msg/s |"
        )
    print(f"\nre-run: median of {args.reruns}, CPU seconds per re-run of this process + the PostgreSQL backend")


if __name__ == "__main__":
    main()
