"""The scheduler process: APScheduler 3 firing each job at its slots, inside an app context.

Run by ``voucher scheduler`` (and spawned by ``voucher serve --with-scheduler`` next to gunicorn,
never inside a web worker — every worker would run every job). At start it runs whatever is due, so
the triggers missed while it was down are caught up at once.
"""
from __future__ import annotations

import logging
import signal

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from voucher_app.core.clock import city_zone, now
from voucher_app.core.extensions import db
from voucher_app.core.logs import install_masking
from voucher_app.scheduler.runs import run_due, run_trigger
from voucher_app.scheduler.schedule import Job, job_named, jobs

log = logging.getLogger("voucher.scheduler")


def _fire(app: Flask, name: str) -> None:
    with app.app_context():
        try:
            job = job_named(name)
            moment = now()
            run_trigger(job, job.schedule.latest(moment, city_zone()), moment)
        except Exception:  # never let one job's trouble (say, the database away) stop the scheduler
            log.exception("job %s could not run", name)
        finally:
            db.session.remove()


def build_scheduler(app: Flask) -> BlockingScheduler:
    with app.app_context():
        zone = city_zone()
        grace = int(app.config["SCHEDULER_MISFIRE_GRACE_SECONDS"])
        registered: list[Job] = jobs()
    scheduler = BlockingScheduler(timezone=zone, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": grace})
    for job in registered:
        scheduler.add_job(_fire, job.schedule.trigger(zone), args=[app, job.name], id=job.name, name=job.name,
                          replace_existing=True)
        log.info("scheduled %s (%s)", job.name, job.schedule)
    return scheduler


def job_log_handler() -> logging.Handler:
    """Job outcomes go to stderr, where a service manager collects them, with phones and tokens masked
    like every other log (a failed job's traceback may quote a resident's row)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    install_masking([handler])
    return handler


def _log_to_stderr() -> None:
    handler = job_log_handler()
    for name in ("voucher.scheduler", "apscheduler"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        logger.propagate = False


def run_scheduler(app: Flask) -> None:
    """Catch up, then fire jobs until stopped (SIGINT / SIGTERM: a running job finishes first)."""
    _log_to_stderr()
    scheduler = build_scheduler(app)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    with app.app_context():
        try:
            for job, slot, run in run_due(now()):
                log.info("catch-up %s for %s: %s", job.name, slot.isoformat(), run.outcome if run else "already ran")
        except Exception:
            log.exception("the catch-up run failed; the scheduled triggers will sweep it up")
        finally:
            db.session.remove()
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
