"""``voucher fraud …``: run the fraud rules by hand, and list their settings."""
from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

from voucher_app.core.clock import now, parse_iso
from voucher_app.fraud import service

fraud_cli = AppGroup("fraud", help="Fraud rules over redemptions and the flags they open.")


@fraud_cli.command("evaluate")
@click.option("--since", help="Judge redemptions from this time (ISO 8601 with offset) instead of the lookback.")
def evaluate_command(since: str | None):
    """Run every enabled rule now and record its hits as flags."""
    started = dt.datetime.now(dt.timezone.utc)
    summary = service.evaluate(now(), parse_iso(since) if since else None)
    seconds = (dt.datetime.now(dt.timezone.utc) - started).total_seconds()
    click.echo(f"fraud: {summary['hits']} hit(s): {summary['opened']} flag(s) opened, {summary['updated']} updated, "
               f"{summary['unchanged']} unchanged, {summary['closed_before']} already resolved ({seconds:.1f} s)")


@fraud_cli.command("rules")
def rules_command():
    """Each rule: on or off, and its thresholds."""
    for rule in service.rule_settings():
        state = "on " if rule["enabled"] else "off"
        params = ", ".join(f"{key}={value}" for key, value in rule["params"].items())
        click.echo(f"{state} {rule['code']:<18} {params}")
