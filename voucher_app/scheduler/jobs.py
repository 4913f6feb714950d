"""The jobs and their timetable. Each job is a sweep ``(now) -> summary`` owned by its domain; this
module only names them, orders them and says when each is due.

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


def _open_rounds(now):
    from campaigns.sweeps import open_rounds

    return open_rounds(now)


def _close_campaigns(now):
    from campaigns.sweeps import close_campaigns

    return close_campaigns(now)


def _expire_vouchers(now):
    from ..vouchers.expiry import expire_vouchers

    return expire_vouchers(now)


def _settle(now):
    from merchants.settlement import settle

    return settle(now)


def _tally(now):
    from ..reports.tally import tally

    return tally(now)


def jobs() -> list[Job]:
    """Every job, in the order ``run-due`` runs them: state first, then money, then the figures."""
    config = current_app.config
    lifecycle = Every(int(config["SCHEDULE_LIFECYCLE_MINUTES"]))
    return [
        Job("open_rounds", _open_rounds, lifecycle, "scheduled campaigns past their start → open; rounds released"),
        Job("close_campaigns", _close_campaigns, lifecycle, "campaigns past their end → closed"),
        Job("expire_vouchers", _expire_vouchers, Every(int(config["SCHEDULE_EXPIRY_MINUTES"])),
            "claimed vouchers past expiry → expired; value back to the budget (and recycled)"),
        Job("settle", _settle, Daily(dt.time.fromisoformat(config["SCHEDULE_SETTLE_AT"])),
            "a statement per merchant per day up to yesterday; held ones paid once reinstated"),
        Job("tally", _tally, Every(int(config["SCHEDULE_TALLY_MINUTES"])), "rebuild the report figures"),
    ]


def job_named(name: str) -> Job | None:
    return next((job for job in jobs() if job.name == name), None)
