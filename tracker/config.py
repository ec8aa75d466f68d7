"""Configuration: defaults, then ``instance/config.py``, then ``TRACKER_*`` variables."""

import os
from pathlib import Path

from flask import Flask

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production


class DefaultConfig:
    SECRET_KEY = DEFAULT_SECRET_KEY
    DATABASE_URL = None  # None: SQLite at instance/tracker.db
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SMTP_HOST = None
    SMTP_PORT = 25
    SMTP_USER = None
    SMTP_PASSWORD = None
    SMTP_TLS = False
    MAIL_FROM = "wallchart@localhost"
    TIMEZONE = "Asia/Shanghai"
    SCHEDULER = "on"
    BABEL_DEFAULT_LOCALE = "zh_CN"
    LANGUAGES = ("zh_CN", "en")
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
    ITEMS_PER_PAGE = 50
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
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    PRODUCTION = False
    PROXY_COUNT = 0  # reverse proxies in front (X-Forwarded-For/-Proto are trusted from that many)
    # Chat-robot hosts that may resolve to private or loopback addresses and use any port
    # (an on-premises receiver). Only the operator sets this; admins cannot from the pages.
    # Keys the ledger's hash chain (HMAC-SHA256); keep it out of the database and its backups.
    # Unset: new entries are chained with plain SHA-256 and `ledger verify` says so.
    LEDGER_KEY = None
    WEBHOOK_INTERNAL_HOSTS: tuple[str, ...] = ()


def load_config(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(DefaultConfig)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("TRACKER")
    else:
        app.config.from_mapping(test_config)
    _set_database_uri(app)


def _set_database_uri(app: Flask) -> None:
    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        url = "sqlite:///" + os.path.join(app.instance_path, "tracker.db")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    app.config["SQLALCHEMY_DATABASE_URI"] = url


def check_production(app: Flask) -> None:
    """Refuse to serve production with a guessable secret key or the debugger on."""
    if not app.config.get("PRODUCTION"):
        return
    key = app.config.get("SECRET_KEY")
    if not key or key == DEFAULT_SECRET_KEY or len(str(key)) < 16:
        raise RuntimeError("TRACKER_SECRET_KEY must be set to a long random value in production")
    if app.debug:
        raise RuntimeError("debug mode must be off in production")
