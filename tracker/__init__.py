"""Wallchart (挂图作战): problem list, responsibility list and rectification ledger."""

from importlib import import_module
from pathlib import Path

from flask import Flask

from tracker import assets, database, error_pages, i18n, security
from tracker.auth import session
from tracker.config import check_production, load_config
from tracker.event.services import current_event, event_timezone
from tracker.extensions import csrf, db, limiter, login_manager, migrate
from tracker.home import nav
from tracker.items import labels
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
    register_areas(app)
    error_pages.register_handlers(app)
    return app


def _event_locale() -> str | None:
    event = current_event()
    return event.default_locale if event else None


def init_extensions(app: Flask) -> None:
    db.init_app(app)
    database.init_sqlite(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    session.init_login(app)
    i18n.init_babel(app, event_locale=_event_locale, event_timezone=event_timezone)
    security.init_security(app)
    assets.init_assets(app)


# Each area and what it brings: pages (``views.bp``) and command-line commands (``commands.commands``).
AREAS = {
    "home": ("views",),
    "auth": ("views", "commands"),
    "items": ("views", "commands"),
    "milestones": ("views",),
    "exercises": ("views",),
    "notices": ("views",),
    "board": ("views",),
    "reports": ("views",),
    "reminders": ("views",),
    "notify": ("views",),
    "spreadsheets": ("views", "commands"),
    "calendar": ("views",),
    "api": ("views", "commands"),
    "admin": ("views",),
    "workdays": ("views", "commands"),
    "audit": ("views",),
    "health": ("views",),
    "jobs": ("commands",),
    "backup": ("commands",),
    "demo": ("commands",),
    "files": ("commands",),
}


def register_areas(app: Flask) -> None:
    for area, parts in AREAS.items():
        if "views" in parts:
            app.register_blueprint(import_module(f"tracker.{area}.views").bp)
        if "commands" in parts:
            for command in import_module(f"tracker.{area}.commands").commands:
                app.cli.add_command(command)
    nav.register(app)
    labels.register(app)
