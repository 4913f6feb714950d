"""Refused attempts at the till, purged after the bureau's fraud review has had them (README, "Retention").

A refused scan (``outcome`` other than ``ok``) is evidence for the bureau's review of a shop or a
voucher, counted live in a campaign's report ("refusals at the till"), so it is kept for
``RETENTION_REFUSED_ATTEMPTS_DAYS`` (180 days by default: longer than a campaign runs, with the
review after it). Past that, a campaign's report counts only the refusals still kept. An accepted
scan is the record of a sale and is never purged. The typed-code lockout reads only the last
minutes, so the purge cannot unlock a voucher.
"""
from __future__ import annotations

import datetime as dt

from voucher_app.core.retention import purge
from voucher_app.redemptions.models import RedemptionAttempt

_attempts = RedemptionAttempt.__table__


def purge_refused_attempts(now: dt.datetime, keep: dt.timedelta) -> dict[str, int]:
    """Refused attempts older than ``keep``; how many were purged."""
    return {"refused_attempts_purged": purge(_attempts, (_attempts.c.outcome != "ok") & (_attempts.c.at < now - keep))}
