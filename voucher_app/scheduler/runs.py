"""Running a job once per trigger: stake the (job, scheduled time) row first, then sweep.

The row is committed before the job runs, so a second scheduler (or a cron ``run-due`` racing the
scheduler) hits the unique key and steps aside instead of running the same trigger again. A job that
fails leaves its row ``failed`` with the error; the next trigger's sweep picks up what it left.

A process killed in the middle of a job (SIGKILL, the machine losing power) cannot mark its row: it
stays ``running``, and its trigger would never run again — for the nightly settlement, a day late. So
the row names its process (``owner``: host, pid and a token of this process's life), and a sweep on the
same host that finds the process gone takes the run over: the latest trigger's run is resumed (the job
runs again: every job is a sweep that commits in steps and finishes what an earlier run left), an older
one is marked ``abandoned`` (a later trigger has swept up its work). A process on another host cannot
be judged from here; such rows are left to their host.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import traceback
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from voucher_app.core.clock import city_zone
from voucher_app.core.clock import now as clock_now
from voucher_app.core.database import write_transaction
from voucher_app.core.extensions import db
from voucher_app.scheduler.models import JobRun
from voucher_app.scheduler.schedule import Job, jobs

log = logging.getLogger("voucher.scheduler")
_LIFE = secrets.token_hex(4)  # tells this process from an earlier one that had the same pid


def this_process() -> str:
    return f"{socket.gethostname()} {os.getpid()} {_LIFE}"


def process_gone(owner: str | None) -> bool:
    """Whether the process named by ``owner`` has died (decidable only on its own host)."""
    try:
        host, pid_text, life = (owner or "").split(" ")
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    if pid == os.getpid():
        return life != _LIFE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # killed but not yet reaped by its parent: a zombie runs nothing
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def run_trigger(job: Job, scheduled_for: dt.datetime, now: dt.datetime, *, manual: bool = False) -> JobRun | None:
    """Run ``job`` for one trigger; None when that trigger was already taken."""
    try:
        with write_transaction():
            run = JobRun(job=job.name, scheduled_for=scheduled_for, manual=manual, started_at=now, outcome="running",
                         owner=this_process())
            db.session.add(run)
    except IntegrityError:
        log.info("job %s for %s already ran elsewhere; skipped", job.name, scheduled_for.isoformat())
        return None
    return _execute(job, run, scheduled_for, now)


def _execute(job: Job, run: JobRun, scheduled_for: dt.datetime, now: dt.datetime,
             resumed_from: str | None = None) -> JobRun:
    try:
        summary = job.run(now)
        if resumed_from:
            summary = {**(summary or {}), "resumed_after": resumed_from}
    except Exception as err:  # a job's failure is logged and recorded; the scheduler keeps going
        db.session.rollback()
        log.exception("job %s for %s failed", job.name, scheduled_for.isoformat())
        _finish(run, now, "failed", None, "".join(traceback.format_exception_only(err)).strip())
        return run
    log.info("job %s for %s: %s", job.name, scheduled_for.isoformat(), summary)
    _finish(run, now, "ok", summary, None)
    return run


def _finish(run: JobRun, now: dt.datetime, outcome: str, summary: dict | None, error: str | None) -> None:
    """Record how the run ended (``run`` is the session's own row, so it reads the outcome too)."""
    with write_transaction():
        stored = db.session.get(JobRun, run.id)
        stored.outcome, stored.summary, stored.error = outcome, summary, error
        stored.finished_at = max(clock_now(), now)


def run_manually(job: Job, now: dt.datetime) -> JobRun:
    """``voucher jobs run NAME``: a run of its own, keyed by the moment it was asked for."""
    return run_trigger(job, now, now, manual=True)


def run_due(now: dt.datetime) -> list[tuple[Job, dt.datetime, JobRun | None]]:
    """Run each job whose latest trigger (at or before ``now``) has not run yet; in ``jobs()`` order.

    A sweep does everything due up to now, so after any downtime one run of the latest trigger
    catches up all the missed ones.
    """
    zone = city_zone()
    done = []
    for job in jobs():
        slot = job.schedule.latest(now, zone)
        abandon_older_runs(job, slot, now)
        taken = db.session.scalar(select(JobRun).where(JobRun.job == job.name, JobRun.scheduled_for == slot,
                                                       JobRun.manual.is_(False)))
        db.session.commit()  # end the read, so the run's write transaction starts afresh
        if taken is None:
            done.append((job, slot, run_trigger(job, slot, now)))
        elif taken.outcome == "running" and process_gone(taken.owner):
            done.append((job, slot, resume(job, taken, now)))
        else:
            done.append((job, slot, None))
    return done


def resume(job: Job, run: JobRun, now: dt.datetime) -> JobRun | None:
    """Take over ``run`` (its process died in the middle) and run the job again for its trigger. The
    take-over is one conditional update, so of two sweeps finding the same dead run only one resumes it."""
    dead = run.owner
    with write_transaction():
        taken = db.session.execute(
            update(JobRun).where(JobRun.id == run.id, JobRun.outcome == "running", JobRun.owner == dead)
            .values(owner=this_process(), started_at=now)).rowcount
    if not taken:
        return None
    log.warning("job %s for %s: its process (%s) died in the middle; running it again",
                job.name, run.scheduled_for.isoformat(), _host_pid(dead))
    return _execute(job, db.session.get(JobRun, run.id), run.scheduled_for, now, resumed_from=_host_pid(dead))


def abandon_older_runs(job: Job, slot: dt.datetime, now: dt.datetime) -> None:
    """Mark ``abandoned`` the earlier runs of ``job`` whose process died (a later trigger sweeps up
    their work), so that the record says what happened instead of ``running`` for ever."""
    stale = db.session.scalars(select(JobRun).where(JobRun.job == job.name, JobRun.outcome == "running",
                                                    JobRun.scheduled_for < slot)).all()
    db.session.commit()
    for run in stale:
        if not process_gone(run.owner):
            continue
        with write_transaction():
            db.session.execute(
                update(JobRun).where(JobRun.id == run.id, JobRun.outcome == "running", JobRun.owner == run.owner)
                .values(outcome="abandoned", finished_at=now,
                        error=f"its process ({_host_pid(run.owner)}) died; a later run swept up its work"))


def _host_pid(owner: str | None) -> str:
    return " ".join((owner or "?").split(" ")[:2])


def latest_runs(limit: int = 50) -> list[JobRun]:
    return list(db.session.scalars(select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)))
