"""The scheduler's campaign sweeps: record the lifecycle transitions the clock has already made.

Users never wait for these (``lifecycle.effective_status`` follows the clock); they keep the stored
status honest for lists, reports and settlement. Each records the moment the transition was due,
not the moment the sweep ran, so a late run leaves the same rows as one on time.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from campaigns.models import Campaign, CampaignStatus, Round
from voucher_app.core import versions
from voucher_app.core.database import write_transaction
from voucher_app.core.extensions import db

_PUBLISHED = (CampaignStatus.scheduled, CampaignStatus.open, CampaignStatus.closed, CampaignStatus.settled)


def open_rounds(now: dt.datetime) -> dict[str, int]:
    """Scheduled campaigns whose start has passed become open; released rounds are recorded opened."""
    with write_transaction():
        campaigns = db.session.execute(
            update(Campaign).where(Campaign.status == CampaignStatus.scheduled, Campaign.starts_at <= now,
                                   Campaign.ends_at > now)
            .values(status=CampaignStatus.open)).rowcount
        rounds = db.session.execute(
            update(Round).where(Round.opened_at.is_(None), Round.release_at <= now,
                                Round.campaign_id.in_(select(Campaign.id).where(Campaign.status.in_(_PUBLISHED))))
            .values(opened_at=Round.release_at)).rowcount
        if campaigns or rounds:
            versions.bump(versions.CAMPAIGNS)
    return {"campaigns_opened": campaigns, "rounds_opened": rounds}


def close_campaigns(now: dt.datetime) -> dict[str, int]:
    """Scheduled or open campaigns whose end has passed become closed (at their end)."""
    with write_transaction():
        closed = db.session.execute(
            update(Campaign).where(Campaign.status.in_((CampaignStatus.scheduled, CampaignStatus.open)),
                                   Campaign.ends_at <= now)
            .values(status=CampaignStatus.closed, closed_at=Campaign.ends_at)).rowcount
        if closed:
            versions.bump(versions.CAMPAIGNS)
    return {"campaigns_closed": closed}
