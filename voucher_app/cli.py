"""The ``voucher`` command: a Flask CLI group over ``create_app``.

``voucher db upgrade`` (Flask-Migrate) makes the schema; ``voucher demo`` loads demo data;
``voucher serve`` runs gunicorn; ``voucher scheduler`` and ``voucher jobs`` run the scheduled jobs.
"""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from .errors import ConfigurationError, DomainError


def register_commands(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(create_staff_command)
    app.cli.add_command(demo)
    app.cli.add_command(serve)


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
    from .accounts.models import Role
    from .accounts.service import create_staff

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
    from .accounts.models import Role
    from .accounts.service import create_staff

    try:
        create_staff(username, password, Role(role))
    except DomainError as err:
        _fail(err)
    click.echo(f"created {role} {username}")


@click.command("demo")
def demo():
    """Load the city's data and demo accounts (development and testing only)."""
    from .demo import load_demo

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("the demo has well-known passwords: it is not loaded in production")
    for line in load_demo():
        click.echo(line)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes")
@click.option("--threads", default=1, show_default=True, type=int, help="threads per worker")
@click.option("--with-scheduler", is_flag=True,
              help="also run the scheduler, as one process beside the workers (single-box installs)")
def serve(host: str, port: int, workers: int, threads: int, with_scheduler: bool):
    """Serve the platform with gunicorn (SQLite or PostgreSQL)."""
    from .serving import exec_gunicorn

    # The app was built by now, so an unsafe configuration has already stopped us with one line.
    exec_gunicorn(host=host, port=port, workers=workers, threads=threads, with_scheduler=with_scheduler)


def _create_app_or_explain():
    from . import create_app

    try:
        return create_app()
    except ConfigurationError as err:
        click.echo(f"voucher: {err}", err=True)
        sys.exit(2)


cli = FlaskGroup(name="voucher", create_app=_create_app_or_explain, help="The consumer-voucher platform.")


def main() -> None:
    cli.main(prog_name="voucher")
