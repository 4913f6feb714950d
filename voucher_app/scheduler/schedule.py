"""Jobs and their timetables. Each job is a sweep ``(now) -> summary`` owned by its domain and
declared in that domain's ``jobs.py``; the composition root registers those timetables in order, and
this module only says when each job is due.

Slots are computed from the city's wall clock, so every scheduler process — and ``jobs run-due`` from
cron — agrees on which trigger "10:05" is, and the ``job_runs`` key makes that trigger act once.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from flask import current_app


@dataclass(frozen=True)
class Every:
    """Every ``minutes`` minutes, on the minutes of the hour divisible by it (city time)."""

    minutes: int

    def trigger(self, zone: ZoneInfo) -> CronTrigger:
        return CronTrigger(minute=f"*/{self.minutes}", timezone=zone)

    def latest(self, now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        local = now.astimezone(zone).replace(second=0, microsecond=0)
        return local.replace(minute=local.minute - local.minute % self.minutes).astimezone(dt.timezone.utc)

    def __str__(self) -> str:
        return f"every {self.minutes} min"


@dataclass(frozen=True)
class Daily:
    """Once a day at ``at`` (city time)."""

    at: dt.time

    def trigger(self, zone: ZoneInfo) -> CronTrigger:
        return CronTrigger(hour=self.at.hour, minute=self.at.minute, timezone=zone)

    def latest(self, now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        local = now.astimezone(zone)
        slot = dt.datetime.combine(local.date(), self.at, tzinfo=zone)
        if slot > local:
            slot = dt.datetime.combine(local.date() - dt.timedelta(days=1), self.at, tzinfo=zone)
        return slot.astimezone(dt.timezone.utc)

    def __str__(self) -> str:
        return f"daily at {self.at:%H:%M}"


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[dt.datetime], dict]
    schedule: Every | Daily
    description: str


JOBS_KEY = "voucher.jobs"


def jobs() -> list[Job]:
    """Every job, in the order ``run-due`` runs them: the order in which the composition root
    registered each domain's timetable (state first, then money, then the figures)."""
    config = current_app.config
    return [job for timetable in current_app.extensions[JOBS_KEY] for job in timetable(config)]


def job_named(name: str) -> Job | None:
    return next((job for job in jobs() if job.name == name), None)
