"""Upgrades keep an install's work: a database built at each earlier revision, holding items with
their ledger and evidence as the first schema wrote them, is upgraded to head (and, on PostgreSQL,
its files moved into the database store); items, the ledger and the evidence all survive."""

import hashlib
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, insert, inspect, select

from tests.conftest import PG_URL, make_config, pg_database
from tracker import create_app
from tracker.extensions import db
from tracker.files.store import store
from tracker.items import ledger
from tracker.items.models import Evidence, Item

FILES_REVISION = "c3f9a7d41e20"  # the file store's tables
START = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n"
# (title, status, progress, photos)
ITEMS = [
    ("看台无障碍坡道坡度超标", "open", 0, 1),
    ("盲道被临时设施占用", "in_progress", 40, 2),
    ("无障碍卫生间呼叫按钮失灵", "submitted", 90, 1),
    ("接待酒店电梯无语音报层", "closed", 100, 0),
    ("安检通道宽度不足", "open", 0, 0),
]


def _revisions() -> list[str]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        config = current_app.extensions["migrate"].migrate.get_config()
        walk = list(ScriptDirectory.from_config(config).walk_revisions())
    return [script.revision for script in reversed(walk)][:-1]  # from the base, head left out


REVISIONS = _revisions()


def _photo(n: int) -> bytes:
    return PNG + b"".join(hashlib.sha256(f"{n}-{i}".encode()).digest() for i in range(6000))


class Writer:
    """Rows as the first schema holds them (reflected, so no model of today is involved)."""

    def __init__(self, conn):
        self.conn = conn
        self.tables = MetaData()
        self.tables.reflect(conn)
        self.sqlite = conn.dialect.name == "sqlite"

    def at(self, moment: datetime):
        return moment.replace(tzinfo=None) if self.sqlite else moment

    def add(self, table: str, **values) -> int:
        values = {k: self.at(v) if isinstance(v, datetime) else v for k, v in values.items()}
        result = self.conn.execute(insert(self.tables.tables[table]).values(**values))
        return result.inserted_primary_key[0] if result.inserted_primary_key else None


def _first_install(conn, evidence_dir) -> dict:
    """An event, two groups, three people, items in every status with progress, status changes and photos."""
    w = Writer(conn)
    event = w.add(
        "event", name="第十二届全国残运会", name_en="Para Games", host_city="茂名",
        opening_at=datetime(2026, 9, 18, 12, tzinfo=UTC), timezone="Asia/Shanghai", default_locale="zh_CN",
        created_at=START,
    )  # fmt: skip
    groups = [
        w.add("work_group", code=code, name=name, name_en=code, sort_order=i, webhook_format="wecom")
        for i, (code, name) in enumerate([("CS", "竞赛组织"), ("WZA", "无障碍环境")])
    ]
    people = {
        role: w.add(
            "user", username=role, display_name=name, password_hash="x", role=role, is_active_account=True,
            session_token=role * 4, recovery_codes="", failed_logins=0, created_at=START,
        )
        for role, name in [("admin", "管理员"), ("lead", "王组长"), ("member", "李干事")]
    }  # fmt: skip
    chain, prev, moment, photos = [], ledger.GENESIS, START, {}

    def entry(item_id, kind, version, field=None, before=None, after=None, note="", author="lead"):
        nonlocal prev, moment
        moment += timedelta(minutes=7)
        row = SimpleNamespace(
            scheme=None, item_id=item_id, author_id=people[author], created_at=moment, kind=kind,
            item_version=version, field=field, before=before, after=after, note=note,
        )  # fmt: skip
        digest = ledger.entry_hash(prev, row)
        entry_id = w.add("ledger_entry", **{k: v for k, v in vars(row).items() if k != "scheme"}, prev_hash=prev,
                         hash=digest)  # fmt: skip
        chain.append(digest)
        prev = digest
        return entry_id

    for n, (title, status, progress, photo_count) in enumerate(ITEMS):
        item_id = w.add(
            "item", event_id=event, kind="problem", title=title, description="现场检查发现", source="检查",
            severity="high", group_id=groups[n % 2], owner_id=people["member"], measures="整改",
            deadline=date(2026, 7, 1) + timedelta(days=n), acceptance_criteria="", venue="主体育场", remarks="",
            is_confidential=False, status=status, progress=progress, version=1, created_by_id=people["lead"],
            created_at=START, updated_at=START,
        )  # fmt: skip
        version = 1
        entry(item_id, "created", version, after=title)
        if status != "open":
            version += 1
            entry(item_id, "status", version, field="status", before="open", after="in_progress", author="member")
        if progress and status != "closed":
            version += 1
            entry(item_id, "progress", version, field="progress", before="0", after=str(progress), author="member")
        for k in range(photo_count):
            data, name = _photo(n * 10 + k), f"{'ab' * 24}{n}{k}.png"
            (evidence_dir / name).write_bytes(data)
            entry_id = entry(item_id, "evidence", version, after=f"现场{k}.png", note="整改照片", author="member")
            w.add(
                "evidence", entry_id=entry_id, item_id=item_id, filename=f"现场{k}.png", content_type="image/png",
                size=len(data), sha256=hashlib.sha256(data).hexdigest(), storage_name=name, uploaded_at=moment,
            )  # fmt: skip
            photos[name] = data
        for after in {"submitted": ["submitted"], "closed": ["submitted", "closed"]}.get(status, []):
            version += 1
            entry(item_id, "status", version, field="status", after=after, author="lead")
        conn.execute(
            w.tables.tables["item"].update().where(w.tables.tables["item"].c.id == item_id).values(version=version)
        )
    w.add("ledger_head", id=1, last_hash=prev, entries=len(chain))
    return {"photos": photos, "entries": len(chain), "head": prev}


