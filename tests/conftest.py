"""Fixtures in flaskr's shape: app, client, runner; a fresh database per test.

The suite runs on SQLite by default and on PostgreSQL when
TRACKER_TEST_DATABASE_URL is set (each xdist worker gets its own database).
"""

import functools
import os
import sqlite3
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from jinja2 import BytecodeCache
from sqlalchemy import text
from werkzeug.routing import Rule

from tests import factories
from tracker import create_app
from tracker.extensions import db

PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL")
HERE = Path(__file__).parent

# Marked slow by where they live, so a new test there is slow too: ``pytest -m "not slow" -n 2``
# is the inner loop and leaves them out; CI runs everything.
SLOW = (
    "browser/",  # Chromium drives the real app
    "app/test_crash.py",  # kill -9 of gunicorn workers, the server and the scheduler
    "app/test_fuzz_forms.py",  # hypothesis over every form and query parameter
    "app/test_upgrades.py",  # a database built at every earlier revision, upgraded
    "app/test_multihost.py",  # nginx, two hosts, two schedulers and a soak
    "app/test_db_restart.py",
    "app/test_production_start.py",  # a copy of the checkout started as the README says
    "demo/test_demo.py",  # the whole demo data set, loaded for nearly every test
    "items/test_concurrency.py",
    "items/test_extensions_races.py",
    "notices/test_notices_concurrency.py",
    "reminders/test_reminders_concurrency.py",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.relative_to(HERE).as_posix().startswith(SLOW):
            item.add_marker(pytest.mark.slow)
    if PG_URL:  # the second pass: what touches no database already ran on SQLite
        once = [item for item in items if not _touches_the_database(item)]
        if once:
            config.hook.pytest_deselected(items=once)
            skipped = set(once)
            items[:] = [item for item in items if item not in skipped]


def _touches_the_database(item) -> bool:
    """Asks for the test database (``database_url``, through ``app``, ``client``, ``world``...) or
    makes a PostgreSQL one of its own; anything else runs the same whatever the database."""
    return "database_url" in getattr(item, "fixturenames", ()) or _makes_its_own_database(item.path)


@functools.cache
def _makes_its_own_database(path: Path) -> bool:
    source = path.read_text(encoding="utf-8")
    return any(name in source for name in ("PG_URL", "pg_database", "TRACKER_TEST_DATABASE_URL"))


@contextmanager
def pg_database(suffix: str, *, with_schema: bool = True):
    """A throwaway PostgreSQL database on the test server: its URL, dropped afterwards."""
    import psycopg

    parts = urlsplit(PG_URL)
    name = f"{parts.path.lstrip('/') or 'test'}_{suffix}_{os.getpid()}".lower()[:63]
    admin = urlunsplit(parts._replace(scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(parts._replace(scheme="postgresql", path="/" + name))
    if with_schema:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            db.create_all()
            db.engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_url(request):
    """A PostgreSQL database of this worker's own, created once per session."""
    if not PG_URL:
        yield None
        return
    with pg_database(os.environ.get("PYTEST_XDIST_WORKER", "main")) as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_file(tmp_path_factory) -> Path:
    """This worker's SQLite database: one file, so one engine and its compiled statements serve
    every test (an engine per test compiles every statement again); emptied before each test."""
    return tmp_path_factory.mktemp("database") / "test.db"


@pytest.fixture
def database_url(pg_url, sqlite_file):
    if pg_url:
        return pg_url
    for engine in ENGINES.values():
        engine.dispose()
    for name in (sqlite_file.name, sqlite_file.name + "-wal", sqlite_file.name + "-shm"):
        sqlite_file.with_name(name).unlink(missing_ok=True)
    return f"sqlite:///{sqlite_file}"


def make_config(database_url, tmp_path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SCHEDULER": "off",
        "EVIDENCE_DIR": str(tmp_path / "evidence"),
        "SERVER_NAME": "localhost",
        "RATELIMIT_ENABLED": False,  # tests sign in hundreds of times; the limiter has its own test
        "WEBHOOK_INTERNAL_HOSTS": ["127.0.0.1"],  # the loopback chat-robot receiver
    }


@pytest.fixture
def config(database_url, tmp_path):
    return make_config(database_url, tmp_path)


@pytest.fixture
def app(config, prebuilt):
    app = create_app(config)
    with app.app_context():
        if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            _truncate_all()
        elif (path := _sqlite_file(app)) and path.exists():  # a test's own database_url gave it data
            db.create_all()
        else:
            prebuilt(app, "schema", db.create_all)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _truncate_all():
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An app and request context for service-level tests."""
    with app.test_request_context("/", method="POST"):
        yield app


@pytest.fixture
def world(app, prebuilt):
    """A small install: an event, two groups, one user per role, a few items."""
    with app.app_context():
        keys = prebuilt(app, "world", lambda: factories.make_world().keys())
        data = factories.World.load(keys)
        # Detached: tests read ids and names without an open session.
        db.session.expunge_all()
        return data


@pytest.fixture(scope="session")
def prebuilt(tmp_path_factory):
    """``prebuilt(app, name, build)`` runs ``build`` in the app's database, commits, and returns
    what it returned. On SQLite the database it left is kept, and the next test that builds
    the same, with the same configuration and clock, gets a copy of it instead: a fresh file
    per test at the cost of a copy, not of the build."""
    folder = tmp_path_factory.mktemp("prebuilt")
    kept: dict[tuple, tuple[Path, object]] = {}

    def prebuilt(app, name: str, build):
        path = _sqlite_file(app)
        key = (name, _configuration(app, str(tmp_path_factory.getbasetemp())), _clock())
        if path and key in kept:
            copy, result = kept[key]
            db.session.remove()
            _copy(copy, path)  # through SQLite, so a connection already open on the file sees it
            return result
        result = build()
        db.session.commit()
        if path:
            copy = folder / f"{len(kept)}.db"
            _copy(path, copy)
            kept[key] = copy, result
        return result

    return prebuilt


def _copy(source: Path, target: Path):
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)


def _sqlite_file(app) -> Path | None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def _configuration(app, own: str) -> tuple:
    """The app's settings, less those naming the test's own files (under ``own``)."""
    return tuple(sorted((name, repr(value)) for name, value in app.config.items() if own not in repr(value)))


def _clock():
    """A frozen clock by its time; a running one (real or travelling) by the minute, so rows
    stamped by default with "now" are at most a minute older than a fresh build's."""
    first, second = datetime.now(UTC), datetime.now(UTC)
    return first if first == second else first.replace(second=0, microsecond=0)


def _compile_each_url_rule_once():
    """Werkzeug compiles two Python functions for every URL rule of every app, most of what a
    new app costs; the suite makes an app per test. The functions read the rule only through
    their ``self`` argument, so one compiled per distinct rule serves every app."""
    compile_builder = Rule._compile_builder
    compiled = {}

    def _compile_builder(rule, append_unknown=True):
        if rule.defaults:  # folded into the function as constants
            return compile_builder(rule, append_unknown)
        key = (rule.rule, tuple(rule._trace), append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(rule, append_unknown)
        return compiled[key]

    Rule._compile_builder = _compile_builder


ENGINES = {}  # SQLite URL and engine options -> the engine every app with them shares


def _one_engine_per_sqlite_file():
    """Apps on the same SQLite file and options share one engine, and so its cache of compiled
    statements: most of what a test's queries cost when each app compiles them afresh."""
    make_engine = SQLAlchemy._make_engine

    def _make_engine(self, bind_key, options, app):
        if not str(options["url"]).startswith("sqlite:///"):
            return make_engine(self, bind_key, options, app)
        key = repr(sorted(options.items()))
        if key not in ENGINES:
            ENGINES[key] = make_engine(self, bind_key, options, app)
        return ENGINES[key]

    SQLAlchemy._make_engine = _make_engine


class _TemplateCode(BytecodeCache):
    """Jinja's compiled templates, kept for every app in the process (each app has its own
    environment and would parse and compile every template again), keyed by name and source."""

    def __init__(self):
        self.code = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.bytecode_to_string()


_compile_each_url_rule_once()
_one_engine_per_sqlite_file()
Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": _TemplateCode()}


@pytest.fixture
def frozen_now(time_machine):
    """The clock at the demo's as-of moment (T-112, 10:00 in Maoming)."""
    time_machine.move_to(factories.NOW, tick=False)
    return factories.NOW
