"""The core's scheduled job, declared here because the core knows no scheduler: the idempotency
records (``core/idempotency.py``) purged daily once no client's retry can still need them."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from voucher_app.core.idempotency import purge_idempotency_records
from voucher_app.scheduler.schedule import Daily, Job


def jobs(config: Mapping) -> list[Job]:
    keep = dt.timedelta(days=float(config["RETENTION_IDEMPOTENCY_RECORDS_DAYS"]))
    honoured = dt.timedelta(hours=float(config["IDEMPOTENCY_KEYS_HONOURED_HOURS"]))

    def purge(now: dt.datetime) -> dict[str, int]:
        return {"idempotency_records_purged": purge_idempotency_records(now, keep, honoured)}

    return [Job("purge_idempotency_records", purge, Daily(dt.time.fromisoformat(config["SCHEDULE_PURGE_AT"])),
                "first answers to Idempotency-Key requests older than their retention (never one still honoured)")]
