"""SQLite connection settings that make two concurrent writers wait instead of failing.

A deferred SQLite transaction that reads and later writes fails at once with
"database is locked" when another writer committed in between, busy timeout or
not. So every transaction that may write starts with ``BEGIN IMMEDIATE`` (taking
the write lock up front and waiting for it); read-only requests (and
connections opened with the ``read_only`` execution option, such as a file
download's) use a plain ``BEGIN`` and never block writers under WAL.
"""

import sqlite3

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

READ_METHODS = {"GET", "HEAD", "OPTIONS"}
BUSY_TIMEOUT_MS = 15000


@event.listens_for(Engine, "connect")
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


@event.listens_for(Engine, "begin")
def _begin_sqlite(conn):
    if conn.dialect.name != "sqlite":
        return
    read_only = conn.get_execution_options().get("read_only") or (
        has_request_context() and request.method in READ_METHODS
    )
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
