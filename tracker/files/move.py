"""Moving files from the instance/ folders into the database store, one file per transaction.

Each file is hashed on disk, checked against the SHA-256 its record holds (when it has
one), copied in chunks, committed, read back from the database and hashed again; only
then is the disk copy removed. A file already in the database with the same content
is just removed from disk, so a run stopped half-way (a crash, Ctrl-C) finishes when
run again, and a finished run changes nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from tracker.extensions import db
from tracker.files.store import FOLDERS, DatabaseStore, DiskStore, sha256_of


@dataclass
class MoveReport:
    moved: int = 0
    already: int = 0
    problems: list[str] = field(default_factory=list)


def move_to_database(
    expected: Callable[[str, str], str | None], *, keep: bool = False, buckets=tuple(FOLDERS)
) -> dict[str, MoveReport]:
    """Every disk file into the database; ``expected(bucket, name)`` is its recorded SHA-256, if any."""
    disk, database = DiskStore(), DatabaseStore()
    reports = {}
    for bucket in buckets:
        report = reports[bucket] = MoveReport()
        for listed in sorted(disk.listing(bucket), key=lambda f: f.name):
            name = listed.name
            on_disk = sha256_of(disk.open(bucket, name))
            recorded = expected(bucket, name)
            if recorded is not None and recorded != on_disk:
                report.problems.append(f"{bucket}/{name} does not match its recorded SHA-256; left on disk")
                continue
            if database.exists(bucket, name):
                db.session.rollback()
                counter = "already"
            else:
                with disk.open(bucket, name) as stream:
                    database.put(bucket, name, stream, now=listed.created_at)
                db.session.commit()
                counter = "moved"
            if sha256_of(database.open(bucket, name)) != on_disk:
                report.problems.append(f"{bucket}/{name} differs from its copy in the database; left on disk")
                continue
            setattr(report, counter, getattr(report, counter) + 1)
            if not keep:
                disk.delete(bucket, name)
    return reports
