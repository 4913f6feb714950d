"""A campaign's lifecycle as users meet it: recorded status, corrected by the clock.

``draft → scheduled → open → closed`` (or ``cancelled``; ``settled`` once paid). The scheduler
records transitions, but a user never waits for it: a scheduled campaign whose start has passed is
open, and an open one past its end is closed, whatever the stored status says yet.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _

from campaigns.models import Campaign, CampaignStatus
from voucher_app.core.errors import NotFound


def effective_status(campaign: Campaign, now: dt.datetime) -> CampaignStatus:
    status = campaign.status
    if status in (CampaignStatus.scheduled, CampaignStatus.open):
        if now >= campaign.ends_at:
            return CampaignStatus.closed
        if now >= campaign.starts_at:
            return CampaignStatus.open
        return CampaignStatus.scheduled
    return status


def no_such_campaign() -> NotFound:
    """The refusal for a campaign that does not exist, or that the asker may not see yet (a draft)."""
    return NotFound(_("There is no such campaign."))


def is_editable(campaign: Campaign) -> bool:
    return campaign.status is CampaignStatus.draft
