import click
from flask.cli import with_appcontext

from tracker.auth import users
from tracker.auth.models import ROLES
from tracker.errors import DomainError
from tracker.extensions import db


@click.command("create-user")
@click.argument("username")
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--group", "groups", multiple=True, help="Work-group code; repeat for several.")
@click.option("--email", default=None)
@click.option("--name", default="", help="Display name, e.g. 林晓雯.")
@with_appcontext
def create_user(username, password, role, groups, email, name):
    """Create a user with one role and their work groups."""
    try:
        user = users.create_user(
            username=username,
            password=password,
            role=role,
            group_codes=list(groups),
            email=email,
            display_name=name,
        )
    except DomainError as error:
        db.session.rollback()
        details = "; ".join(f"{k}: {v}" for k, v in error.fields.items())
        raise click.ClickException(f"{error.message} {details}".strip()) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.username}.")


commands: list = [create_user]
