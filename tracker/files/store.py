"""The two file stores behind one interface: ``put``, ``open``, ``read``, ``exists``, ``delete``,
``rename`` and ``listing``, each by bucket and name.

``put`` reads its stream in blocks of ``CHUNK`` bytes, hashing and counting as it goes,
and refuses (``TooLarge``) past ``limit``, so neither store ever holds a whole file.
The database store writes through the request's session: a file and the row that
names it commit or roll back together. ``open`` streams committed content on a
connection of its own (a download outlives the request's session); ``read`` returns
a whole (small) file through the session, uncommitted changes included.
"""

import hashlib
import io
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import delete, insert, select, update

from tracker.extensions import db
from tracker.files.models import CHUNK, StoredChunk, StoredFile

STORES = ("database", "disk")
FOLDERS = {"evidence": ("EVIDENCE_DIR", "evidence"), "imports": ("IMPORT_DIR", "imports")}
_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")


class TooLarge(Exception):
    """The stream holds more than the limit; nothing was kept."""


@dataclass(frozen=True)
class Stored:
    size: int
    sha256: str


@dataclass(frozen=True)
class Listed:
    name: str
    size: int
    created_at: datetime


def _check(bucket: str, name: str) -> None:
    if bucket not in FOLDERS or not _NAME.match(name or ""):
        raise ValueError(f"not a stored file name: {bucket}/{name}")


def _blocks(stream: BinaryIO, limit: int | None):
    """The stream's blocks, refusing past ``limit`` bytes."""
    size = 0
    while block := stream.read(CHUNK):
        size += len(block)
        if limit is not None and size > limit:
            raise TooLarge
        yield block


def sha256_of(stream: BinaryIO) -> str:
    """The SHA-256 of a stream read to its end in blocks; the stream is closed afterwards."""
    sha = hashlib.sha256()
    with stream:
        while block := stream.read(CHUNK):
            sha.update(block)
    return sha.hexdigest()


class DiskFile(io.FileIO):
    """A file opened for reading that knows its size (``open`` answers this or ``ChunkReader``)."""

    size: int


class DiskStore:
    """Files in ``instance/`` folders (``EVIDENCE_DIR``, ``IMPORT_DIR``): one machine only."""

    name = "disk"

    def folder(self, bucket: str) -> Path:
        key, default = FOLDERS[bucket]
        return Path(current_app.config.get(key) or Path(current_app.instance_path) / default)

    def path(self, bucket: str, name: str) -> Path:
        _check(bucket, name)
        return self.folder(bucket) / name

    def put(self, bucket: str, name: str, stream: BinaryIO, *, limit: int | None = None, now: datetime) -> Stored:
        target = self.path(bucket, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{name}.{secrets.token_hex(4)}.partial")
        digest, size = hashlib.sha256(), 0
        try:
            with partial.open("xb") as out:
                for block in _blocks(stream, limit):
                    digest.update(block)
                    size += len(block)
                    out.write(block)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        return Stored(size, digest.hexdigest())

    def open(self, bucket: str, name: str) -> DiskFile:
        file = DiskFile(self.path(bucket, name), "rb")
        file.size = os.fstat(file.fileno()).st_size
        return file

    def read(self, bucket: str, name: str) -> bytes | None:
        try:
            return self.path(bucket, name).read_bytes()
        except OSError:
            return None

    def exists(self, bucket: str, name: str) -> bool:
        return self.path(bucket, name).is_file()

    def delete(self, bucket: str, name: str) -> None:
        self.path(bucket, name).unlink(missing_ok=True)

    def rename(self, bucket: str, old: str, new: str) -> bool:
        """Atomic on one file system: of two concurrent renames of one file, one succeeds."""
        try:
            os.rename(self.path(bucket, old), self.path(bucket, new))
        except OSError:
            return False
        return True

    def listing(self, bucket: str, prefix: str = "") -> list[Listed]:
        found = []
        for path in self.folder(bucket).glob(f"{prefix}*"):
            if path.name.startswith(".") or not _NAME.match(path.name):
                continue
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append(Listed(path.name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)))
        return found


