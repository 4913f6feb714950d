"""What the campaigns API accepts and answers.

Requests ignore fields they do not name, so ``status``, ``claimed`` or ``remaining`` in a body
change nothing (mass assignment). Shapes and types are checked here; the business rules that
decide whether a campaign may be published live in ``rules.py``.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from flask_babel import gettext as _
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_core import ValidationError as FieldErrors

from campaigns.models import Campaign, CampaignKind, Round, Tier
from voucher_app.accounts.profile import GROUPS
from voucher_app.core.clock import iso, parse_iso

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_CENTS = 10**12  # ten billion yuan: anything above is a typing mistake
MAX_QUANTITY = 10_000_000
Quantity = Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY)]
DayLimit = Annotated[StrictInt, Field(ge=1, le=1000)]
Allocation = Literal["fcfs", "lottery"]
LOTTERY_FIELDS = ("entry_opens_at", "entry_closes_at", "draw_at")


def field_errors(title: str, errors: dict[tuple, str]) -> FieldErrors:
    """A rule that spans fields, refused at each field it is about (as pydantic reports its own checks),
    so the API names ``tiers.0.cap_cents`` and the editor puts the message beside that input."""
    return FieldErrors.from_exception_data(title, [
        {"type": PydanticCustomError("value_error", "{error}", {"error": message}), "loc": loc, "input": None}
        for loc, message in errors.items()])


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


class ReservedIn(BaseModel):
    """Part of a tier kept for a group of residents until a time (then it joins the general pool)."""

    model_config = ConfigDict(extra="ignore")
    group: str
    quantity: StrictInt = Field(ge=1, le=MAX_QUANTITY)
    until: AwareDatetime

    @field_validator("group")
    @classmethod
    def _known_group(cls, value: str) -> str:
        if value not in GROUPS:
            raise ValueError(_("Choose one of: %(options)s.", options=", ".join(GROUPS)))
        return value


class TierIn(BaseModel):
    """A tier of one of two kinds: an amount off (``discount_cents``) or a percent off up to a cap
    (``percent`` and ``cap_cents``; its ``discount_cents`` is then the cap, the most a voucher is worth).
    A percent tier may repeat its cap as ``discount_cents``, as the API shows it, so what was read
    can be sent back."""

    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=100)
    threshold_cents: StrictInt = Field(ge=0, le=MAX_CENTS)
    discount_cents: StrictInt | None = Field(default=None, gt=0, le=MAX_CENTS)
    percent: StrictInt | None = Field(default=None, ge=1, le=99)
    cap_cents: StrictInt | None = Field(default=None, gt=0, le=MAX_CENTS)
    quantity: StrictInt = Field(ge=1, le=MAX_QUANTITY)
    reserved: list[ReservedIn] = Field(default_factory=list, max_length=len(GROUPS))

    @model_validator(mode="after")
    def _one_kind(self) -> TierIn:
        errors: dict[tuple, str] = {}
        if self.percent is None and self.cap_cents is None:
            if self.discount_cents is None:
                errors[("discount_cents",)] = _("This field is required.")
        else:
            if self.percent is None:
                errors[("percent",)] = _("A percent tier needs its percent off (1 to 99) as well as its cap.")
            if self.cap_cents is None:
                errors[("cap_cents",)] = _("A percent tier needs a cap: the most one voucher takes off the bill.")
            if self.discount_cents is not None and self.discount_cents != self.cap_cents:
                errors[("discount_cents",)] = _("A tier is either an amount off (discount_cents) or a percent off "
                                              "(percent with cap_cents), not both.")
        groups: set[str] = set()
        for j, quota in enumerate(self.reserved):
            if quota.group in groups:
                errors[("reserved", j, "group")] = _("A tier keeps at most one quota for each group.")
            groups.add(quota.group)
        if errors:
            raise field_errors("TierIn", errors)
        if self.percent is not None:
            self.discount_cents = self.cap_cents
        return self


class RoundIn(BaseModel):
    """A first-come round has ``release_at``; a lottery round its entry window and draw time instead
    (its vouchers are released at the draw). Which one the campaign's ``allocation`` decides, so the
    service checks it (``round_shape_errors``): a PATCH may change one without the other."""

    model_config = ConfigDict(extra="ignore")
    release_at: AwareDatetime | None = None
    entry_opens_at: AwareDatetime | None = None
    entry_closes_at: AwareDatetime | None = None
    draw_at: AwareDatetime | None = None
    quantities: list[Quantity] = Field(min_length=1, max_length=20)


def round_shape_errors(allocation: str, rounds: list[dict]) -> dict[tuple[int, str], str]:
    """What each round lacks or has too much of for the campaign's allocation: (row, field) → message."""
    errors = {}
    for i, rnd in enumerate(rounds):
        if allocation == "lottery":
            for name in LOTTERY_FIELDS:
                if rnd.get(name) is None:
                    errors[i, name] = _("This field is required.")
            if rnd.get("release_at") is not None and rnd.get("draw_at") not in (None, rnd["release_at"]):
                errors[i, "release_at"] = _("A lottery round's vouchers are released at its draw: give draw_at, "
                                            "not release_at.")
        else:
            if rnd.get("release_at") is None:
                errors[i, "release_at"] = _("This field is required.")
            for name in LOTTERY_FIELDS:
                if rnd.get(name) is not None:
                    errors[i, name] = _("Only a lottery round has an entry window and a draw; "
                                        "this campaign is first come, first served.")
    return errors


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
    allocation: Allocation = "fcfs"
    resident_districts: list[str] = Field(default_factory=list, max_length=100)  # empty = every district
    requires_profile: bool = False
    limit_per_day: DayLimit | None = None  # claims per person per city day; None = no daily limit
    limit_per_merchant_day: DayLimit | None = None  # sales per person per shop per city day
    tiers: list[TierIn] = Field(min_length=1, max_length=20)
    rounds: list[RoundIn] = Field(min_length=1, max_length=200)

    @field_validator("rounds")
    @classmethod
    def _rounds_fit_allocation(cls, rounds: list[RoundIn] | None, info: ValidationInfo) -> list[RoundIn] | None:
        # Here when the body names its allocation (a POST always does), so that these errors come with
        # the others; the service checks again what a PATCH leaves to the stored draft.
        allocation = info.data.get("allocation")
        if rounds is not None and allocation is not None:
            errors = round_shape_errors(allocation, [r.model_dump() for r in rounds])
            if errors:
                raise field_errors("rounds", errors)
        return rounds

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
    allocation: Allocation | None = None
    resident_districts: list[str] | None = Field(default=None, max_length=100)
    requires_profile: bool | None = None
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
            "discount_cents": tier.discount_cents, "percent": tier.percent, "cap_cents": tier.cap_cents,
            "quantity": tier.quantity, "reserved": reserved_out(tier),
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
        "allocation": campaign.allocation,
        "resident_districts": list(campaign.resident_districts or []),
        "requires_profile": campaign.requires_profile,
        "limit_per_day": campaign.limit_per_day,
        "limit_per_merchant_day": campaign.limit_per_merchant_day,
        "tiers": tiers,
        "rounds": [round_out(r, campaign, now) for r in campaign.rounds],
        "next_round_at": iso(min(upcoming)) if upcoming else None,
        "created_at": iso(campaign.created_at),
        "published_at": iso(campaign.published_at),
        "cancelled_at": iso(campaign.cancelled_at),
        "cancel_reason": campaign.cancel_reason,
    }


def reserved_out(tier: Tier) -> list[dict]:
    return [{"group": q["group"], "quantity": q["quantity"], "until": iso(parse_iso(q["until"]))}
            for q in tier.reserved or ()]


def round_out(rnd: Round, campaign: Campaign, now: dt.datetime) -> dict:
    """A round as the API shows it; a lottery round with its window and what the draw has published.

    Never the seed: it stays secret until the draw, and the lottery's draw document reveals it. The
    commitment (its SHA-256) is shown from the opening of the entries, when it starts to bind.
    """
    out = {"id": rnd.id, "release_at": iso(rnd.release_at), "released": rnd.release_at <= now,
           "quantities": [rnd.quantity_of(t.id) for t in campaign.tiers]}
    if campaign.allocation == "lottery":
        opened = rnd.entry_opens_at is not None and rnd.entry_opens_at <= now
        out.update({"entry_opens_at": iso(rnd.entry_opens_at), "entry_closes_at": iso(rnd.entry_closes_at),
                    "draw_at": iso(rnd.draw_at), "commitment": rnd.commitment if opened else None,
                    "entries_digest": rnd.entries_digest, "drawn_at": iso(rnd.drawn_at)})
    return out
