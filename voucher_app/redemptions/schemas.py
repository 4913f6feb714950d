"""What the till sends: a scanned or typed token with the bill, and a refund."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RedeemIn(BaseModel):
    """The bill is checked by the service, in the contract's order, after the voucher's own rules."""

    model_config = ConfigDict(extra="ignore")
    token: str = Field(max_length=400)
    bill_cents: Any = None


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    amount_cents: int | None = None
