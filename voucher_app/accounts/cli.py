"""``voucher create-admin``, ``voucher create-staff`` and ``voucher totp``: bureau accounts and their
second factor, from the server's shell."""
from __future__ import annotations

import click
import qrcode
from sqlalchemy import column, select, table

from voucher_app.accounts import totp
from voucher_app.accounts.models import User
from voucher_app.accounts.service import create_staff
from voucher_app.core.clock import now
from voucher_app.core.errors import DomainError
from voucher_app.core.extensions import db
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
@click.option("--role", type=click.Choice(["admin", "viewer", "community_worker"]), default="viewer",
              show_default=True)
@click.option("--district", help="A community worker's district (a code of the city's districts, e.g. lizhou).")
@click.option("--name", "display_name", help="The name the pages show (e.g. a community worker's own name).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_staff_command(username: str, role: str, district: str | None, display_name: str | None, password: str):
    """Create a bureau account: an administrator, a read-only viewer, or a community worker bound to a
    district (who registers and acts for residents without a smartphone)."""
    if Role(role) is Role.community_worker:
        codes = _district_codes()
        if district not in codes:
            raise click.ClickException("a community worker serves one district: give --district with one of "
                                       + (", ".join(codes) or "the city's districts (run `voucher city load` first)"))
    elif district:
        raise click.ClickException("only a community worker has a district")
    try:
        create_staff(username, password, Role(role), district=district, display_name=display_name)
    except DomainError as err:
        _fail(err)
    click.echo(f"created {role} {username}" + (f" in {district}" if district else ""))


def _district_codes() -> list[str]:
    """The city's district codes. The campaigns package owns the table and sits above this one, so
    the command reads the one column it needs by name rather than through its model."""
    districts = table("districts", column("code"), column("position"))
    return list(db.session.scalars(select(districts.c.code).order_by(districts.c.position)))


totp_cli = click.Group("totp", help="A staff member's authenticator app (the second factor).")


def _staff(username: str) -> User:
    user = db.session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise click.ClickException(f"no staff member is called {username}")
    return user


@totp_cli.command("setup")
@click.argument("username")
def totp_setup(username: str):
    """Set up USERNAME's authenticator: scan the QR (or type the secret), then type the app's code.
    The first administrator of a production server signs in only after this."""
    user = _staff(username)
    try:
        enrolment = totp.begin(user.id, now())
    except DomainError as err:
        _fail(err)
    code = qrcode.QRCode(border=1)
    code.add_data(enrolment.otpauth_uri)
    code.print_ascii(invert=True)
    click.echo(f"secret: {enrolment.secret}\nor open: {enrolment.otpauth_uri}\n")
    click.echo("Recovery codes (each works once, keep them somewhere safe):\n  " + "\n  ".join(enrolment.recovery_codes))
    typed = click.prompt("\nThe 6-digit code the app shows now")
    try:
        totp.confirm(user.id, typed, now())
    except DomainError as err:
        _fail(err)
    click.echo(f"the authenticator of {username} is on")


@totp_cli.command("reset")
@click.argument("username")
def totp_reset(username: str):
    """Turn USERNAME's authenticator off (a lost phone and lost recovery codes); they set it up again."""
    totp.reset(_staff(username).id)
    click.echo(f"the authenticator of {username} is off; they can set it up again after signing in")
