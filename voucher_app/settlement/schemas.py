"""What settlement takes in (a statement list's filter) and gives out (a statement as the API shows it)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from voucher_app.core.clock import to_city
from voucher_app.core.validation import validate
from voucher_app.settlement.models import SettlementStatement

PAGE_SIZE = 50


def statement_out(statement: SettlementStatement) -> dict:
    return {
        "id": statement.id, "merchant_id": statement.merchant_id, "day": statement.day.isoformat(),
        "redemptions": statement.redemptions, "bill_cents": statement.bill_cents,
        "redeemed_cents": statement.redeemed_cents, "refunds": statement.refunds,
        "refunded_cents": statement.refunded_cents, "net_cents": statement.net_cents,
        "status": statement.status.value,
        "settled_at": to_city(statement.settled_at).isoformat() if statement.settled_at else None,
        "lines": [{"campaign_id": ln.campaign_id, "redemptions": ln.redemptions, "bill_cents": ln.bill_cents,
                   "redeemed_cents": ln.redeemed_cents, "refunds": ln.refunds, "refunded_cents": ln.refunded_cents,
                   "net_cents": ln.net_cents} for ln in statement.lines],
    }


class StatementQuery(BaseModel):
    """The filter of a statement list, from the API's query string or a page's filter form."""

    model_config = ConfigDict(extra="ignore")
    merchant_id: str | None = Field(None, max_length=26)
    day_from: dt.date | None = Field(None, alias="from")
    day_to: dt.date | None = Field(None, alias="to")
    status: Literal["settled", "held"] | None = None
    cursor: str | None = Field(None, max_length=26)
    limit: int = Field(PAGE_SIZE, ge=1, le=200)

    @field_validator("merchant_id", "status", "cursor", mode="before")
    @classmethod
    def _blank_is_any(cls, value: object) -> object:
        """An empty filter field (as a GET form sends it) means "any"."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("day_from", "day_to", mode="before")
    @classmethod
    def _day(cls, value: object) -> object:
        """Only ``YYYY-MM-DD``: pydantic would also take a number of seconds since 1970."""
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(_("Enter a date such as 2026-12-01.")) from None

    @field_validator("day_to")
    @classmethod
    def _not_before_start(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("day_from")
        if value is not None and start is not None and value < start:
            raise ValueError(_("The end of the range comes before its start."))
        return value

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> StatementQuery:
        """The filter of a query string (the API's and the pages' alike), or ``validation_error``."""
        return validate(cls, dict(args))

    def filters(self) -> dict:
        """The keyword filters ``statements_for``, ``statement_totals`` and ``statement_rows`` take."""
        return {"day_from": self.day_from, "day_to": self.day_to, "status": self.status}
