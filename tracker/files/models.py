"""Files kept in the database: one row per file, its content in rows of at most ``CHUNK`` bytes."""

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import UTCDateTime
from tracker.extensions import db

CHUNK = 1 << 20  # 1 MB: a download or a hash never holds more than this of a file at once


class StoredFile(db.Model):
    """A file by its bucket (``evidence``, ``imports``) and name, as a folder would hold it."""

    __table_args__ = (UniqueConstraint("bucket", "name", name="uq_stored_file_bucket_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StoredChunk(db.Model):
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
