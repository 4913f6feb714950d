"""What the vouchers API accepts and answers."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field

from campaigns.models import Campaign
from voucher_app.core.clock import iso
from voucher_app.core.money import yuan_text
from voucher_app.vouchers.models import Voucher, VoucherStatus


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    tier_id: str = Field(min_length=1, max_length=26)


def rule_label(threshold_cents: int, discount_cents: int) -> str:
    """满100减30, or 10元无门槛 for a plain face value (in the user's language)."""
    if threshold_cents > 0:
        return _("%(discount)s off a bill of %(threshold)s", threshold=_short(threshold_cents),
                 discount=_short(discount_cents))
    return _("%(discount)s off, no minimum spend", discount=_short(discount_cents))


def voucher_out(voucher: Voucher, state: VoucherStatus | None = None) -> dict:
    """A voucher as the contract names it (``POST /claims`` answers this)."""
    return {
        "id": voucher.id,
        "campaign_id": voucher.campaign_id,
        "tier_id": voucher.tier_id,
        "status": (state or voucher.status).value,
        "threshold_cents": voucher.threshold_cents,
        "discount_cents": voucher.discount_cents,
        "claimed_at": iso(voucher.claimed_at),
        "expires_at": iso(voucher.expires_at),
    }


def wallet_out(voucher: Voucher, campaign: Campaign, state: VoucherStatus, now: dt.datetime,
               used: dict | None = None, wrong_codes: dict | None = None) -> dict:
    """A voucher in the wallet: its rule, state by the clock, expiry, hours, and where it can be used."""
    return {
        **voucher_out(voucher, state),
        "rule": rule_label(voucher.threshold_cents, voucher.discount_cents),
        "campaign": {"id": campaign.id, "name": campaign.name, "kind": campaign.kind.value},
        "valid_hours": ({"from": campaign.valid_from, "to": campaign.valid_to}
                        if campaign.valid_from and campaign.valid_to else None),
        "valid_weekdays": campaign.valid_weekdays,
        "merchant_categories": list(campaign.merchant_categories or []),
        "districts": list(campaign.districts or []),
        "redeemed_at": iso(voucher.redeemed_at),
        "used": used,  # {"merchant", "saved_cents", "at"} once redeemed
        "wrong_codes": wrong_codes,  # {"count", "last_at"}: wrong typed codes for it in the last 30 days
    }


def _short(cents: int) -> str:
    """An amount as a voucher's rule reads: 3000 → "30", 1250 → "12.5"."""
    return yuan_text(cents, grouping=False, trim="zeros")
