import click
from flask.cli import with_appcontext

from tracker.clock import utcnow
from tracker.demo.seed import DemoAlreadyLoaded, load_demo
from tracker.extensions import db


@click.command("seed-demo")
@with_appcontext
def seed_demo():
    """Load the Para Games demo (never in production): groups, milestones, items, accounts."""
    try:
        accounts = load_demo(now=utcnow())
    except DemoAlreadyLoaded as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo("Demo loaded. Sign in with:")
    for username, password, role in accounts:
        click.echo(f"  {role:<10} {username} / {password}")
    click.echo("Every other demo person signs in with the password of their role (lead-js / demo-lead …).")


commands: list = [seed_demo]
