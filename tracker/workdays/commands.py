from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from tracker.clock import utcnow
from tracker.errors import ValidationFailed
from tracker.event.services import current_event
from tracker.extensions import db
from tracker.spreadsheets.workdays import MAX_BYTES, read_arrangement
from tracker.workdays import services

workdays_cli = AppGroup("working-days", help="The working-day calendar (节假日与调休).")


def _event():
    event = current_event()
    if event is None:
        raise click.ClickException("No event is set up yet.")
    return event


def _fail(error: ValidationFailed):
    db.session.rollback()
    details = "; ".join(str(m) for v in error.fields.values() for m in (v if isinstance(v, list) else [v]))
    raise click.ClickException(f"{error.message} {details}".strip())


@workdays_cli.command("seed")
@click.argument("year", type=click.IntRange(2000, 2100))
def seed(year):
    """Take YEAR's official arrangement from the holiday library (replaces that year's days)."""
    try:
        stored = services.seed_from_library(_event(), year, actor=None, now=utcnow())
    except ValidationFailed as error:
        _fail(error)
    db.session.commit()
    click.echo(f"{year}: {stored} days stored.")


@workdays_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", type=click.IntRange(2000, 2100), required=True)
def import_year(path, year):
    """Import YEAR's arrangement from a CSV or xlsx file (日期, 上班, 名称)."""
    try:
        days = read_arrangement(path.open("rb").read(MAX_BYTES + 1), path.name)
        stored = services.apply_year(_event(), year, days, actor=None, now=utcnow(), source=path.name)
    except ValidationFailed as error:
        _fail(error)
    db.session.commit()
    click.echo(f"{year}: {stored} days stored.")


@workdays_cli.command("list")
@click.argument("year", type=click.IntRange(2000, 2100))
def list_year(year):
    """Print YEAR's days that differ from Monday to Friday."""
    for row in services.exceptions_between(_event(), date(year, 1, 1), date(year, 12, 31)):
        click.echo(f"{row.day.isoformat()}\t{'上班' if row.working else '休息'}\t{row.name}")


commands: list = [workdays_cli]
