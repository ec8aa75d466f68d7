import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from tracker.api import services
from tracker.auth.models import User
from tracker.clock import utcnow
from tracker.errors import ValidationFailed
from tracker.extensions import db


@click.command("api-token")
@click.argument("username")
@click.option("--name", default="command line", show_default=True, help="A name to recognise the token by.")
@with_appcontext
def api_token(username: str, name: str):
    """Create a bearer token for USERNAME and print it (it is shown only this once)."""
    user = db.session.scalars(select(User).where(func.lower(User.username) == username.lower())).first()
    if user is None or not user.is_active:
        raise click.ClickException(f"no active user {username!r}")
    try:
        _, secret = services.create_token(user, name, now=utcnow())
    except ValidationFailed as error:
        raise click.ClickException("; ".join(str(m) for m in error.fields.values())) from None
    db.session.commit()
    click.echo(secret)


commands: list = [api_token]
