"""Fill a fresh database with a realistic install: 30 groups, 60 milestones, 500 users, N items.

Items are spread over the last 90 days with deadlines a week to two months out;
older items are further along (closed, awaiting verification, in progress), some
deadlines were extended, a few items are confidential or cancelled. Every item
has its ledger history (created, status steps, progress, deadline changes) with
a valid hash chain, so ``flask ledger verify`` passes and the burndown has data.

    python bench/generate.py --items 50000 --database-url sqlite:///instance/bench.db
"""

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from tracker import create_app  # noqa: E402
from tracker.auth.models import User  # noqa: E402
from tracker.event.models import Event  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.groups.models import WorkGroup, group_membership  # noqa: E402
from tracker.items.ledger import GENESIS, entry_hash  # noqa: E402
from tracker.items.models import KEY_AREAS, Item, LedgerEntry, LedgerHead  # noqa: E402
from tracker.milestones.models import Milestone  # noqa: E402

PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway benchmark database
GROUPS = 30
MILESTONES = 60
USERS = 500
TZ_HOURS = 8  # Asia/Shanghai
MILESTONE_KINDS = ("countdown", "rehearsal", "test_event", "ceremony", "handover")
# Words for titles, descriptions and venues, so that searching has something to find.
VENUES = ("主体育场", "游泳馆", "运动员村", "主媒体中心", "训练馆", "Aquatics Centre", "Media Village", "北区看台")
PLACES = ("无障碍卫生间", "无障碍坡道", "电梯", "安检口", "观众入口", "医疗站", "志愿者之家", "停车场", "ramp", "lift")
PROBLEMS = ("扶手缺失", "标识不清", "照明不足", "门宽不够", "地面湿滑", "通道堵塞", "no signage", "narrow door")


