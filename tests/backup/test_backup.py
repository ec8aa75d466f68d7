"""Backups taken while items are being written restore to a consistent install."""

import shutil
import sqlite3
import threading

import pytest
from sqlalchemy import func, select

from tests.factories import NOW
from tracker import create_app
from tracker.auth.models import User
from tracker.backup.services import BackupUnsupported, sqlite_path
from tracker.extensions import db
from tracker.items import services
from tracker.items.ledger import verify_chain
from tracker.items.models import Item, LedgerEntry

pytestmark = pytest.mark.slow  # concurrency: backups under load

WARM_UP = 15  # commits before the first backup, so there is data to miss


def on_postgresql(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


class Writer(threading.Thread):
    """Commits items and progress notes through the services until told to stop."""

    def __init__(self, app, actor_id: int, group_id: int):
        super().__init__(daemon=True)
        self.app, self.actor_id, self.group_id = app, actor_id, group_id
        self.committed: list[int] = []
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self.warm = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        with self.app.app_context():
            actor = db.session.get(User, self.actor_id)
            number = 0
            while not self.stop.is_set():
                try:
                    item = services.create_item(
                        {"title": f"并发写入 {number}", "group_id": self.group_id}, actor=actor, now=NOW
                    )
                    services.add_progress(item, actor=actor, now=NOW, note="进展", progress=number % 100)
                    item_id = item.id
                    db.session.commit()
                except BaseException as error:  # noqa: BLE001 - reported by the test
                    self.errors.append(error)
                    return
                with self.lock:
                    self.committed.append(item_id)
                number += 1
                if number >= WARM_UP:
                    self.warm.set()

    def snapshot(self) -> set[int]:
        with self.lock:
            return set(self.committed)


def restored_state(config: dict, path) -> dict:
    """Open a restored copy as the app would and read what it holds."""
    restored = create_app({**config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with restored.app_context():
        state = {
            "item_ids": set(db.session.scalars(select(Item.id))),
            "created_entries": db.session.scalar(
                select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == "created")
            ),
            "chain": verify_chain(),
        }
        db.engine.dispose()
    with sqlite3.connect(path) as conn:
        state["integrity"] = conn.execute("PRAGMA integrity_check").fetchone()[0]
        state["foreign_keys"] = conn.execute("PRAGMA foreign_key_check").fetchall()
    return state


def test_backup_under_concurrent_writes_restores_every_committed_row(app, config, runner, world, tmp_path):
    if on_postgresql(app):
        pytest.skip("SQLite's online backup; PostgreSQL installs use pg_dump")
    writer = Writer(app, world.lead.id, world.cs.id)
    writer.start()
    try:
        assert writer.warm.wait(timeout=60), writer.errors
        results = []
        for number in range(3):
            before = writer.snapshot()
            target = tmp_path / f"backup-{number}.db"
            result = runner.invoke(args=["backup", str(target)])
            after = writer.snapshot()
            assert result.exit_code == 0, result.output
            assert "integrity ok" in result.output
            results.append((before, after, target))
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert not writer.errors, writer.errors
    assert results[-1][1] - results[0][0], "the writer kept committing while the backups ran"

    for before, after, target in results:
        restored = tmp_path / f"restored-{target.name}"
        shutil.copyfile(target, restored)  # restore: put the backup file in place
        state = restored_state(config, restored)
        world_ids = {i.id for i in world.items.values()}
        writer_ids = state["item_ids"] - world_ids
        assert world_ids <= state["item_ids"]
        assert before <= writer_ids <= after, "a backup is one consistent moment between the two snapshots"
        assert state["chain"].ok, state["chain"]
        assert state["created_entries"] == len(state["item_ids"])
        assert state["integrity"] == "ok" and state["foreign_keys"] == []


def test_backup_is_a_single_file_that_does_not_need_the_wal(app, runner, world, tmp_path):
    if on_postgresql(app):
        pytest.skip("SQLite only")
    target = tmp_path / "nightly.db"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT count(*) FROM item").fetchone()[0] == len(world.items)
    assert not (tmp_path / "nightly.db-wal").exists()
    assert not (tmp_path / "nightly.db.partial").exists()


def test_backup_refuses_to_overwrite_the_database_itself(app, runner, world):
    if on_postgresql(app):
        pytest.skip("SQLite only")
    source = sqlite_path(app.config["SQLALCHEMY_DATABASE_URI"])
    result = runner.invoke(args=["backup", str(source)])
    assert result.exit_code != 0 and "must not overwrite" in result.output


def test_postgresql_is_pointed_to_pg_dump():
    with pytest.raises(BackupUnsupported) as error:
        sqlite_path("postgresql+psycopg://wallchart@db/wallchart")
    assert "pg_dump" in str(error.value)


def test_backup_command_on_postgresql_explains_pg_dump(app, runner, tmp_path):
    if not on_postgresql(app):
        pytest.skip("PostgreSQL only")
    result = runner.invoke(args=["backup", str(tmp_path / "x.db")])
    assert result.exit_code != 0
    assert "pg_dump" in result.output
    assert not (tmp_path / "x.db").exists()
