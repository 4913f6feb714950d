"""Running a job once per trigger: stake the (job, scheduled time) row first, then sweep.

The row is committed before the job runs, so a second scheduler (or a cron ``run-due`` racing the
scheduler) hits the unique key and steps aside instead of running the same trigger again. A job that
fails leaves its row ``failed`` with the error; the next trigger's sweep picks up what it left.
"""
from __future__ import annotations

import datetime as dt
import logging
import traceback

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voucher_app.core.clock import city_zone
from voucher_app.core.clock import now as clock_now
from voucher_app.core.database import write_transaction
from voucher_app.core.extensions import db
from voucher_app.scheduler.models import JobRun
from voucher_app.scheduler.schedule import Job, jobs

log = logging.getLogger("voucher.scheduler")


def run_trigger(job: Job, scheduled_for: dt.datetime, now: dt.datetime, *, manual: bool = False) -> JobRun | None:
    """Run ``job`` for one trigger; None when that trigger was already taken."""
    try:
        with write_transaction():
            run = JobRun(job=job.name, scheduled_for=scheduled_for, manual=manual, started_at=now, outcome="running")
            db.session.add(run)
    except IntegrityError:
        log.info("job %s for %s already ran elsewhere; skipped", job.name, scheduled_for.isoformat())
        return None
    try:
        summary = job.run(now)
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
        taken = db.session.scalar(select(JobRun.id).where(JobRun.job == job.name, JobRun.scheduled_for == slot))
        db.session.commit()  # end the read, so the run's write transaction starts afresh
        done.append((job, slot, None if taken else run_trigger(job, slot, now)))
    return done


def latest_runs(limit: int = 50) -> list[JobRun]:
    return list(db.session.scalars(select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)))
