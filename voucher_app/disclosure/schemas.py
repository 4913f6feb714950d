"""What the disclosure API accepts (a consumption warning) and answers (public facts, never personal data).

Nothing here names a phone number, a resident or a unified social credit code: the public answers are
built field by field from these functions, never from a model's whole row.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from campaigns.models import MERCHANT_CATEGORIES
from voucher_app.core.clock import iso
from voucher_app.disclosure.models import ConsumptionWarning

TEXT_MIN, TEXT_MAX = 5, 500


class WarningIn(BaseModel):
    """The body of ``POST /warnings``: a shop's id, or a category, or neither (the whole city)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    text: str = Field(min_length=TEXT_MIN, max_length=TEXT_MAX)
    merchant_id: str | None = Field(default=None, max_length=64)
    category: str | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @field_validator("merchant_id", "category", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("category")
    @classmethod
    def _category(cls, value: str | None) -> str | None:
        if value is not None and value not in MERCHANT_CATEGORIES:
            raise ValueError(_("Choose one of: %(options)s.", options=", ".join(MERCHANT_CATEGORIES)))
        return value

    @model_validator(mode="after")
    def _one_scope_and_a_window(self) -> WarningIn:
        if self.merchant_id and self.category:
            raise ValueError(_("A warning is on one shop or on one kind of shop, not both: leave one empty "
                               "(both empty warns the whole city)."))
        if self.starts_at >= self.ends_at:
            raise ValueError(_("The warning must end after it starts."))
        return self

    @property
    def scope(self) -> str:
        return "merchant" if self.merchant_id else "category" if self.category else "city"


def warning_out(warning: ConsumptionWarning, merchant_name: str | None = None) -> dict:
    """A consumption warning as anyone may read it."""
    return {"id": warning.id, "scope": warning.scope.value, "merchant_id": warning.merchant_id,
            "merchant_name": merchant_name, "category": warning.category, "text": warning.text,
            "starts_at": iso(warning.starts_at), "ends_at": iso(warning.ends_at),
            "withdrawn_at": iso(warning.withdrawn_at)}


def public_merchant_out(shop, categories: dict[str, str], districts: dict[str, str]) -> dict:
    """A shop's public page (``service.PublicShop``): no phone, no credit code, no person."""
    merchant = shop.merchant
    return {
        "id": merchant.id, "name": merchant.name, "category": merchant.category,
        "category_label": categories.get(merchant.category, merchant.category), "district": merchant.district,
        "district_label": districts.get(merchant.district, merchant.district), "address": merchant.address,
        "opening_hours": merchant.opening_hours, "accepts_vouchers": shop.accepts_vouchers,
        "badge": merchant.badge_granted_at is not None, "badge_granted_at": iso(merchant.badge_granted_at),
        "credit_score": shop.score, "complaints_12m": shop.complaints_12m, "upheld_12m": shop.upheld_12m,
        "suspension": ({"reason": merchant.status_reason, "suspended_at": iso(merchant.suspended_at)}
                       if shop.publicly_suspended else None),
        "record": [{"kind": e.kind, "at": iso(e.at)} for e in shop.events],  # kinds and dates only
        "warnings": [warning_out(w.warning, w.merchant_name) for w in shop.warnings],
    }


def suspended_out(merchant, categories: dict[str, str], districts: dict[str, str]) -> dict:
    return {"id": merchant.id, "name": merchant.name, "category": merchant.category,
            "category_label": categories.get(merchant.category, merchant.category), "district": merchant.district,
            "district_label": districts.get(merchant.district, merchant.district), "reason": merchant.status_reason,
            "suspended_at": iso(merchant.suspended_at)}


def hours(value: dt.timedelta | None) -> float | None:
    return round(value.total_seconds() / 3600, 1) if value is not None else None


def tally_out(tally, label: str | None = None) -> dict:
    """One group of the complaint statistics (``service.Tally``); times in hours."""
    return {"key": tally.key, "label": label, "complaints": tally.complaints, "upheld": tally.upheld,
            "rejected": tally.rejected, "open": tally.open, "median_reply_hours": hours(tally.median_reply),
            "median_decision_hours": hours(tally.median_decision)}


def stats_out(stats, categories: dict[str, str], districts: dict[str, str]) -> dict:
    """The complaint statistics (``service.ComplaintStats``): counts only, never a complaint's text or author."""
    return {"since": iso(stats.since), "until": iso(stats.until), "total": tally_out(stats.total),
            "by_category": [tally_out(t, categories.get(t.key, t.key)) for t in stats.by_category],
            "by_district": [tally_out(t, districts.get(t.key, t.key)) for t in stats.by_district],
            "by_merchant": [{**tally_out(t, t.name), "merchant_id": t.key} for t in stats.by_merchant]}
