"""The vouchers' scheduled job: claimed vouchers past their expiry are expired."""
from __future__ import annotations

from collections.abc import Mapping

from voucher_app.scheduler.schedule import Every, Job
from voucher_app.vouchers.expiry import expire_vouchers


def jobs(config: Mapping) -> list[Job]:
    return [Job("expire_vouchers", expire_vouchers, Every(int(config["SCHEDULE_EXPIRY_MINUTES"])),
                "claimed vouchers past expiry → expired; value back to the budget (and recycled)")]
