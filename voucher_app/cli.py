"""The ``voucher`` command: a Flask CLI group over ``create_app``, whose commands the composition root adds.

``voucher db upgrade`` (Flask-Migrate) makes the schema; ``voucher demo`` loads demo data;
``voucher serve`` runs gunicorn; ``voucher scheduler`` and ``voucher jobs`` run the scheduled jobs.
"""
from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from voucher_app.app import create_app
from voucher_app.core.errors import ConfigurationError


def _create_app_or_explain():
    try:
        return create_app()
    except ConfigurationError as err:
        click.echo(f"voucher: {err}", err=True)
        sys.exit(2)


cli = FlaskGroup(name="voucher", create_app=_create_app_or_explain, help="The consumer-voucher platform.")


def main() -> None:
    cli.main(prog_name="voucher")
