"""Wallchart (挂图作战): problem list, responsibility list and rectification ledger."""

from importlib import import_module
from pathlib import Path

from flask import Flask

from tracker import database  # noqa: F401 - registers the SQLite connection settings
from tracker.config import check_production, load_config
from tracker.extensions import csrf, db, limiter, login_manager, migrate
from tracker.routing import IdConverter

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.url_map.converters["int"] = IdConverter
    load_config(app, test_config)
    check_production(app)
    init_extensions(app)
    register_blueprints(app)
    register_cli(app)
    register_error_handlers(app)
    return app


def init_extensions(app: Flask) -> None:
    from tracker import assets, i18n, security
    from tracker.auth import session

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    session.init_login(app)
    i18n.init_babel(app)
    security.init_security(app)
    assets.init_assets(app)


AREAS = (
    "home",
    "auth",
    "items",
    "milestones",
    "exercises",
    "notices",
    "board",
    "reports",
    "reminders",
    "notify",
    "spreadsheets",
    "calendar",
    "api",
    "admin",
    "workdays",
    "audit",
    "health",
)


def register_blueprints(app: Flask) -> None:
    from tracker.home import nav
    from tracker.items import labels

    for area in AREAS:
        app.register_blueprint(import_module(f"tracker.{area}.views").bp)
    nav.register(app)
    labels.register(app)


def register_cli(app: Flask) -> None:
    from tracker.cli import commands

    for command in commands:
        app.cli.add_command(command)


def register_error_handlers(app: Flask) -> None:
    from tracker.errors import register_handlers

    register_handlers(app)
