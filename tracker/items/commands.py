import click
from flask.cli import AppGroup

from tracker.extensions import db
from tracker.files.store import store
from tracker.items import ledger

ledger_cli = AppGroup("ledger", help="The rectification ledger.")
SCHEME_NAMES = {ledger.KEYED: "keyed (HMAC)", ledger.PLAIN: "unkeyed (SHA-256)", None: "from before keying (SHA-256)"}


def _checkpoint(value: str | None):
    if value is None:
        return None
    try:
        return ledger.parse_checkpoint(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@ledger_cli.command("verify")
@click.option("--checkpoint", "checkpoint", default=None, metavar="HASH@N", help="A checkpoint from a weekly briefing.")
@click.option("--no-files", is_flag=True, help="Do not hash the evidence files again.")
def verify(checkpoint: str | None, no_files: bool):
    """Check the hash chain, replay it against every item, and hash the evidence files.

    Exits 1 naming the first bad entry, every item that differs from its ledger and
    every evidence file that is missing or changed.
    """
    wanted = _checkpoint(checkpoint)
    report = ledger.verify_chain(checkpoint=wanted)
    failed = False
    if report.ok:
        kinds = ", ".join(f"{n} {SCHEME_NAMES[s]}" for s, n in report.schemes.items()) or "none"
        click.echo(f"Ledger chain intact: {report.checked} entries ({kinds}).")
        click.echo(f"Checkpoint now: {ledger.checkpoint()}")
        if report.schemes.get(ledger.PLAIN) or (report.checked and not report.schemes.get(ledger.KEYED)):
            click.echo(
                "Note: TRACKER_LEDGER_KEY was not set for some entries; someone with database access could "
                "recompute those. Compare with a checkpoint from a weekly briefing (--checkpoint HASH@N)."
            )
    else:
        where = f"entry {report.bad_entry_id}" if report.bad_entry_id else "the end of the ledger"
        click.echo(f"Ledger BROKEN at {where}: {report.reason} ({report.checked} entries intact before it).", err=True)
        failed = True
    if wanted is not None:
        if report.checkpoint_ok:
            click.echo(f"Checkpoint {wanted[0]}@{wanted[1]} matches.")
        elif report.ok or report.checkpoint_ok is False:
            click.echo(f"Checkpoint {wanted[0]}@{wanted[1]} does NOT match the ledger.", err=True)
            failed = True
    mismatches = ledger.verify_items()
    for m in mismatches[:50]:
        click.echo(f"Item {m.item_id}: {m.field} is {m.current!r}, its ledger says {m.ledger!r}.", err=True)
    if mismatches:
        click.echo(f"{len(mismatches)} item field(s) differ from the ledger.", err=True)
        failed = True
    else:
        click.echo("Every item matches its ledger.")
    if not no_files:
        files = store()
        problems = ledger.verify_evidence(files)
        for p in problems[:50]:
            named = f"Evidence {p.evidence_id} ({p.filename!r}, item {p.item_id}, ledger entry {p.entry_id})"
            click.echo(f"{named}: {p.problem}.", err=True)
        if problems:
            click.echo(f"{len(problems)} evidence file(s) missing or changed ({files.name} store).", err=True)
            failed = True
        else:
            click.echo(f"Every evidence file matches its SHA-256 ({files.name} store).")
    if failed:
        raise SystemExit(1)


@ledger_cli.command("seal")
def seal():
    """Key the ledger head once, right after TRACKER_LEDGER_KEY is first set."""
    report = ledger.verify_chain()
    if not report.ok and "no key check" not in report.reason:
        raise click.ClickException(f"The ledger does not verify ({report.reason}); not sealing it.")
    try:
        ledger.seal_head()
    except ledger.KeyMissing:
        raise click.ClickException("Set TRACKER_LEDGER_KEY first.") from None
    except ValueError as error:
        raise click.ClickException(f"Not sealed: {error}.") from None
    db.session.commit()
    click.echo(f"Ledger head keyed at {ledger.checkpoint()}.")
