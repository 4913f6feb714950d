"""The complaints scheduled jobs (issue #17; filled in by the complaints work)."""
from __future__ import annotations

from collections.abc import Mapping

from voucher_app.scheduler.schedule import Job


def jobs(config: Mapping) -> list[Job]:
    return []
