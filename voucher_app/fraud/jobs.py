"""The fraud rules' scheduled job: every few minutes, the rules over the recent redemptions (never on
the till's path: the sales are committed long before)."""
from __future__ import annotations

from collections.abc import Mapping

from voucher_app.fraud.service import evaluate
from voucher_app.scheduler.schedule import Every, Job


def jobs(config: Mapping) -> list[Job]:
    return [Job("evaluate_fraud_rules", evaluate, Every(int(config["SCHEDULE_FRAUD_MINUTES"])),
                "the fraud rules over the last FRAUD_LOOKBACK_DAYS of redemptions; hits open or update flags")]
