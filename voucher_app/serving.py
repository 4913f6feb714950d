"""Running the app under gunicorn from ``voucher serve``.

The command replaces itself with gunicorn (``exec``) instead of running it in-process: the CLI
runs inside an app context, and a sync worker forked from it would inherit that context, so every
request would share one ``g`` and one database session that is never closed.
"""
from __future__ import annotations

import os
import sys

import click
from gunicorn.glogging import Logger

from voucher_app.core.logs import MaskPersonalDataFilter, install_masking


class MaskedLogger(Logger):
    """gunicorn's logger, with phone numbers and bearer tokens masked in the access and error logs
    (an access line carries the query string; an error line a traceback). ``setup`` runs again when
    gunicorn reopens its log files, with new handlers, which are masked in turn."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, MaskPersonalDataFilter) for f in log.filters):
                log.addFilter(MaskPersonalDataFilter())
            install_masking(log.handlers)


def gunicorn_argv(*, host: str, port: int, workers: int, threads: int) -> list[str]:
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:voucher_app.gunicorn_conf",
            "--bind", f"{host}:{port}", "--workers", str(workers)]
    if threads > 1:
        argv += ["--worker-class", "gthread", "--threads", str(threads)]
    return argv + ["voucher_app.wsgi:app"]


SCHEDULER_FLAG = "VOUCHER_SERVE_WITH_SCHEDULER"


def exec_gunicorn(*, host: str, port: int, workers: int, threads: int, with_scheduler: bool = False) -> None:
    argv = gunicorn_argv(host=host, port=port, workers=workers, threads=threads)
    if with_scheduler:
        os.environ[SCHEDULER_FLAG] = "1"  # read by gunicorn_conf.when_ready, in the master
    else:
        os.environ.pop(SCHEDULER_FLAG, None)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes")
@click.option("--threads", default=1, show_default=True, type=int, help="threads per worker")
@click.option("--with-scheduler", is_flag=True,
              help="also run the scheduler, as one process beside the workers (single-box installs)")
def serve_command(host: str, port: int, workers: int, threads: int, with_scheduler: bool):
    """Serve the platform with gunicorn (SQLite or PostgreSQL)."""
    # The app was built by now, so an unsafe configuration has already stopped us with one line.
    exec_gunicorn(host=host, port=port, workers=workers, threads=threads, with_scheduler=with_scheduler)
