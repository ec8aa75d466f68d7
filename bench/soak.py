"""Soak: 20 users editing the same items through the JSON API, then prove nothing was lost.

    python bench/soak.py                                  # PostgreSQL, 4 gunicorn workers, 300 s
    python bench/soak.py --duration 30                    # a quick run
    python bench/soak.py --db sqlite --duration 120       # SQLite, one gunicorn worker
    python bench/soak.py --duration 120 --restart-postgres   # PostgreSQL restarted half-way

Creates a throwaway database (``wallchart_soak`` on 127.0.0.1, or ``instance/soak.db``),
``flask init-db``, an admin with ``flask api-token``; starts gunicorn
(``TRACKER_SCHEDULER=off``), ``flask scheduler`` and an SMTP sink on loopback; seeds an
event, two groups, users and items; then simulated users read items and PATCH them with
the version they read (so they collide), add progress notes and move items through the
workflow. Every answer is recorded. Afterwards it checks: no 5xx, every accepted write
is in the ledger and the final row matches the last accepted write, every conflict was
a 409 against a really stale version, ``flask ledger verify`` passes, each row agrees
with its ledger, and no reminder was delivered twice. It stops everything it started,
also on Ctrl-C or an error, and exits 1 if a check failed.
"""

import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_URL = "postgresql://postgres@127.0.0.1:5432/wallchart_soak"
SQLITE_PATH = ROOT / "instance" / "soak.db"
TZ = "Asia/Shanghai"
PASSWORD = "soak-password-1"  # noqa: S105 - a throwaway database
SECRET_KEY = "soak-secret-key-0123456789abcdef"  # noqa: S105
GROUPS = ("SA", "SB")
PATCH_FIELDS = ("title", "measures", "remarks")
TARGETS = {"start": "in_progress", "submit": "submitted", "verify": "closed", "reject": "in_progress"}
TARGETS["reopen"] = "in_progress"
DEADLINE_OFFSETS = (-4, -1, 0, 1, 3, 7, 20)  # days from today: reminders fall due during the run
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Everything started, each in its own process group, stopped in reverse order."""

    def __init__(self, log_dir: Path):
        self.started: list[tuple[str, subprocess.Popen]] = []
        self.log_dir = log_dir

    def start(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        log = (self.log_dir / f"soak-{name}.log").open("w")
        process = subprocess.Popen(  # noqa: S603 - our own executables and arguments
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started.append((name, process))
        return process

    def log(self, name: str) -> str:
        return (self.log_dir / f"soak-{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for _name, process in reversed(self.started):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
                except ProcessLookupError:
                    pass
        self.started.clear()


def flask(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [str(BIN / "flask"), "--app", "tracker", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=300,
    )


def reset_database(args) -> str:
    if args.db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{SQLITE_PATH}"
    import psycopg

    base, _, name = args.database_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return args.database_url


class MailSink:
    """An SMTP server on loopback that keeps each message's Message-ID."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.message_ids: list[str] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes

        self.message_ids.append(message_from_bytes(envelope.content)["Message-ID"])
        return "250 Message accepted"


class Api:
    """One user's bearer-token client; every answer goes into the shared record."""

    def __init__(self, base: str, token: str, record: "Record"):
        self.base, self.record = base, record
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["Accept-Language"] = "en"

    def call(self, method: str, path: str, body: dict | None = None, kind: str = "read"):
        started = time.monotonic()
        try:
            response = self.session.request(method, self.base + path, json=body, timeout=30)
        except requests.RequestException as error:
            self.record.answer(kind, None, time.monotonic() - started, str(error))
            return None, None
        self.record.answer(kind, response.status_code, time.monotonic() - started, response)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None


class Record:
    def __init__(self, started: float):
        self.started = started
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.by_kind: Counter = Counter()
        self.latencies: list[float] = []
        self.writes: list[dict] = []
        self.failures: list[tuple[float, object, str]] = []  # (seconds into the run, status, detail)

    def answer(self, kind: str, status: int | None, seconds: float, detail) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.by_kind[(kind, status)] += 1
            self.latencies.append(seconds)
            if status is None or status >= 500:
                text = detail if isinstance(detail, str) else _message(detail.text)
                self.failures.append((time.monotonic() - self.started, status, text))

    def write(self, **entry) -> None:
        with self.lock:
            self.writes.append(entry)


