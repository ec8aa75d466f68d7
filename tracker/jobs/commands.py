from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from tracker.clock import utcnow
from tracker.event.services import event_timezone
from tracker.jobs.run import run_reminders

reminders_cli = AppGroup("reminders", help="Deadline reminders.")


def _parse_now(value: str | None) -> datetime:
    if not value:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use an ISO date-time, e.g. 2026-06-01T08:30+08:00") from None
    if moment.tzinfo is None:  # a bare time is the event's local time
        moment = moment.replace(tzinfo=ZoneInfo(event_timezone()))
    return moment.astimezone(UTC)


@reminders_cli.command("run")
@click.option("--now", "now_text", default=None, help="Run as if at this time (ISO; local time if no offset).")
@click.option("--dry-run", is_flag=True, help="Show what would be queued; queue and send nothing.")
def run(now_text, dry_run):
    """Run one sweep: queue the reminders due at that time, then deliver what is due."""
    now = _parse_now(now_text)
    result = run_reminders(now, dry_run=dry_run)
    queued = ", ".join(f"{rule} {n}" for rule, n in result["queued"].items())
    verb = "Would queue" if dry_run else "Queued"
    click.echo(f"{verb} at {now.isoformat()}: {queued or 'nothing'}.")
    if not dry_run:
        delivered = ", ".join(f"{status} {n}" for status, n in sorted(result["delivered"].items()))
        click.echo(f"Deliveries: {delivered or 'none due'}.")


@click.command("scheduler")
@with_appcontext
def scheduler():
    """Run the reminder scheduler alone (for installs where the web workers run with TRACKER_SCHEDULER=off)."""
    # Imported here, not above: web workers load this module and must never load APScheduler.
    from tracker.jobs.scheduler import run_blocking

    click.echo("Reminder scheduler running; Ctrl-C stops it.")
    run_blocking(current_app._get_current_object())


commands: list = [reminders_cli, scheduler]
