"""``voucher create-admin`` and ``voucher create-staff``: bureau accounts made from the shell."""
from __future__ import annotations

import click

from voucher_app.accounts.service import create_staff
from voucher_app.core.errors import DomainError
from voucher_app.core.roles import Role


def _fail(err: DomainError) -> None:
    detail = err.detail or err.title
    fields = "; ".join(f"{e['field']}: {e['message']}" for e in err.errors)
    raise click.ClickException(f"{detail}" + (f" ({fields})" if fields else ""))


@click.command("create-admin")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 8 characters.")
def create_admin(username: str, password: str):
    """Create a bureau administrator who signs in with USERNAME and the password."""
    try:
        create_staff(username, password, Role.admin)
    except DomainError as err:
        _fail(err)
    click.echo(f"created admin {username}")


@click.command("create-staff")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "viewer"]), default="viewer", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_staff_command(username: str, role: str, password: str):
    """Create a bureau account: an administrator or a read-only viewer."""
    try:
        create_staff(username, password, Role(role))
    except DomainError as err:
        _fail(err)
    click.echo(f"created {role} {username}")
