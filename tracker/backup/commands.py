"""Database upkeep from the command line: bring the schema up to date, write a backup."""

import sqlite3
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from tracker.backup.services import BackupUnsupported, backup_sqlite, sqlite_path


@click.command("init-db")
@with_appcontext
def init_db():
    """Create the database or bring it to the current schema (migrations)."""
    upgrade()
    click.echo("Database is at the current schema.")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(file: Path):
    """Write a consistent copy of the SQLite database to FILE while the app keeps running."""
    try:
        source = sqlite_path(current_app.config["SQLALCHEMY_DATABASE_URI"])
    except BackupUnsupported as error:
        raise click.ClickException(str(error)) from None
    if not source.exists():
        raise click.ClickException(f"No database at {source}.")
    try:
        report = backup_sqlite(source, file)
    except (OSError, ValueError, RuntimeError, sqlite3.Error) as error:
        raise click.ClickException(f"Backup failed: {error}") from None
    counts = ", ".join(f"{n} {name} rows" for name, n in report.tables.items())
    size = f"{report.size / 1024:.0f} KiB"
    click.echo(f"Backup written to {report.path} ({size}; {counts}; integrity {report.integrity}).")


commands: list = [init_db, backup]
