"""What the campaigns API accepts and answers.

Requests ignore fields they do not name, so ``status``, ``claimed`` or ``remaining`` in a body
change nothing (mass assignment). Shapes and types are checked here; the business rules that
decide whether a campaign may be published live in ``rules.py``.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from flask_babel import gettext as _
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, field_validator

from campaigns.models import Campaign, CampaignKind
from voucher_app.core.clock import iso

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_CENTS = 10**12  # ten billion yuan: anything above is a typing mistake
MAX_QUANTITY = 10_000_000
Quantity = Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY)]


class ValidHours(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    from_: str = Field(alias="from")
    to: str

    @field_validator("from_", "to")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        if not _HHMM.match(value or ""):
            raise ValueError(_("Give the time as HH:MM, such as 18:00."))
        return value


class TierIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=100)
    threshold_cents: StrictInt = Field(ge=0, le=MAX_CENTS)
    discount_cents: StrictInt = Field(gt=0, le=MAX_CENTS)
    quantity: StrictInt = Field(ge=1, le=MAX_QUANTITY)


class RoundIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    release_at: AwareDatetime
    quantities: list[Quantity] = Field(min_length=1, max_length=20)


class CampaignIn(BaseModel):
    """The body of ``POST /campaigns``; ``CampaignPatch`` makes every field optional."""

    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    kind: CampaignKind
    measure_codes: list[str] = Field(min_length=1)
    budget_cents: StrictInt = Field(ge=0, le=MAX_CENTS)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    merchant_categories: list[str] = Field(default_factory=list)
    districts: list[str] = Field(default_factory=list)
    limit_per_resident: StrictInt = Field(default=1, ge=1, le=100)
    limit_per_round: StrictInt = Field(default=1, ge=1, le=100)
    valid_days: StrictInt = Field(default=7, ge=1, le=366)
    valid_hours: ValidHours | None = None
    valid_weekdays: list[StrictInt] | None = None
    recycle_expired: bool = False
    tiers: list[TierIn] = Field(min_length=1, max_length=20)
    rounds: list[RoundIn] = Field(min_length=1, max_length=200)

    @field_validator("valid_weekdays")
    @classmethod
    def _iso_weekdays(cls, values: list[int] | None) -> list[int] | None:
        if values is None:
            return None
        if not values or any(d < 1 or d > 7 for d in values):
            raise ValueError(_("Weekdays are numbers from 1 (Monday) to 7 (Sunday)."))
        return sorted(set(values))


class CampaignPatch(CampaignIn):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: CampaignKind | None = None
    measure_codes: list[str] | None = Field(default=None, min_length=1)
    budget_cents: StrictInt | None = Field(default=None, ge=0, le=MAX_CENTS)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    merchant_categories: list[str] | None = None
    districts: list[str] | None = None
    limit_per_resident: StrictInt | None = Field(default=None, ge=1, le=100)
    limit_per_round: StrictInt | None = Field(default=None, ge=1, le=100)
    valid_days: StrictInt | None = Field(default=None, ge=1, le=366)
    recycle_expired: bool | None = None
    tiers: list[TierIn] | None = Field(default=None, min_length=1, max_length=20)
    rounds: list[RoundIn] | None = Field(default=None, min_length=1, max_length=200)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    reason: str | None = Field(default=None, max_length=2000)


def campaign_out(campaign: Campaign, status: str, counts: dict[str, dict[str, int]], now: dt.datetime,
                 measure_titles: dict[str, str] | None = None) -> dict:
    """A campaign as the API shows it, with each tier's released, claimed and remaining quantity."""
    released_rounds = [r for r in campaign.rounds if r.release_at <= now]
    upcoming = [r.release_at for r in campaign.rounds if r.release_at > now]
    tiers = []
    for tier in campaign.tiers:
        released = sum(r.quantity_of(tier.id) for r in released_rounds) if status in ("open", "closed") else 0
        claimed = counts.get(tier.id, {}).get("claimed", 0)
        tiers.append({
            "id": tier.id, "name": tier.name, "threshold_cents": tier.threshold_cents,
            "discount_cents": tier.discount_cents, "quantity": tier.quantity,
            "released": released, "claimed": claimed,
            "remaining": max(released - claimed, 0) if status == "open" else 0,
        })
    return {
        "id": campaign.id,
        "name": campaign.name,
        "description": campaign.description,
        "kind": campaign.kind.value,
        "status": status,
        "measure_codes": campaign.measure_codes,
        "measures": [{"code": code, "title": (measure_titles or {}).get(code)} for code in campaign.measure_codes],
        "budget_cents": campaign.budget_cents,
        "exposure_cents": sum(t.quantity * t.discount_cents for t in campaign.tiers),
        "starts_at": iso(campaign.starts_at),
        "ends_at": iso(campaign.ends_at),
        "merchant_categories": list(campaign.merchant_categories or []),
        "districts": list(campaign.districts or []),
        "limit_per_resident": campaign.limit_per_resident,
        "limit_per_round": campaign.limit_per_round,
        "valid_days": campaign.valid_days,
        "valid_hours": ({"from": campaign.valid_from, "to": campaign.valid_to}
                        if campaign.valid_from and campaign.valid_to else None),
        "valid_weekdays": campaign.valid_weekdays,
        "recycle_expired": campaign.recycle_expired,
        "tiers": tiers,
        "rounds": [{"id": r.id, "release_at": iso(r.release_at), "released": r.release_at <= now,
                    "quantities": [r.quantity_of(t.id) for t in campaign.tiers]} for r in campaign.rounds],
        "next_round_at": iso(min(upcoming)) if upcoming else None,
        "created_at": iso(campaign.created_at),
        "published_at": iso(campaign.published_at),
        "cancelled_at": iso(campaign.cancelled_at),
        "cancel_reason": campaign.cancel_reason,
    }
