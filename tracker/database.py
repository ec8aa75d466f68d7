"""SQLite connection settings that make two concurrent writers wait instead of failing.

A deferred SQLite transaction that reads and later writes fails at once with
"database is locked" when another writer committed in between, busy timeout or
not. So every transaction that may write starts with ``BEGIN IMMEDIATE`` (taking
the write lock up front and waiting for it); read-only requests (and
connections opened with the ``read_only`` execution option, such as a file
download's) use a plain ``BEGIN`` and never block writers under WAL. The listeners go on
the app's own engines, so another engine in the same process keeps its own settings.
"""

import sqlite3

from flask import Flask, has_request_context, request
from sqlalchemy import event

from tracker.extensions import db

READ_METHODS = {"GET", "HEAD", "OPTIONS"}
BUSY_TIMEOUT_MS = 15000


def init_sqlite(app: Flask) -> None:
    """Register the SQLite settings on the app's engines (after ``db.init_app``, before any connection)."""
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _configure_sqlite)
                event.listen(engine, "begin", _begin_sqlite)


def _configure_sqlite(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _begin_sqlite(conn):
    read_only = conn.get_execution_options().get("read_only") or (
        has_request_context() and request.method in READ_METHODS
    )
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