@pytest.mark.slow
@pytest.mark.parametrize("revision", REVISIONS)
def test_an_install_at_an_earlier_revision_upgrades_with_its_work_intact(revision, tmp_path):
    base = REVISIONS[0]
    with ExitStack() as stack:
        url = (
            stack.enter_context(pg_database(f"up_{revision[:6]}", with_schema=False))
            if PG_URL
            else f"sqlite:///{tmp_path / 'old.db'}"
        )
        config = make_config(url, tmp_path)
        (tmp_path / "evidence").mkdir()
        app = create_app(config)
        runner = app.test_cli_runner()
        with app.app_context():
            upgrade(revision=base)
            with db.engine.begin() as conn:
                installed = _first_install(conn, tmp_path / "evidence")
            upgrade(revision=revision)  # the install as it stood at this revision
            upgrade()
            if app.config["FILE_STORE"] == "database":
                moved = runner.invoke(args=["files", "migrate"])
                assert moved.exit_code == 0, moved.output
                assert f"evidence: moved {len(installed['photos'])}," in moved.output
                assert not list((tmp_path / "evidence").iterdir())
            items = db.session.execute(select(Item.title, Item.status, Item.progress).order_by(Item.id)).all()
            evidence = db.session.scalars(select(Evidence.storage_name)).all()
            files = {name: store().read("evidence", name) for name in evidence}
            db.session.remove()
            # Migrations may append entries (item codes do); the first install's still end in its head.
            checkpoint = f"{installed['head']}@{installed['entries']}"
            verified = runner.invoke(args=["ledger", "verify", "--checkpoint", checkpoint])
            db.engine.dispose()
    assert [tuple(i) for i in items] == [(t, s, p) for t, s, p, _ in ITEMS]
    assert files == installed["photos"]
    assert verified.exit_code == 0, verified.output
    assert f"Checkpoint {checkpoint} matches." in verified.output
    assert "Every item matches its ledger." in verified.output
    assert "Every evidence file matches its SHA-256" in verified.output


def test_the_file_store_tables_come_and_go_with_their_migration(tmp_path):
    with ExitStack() as stack:
        url = (
            stack.enter_context(pg_database("files_mig", with_schema=False))
            if PG_URL
            else f"sqlite:///{tmp_path / 'files.db'}"
        )
        app = create_app(make_config(url, tmp_path))
        with app.app_context():
            upgrade()
            tables = lambda: set(inspect(db.engine).get_table_names())  # noqa: E731
            assert {"stored_file", "stored_chunk"} <= tables()
            config = current_app.extensions["migrate"].migrate.get_config()
            downgrade(revision=ScriptDirectory.from_config(config).get_revision(FILES_REVISION).down_revision)
            assert not {"stored_file", "stored_chunk"} & tables()
            upgrade()
            assert {"stored_file", "stored_chunk"} <= tables()
            db.engine.dispose()
