"""Configuration: defaults, then ``instance/config.py``, then ``TRACKER_*`` variables."""

import os
from pathlib import Path

from flask import Flask

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production


class DefaultConfig:
    """Every setting the code reads, with its default (a test keeps it so)."""

    SECRET_KEY = DEFAULT_SECRET_KEY
    DATABASE_URL = None  # None: SQLite at instance/tracker.db
    SQLALCHEMY_DATABASE_URI = None  # set from DATABASE_URL at start
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SMTP_HOST = None
    SMTP_PORT = 25
    SMTP_USER = None
    SMTP_PASSWORD = None
    SMTP_TLS = False
    MAIL_FROM = "wallchart@localhost"
    TIMEZONE = "Asia/Shanghai"
    SCHEDULER = "on"
    # The reminder scheduler's database lease: when the working scheduler dies, another takes
    # over within this time and retries what it was sending. Schedulers look every third of it.
    SCHEDULER_LEASE_SECONDS = 180
    BABEL_DEFAULT_LOCALE = "zh_CN"
    LANGUAGES = ("zh_CN", "en")
    # The site's address for links that leave the page (feeds, emails, chat); never the Host header.
    BASE_URL = "http://localhost:5000"
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    EVIDENCE_DIR = None  # the disk store's folder; None: instance/evidence
    EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
    # Spreadsheet imports: kept uploads, the file's limits, and the parsing process's budget.
    IMPORT_DIR = None  # the disk store's folder; None: instance/imports
    IMPORT_KEEP_PER_USER = 5
    IMPORT_KEEP_BYTES_PER_USER = 30 * 1024 * 1024
    IMPORT_MAX_BYTES = 10 * 1024 * 1024
    IMPORT_MAX_ROWS = 20000
    # A zip that inflates beyond this is a zip bomb, not a ledger (a 20,000-row ledger inflates to ~30 MB).
    IMPORT_MAX_INFLATED_BYTES = 100 * 1024 * 1024
    IMPORT_PARSE_SECONDS = 30
    IMPORT_PARSE_MEMORY_MB = 1024
    # How long a computed board is reused; writes to items show at once (the data version changes).
    BOARD_CACHE_SECONDS = 60
    # Where evidence files and import uploads live: "database" (every app host sees them) or
    # "disk" (instance/ folders, EVIDENCE_DIR and IMPORT_DIR). None: database on PostgreSQL,
    # disk on SQLite. `flask --app tracker files migrate` moves disk files into the database.
    FILE_STORE = None
    ITEMS_PER_PAGE = 50
    # How long a process keeps a list page (any change makes a new one at once): bounds memory, not freshness.
    LIST_CACHE_SECONDS = 60
    # Lights (红黄绿灯): percentage points of lag, days before the deadline.
    LIGHT_RED_LAG = 30
    LIGHT_AMBER_LAG = 10
    LIGHT_AMBER_DAYS = 3
    # The big screen (/board?mode=screen) shows the next panel (key areas, charts …) this often;
    # ?rotate=N overrides it for one screen, 0 keeps the first panel.
    SCREEN_ROTATE_SECONDS = 20
    # Supervision notices are numbered 督办〔2026〕第12号; offices use their own word (督查, 督办函 …).
    NOTICE_NUMBER_PREFIX = "督办"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Generous enough for a whole office behind one NAT address.
    LOGIN_RATE_LIMIT = "100 per minute;1000 per hour"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    SESSION_IDLE_MINUTES = 30
    SESSION_MAX_HOURS = 12
    REMEMBER_COOKIE_DURATION = None  # None: SESSION_MAX_HOURS
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    PRODUCTION = False
    PROXY_COUNT = 0  # reverse proxies in front (X-Forwarded-For/-Proto are trusted from that many)
    # Keys the ledger's hash chain (HMAC-SHA256); keep it out of the database and its backups.
    # Unset: new entries are chained with plain SHA-256 and `ledger verify` says so.
    LEDGER_KEY = None
    # Chat-robot hosts that may resolve to private or loopback addresses and use any port
    # (an on-premises receiver). Only the operator sets this; admins cannot from the pages.
    WEBHOOK_INTERNAL_HOSTS: tuple[str, ...] = ()


def load_config(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(DefaultConfig)
    if test_config is None:
        app.config.from_pyfile(os.path.join(app.instance_path, "config.py"), silent=True)
        app.config.from_prefixed_env("TRACKER")
    else:
        app.config.from_mapping(test_config)
    _set_database_uri(app)
    _set_file_store(app)


def _set_database_uri(app: Flask) -> None:
    url = app.config["DATABASE_URL"] or app.config["SQLALCHEMY_DATABASE_URI"]
    if not url:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        url = "sqlite:///" + os.path.join(app.instance_path, "tracker.db")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    app.config["SQLALCHEMY_DATABASE_URI"] = url


def _set_file_store(app: Flask) -> None:
    store = app.config.get("FILE_STORE")
    if not store:
        on_postgresql = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
        store = "database" if on_postgresql else "disk"
    if store not in ("database", "disk"):
        raise RuntimeError(f"TRACKER_FILE_STORE must be database or disk, not {store!r}")
    app.config["FILE_STORE"] = store


def check_production(app: Flask) -> None:
    """Refuse to serve production with a guessable secret key or the debugger on."""
    if not app.config["PRODUCTION"]:
        return
    key = app.config["SECRET_KEY"]
    if not key or key == DEFAULT_SECRET_KEY or len(str(key)) < 16:
        raise RuntimeError("TRACKER_SECRET_KEY must be set to a long random value in production")
    if app.debug:
        raise RuntimeError("debug mode must be off in production")
