"""The reports' scheduled job: the figures rebuilt from the facts."""
from __future__ import annotations

from collections.abc import Mapping

from voucher_app.reports.tally import tally
from voucher_app.scheduler.schedule import Every, Job


def jobs(config: Mapping) -> list[Job]:
    return [Job("tally", tally, Every(int(config["SCHEDULE_TALLY_MINUTES"])), "rebuild the report figures")]
