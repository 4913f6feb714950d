"""The campaigns' scheduled jobs: rounds released and campaigns opened or closed as the clock says."""
from __future__ import annotations

from collections.abc import Mapping

from campaigns.sweeps import close_campaigns, open_rounds
from voucher_app.scheduler.schedule import Every, Job


def jobs(config: Mapping) -> list[Job]:
    lifecycle = Every(int(config["SCHEDULE_LIFECYCLE_MINUTES"]))
    return [
        Job("open_rounds", open_rounds, lifecycle, "scheduled campaigns past their start → open; rounds released"),
        Job("close_campaigns", close_campaigns, lifecycle, "campaigns past their end → closed"),
    ]
