"""Fixtures in flaskr's shape: app, client, runner; a fresh database per test.

The suite runs on SQLite by default and on PostgreSQL when
TRACKER_TEST_DATABASE_URL is set (each xdist worker gets its own database).
"""

import functools
import os
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import text

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


@pytest.fixture
def database_url(pg_url, tmp_path):
    return pg_url or f"sqlite:///{tmp_path / 'test.db'}"


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
def app(config):
    app = create_app(config)
    with app.app_context():
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            db.create_all()
        else:
            _truncate_all()
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
def world(app):
    """A small install: an event, two groups, one user per role, a few items."""
    with app.app_context():
        data = factories.make_world()
        db.session.commit()
        # Load then detach: tests read ids and names without an open session.
        for obj in db.session.identity_map.values():
            db.session.refresh(obj)
        db.session.expunge_all()
        return data


@pytest.fixture
def frozen_now(time_machine):
    """The clock at the demo's as-of moment (T-112, 10:00 in Maoming)."""
    time_machine.move_to(factories.NOW, tick=False)
    return factories.NOW
