"""Publishing a campaign mints its vouchers; cancelling one revokes those unused.

The campaign's side of each step (its rules, status and audit record) is ``campaigns.service``; the
vouchers and their ledger entries are this domain's. Both happen in one transaction, so a campaign is
never published without its vouchers, nor cancelled with vouchers still usable.
"""
from __future__ import annotations

import datetime as dt

from campaigns.models import Campaign
from campaigns.service import cancelling, publishing
from voucher_app.accounts.models import User
from voucher_app.vouchers.minting import mint_campaign, refresh_statistics, revoke_claimed


def publish_campaign(campaign_id: str, actor: User, now: dt.datetime) -> Campaign:
    """Publish a draft that breaks no rule and mint its vouchers: scheduled, or open if its start has passed."""
    with publishing(campaign_id, actor, now) as (campaign, detail):
        detail["vouchers_minted"] = mint_campaign(campaign, now)
    refresh_statistics()
    return campaign


def cancel_campaign(campaign_id: str, reason: str | None, actor: User, now: dt.datetime) -> Campaign:
    """Cancel a campaign that has not ended yet; its unused claimed vouchers are revoked and their
    reserved value returns to the campaign. Vouchers already used stay owed to their merchants.

    Claims in flight meanwhile are no exception: the campaign's row is locked before the revocation
    reads the vouchers, and a claim either commits before that lock (and is revoked here with the
    rest) or waits for the cancel and takes nothing (``claiming``: "No claimed voucher in a
    cancelled campaign")."""
    with cancelling(campaign_id, reason, actor, now) as (campaign, detail):
        detail["vouchers_revoked"] = revoke_claimed(campaign.id, now)
    return campaign
