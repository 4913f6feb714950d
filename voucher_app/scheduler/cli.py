"""``voucher scheduler`` and ``voucher jobs run NAME | run-due | list``."""
from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from voucher_app.core.clock import now, to_city
from voucher_app.scheduler.runner import run_scheduler
from voucher_app.scheduler.runs import latest_runs, run_due, run_manually
from voucher_app.scheduler.schedule import job_named, jobs

jobs_cli = AppGroup("jobs", help="Run the scheduler's jobs by hand or from cron.")


def _summary(run) -> str:
    if run is None:
        return "already ran"
    if run.outcome != "ok":
        return f"{run.outcome}: {run.error}"
    return "ok " + json.dumps(run.summary or {}, ensure_ascii=False)


@click.command("scheduler")
def scheduler_command():
    """Run the scheduler in this process until stopped (one per installation)."""
    click.echo("scheduler: catching up, then running the jobs on their timetable (Ctrl-C stops)")
    run_scheduler(current_app._get_current_object())


@jobs_cli.command("run")
@click.argument("name")
def run_job(name: str):
    """Run the job NAME now (``voucher jobs list`` names them all)."""
    job = job_named(name)
    if job is None:
        raise click.ClickException(f"no job named {name!r}; the jobs are: {', '.join(j.name for j in jobs())}")
    run = run_manually(job, now())
    click.echo(f"{job.name}: {_summary(run)}")
    if run.outcome != "ok":
        sys.exit(1)


@jobs_cli.command("run-due")
def run_due_command():
    """Run every job whose latest trigger has not run yet (for cron, and after downtime)."""
    failed = False
    for job, slot, run in run_due(now()):
        click.echo(f"{job.name} ({to_city(slot):%Y-%m-%d %H:%M}): {_summary(run)}")
        failed |= run is not None and run.outcome != "ok"
    if failed:
        sys.exit(1)


@jobs_cli.command("list")
def list_jobs():
    """The jobs, their timetable, and the latest runs."""
    for job in jobs():
        click.echo(f"{job.name:<26} {job.schedule!s:<18} {job.description}")
    click.echo("")
    for run in latest_runs(20):
        click.echo(f"{to_city(run.started_at):%Y-%m-%d %H:%M:%S}  {run.job:<26} "
                   f"{'manual' if run.manual else to_city(run.scheduled_for).strftime('%H:%M'):<7} {_summary(run)}")
