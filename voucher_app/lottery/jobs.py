"""The lottery's scheduled job: publish the entries' digest when a window closes, draw when it is time."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from voucher_app.lottery import service
from voucher_app.scheduler.schedule import Every, Job


def draw_lotteries(now: dt.datetime) -> dict[str, int]:
    """Every round due: its digest published, then drawn (a round drawn already is left as it is)."""
    published = service.publish_digests(now)
    drawn = 0
    for campaign_id, round_id in service.due_draws(now):
        service.draw_round(campaign_id, round_id, None, now, document=False)
        drawn += 1
    return {"digests_published": published, "rounds_drawn": drawn}


def jobs(config: Mapping) -> list[Job]:
    return [Job("draw_lotteries", draw_lotteries, Every(int(config["SCHEDULE_LIFECYCLE_MINUTES"])),
                "lottery rounds: the entries' digest when entries close, the draw at its time")]
