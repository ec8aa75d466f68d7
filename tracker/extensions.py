"""Flask extensions, created unbound and initialised in ``create_app``; values kept per app."""

from collections.abc import Callable

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names keep Alembic migrations reproducible across databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Per-IP limits; the storage (RATELIMIT_STORAGE_URI, e.g. redis://) is shared by all workers.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def kept(name: str, key, make: Callable, limit: int = 1000):
    """``make()``, kept in this app's ``name`` under ``key`` for the life of the process: built
    statements, rendered headers, addresses. At ``limit`` entries they are all dropped; the key
    must name all the value depends on."""
    values = current_app.extensions.setdefault(name, {})
    if key not in values:
        if len(values) >= limit:
            values.clear()
        values[key] = make()
    return values[key]
