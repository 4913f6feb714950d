"""``voucher keys …``: the Ed25519 keys that sign voucher QR tokens."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from voucher_app.vouchers import tokens

keys_cli = AppGroup("keys", help="Keys that sign the vouchers' QR tokens.")


@keys_cli.command("rotate")
def rotate():
    """Add a new signing key; tokens signed by older keys keep verifying until those are retired."""
    key = tokens.keyring().rotate()
    click.echo(f"new signing key {key.kid} in {tokens.keyring().folder}")


@keys_cli.command("retire")
@click.argument("kid")
def retire(kid: str):
    """Stop accepting tokens signed by KID (never the key that signs now)."""
    ring = tokens.keyring()
    if ring.keys() and ring.signing_key().kid == kid:
        raise click.ClickException(f"{kid} is the key that signs now: rotate first, then retire it")
    try:
        path = ring.retire(kid)
    except KeyError:
        raise click.ClickException(f"there is no key {kid} in {ring.folder}") from None
    click.echo(f"retired {kid} (moved to {path})")


@keys_cli.command("list")
def list_keys():
    """The keys that verify tokens, the signing one last."""
    for key in tokens.keyring().keys():
        click.echo(f"{key.kid}  {key.created}")
