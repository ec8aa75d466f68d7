"""The file store, both kinds (disk and database) on either database: streamed in chunks, the size
limit kept, downloads byte for byte, the ledger verifying stored content, and the move from disk."""

import hashlib
import io
import os
import tracemalloc

import pytest
from sqlalchemy import func, select

from tests.factories import NOW, login
from tracker.backup import move_files as move
from tracker.extensions import db
from tracker.files.models import CHUNK, StoredChunk, StoredFile
from tracker.files.store import DiskStore, TooLarge, store
from tracker.items.models import Evidence
from tracker.spreadsheets import uploads

PNG = b"\x89PNG\r\n\x1a\n"
MB = 1 << 20


def photo(size: int, seed: int = 0) -> bytes:
    """A PNG-headed file of ``size`` bytes whose content differs from block to block."""
    body = b"".join(hashlib.sha256(f"{seed}-{i}".encode()).digest() for i in range(size // 32 + 1))
    return (PNG + body)[:size]


@pytest.fixture(params=["disk", "database"])
def config(config, tmp_path, request):
    config["FILE_STORE"] = request.param
    config["IMPORT_DIR"] = str(tmp_path / "imports")
    config["EVIDENCE_MAX_BYTES"] = 25 * MB
    config["MAX_CONTENT_LENGTH"] = 30 * MB
    return config


def attach(client, world, data: bytes, name: str = "ramp.png"):
    login(client, "member")
    response = client.post(
        f"/items/{world.items['owned'].id}/progress",
        data={"note": "照片", "files": [(io.BytesIO(data), name)]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with client.application.app_context():
        return db.session.scalar(select(Evidence).order_by(Evidence.id.desc()))


def download(client, record):
    return client.get(f"/items/{record.item_id}/evidence/{record.storage_name}")


def test_a_file_round_trips_through_the_store(app):
    data = photo(2 * MB + 5)
    with app.app_context():
        files = store()
        stored = files.put("evidence", "a.png", io.BytesIO(data), now=NOW)
        db.session.commit()
        assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        assert files.exists("evidence", "a.png") and not files.exists("evidence", "b.png")
        with files.open("evidence", "a.png") as stream:
            assert stream.size == len(data) and stream.read() == data
        assert files.read("evidence", "a.png") == data
        assert files.rename("evidence", "a.png", "b.png") and not files.rename("evidence", "a.png", "c.png")
        assert [f.name for f in files.listing("evidence", "b")] == ["b.png"]
        files.delete("evidence", "b.png")
        db.session.commit()
        assert not files.exists("evidence", "b.png") and files.listing("evidence") == []
        with pytest.raises(FileNotFoundError):
            files.open("evidence", "b.png")


def test_the_database_keeps_a_file_in_chunks_of_at_most_a_megabyte(app):
    with app.app_context():
        store("database").put("evidence", "big.png", io.BytesIO(photo(5 * MB + 1)), now=NOW)
        db.session.commit()
        sizes = db.session.scalars(select(func.length(StoredChunk.data)).order_by(StoredChunk.seq)).all()
    assert sizes == [CHUNK] * 5 + [1]


def test_a_20_mb_file_is_never_held_whole_in_memory(app):
    data = photo(20 * MB)
    with app.app_context():
        files = store()
        tracemalloc.start()
        try:
            files.put("evidence", "big.png", io.BytesIO(data), now=NOW)
            db.session.commit()
            sha = hashlib.sha256()
            with files.open("evidence", "big.png") as stream:
                while block := stream.read(64 * 1024):
                    sha.update(block)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert sha.hexdigest() == hashlib.sha256(data).hexdigest()
    assert peak < 6 * MB, f"peak {peak / MB:.1f} MB"


def test_a_file_over_the_limit_is_refused_and_nothing_is_kept(app):
    with app.app_context():
        files = store()
        with pytest.raises(TooLarge):
            files.put("evidence", "big.png", io.BytesIO(photo(3 * MB)), limit=2 * MB, now=NOW)
        db.session.commit()
        assert not files.exists("evidence", "big.png")
        assert db.session.scalar(select(func.count()).select_from(StoredChunk)) == 0
        assert not list(DiskStore().folder("evidence").glob("*"))  # no partial file left either


@pytest.mark.parametrize("name", ["../x.png", ".hidden", "a/b.png", ""])
def test_names_cannot_leave_their_bucket(app, name):
    with app.app_context(), pytest.raises(ValueError):
        store().put("evidence", name, io.BytesIO(b"x"), now=NOW)


def test_evidence_downloads_byte_for_byte(app, client, world):
    data = photo(5 * MB + 3)
    record = attach(client, world, data)
    response = download(client, record)
    assert response.status_code == 200
    assert response.content_length == len(data) and response.get_data() == data
    assert record.sha256 == hashlib.sha256(data).hexdigest()


def test_a_download_of_a_missing_file_is_not_found(app, client, world):
    record = attach(client, world, photo(100))
    with app.app_context():
        store().delete("evidence", record.storage_name)
        db.session.commit()
    assert download(client, record).status_code == 404


def test_ledger_verify_names_a_swapped_and_a_missing_photo(app, client, runner, world):
    swapped = attach(client, world, photo(3000, seed=1), "swapped.png")
    missing = attach(client, world, photo(3000, seed=2), "missing.png")
    attach(client, world, photo(3000, seed=3), "intact.png")
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
    with app.app_context():
        files = store()
        files.delete("evidence", swapped.storage_name)
        files.put("evidence", swapped.storage_name, io.BytesIO(photo(3000, seed=9)), now=NOW)
        files.delete("evidence", missing.storage_name)
        db.session.commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    assert f"Evidence {swapped.id} ('swapped.png', item {swapped.item_id}" in result.output
    assert f"Evidence {missing.id} ('missing.png', item {missing.item_id}" in result.output
    assert "file does not match its SHA-256" in result.output and "file is missing" in result.output
    assert "intact.png" not in result.output


def test_an_upload_kept_for_confirmation_is_claimed_once(app):
    with app.test_request_context("/", method="POST"):
        token = uploads.keep(7, b"PK sheet", now=NOW)
        db.session.commit()
        assert uploads.claim(8, token) is None
        assert uploads.claim(7, token) == b"PK sheet"
        assert uploads.claim(7, token) is None
        uploads.release(7, token)
        assert uploads.claim(7, token) == b"PK sheet"
        uploads.discard(7, token)
        db.session.commit()
        assert store().listing("imports") == []


# --- moving disk files into the database ---------------------------------------------------


@pytest.fixture
def on_disk(app, client, world):
    """Three photos attached while the install kept files on disk; then the switch to the database."""
    app.config["FILE_STORE"] = "disk"
    records = [attach(client, world, photo(1_500_000 + i, seed=i), f"p{i}.png") for i in range(3)]
    with app.test_request_context("/", method="POST"):
        uploads.keep(7, b"PK pending", now=NOW)
        db.session.commit()
    app.config["FILE_STORE"] = "database"
    return records


def disk_names(app, bucket="evidence"):
    with app.app_context():
        return sorted(p.name for p in DiskStore().folder(bucket).glob("*"))


def database_names(app):
    with app.app_context():
        return sorted(db.session.scalars(select(StoredFile.name).where(StoredFile.bucket == "evidence")))


def test_files_migrate_moves_every_file_and_verifies_it(app, client, runner, on_disk):
    result = runner.invoke(args=["files", "migrate"])
    assert result.exit_code == 0, result.output
    assert "evidence: moved 3, already in the database 0." in result.output
    assert "imports: moved 1, already in the database 0." in result.output
    assert disk_names(app) == [] and disk_names(app, "imports") == []
    assert database_names(app) == sorted(r.storage_name for r in on_disk)
    assert download(client, on_disk[0]).get_data() == photo(1_500_000, seed=0)
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
    again = runner.invoke(args=["files", "migrate"])
    assert again.exit_code == 0 and "evidence: moved 0, already in the database 0." in again.output


def test_files_migrate_finishes_a_run_that_stopped_half_way(app, runner, on_disk, monkeypatch):
    deleted = []

    def crash_after_one(self, bucket, name):
        if deleted:
            raise KeyboardInterrupt  # the process dies after committing the second file
        deleted.append(name)
        os.remove(self.path(bucket, name))

    monkeypatch.setattr(move.DiskStore, "delete", crash_after_one)
    assert runner.invoke(args=["files", "migrate"]).exit_code != 0
    assert len(disk_names(app)) == 2 and len(database_names(app)) == 2
    monkeypatch.undo()
    result = runner.invoke(args=["files", "migrate"])
    assert result.exit_code == 0, result.output
    assert "evidence: moved 1, already in the database 1." in result.output
    assert disk_names(app) == [] and database_names(app) == sorted(r.storage_name for r in on_disk)
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0


def test_files_migrate_leaves_an_altered_file_on_disk_and_says_so(app, runner, on_disk):
    altered = on_disk[1].storage_name
    with app.app_context():
        (DiskStore().folder("evidence") / altered).write_bytes(photo(1000, seed=7))
    result = runner.invoke(args=["files", "migrate", "--keep"])
    assert result.exit_code == 1
    assert f"evidence/{altered} does not match its recorded SHA-256; left on disk" in result.output
    assert altered not in database_names(app) and len(database_names(app)) == 2
    assert len(disk_names(app)) == 3  # --keep: the verified copies stay too


def test_files_migrate_refuses_while_the_app_reads_from_disk(app, runner):
    app.config["FILE_STORE"] = "disk"
    result = runner.invoke(args=["files", "migrate"])
    assert result.exit_code != 0 and "TRACKER_FILE_STORE=database" in result.output
