"""What the vouchers API accepts and answers."""
from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from campaigns.labels import rule_text
from campaigns.models import Campaign
from voucher_app.core.clock import iso
from voucher_app.vouchers.models import Voucher, VoucherStatus


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    tier_id: str = Field(min_length=1, max_length=26)


def voucher_out(voucher: Voucher, state: VoucherStatus | None = None) -> dict:
    """A voucher as the contract names it (``POST /claims`` answers this)."""
    return {
        "id": voucher.id,
        "campaign_id": voucher.campaign_id,
        "tier_id": voucher.tier_id,
        "status": (state or voucher.status).value,
        "threshold_cents": voucher.threshold_cents,
        "discount_cents": voucher.discount_cents,
        "percent": voucher.percent,
        "claimed_at": iso(voucher.claimed_at),
        "expires_at": iso(voucher.expires_at),
    }


def wallet_out(voucher: Voucher, campaign: Campaign, state: VoucherStatus, now: dt.datetime,
               used: dict | None = None, wrong_codes: dict | None = None) -> dict:
    """A voucher in the wallet: its rule, state by the clock, expiry, hours, and where it can be used."""
    return {
        **voucher_out(voucher, state),
        "rule": rule_text(voucher.threshold_cents, voucher.discount_cents, voucher.percent),
        "percent": voucher.percent,
        "campaign": {"id": campaign.id, "name": campaign.name, "kind": campaign.kind.value},
        "valid_hours": ({"from": campaign.valid_from, "to": campaign.valid_to}
                        if campaign.valid_from and campaign.valid_to else None),
        "valid_weekdays": campaign.valid_weekdays,
        "merchant_categories": list(campaign.merchant_categories or []),
        "districts": list(campaign.districts or []),
        "redeemed_at": iso(voucher.redeemed_at),
        "used": used,  # {"merchant", "saved_cents", "at"} once redeemed
        "wrong_codes": wrong_codes,  # {"count", "last_at"}: wrong typed codes for it in the last 30 days
        "on_behalf": voucher.proxy_id is not None,  # claimed (or won) for the resident by a community worker
    }