class ChunkReader(io.RawIOBase):
    """A file's chunks fetched one query at a time on a connection of its own."""

    def __init__(self, connection, file_id: int, size: int):
        self.size = size
        self._connection = connection
        self._file_id = file_id
        self._seq = 0
        self._pending = memoryview(b"")
        # psycopg sends bytea as hex text unless asked for binary, which reads three times faster.
        self._psycopg = connection.connection.driver_connection if connection.dialect.name == "postgresql" else None

    def _next_chunk(self) -> bytes | None:
        if self._psycopg is not None:
            with self._psycopg.cursor(binary=True) as cursor:
                cursor.execute(
                    "SELECT data FROM stored_chunk WHERE file_id = %s AND seq = %s", (self._file_id, self._seq)
                )
                row = cursor.fetchone()
        else:
            query = select(StoredChunk.data).where(StoredChunk.file_id == self._file_id, StoredChunk.seq == self._seq)
            row = self._connection.execute(query).first()
        self._seq += 1
        return None if row is None else row[0]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            chunk = self._next_chunk()
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        if not self.closed:
            self._connection.close()
        super().close()


class DatabaseStore:
    """Files in the ``stored_file`` and ``stored_chunk`` tables: every app host sees them."""

    name = "database"

    def put(self, bucket: str, name: str, stream: BinaryIO, *, limit: int | None = None, now: datetime) -> Stored:
        _check(bucket, name)
        session = db.session
        row = StoredFile(bucket=bucket, name=name, size=0, sha256="", created_at=now)
        session.add(row)
        session.flush()
        digest, size = hashlib.sha256(), 0
        try:
            for seq, block in enumerate(_blocks(stream, limit)):
                digest.update(block)
                size += len(block)
                session.execute(insert(StoredChunk).values(file_id=row.id, seq=seq, data=block))
        except TooLarge:
            session.execute(delete(StoredChunk).where(StoredChunk.file_id == row.id))
            session.delete(row)
            session.flush()
            raise
        row.size, row.sha256 = size, digest.hexdigest()
        session.flush()
        return Stored(size, row.sha256)

    def _row(self, session_or_connection, bucket: str, name: str):
        _check(bucket, name)
        return session_or_connection.execute(
            select(StoredFile.id, StoredFile.size).where(StoredFile.bucket == bucket, StoredFile.name == name)
        ).first()

    def open(self, bucket: str, name: str) -> ChunkReader:
        # read_only: on SQLite a plain BEGIN, which never waits for (or blocks) the session's writes.
        connection = db.engine.connect().execution_options(read_only=True)
        try:
            row = self._row(connection, bucket, name)
            if row is None:
                raise FileNotFoundError(f"{bucket}/{name}")
            return ChunkReader(connection, row.id, row.size)
        except BaseException:
            connection.close()
            raise

    def read(self, bucket: str, name: str) -> bytes | None:
        row = self._row(db.session, bucket, name)
        if row is None:
            return None
        chunks = db.session.scalars(
            select(StoredChunk.data).where(StoredChunk.file_id == row.id).order_by(StoredChunk.seq)
        )
        return b"".join(chunks)

    def exists(self, bucket: str, name: str) -> bool:
        return self._row(db.session, bucket, name) is not None

    def delete(self, bucket: str, name: str) -> None:
        row = self._row(db.session, bucket, name)
        if row is not None:
            db.session.execute(delete(StoredChunk).where(StoredChunk.file_id == row.id))
            db.session.execute(delete(StoredFile).where(StoredFile.id == row.id))

    def rename(self, bucket: str, old: str, new: str) -> bool:
        """One UPDATE: of two concurrent renames of one file, the second finds no row by the old name."""
        _check(bucket, old)
        _check(bucket, new)
        result = db.session.execute(
            update(StoredFile).where(StoredFile.bucket == bucket, StoredFile.name == old).values(name=new)
        )
        return result.rowcount == 1

    def listing(self, bucket: str, prefix: str = "") -> list[Listed]:
        rows = db.session.execute(
            select(StoredFile.name, StoredFile.size, StoredFile.created_at).where(
                StoredFile.bucket == bucket, StoredFile.name.startswith(prefix, autoescape=True)
            )
        )
        return [Listed(*row) for row in rows]


_STORES = {"disk": DiskStore(), "database": DatabaseStore()}


def store(kind: str | None = None) -> DiskStore | DatabaseStore:
    """The configured store (``FILE_STORE``), or the one named."""
    return _STORES[kind or current_app.config["FILE_STORE"]]
