"""Settlement's scheduled job: each whole day settled once, after it ends."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from voucher_app.scheduler.schedule import Daily, Job
from voucher_app.settlement.service import settle


def jobs(config: Mapping) -> list[Job]:
    return [Job("settle", settle, Daily(dt.time.fromisoformat(config["SCHEDULE_SETTLE_AT"])),
                "a statement per merchant per day up to yesterday; held ones paid once reinstated")]
