"""The complaints' scheduled job: return requests the shop left unanswered past their due date become
complaints (one each, however often or concurrently the sweep runs: ``service.escalate_return_requests``)."""
from __future__ import annotations

from collections.abc import Mapping

from voucher_app.complaints.service import escalate_return_requests
from voucher_app.scheduler.schedule import Every, Job


def jobs(config: Mapping) -> list[Job]:
    return [Job("escalate_return_requests", escalate_return_requests, Every(int(config["SCHEDULE_LIFECYCLE_MINUTES"])),
                "return requests unanswered past their due date → complaints; refunded ones → accepted")]
