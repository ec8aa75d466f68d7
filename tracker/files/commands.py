import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select, union_all

from tracker.exercises.models import ExercisePhoto
from tracker.extensions import db
from tracker.files.move import move_to_database
from tracker.items.models import Evidence

files_cli = AppGroup("files", help="Evidence files, exercise photos and import uploads.")


@files_cli.command("migrate")
@click.option("--keep", is_flag=True, help="Leave the disk copies in place once verified.")
def migrate(keep: bool):
    """Move the files in the instance/ folders into the database store.

    Each file is checked against its recorded SHA-256, copied, read back and hashed
    again before its disk copy is removed. Safe to run again: a run that stopped
    half-way finishes, a finished one changes nothing. Exits 1 if any file was left.
    """
    if current_app.config["FILE_STORE"] != "database":
        raise click.ClickException("Set TRACKER_FILE_STORE=database first: the app must read files from there.")
    recorded = dict(
        db.session.execute(
            union_all(
                select(Evidence.storage_name, Evidence.sha256),
                select(ExercisePhoto.storage_name, ExercisePhoto.sha256),
            )
        ).all()
    )
    db.session.rollback()
    reports = move_to_database(lambda bucket, name: recorded.get(name) if bucket == "evidence" else None, keep=keep)
    failed = False
    for bucket, report in reports.items():
        click.echo(f"{bucket}: moved {report.moved}, already in the database {report.already}.")
        for problem in report.problems:
            click.echo(problem, err=True)
            failed = True
    if failed:
        raise SystemExit(1)


commands = [files_cli]
