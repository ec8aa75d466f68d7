"""``import-xlsx`` and ``export-xlsx``: the 台账 sheet in and out from the command line."""

import time
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from tracker.auth.models import User
from tracker.clock import utcnow
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.lists.queries import ItemFilters
from tracker.spreadsheets import exporter, importer


def _actor(username: str | None) -> User:
    """Who the ledger records as author: ``--as``, else the first active admin."""
    query = select(User).where(User.is_active_account.is_(True))
    if username:
        query = query.where(User.username == username)
    else:
        query = query.where(User.role == "admin").order_by(User.id)
    user = db.session.scalars(query).first()
    if user is None:
        raise click.ClickException(
            f"No active user {username!r}." if username else "No active admin: create one or pass --as USERNAME."
        )
    return user


def _problem_line(problem: importer.Problem) -> str:
    where = f"Row {problem.row}, {problem.column}" if problem.row else problem.column
    return f"{where}: {problem.message}"


@click.command("import-xlsx")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report what would change; store nothing.")
@click.option("--as", "username", default=None, help="Record the import as this user (default: the first admin).")
@click.option(
    "--keep-newer",
    "keep_newer",
    type=int,
    multiple=True,
    metavar="ROW",
    help="For this conflicting row, keep the item as it is now and skip the row (repeatable).",
)
@with_appcontext
def import_xlsx(file: Path, dry_run: bool, username: str | None, keep_newer: tuple[int, ...]):
    """Import a 台账 sheet (.xlsx): rows with a known 编号 update that item, the others create items.

    Any invalid row, or a row whose item changed after the export, rejects the whole file.
    """
    actor = _actor(username)
    started = time.perf_counter()
    now = utcnow()
    try:
        plan = importer.plan_import(
            file.read_bytes(), actor=actor, now=now, filename=file.name, keep_newer=frozenset(keep_newer)
        )
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    if plan.file_error:
        raise click.ClickException(f"Cannot import {file.name}: {plan.file_error}")
    if plan.problems or plan.conflicts:
        for problem in plan.problems:
            click.echo(_problem_line(problem), err=True)
        for row in plan.conflicts:
            click.echo(_conflict_line(row), err=True)
        if plan.conflicts:
            click.echo("Export the sheet again, or pass --keep-newer ROW for each conflicting row.", err=True)
        count = len(plan.problems) + len(plan.conflicts)
        raise click.ClickException(f"{count} problem(s) in {file.name}; nothing was imported.")
    if plan.already_present:
        click.echo(
            f"Note: {plan.already_present} new row(s) repeat items that already exist (same group and description)."
        )
    if dry_run:
        for row in plan.rows:
            if row.kind in ("new", "update"):
                click.echo(_row_line(row))
        click.echo(f"Dry run: {plan.summary()}. Nothing was stored.")
        return
    try:
        importer.apply_import(plan, actor=actor, now=now)
    except importer.ImportRejected as rejected:
        db.session.rollback()
        for problem in rejected.problems:
            click.echo(_problem_line(problem), err=True)
        raise click.ClickException(f"{len(rejected.problems)} problem(s); nothing was imported.") from None
    db.session.commit()
    elapsed = time.perf_counter() - started
    click.echo(f"{file.name}: {plan.summary()} in {elapsed:.1f} s.")
    if plan.past_deadlines:
        click.echo(f"Note: {plan.past_deadlines} new item(s) have a deadline in the past (already overdue).")


def _row_line(row) -> str:
    if row.kind == "new":
        deadline = row.data["deadline"].isoformat() if row.data.get("deadline") else "-"
        return f"Row {row.row}: new {row.code} [{row.group}] {row.title} · {row.owner or '-'} · {deadline}"
    changes = "; ".join(f"{c.column}: {c.before} → {c.after}" for c in row.changes)
    return f"Row {row.row}: update {row.code}: {changes}"


def _conflict_line(row) -> str:
    since = "; ".join(
        f"{e.author.name if e.author else 'system'} changed {e.field or e.kind} "
        f"({e.before or '-'} → {e.after or '-'}) at {e.created_at:%Y-%m-%d %H:%M} UTC"
        for e in row.since
    )
    return f"Row {row.row}, {row.code}: the item changed after the export: {since or 'a newer version'}."


@click.command("export-xlsx")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Header language.")
@click.option("--group", default=None, help="Only this work group (code).")
@click.option("--status", default=None, help="Only this status (open, in_progress, submitted, closed, active …).")
@click.option("--as", "username", default=None, help="Export what this user may see (default: everything).")
@with_appcontext
def export_xlsx(file: Path, lang: str, group: str | None, status: str | None, username: str | None):
    """Write the rectification ledger as .xlsx (or CSV when FILE ends in .csv)."""
    actor = _actor(username)
    fmt = "csv" if file.suffix.lower() == ".csv" else "xlsx"
    filters = ItemFilters(group=group, status=status)
    data, _name, count = exporter.export_ledger(actor, filters, fmt=fmt, lang=lang, now=utcnow())
    file.write_bytes(data)
    click.echo(f"Wrote {count} item(s) to {file}.")


commands: list = [import_xlsx, export_xlsx]
