"""``voucher ledger check``: the books of every campaign, checked against the facts."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from voucher_app.settlement.reconciliation import check_ledger

ledger_cli = AppGroup("ledger", help="The subsidy ledger.")


@ledger_cli.command("check")
def ledger_check():
    """Check every campaign's books; exit 1 on any difference."""
    checked, differences = check_ledger()
    for difference in differences:
        click.echo(str(difference), err=True)
    if differences:
        click.echo(f"ledger: {len(differences)} difference(s) in {checked} campaign(s)", err=True)
        sys.exit(1)
    click.echo(f"ledger: {checked} campaign(s) balance")
