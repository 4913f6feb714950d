"""Redemptions' scheduled job: refused attempts purged daily after their retention (``retention.py``)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import partial

from voucher_app.redemptions.retention import purge_refused_attempts
from voucher_app.scheduler.schedule import Daily, Job


def jobs(config: Mapping) -> list[Job]:
    return [Job("purge_refused_attempts",
                partial(purge_refused_attempts, keep=dt.timedelta(days=float(config["RETENTION_REFUSED_ATTEMPTS_DAYS"]))),
                Daily(dt.time.fromisoformat(config["SCHEDULE_PURGE_AT"])),
                "refused scans at the till past their retention (accepted ones are sales: kept)")]