def bench_app(database_url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench-secret-key-0123456789"})


def _reset(database_url: str) -> None:
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    base, _, name = database_url.rpartition("/")
    admin = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _users(rng: random.Random, groups: list[int]) -> tuple[list[dict], list[dict], dict[int, list[int]]]:
    password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    roles = ["admin"] * 2 + ["committee"] * 20 + ["lead"] * GROUPS + ["external"] * 28
    roles += ["member"] * (USERS - len(roles))
    users, memberships, members_of = [], [], {g: [] for g in groups}
    for index, role in enumerate(roles, start=1):
        users.append(
            {
                "id": index,
                "username": f"{role}{index:03d}",
                "display_name": f"用户{index:03d}",
                "password_hash": password_hash,
                "role": role,
                "is_active_account": True,
                "session_token": f"bench{index:027d}",
                "created_at": datetime(2026, 1, 1, tzinfo=UTC),
            }
        )
        if role == "lead":
            group = groups[(index - 23) % GROUPS]
        elif role == "member":
            group = rng.choice(groups)
        else:
            continue
        memberships.append({"user_id": index, "group_id": group})
        members_of[group].append(index)
    # The accounts the benchmark signs in with: one that sees everything, one with a member's view.
    users[2]["username"] = "bench-committee"
    first_member = next(u for u in users if u["role"] == "member")
    first_member["username"] = "bench-member"
    return users, memberships, members_of


def _status_path(age_days: int, rng: random.Random) -> list[str]:
    """Older items got further: open → in progress → awaiting verification → closed (a few cancelled)."""
    roll = rng.random() * (0.4 + min(age_days, 90) / 90)
    if rng.random() < 0.02:
        return ["cancelled"]
    if roll < 0.3:
        return []
    if roll < 0.7:
        return ["in_progress"]
    if roll < 0.85:
        return ["in_progress", "submitted"]
    return ["in_progress", "submitted", "closed"]


def generate(database_url: str, items: int, now: datetime, seed: int = 7) -> None:
    rng = random.Random(seed)
    _reset(database_url)
    app = bench_app(database_url)
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        opening = (now + timedelta(days=112)).replace(hour=12, minute=0, second=0, microsecond=0)
        db.session.execute(
            insert(Event),
            [{"id": 1, "name": "广东省第十届残疾人运动会", "opening_at": opening, "timezone": "Asia/Shanghai"}],
        )
        groups = list(range(1, GROUPS + 1))
        db.session.execute(
            insert(WorkGroup),
            [
                {"id": g, "code": f"G{g:02d}", "name": f"第{g}工作组", "name_en": f"Group {g}", "sort_order": g}
                for g in groups
            ],
        )
        db.session.execute(
            insert(Milestone),
            [
                {
                    "id": m,
                    "event_id": 1,
                    "title": f"节点{m}",
                    "kind": MILESTONE_KINDS[m % len(MILESTONE_KINDS)],
                    "offset_days": -120 + 2 * m,
                    "group_id": rng.choice([None, *groups]),
                }
                for m in range(1, MILESTONES + 1)
            ],
        )
        users, memberships, members_of = _users(rng, groups)
        db.session.execute(insert(User), users)
        db.session.execute(insert(group_membership), memberships)

        item_rows, entries = [], []
        for item_id in range(1, items + 1):
            group = rng.choice(groups)
            created = now - timedelta(days=rng.uniform(0, 90))
            age = (now - created).days
            deadline = (created + timedelta(hours=TZ_HOURS, days=rng.randint(7, 60))).date()
            path = _status_path(age, rng)
            status = path[-1] if path else "open"
            progress = {"open": 0, "in_progress": rng.randint(0, 90), "submitted": 100, "closed": 100}.get(status, 0)
            owner = rng.choice(members_of[group]) if members_of[group] and rng.random() < 0.9 else None
            item_rows.append(
                {
                    "id": item_id,
                    "event_id": 1,
                    "code": f"B{item_id:05d}",
                    "kind": rng.choice(("problem", "task")),
                    "title": f"{rng.choice(VENUES)}{rng.choice(PLACES)}{rng.choice(PROBLEMS)} {item_id}",
                    "description": f"{rng.choice(PLACES)}：{rng.choice(PROBLEMS)}，需于时限前整改。",
                    "measures": f"{rng.choice(('更换', '增设', '清理', 'replace', 'add'))}{rng.choice(PLACES)}",
                    "venue": rng.choice(VENUES),
                    "key_area": rng.choice((*KEY_AREAS, None)),
                    "severity": rng.choice(("high", "medium", "low")),
                    "group_id": group,
                    "owner_id": owner,
                    "deadline": deadline,
                    "milestone_id": rng.choice(range(1, MILESTONES + 1)) if rng.random() < 0.3 else None,
                    "is_confidential": rng.random() < 0.05,
                    "status": status,
                    "progress": progress,
                    "version": 1 + len(path),
                    "created_at": created,
                    "updated_at": created,
                    "closed_at": None,
                }
            )
            entries.append((created, item_id, "created", None, None, item_rows[-1]["title"]))
            moment, before = created, "open"
            for step in path:
                moment = min(moment + timedelta(days=rng.uniform(0.5, 10)), now)
                entries.append((moment, item_id, "status", "status", before, step))
                before = step
            if status == "in_progress" and progress:
                entries.append(
                    (min(moment + timedelta(days=1), now), item_id, "progress", "progress", "0", str(progress))
                )
            if rng.random() < 0.1:
                entries.append(
                    (moment, item_id, "deadline_changed", "deadline", str(deadline - timedelta(days=7)), str(deadline))
                )
            if status == "closed":
                item_rows[-1]["closed_at"] = moment
        db.session.execute(insert(Item), item_rows)

        entries.sort(key=lambda e: e[0])
        prev = GENESIS
        rows = []
        for entry_id, (moment, item_id, kind, field, before, after) in enumerate(entries, start=1):
            entry = SimpleNamespace(
                item_id=item_id,
                author_id=None,
                created_at=moment,
                kind=kind,
                item_version=0,
                field=field,
                before=before,
                after=after,
                note="",
                scheme=None,  # the plain chain; verify reads it like any old entry
            )
            digest = entry_hash(prev, entry)
            rows.append({"id": entry_id, **vars(entry), "prev_hash": prev, "hash": digest})
            prev = digest
        for chunk in range(0, len(rows), 20000):
            db.session.execute(insert(LedgerEntry), rows[chunk : chunk + 20000])
        db.session.execute(insert(LedgerHead), [{"id": 1, "last_hash": prev, "entries": len(rows)}])
        if db.engine.dialect.name == "postgresql":
            for table in ("event", "work_group", "milestone", "user", "item", "ledger_entry"):
                db.session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT max(id) FROM \"{table}\"))"  # noqa: S608 - fixed table names
                    )
                )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(
            f"generated {items} items, {len(rows)} ledger entries, {USERS} users, {GROUPS} groups, "
            f"{MILESTONES} milestones in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=50000)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    generate(args.database_url, args.items, datetime.now(UTC), args.seed)


if __name__ == "__main__":
    main()