def _message(body: str) -> str:
    """What a failed answer said: the JSON error's message or the error page's sentence."""
    try:
        return json.loads(body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        found = re.search(r"[^<>]*\bdatabase\b[^<>]*", body, re.IGNORECASE)
        return found.group(0).strip() if found else " ".join(body.split())[:200]


def seed(base: str, admin_token: str, database_url: str, users: int, items: int, today: date) -> list[dict]:
    """An event, two groups (through the API), users with tokens, items (through the API, by leads)."""
    admin = requests.Session()
    admin.headers["Authorization"] = f"Bearer {admin_token}"
    opening = datetime.combine(today + timedelta(days=100), datetime.min.time(), ZoneInfo(TZ)).replace(hour=20)
    event = {"name": "压力测试运动会", "opening_at": opening.isoformat(), "timezone": TZ}
    admin.put(f"{base}/api/v1/event", json=event, timeout=30).raise_for_status()
    for code in GROUPS:
        admin.post(f"{base}/api/v1/groups", json={"code": code, "name": f"{code}组"}, timeout=30).raise_for_status()
    people = _users(database_url, users)
    leads = {g: [p for p in people if p["role"] == "lead" and p["group"] == g] for g in GROUPS}
    owners = {g: [p for p in people if p["role"] == "member" and p["group"] == g] or leads[g] for g in GROUPS}
    for person in people:
        person["today"] = today
    for n in range(items):
        group = GROUPS[n % 2]
        lead = leads[group][n % len(leads[group])]
        owner = owners[group][(n // 2) % len(owners[group])]
        body = {
            "title": f"检查项{n:03d}",
            "group": group,
            "owner": owner["username"],
            "measures": "整改",
            "deadline": (today + timedelta(days=DEADLINE_OFFSETS[n % len(DEADLINE_OFFSETS)])).isoformat(),
        }
        response = requests.post(
            f"{base}/api/v1/items", json=body, headers={"Authorization": f"Bearer {lead['token']}"}, timeout=30
        )
        response.raise_for_status()
        item = response.json()
        owner.setdefault("own", []).append(item["id"])
        for person in people:
            if person["role"] == "committee" or person["group"] == group:
                person.setdefault("items", []).append(item["id"])
    return people


def _users(database_url: str, count: int) -> list[dict]:
    """Users and tokens with the services ``flask create-user`` and ``flask api-token`` call, in one process."""
    from tracker import create_app
    from tracker.api.services import create_token
    from tracker.auth.users import create_user
    from tracker.clock import utcnow
    from tracker.extensions import db

    committee = max(1, count // 10)
    people = [{"role": "committee", "group": None} for _ in range(committee)]
    for n in range(count - committee):
        group = GROUPS[n % 2]
        rank = n // 2
        people.append({"role": "lead" if rank < 3 else "member", "group": group})
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        for n, person in enumerate(people):
            person["username"] = f"soak-{person['role']}-{n:02d}"
            user = create_user(
                username=person["username"],
                password=PASSWORD,
                role=person["role"],
                group_codes=[person["group"]] if person["group"] else [],
                email=f"{person['username']}@example.org",
            )
            person["token"] = create_token(user, "soak", now=utcnow())[1]
        db.session.commit()
        db.engine.dispose()
    return people


def simulate(person: dict, api: Api, record: Record, stop_at: float, think: float, seed_value: int) -> None:
    """One user's closed loop: read an item, then edit it with the version read, note progress or move it on."""
    rng = random.Random(seed_value)
    role, sequence = person["role"], 0
    items, own = person.get("items", []), person.get("own", [])
    for _ in range(100_000):  # bounded; the clock ends it long before
        if time.monotonic() >= stop_at or not items:
            return
        time.sleep(rng.uniform(0, think))
        sequence += 1
        roll = rng.random()
        if roll < 0.12:
            api.call("GET", rng.choice(["/api/v1/board", "/api/v1/items?per_page=50", "/api/v1/notifications"]))
            continue
        item_id = rng.choice(own) if own and (role == "member" or rng.random() < 0.3) else rng.choice(items)
        status, item = api.call("GET", f"/api/v1/items/{item_id}")
        if status != 200:
            continue
        if role != "committee" and item["status"] in ("closed", "cancelled"):
            continue
        if role == "member" and item["owner"] != person["username"]:
            continue
        if item["status"] in ("closed", "cancelled"):
            _transition(api, record, person, item, rng)  # the committee reopens; nobody may edit it closed
        elif role in ("lead", "committee") and roll < 0.65:
            _patch(api, record, person, item, rng, sequence)
        elif roll < 0.82:
            _progress(api, record, person, item, rng, sequence)
        else:
            _transition(api, record, person, item, rng)


def _patch(api, record, person, item, rng, sequence) -> None:
    if rng.random() < 0.08:
        current = date.fromisoformat(item["deadline"])
        new = person["today"] + timedelta(days=rng.choice(DEADLINE_OFFSETS))
        if new == current:
            new += timedelta(days=1)
        fields = {"deadline": new.isoformat()}
        body = {"version": item["version"], **fields, "reason": "延期：场馆改造"}
    else:
        name = rng.choice(PATCH_FIELDS)
        fields = {name: f"{person['username']} #{sequence} {name}"}  # unique: every accepted PATCH changes it
        body = {"version": item["version"], **fields}
    status, answer = api.call("PATCH", f"/api/v1/items/{item['id']}", body, kind="patch")
    record.write(
        kind="patch",
        item=item["id"],
        sent=item["version"],
        fields=fields,
        status=status,
        version=answer.get("version") if status == 200 else None,
        current=(answer or {}).get("error", {}).get("current_version") if status == 409 else None,
    )


def _progress(api, record, person, item, rng, sequence) -> None:
    body = {"note": f"{person['username']} 进展 #{sequence}"}
    if rng.random() < 0.5:
        body["progress"] = rng.choice([p for p in range(0, 100, 10) if p != item["progress"]])
    status, answer = api.call("POST", f"/api/v1/items/{item['id']}/ledger", body, kind="progress")
    entry = answer if status == 201 else {}
    record.write(kind="progress", item=item["id"], status=status, entry=entry.get("id"), progress=body.get("progress"))


def _transition(api, record, person, item, rng) -> None:
    role, state = person["role"], item["status"]
    choices = {"open": ["start"], "in_progress": ["submit"], "submitted": [], "closed": []}.get(state, [])
    if role == "committee":
        choices = {"submitted": ["verify", "verify", "reject"], "closed": ["reopen"]}.get(state, [])
    if not choices:
        return
    action = rng.choice(choices)
    body = {"action": action, "note": "复查" if action in ("reject", "reopen") else ""}
    status, answer = api.call("POST", f"/api/v1/items/{item['id']}/transitions", body, kind="transition")
    record.write(
        kind="transition",
        item=item["id"],
        action=action,
        status=status,
        version=answer.get("version") if status == 200 else None,
        new_status=answer.get("status") if status == 200 else None,
    )


def restart_postgres(database_url: str, force: bool) -> str:
    """Restart the whole server, unless other databases have clients (they would see it too)."""
    import psycopg

    base, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        others = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
            " AND datname IS DISTINCT FROM %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()[0]
        version = conn.execute("SHOW server_version_num").fetchone()[0]
    if others and not force:
        return f"skipped: {others} client(s) of other databases connected"
    major = str(int(version) // 10000)
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", major, "main", "restart"]
    subprocess.run(command, check=True, timeout=120)  # noqa: S603 - the Debian tool, from PATH
    return "restarted"


def wait_healthy(base: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not become healthy")


def run(args) -> dict:
    database_url = reset_database(args)
    log_dir = ROOT / "instance"
    processes = Processes(log_dir)
    sink = MailSink()
    sink.controller.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        TRACKER_DATABASE_URL=database_url,
        TRACKER_SECRET_KEY=SECRET_KEY,
        TRACKER_SCHEDULER="off",
        TRACKER_SMTP_HOST="127.0.0.1",
        TRACKER_SMTP_PORT=str(sink.port),
        PYTHONPATH=str(ROOT),
    )
    result: dict = {"db": args.db, "workers": args.workers, "threads": args.threads, "users": args.users}
    try:
        flask(env, "init-db")
        flask(env, "create-user", "soak-admin", "--password", PASSWORD, "--role", "admin")
        admin_token = flask(env, "api-token", "soak-admin").stdout.strip()
        gunicorn = [str(BIN / "gunicorn"), "-w", str(args.workers), "--threads", str(args.threads)]
        gunicorn += [
            "-b",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "10",
            "--no-control-socket",
            "tracker:create_app()",
        ]
        processes.start("gunicorn", gunicorn, env)
        wait_healthy(base)
        today = datetime.now(ZoneInfo(TZ)).date()
        people = seed(base, admin_token, database_url, args.users, args.items, today)
        processes.start("scheduler", [str(BIN / "flask"), "--app", "tracker", "scheduler"], env)

        started = time.monotonic()
        record = Record(started)
        stop_at = started + args.duration
        threads = [
            threading.Thread(
                target=simulate, args=(p, Api(base, p["token"], record), record, stop_at, args.think, n), daemon=True
            )
            for n, p in enumerate(people)
        ]
        for thread in threads:
            thread.start()
        if args.restart_postgres:
            time.sleep(max(0.0, started + args.duration / 2 - time.monotonic()))
            result["restart_at"] = time.monotonic() - started
            result["restart"] = restart_postgres(database_url, args.force_restart)
            result["restart_done_at"] = time.monotonic() - started
        for thread in threads:
            thread.join(timeout=max(1.0, stop_at - time.monotonic() + 60))
        result["seconds"] = time.monotonic() - started
        # A second sender beside the scheduler: what it delivers must not be delivered again.
        result["reminders_run"] = flask(env, "reminders", "run", check=False).stdout.strip()
        time.sleep(2)
        processes.stop_all()
        result["verify"] = flask(env, "ledger", "verify", check=False)
        result["log"] = processes.log("gunicorn") + processes.log("scheduler")
        result["record"], result["people"] = record, people
        result["emails"] = list(sink.message_ids)
        result.update(check(database_url, record))
    finally:
        processes.stop_all()
        sink.controller.stop()
    return result


def check(database_url: str, record: Record) -> dict:
    """Compare what the clients were told with what the database holds."""
    from sqlalchemy import text

    from tracker import create_app
    from tracker.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        items = {r.id: r for r in db.session.execute(text("SELECT * FROM item"))}
        entries = defaultdict(list)
        for e in db.session.execute(text("SELECT * FROM ledger_entry ORDER BY id")):
            entries[e.item_id].append(e)
        duplicate_sent = db.session.execute(
            text(
                "SELECT count(*) FROM (SELECT dedupe_key FROM delivery WHERE status = 'sent'"
                " GROUP BY dedupe_key HAVING count(*) > 1) d"
            )
        ).scalar()
        duplicate_notes = db.session.execute(
            text(
                # A reminder once per person, rule, item or milestone and day; a workflow notification
                # once per person and event (an item may change hands twice in a day).
                "SELECT count(*) FROM (SELECT 1 FROM notification n JOIN delivery d ON d.id = n.delivery_id"
                " GROUP BY d.user_id, d.rule, d.item_id, d.milestone_id, d.local_date, d.event_id"
                " HAVING count(*) > 1) x"
            )
        ).scalar()
        unmatched = db.session.execute(
            text(
                "SELECT count(*) FROM delivery d WHERE d.channel = 'inapp' AND d.status = 'sent'"
                " AND NOT EXISTS (SELECT 1 FROM notification n WHERE n.delivery_id = d.id)"
            )
        ).scalar()
        deliveries = dict(
            db.session.execute(text("SELECT channel || ' ' || status, count(*) FROM delivery GROUP BY 1")).all()
        )
        db.engine.dispose()
    problems = compare(items, entries, record.writes)
    problems["duplicate deliveries"] = duplicate_sent + duplicate_notes
    problems["in-app sent without notification"] = unmatched
    return {"problems": problems, "deliveries": deliveries}


def _display(row, name: str) -> str:
    value = getattr(row, name)
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def compare(items: dict, entries: dict, writes: list[dict]) -> dict:
    """Lost updates, false or missing conflicts, and rows that disagree with their ledger."""
    lost, conflicts, mismatched, anomalies = [], [], [], []
    accepted = defaultdict(list)
    unknown = defaultdict(list)
    for w in writes:
        if w["status"] is None or w["status"] >= 500:
            unknown[w["item"]].append(w)
        elif 200 <= w["status"] < 300:
            accepted[w["item"]].append(w)
        elif w["kind"] == "patch" and w["status"] == 409 and not (w["current"] or 0) > w["sent"]:
            conflicts.append(f"item {w['item']}: 409 for version {w['sent']}, current {w['current']}")
    for item_id, ws in accepted.items():
        log = entries[item_id]
        changes = {(e.field, e.after, e.item_version) for e in log}
        statuses = Counter(e.after for e in log if e.kind == "status")
        patches = [w for w in ws if w["kind"] == "patch"]
        for base, n in Counter(w["sent"] for w in patches).items():
            if n > 1:
                conflicts.append(f"item {item_id}: {n} PATCHes accepted against version {base}")
        for w in patches:
            # The answer re-reads the row after the commit: a later writer's version may show, never an older one.
            if w["version"] <= w["sent"]:
                anomalies.append(f"item {item_id}: PATCH on {w['sent']} answered version {w['version']}")
            for name, value in w["fields"].items():
                if (name, value, w["sent"]) not in changes:
                    lost.append(f"item {item_id}: {name}={value!r} (version {w['sent']}) not in the ledger")
        ids = {e.id for e in log}
        for w in ws:
            if w["kind"] == "progress" and w["entry"] not in ids:
                lost.append(f"item {item_id}: progress entry {w['entry']} missing")
        moved = Counter(TARGETS[w["action"]] for w in ws if w["kind"] == "transition")
        for target, n in moved.items():
            if statuses[target] < n:
                lost.append(f"item {item_id}: {n} accepted moves to {target}, {statuses[target]} in the ledger")
        row = items[item_id]
        for name in (*PATCH_FIELDS, "deadline"):
            touching = [w for w in patches if name in w["fields"]]
            if not touching:
                continue
            allowed = {max(touching, key=lambda w: w["sent"])["fields"][name]}
            allowed |= {w["fields"][name] for w in unknown[item_id] if name in w.get("fields", {})}
            if _display(row, name) not in allowed:
                lost.append(f"item {item_id}: final {name} {_display(row, name)!r} is not the last accepted write")
    for item_id, row in items.items():
        mismatched += _row_vs_ledger(row, entries[item_id])
    return {
        "lost updates": len(lost),
        "missed or false conflicts": len(conflicts),
        "version anomalies": len(anomalies),
        "rows disagreeing with ledger": len(mismatched),
        "details": (lost + conflicts + anomalies + mismatched)[:20],
    }


def _row_vs_ledger(row, log: list) -> list[str]:
    """Every committed change made one version step with its entries, and the row is the ledger replayed."""
    problems = []
    steps = {e.item_version for e in log if e.kind != "created"}
    if steps != set(range(1, row.version)):
        problems.append(f"item {row.id}: version {row.version} but ledger steps {sorted(steps)[-5:]}")
    state = {"status": "open", "progress": "0"}
    for e in log:
        if e.kind == "status" and e.after == "closed":
            state["progress"] = "100"
        if e.field:
            state[e.field] = e.after
    for name, value in state.items():
        if _display(row, name) != (value or ""):
            problems.append(f"item {row.id}: {name} is {_display(row, name)!r}, ledger says {value!r}")
    return problems


def report(result: dict, args) -> tuple[str, bool]:
    record: Record = result["record"]
    problems = result["problems"]
    codes = record.statuses
    ok_2xx = sum(n for s, n in codes.items() if s and 200 <= s < 300)
    n409 = codes[409]
    n5xx = sum(n for s, n in codes.items() if s and s >= 500)
    other_4xx = sum(n for s, n in codes.items() if s and 400 <= s < 500 and s != 409)
    dropped = codes[None]
    total = sum(codes.values())
    patch_409 = record.by_kind[("patch", 409)]
    unversioned_409 = n409 - patch_409
    emails = result["emails"]
    duplicate_emails = len(emails) - len(set(emails))
    ledger_ok = result["verify"].returncode == 0
    tracebacks = result["log"].count("Traceback")
    cuts = statistics.quantiles(record.latencies, n=100) if len(record.latencies) > 1 else [0] * 99
    sent = sum(n for k, n in result["deliveries"].items() if k.endswith(" sent"))
    restart = result.get("restart")
    allowed_5xx = 0
    if restart == "restarted":
        window = (result["restart_at"] - 1, result["restart_done_at"] + 30)
        allowed_5xx = sum(1 for t, s, _ in record.failures if s == 503 and window[0] <= t <= window[1])
    passed = (
        n5xx == allowed_5xx
        and codes[500] == 0
        and problems["lost updates"] == 0
        and problems["missed or false conflicts"] == 0
        and problems["version anomalies"] == 0
        and problems["rows disagreeing with ledger"] == 0
        and problems["duplicate deliveries"] == 0
        and problems["in-app sent without notification"] == 0
        and duplicate_emails == 0
        and ledger_ok
        and (dropped == 0 or restart == "restarted")
    )
    setup = f"{args.workers} worker{'s' if args.workers > 1 else ''}"
    if args.threads > 1:
        setup += f" × {args.threads} threads"
    lines = [
        f"{args.db}, gunicorn {setup} + `flask scheduler`, {args.users} users, {args.items} items, "
        f"{result['seconds']:.0f} s" + (f"; PostgreSQL restart: {restart}" if restart else ""),
        "",
        "| requests | req/s | p50 ms | p95 ms | 2xx | 409 (PATCH / unversioned) | other 4xx | 5xx | no answer "
        "| lost updates | missed or false conflicts | rows ≠ ledger | ledger verify | reminders sent "
        "| duplicate deliveries | duplicate emails |",
        "|" + "---:|" * 16,
        f"| {total} | {total / result['seconds']:.1f} | {cuts[49] * 1000:.0f} | {cuts[94] * 1000:.0f} | {ok_2xx} "
        f"| {n409} ({patch_409} / {unversioned_409}) | {other_4xx} | {n5xx} | {dropped} "
        f"| {problems['lost updates']} | {problems['missed or false conflicts']} "
        f"| {problems['rows disagreeing with ledger']} | {'ok' if ledger_ok else 'BROKEN'} | {sent} "
        f"| {problems['duplicate deliveries'] + problems['in-app sent without notification']} | {duplicate_emails} |",
        "",
        "Writes: " + ", ".join(f"{k} {s}: {n}" for (k, s), n in sorted(record.by_kind.items(), key=str) if k != "read"),
        f"Deliveries: {', '.join(f'{k} {n}' for k, n in sorted(result['deliveries'].items()))}; "
        f"emails received {len(emails)}. Tracebacks in the server logs: {tracebacks}.",
        f"`flask reminders run` beside the scheduler: {result['reminders_run'].splitlines()[-1:]}",
    ]
    if restart:
        statuses = Counter(s for _, s, _ in record.failures)
        lines.append(f"Failed answers around the restart: {dict(statuses)} (503 allowed: {allowed_5xx}).")
        lines.append(f"The 503 answers said: {sorted({d for _, s, d in record.failures if s == 503})}")
        failed = [t for t, _, _ in record.failures]
        if failed:
            lines.append(
                f"`pg_ctlcluster restart` ran from {result['restart_at']:.1f} s to {result['restart_done_at']:.1f} s; "
                f"failed answers from {min(failed):.1f} s to {max(failed):.1f} s, none after."
            )
    for detail in problems["details"]:
        lines.append(f"- {detail}")
    if n5xx != allowed_5xx:
        lines += [f"- {s} at {t:.1f} s: {' '.join(d.split())[:120]}" for t, s, d in record.failures[:10]]
    lines.append("RESULT: " + ("PASS" if passed else "FAIL"))
    return "\n".join(lines), passed


def _interrupt(*_args) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--database-url", default=PG_URL, help="PostgreSQL database to drop and create")
    parser.add_argument("--duration", type=int, default=300, help="seconds of load")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--items", type=int, default=24, help="items the users share (few: they collide)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default 4 on PostgreSQL, 1 on SQLite)")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--think", type=float, default=0.2, help="most seconds a user waits between requests")
    parser.add_argument("--restart-postgres", action="store_true", help="restart the PostgreSQL server half-way")
    parser.add_argument("--force-restart", action="store_true", help="restart even if other databases have clients")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    if args.workers is None:
        args.workers = 1 if args.db == "sqlite" else 4
    if args.restart_postgres and args.db != "postgresql":
        parser.error("--restart-postgres needs --db postgresql")
    # systemd or a terminal closing: stop what we started, as on Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    result = run(args)
    text, passed = report(result, args)
    print(text)
    if args.json:
        numbers = {k: v for k, v in result.items() if k not in ("record", "people", "log", "verify", "emails")}
        numbers["statuses"] = {str(k): v for k, v in result["record"].statuses.items()}
        args.json.write_text(json.dumps(numbers, indent=2, default=str, ensure_ascii=False))
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
