"""How many vouchers of each tier have been claimed, for campaign pages — at a bounded cost in a rush.

Counting is O(claimed vouchers): ~6 ms on SQLite and ~15 ms on PostgreSQL for one campaign of 60,000
claimed vouchers, a dozen claims' worth of work for every view of the page. At 19:59 a city's
residents sit on the campaign page reloading the countdown, and after the sell-out they reload to see
whether anything came back: counted afresh each time, the page views would cost the server more
than the claims.

So each process keeps every campaign's counts and reuses them for ``SHARE`` times as long as counting
them took, never longer than ``MAX_AGE``: whatever the rate of page views, counting takes at most
about 1/``SHARE`` of a worker's time per campaign. A small campaign counts in a fraction of a
millisecond and is reused for milliseconds (exact to anyone); a rush-sized one is at most a second
old. This process's own claims are added to its copy as they commit (``claimed``), so a resident who
claims here sees the count move at once. Nothing decides anything from these numbers: a claim is
judged by the database (``claiming.py``).
"""
from __future__ import annotations

import time

from sqlalchemy import func, select

from campaigns.models import Tier
from voucher_app.core.cache import Kept
from voucher_app.core.extensions import db
from voucher_app.vouchers.models import Voucher, VoucherStatus

SHARE = 50
MAX_AGE = 1.0

_CLAIMED_STATES = [state for state in VoucherStatus if state is not VoucherStatus.available]


def count_claimed(campaign_ids: list[str]) -> dict[str, dict[str, int]]:
    """Per campaign, per tier: how many vouchers have been claimed (whatever happened to them since)."""
    by_campaign: dict[str, dict[str, int]] = {campaign_id: {} for campaign_id in campaign_ids}
    if not campaign_ids:
        return by_campaign
    tiers = dict(db.session.execute(select(Tier.id, Tier.campaign_id).where(Tier.campaign_id.in_(campaign_ids))).all())
    if not tiers:
        return by_campaign
    # By tier and state, which the (tier, status) index answers alone; by campaign it read every voucher's row.
    rows = db.session.execute(
        select(Voucher.tier_id, func.count())
        .where(Voucher.tier_id.in_(list(tiers)), Voucher.status.in_(_CLAIMED_STATES))
        .group_by(Voucher.tier_id))
    for tier_id, count in rows:
        by_campaign[tiers[tier_id]][tier_id] = count
    return by_campaign


class _Counts:
    """Per process: each campaign's claimed counts by tier, kept for as long as the module says."""

    def __init__(self):
        self._kept: Kept[str, dict[str, int]] = Kept()

    def by_tier(self, campaign_ids: list[str]) -> dict[str, dict[str, int]]:
        """Per tier: ``{"claimed": n}``, for the tiers of ``campaign_ids``."""
        kept = {campaign_id: self._kept.get(campaign_id) for campaign_id in campaign_ids}
        stale = [campaign_id for campaign_id, by_tier in kept.items() if by_tier is None]
        if stale:
            started = time.perf_counter()
            fresh = count_claimed(stale)
            seconds = min(MAX_AGE, SHARE * (time.perf_counter() - started))
            for campaign_id, by_tier in fresh.items():
                kept[campaign_id] = self._kept.put(campaign_id, by_tier, seconds)
        with self._kept.lock:
            return {tier_id: {"claimed": count} for by_tier in kept.values() for tier_id, count in by_tier.items()}

    def claimed(self, campaign_id: str, tier_id: str) -> None:
        """This process just committed a claim of ``tier_id``: its copy counts it at once."""
        with self._kept.lock:
            by_tier = self._kept.get(campaign_id)
            if by_tier is not None:
                by_tier[tier_id] = by_tier.get(tier_id, 0) + 1

    def forget(self) -> None:
        self._kept.clear()


counts = _Counts()
