"""Benchmark the workflow-notification fan-out: a status change with 50 watchers vs. none.

    python bench/fanout.py --db sqlite
    python bench/fanout.py --db postgresql
    python bench/fanout.py --db both --rounds 300

Builds a fresh database (one event, one work group with two leads, a committee of five,
an admin, one owner and 50 other members with email addresses; SMTP configured so every
event also queues email rows) and two items of the same group and owner: one watched by
the 50 members, one watched by nobody beyond the defaults (creator, owner, leads). Then
it cycles both items through submit → verify (已销号: owner, leads, watchers) → reopen
(owner, leads, watchers), each step as the item service does it — the status change, the
ledger entry, the event and its outbox rows — and one commit, and reports the median and
p95 per step. Target: with 50 watchers within 1.5× of none (the fan-out is one set-based
INSERT … SELECT, not a Python loop of inserts).
"""

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from tracker import create_app  # noqa: E402
from tracker.auth.models import User  # noqa: E402
from tracker.event.models import Event  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.groups.models import WorkGroup  # noqa: E402
from tracker.items import services as items  # noqa: E402
from tracker.items.models import Item  # noqa: E402
from tracker.outbox.models import Delivery, ItemWatch  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/wallchart_fanout_bench"
WATCHERS = 50
START = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def fresh_url(kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp()}/fanout.db"
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "wallchart_fanout_bench" WITH (FORCE)')
        conn.execute('CREATE DATABASE "wallchart_fanout_bench"')
    return PG_URL


def build(watchers: int) -> dict:
    db.create_all()
    db.session.add(
        Event(
            name="广东省第十届残疾人运动会",
            host_city="茂名",
            opening_at=datetime(2026, 9, 18, 12, tzinfo=UTC),
            closing_at=datetime(2026, 9, 24, 12, tzinfo=UTC),
            timezone="Asia/Shanghai",
        )
    )
    group = WorkGroup(code="CG", name="场馆建设与无障碍环境组")
    db.session.add(group)
    db.session.flush()

    def user(name, role, groups=()):
        u = User(username=name, role=role, display_name=name, email=f"{name}@example.org", password_hash="!")  # noqa: S106 - no one signs in here
        u.groups = list(groups)
        db.session.add(u)
        return u

    leads = [user(f"lead{i}", "lead", [group]) for i in range(2)]
    for i in range(5):
        user(f"committee{i}", "committee")
    admin = user("admin", "admin")
    owner = user("owner", "member", [group])
    members = [user(f"member{i}", "member", [group]) for i in range(watchers)]
    db.session.flush()
    committee = db.session.scalar(select(User).where(User.username == "committee0"))
    made = []
    for title in ("有 50 名关注者的事项", "无额外关注者的事项"):
        item = items.create_item(
            {"title": title, "group_id": group.id, "owner_id": owner.id, "deadline": START.date() + timedelta(days=60)},
            actor=leads[0],
            now=START,
        )
        made.append(item)
    db.session.execute(
        insert(ItemWatch), [{"item_id": made[0].id, "user_id": m.id, "created_at": START} for m in members]
    )
    items.transition(made[0], "start", actor=owner, now=START)
    items.transition(made[1], "start", actor=owner, now=START)
    db.session.commit()
    return {"watched": made[0].id, "plain": made[1].id, "owner": owner.id, "committee": committee.id, "admin": admin.id}


def run(kind: str, rounds: int) -> dict:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": fresh_url(kind),
            "SECRET_KEY": "bench-secret-key-not-for-production-use",
            "TESTING": True,
            "SCHEDULER": "off",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": 2525,
        }
    )
    timings = {"watched": [], "plain": []}
    with app.app_context():
        ids = build(WATCHERS)
        actors = {
            step: db.session.get(User, ids[who])
            for step, who in (("submit", "owner"), ("verify", "committee"), ("reopen", "admin"))
        }
        now = START
        for n in range(rounds):
            for name in ("watched", "plain") if n % 2 else ("plain", "watched"):
                for step in ("submit", "verify", "reopen"):
                    now += timedelta(minutes=20)  # a realistic pace: each change outside the bundling window
                    item = db.session.get(Item, ids[name])
                    began = time.perf_counter()
                    items.transition(item, step, actor=actors[step], now=now, note="基准测试")
                    db.session.commit()
                    timings[name].append(time.perf_counter() - began)
        rows = {
            name: db.session.scalar(select(func.count(Delivery.id)).where(Delivery.item_id == ids[name]))
            for name in ("watched", "plain")
        }
        db.session.remove()
        db.engine.dispose()
    result = {}
    for name, values in timings.items():
        values = values[len(values) // 10 :]  # drop the warm-up
        result[name] = (statistics.median(values), statistics.quantiles(values, n=20)[-1], rows[name])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    print("| database | item | median ms / status change | p95 ms | outbox rows | ratio to no watchers |")
    print("|---|---|---:|---:|---:|---:|")
    for kind in kinds:
        result = run(kind, args.rounds)
        base = result["plain"][0]
        for name, label in (("plain", "no extra watchers"), ("watched", f"{WATCHERS} watchers")):
            median, p95, rows = result[name]
            print(f"| {kind} | {label} | {median * 1000:.2f} | {p95 * 1000:.2f} | {rows} | {median / base:.2f}× |")


if __name__ == "__main__":
    main()
