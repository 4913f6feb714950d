"""``voucher draw …``: check a published draw, or run one by hand."""
from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from voucher_app.lottery import draw

draw_cli = AppGroup("draw", help="Lottery draws: check a published draw document.")


@draw_cli.command("verify")
@click.argument("document", type=click.File("r", encoding="utf-8"))
def verify(document):
    """Recompute a draw from its published document (a file, or - for standard input): the seed
    against the commitment, the entries against their digest, and the winners."""
    data = json.load(document)
    problems = draw.verify(data)
    if problems:
        for problem in problems:
            click.echo(f"✗ {problem}")
        sys.exit(1)
    click.echo(f"✓ the draw checks out: {len(data.get('entries') or [])} entries, "
               f"{len(data.get('winners') or [])} winners, seed matches the commitment")
