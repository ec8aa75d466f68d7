"""Command-line entry points (``flask --app tracker …``), gathered from each area."""

from importlib import import_module

import click
from flask.cli import with_appcontext
from flask_migrate import upgrade

from tracker.auth.commands import create_user
from tracker.demo.commands import seed_demo
from tracker.items.commands import ledger_cli


@click.command("init-db")
@with_appcontext
def init_db():
    """Create the database or bring it to the current schema (migrations)."""
    upgrade()
    click.echo("Database is at the current schema.")


commands = [init_db, seed_demo, create_user, ledger_cli]
for _area in ("api", "reminders", "spreadsheets", "calendar", "board", "reports", "workdays", "files"):
    commands += import_module(f"tracker.{_area}.commands").commands
