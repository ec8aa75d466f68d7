import click
from flask.cli import AppGroup

from tracker.items.ledger import verify_chain

ledger_cli = AppGroup("ledger", help="The rectification ledger.")


@ledger_cli.command("verify")
def verify():
    """Recompute the hash chain; exit 1 naming the first bad entry."""
    report = verify_chain()
    if report.ok:
        click.echo(f"Ledger intact: {report.checked} entries.")
        return
    where = f"entry {report.bad_entry_id}" if report.bad_entry_id else "the end of the ledger"
    click.echo(f"Ledger BROKEN at {where}: {report.reason} ({report.checked} entries intact before it).", err=True)
    raise SystemExit(1)
