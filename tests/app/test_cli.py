"""The CLI contracts: names, options, clear errors and exit codes."""

from contextlib import ExitStack

from tracker.auth.models import User
from tracker.extensions import db
from tracker.items.models import compared_with_migrations


def test_init_db_creates_the_schema_from_migrations(tmp_path):
    from tracker import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.db'}", "TESTING": True})
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(db.text("SELECT count(*) FROM user")) == 0


def test_migrations_match_the_models(tmp_path):
    """A model change without a migration fails here (on PostgreSQL too when the suite runs there)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import upgrade

    from tests.conftest import PG_URL, pg_database
    from tracker import create_app

    with ExitStack() as stack:
        url = (
            stack.enter_context(pg_database("migcheck", with_schema=False))
            if PG_URL
            else f"sqlite:///{tmp_path / 'm.db'}"
        )
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"include_object": compared_with_migrations})
                diff = compare_metadata(context, db.metadata)
            db.engine.dispose()
    assert diff == []


def test_create_user(app, runner, world):
    result = runner.invoke(
        args=[
            "create-user",
            "wang",
            "--password",
            "long-enough-1",
            "--role",
            "lead",
            "--group",
            "CG",
            "--email",
            "wang@example.org",
            "--name",
            "王芳",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "wang"))
        assert user.role == "lead" and [g.code for g in user.groups] == ["CG"] and user.display_name == "王芳"


def test_create_user_rejects_unknown_group_and_short_password(app, runner, world):
    result = runner.invoke(args=["create-user", "wang", "--password", "short", "--role", "lead", "--group", "NOPE"])
    assert result.exit_code != 0
    assert "NOPE" in result.output and "8" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(User).where(User.username == "wang")) is None


def test_create_user_rejects_unknown_role(runner, world):
    result = runner.invoke(args=["create-user", "wang", "--password", "long-enough-1", "--role", "boss"])
    assert result.exit_code == 2


def test_create_user_rejects_duplicate(runner, world):
    result = runner.invoke(args=["create-user", "LEAD", "--password", "long-enough-1", "--role", "member"])
    assert result.exit_code != 0 and "已被使用" in result.output  # the CLI speaks the event's language
