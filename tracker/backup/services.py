"""Online backups of the SQLite database (SQLite's backup API, not a file copy).

A plain copy of a WAL database can miss everything still in the ``-wal`` file,
or catch a page half-written. ``sqlite3.Connection.backup`` copies the pages of
one consistent snapshot while other connections keep writing. PostgreSQL
installs use ``pg_dump`` instead.
"""

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

SQLITE_TIMEOUT_S = 30


class BackupUnsupported(Exception):
    """The database is not a SQLite file; the message says what to use instead."""


@dataclass
class BackupReport:
    path: Path
    size: int
    tables: dict[str, int]
    integrity: str


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupUnsupported(
            f"This install uses {url.get_backend_name()}, not SQLite. Back it up with the database's own tool, "
            f"e.g. pg_dump --format=custom --file=FILE DATABASE (restore with pg_restore --clean --if-exists)."
        )
    if not url.database or url.database == ":memory:":
        raise BackupUnsupported("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def backup_sqlite(source: Path, target: Path, *, counted=("item", "ledger_entry")) -> BackupReport:
    """Copy ``source`` to ``target`` as one consistent snapshot, then check the copy.

    The copy is written next to ``target`` and renamed into place only when it is
    complete and passes ``PRAGMA integrity_check``, so a failed run never leaves a
    half-written file under the requested name.
    """
    if not source.exists():
        raise FileNotFoundError(source)
    target = target.resolve()
    if target == source.resolve():
        raise ValueError("the backup must not overwrite the database itself")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=SQLITE_TIMEOUT_S)
    try:
        dst = sqlite3.connect(partial)
        try:
            # pages=-1: all pages in one step, i.e. one read transaction and so one
            # snapshot; under WAL this does not block the app's writers.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            integrity = dst.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {name: _count(dst, name) for name in counted}
        finally:
            dst.close()
    finally:
        src.close()
    if integrity != "ok":
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"the copy failed its integrity check: {integrity}")
    os.replace(partial, target)
    return BackupReport(path=target, size=target.stat().st_size, tables=tables, integrity=integrity)


def _count(conn: sqlite3.Connection, table: str) -> int:
    try:
        return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608 - fixed names
    except sqlite3.OperationalError:
        return 0
