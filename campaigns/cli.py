"""``voucher city …``: load a city's plan and districts."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from campaigns import service
from voucher_app.core.errors import DomainError

city_cli = AppGroup("city", help="The city's plan: measures, actions, districts and targets.")


@city_cli.command("load")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load(path: Path | None):
    """Load (or reload) the city's data file; without PATH, the configured one."""
    try:
        counts = service.load_city_data(path or service.city_data_file())
    except DomainError as err:
        raise click.ClickException(str(err.detail or err.title)) from None
    click.echo("loaded " + ", ".join(f"{n} {what}" for what, n in counts.items()))
