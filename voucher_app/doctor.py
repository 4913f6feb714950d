"""``voucher doctor``: what an operator checks before a round opens, in one command.

It sits at the composition root because it asks several parts at once: the database (reachable, its
schema at the newest migration, settings that keep acknowledged work), and the QR signing keys. Each
check prints one line; any problem makes the exit status 1, so a deployment script can stop on it.
"""
from __future__ import annotations

import click
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from voucher_app.core.durability import database_findings
from voucher_app.core.extensions import db
from voucher_app.vouchers import tokens


@click.command("doctor")
def doctor_command():
    """Check the database (reachable, schema at head, durable settings) and the signing keys."""
    problems = 0

    def report(ok: bool, line: str) -> None:
        nonlocal problems
        problems += not ok
        click.echo(f"{'ok  ' if ok else 'WARN'}  {line}")

    try:
        with db.engine.connect() as connection:
            report(True, f"database reachable ({db.engine.dialect.name})")
            current = set(MigrationContext.configure(connection).get_current_heads())
            heads = set(ScriptDirectory(current_app.extensions["migrate"].directory).get_heads())
            report(current == heads, "schema at the newest migration" if current == heads else
                   f"schema at {', '.join(sorted(current)) or 'nothing'}, newest is {', '.join(sorted(heads))}: "
                   "run `voucher db upgrade`")
            findings = database_findings(connection)
    except SQLAlchemyError as err:
        report(False, f"database unreachable: {err.__class__.__name__}: {str(err).splitlines()[0]}")
        raise SystemExit(1) from None
    for finding in findings:
        report(False, f"database setting {finding}")
    if not findings:
        report(True, "database settings keep every acknowledged commit through a crash")
    ring = tokens.keyring()
    keys = ring.keys()
    report(bool(keys), f"{len(keys)} QR signing key(s) in {ring.folder}" if keys else
           f"no QR signing key in {ring.folder}: run `voucher keys rotate`")
    if problems:
        raise SystemExit(1)
