"""What settlement takes in (a statement list's filter) and gives out (a statement as the API shows it)."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Literal

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from voucher_app.core.clock import to_city
from voucher_app.core.validation import validate
from voucher_app.settlement.models import SettlementStatement, StatementStatus

PAGE_SIZE = 50


def statement_out(statement: SettlementStatement, clawback_flags: Mapping[str, list[str]] | None = None) -> dict:
    """A statement as the API shows it. Each campaign has a ``sales`` line (its sales less its refunds)
    and, on a day with clawbacks, a ``clawback`` line (negative, with the flags behind it); the lines'
    ``net_cents`` add up to the statement's."""
    hold = hold_of(statement)
    lines = []
    for ln in statement.lines:
        if ln.redemptions or ln.refunds or not ln.clawbacks:
            lines.append({"kind": "sales", "campaign_id": ln.campaign_id, "redemptions": ln.redemptions,
                          "bill_cents": ln.bill_cents, "redeemed_cents": ln.redeemed_cents, "refunds": ln.refunds,
                          "refunded_cents": ln.refunded_cents, "net_cents": ln.redeemed_cents - ln.refunded_cents})
        if ln.clawbacks:
            lines.append({"kind": "clawback", "campaign_id": ln.campaign_id, "redemptions": ln.clawbacks,
                          "net_cents": -ln.clawed_back_cents,
                          "flag_ids": list((clawback_flags or {}).get(ln.campaign_id, []))})
    return {
        "id": statement.id, "merchant_id": statement.merchant_id, "day": statement.day.isoformat(),
        "redemptions": statement.redemptions, "bill_cents": statement.bill_cents,
        "redeemed_cents": statement.redeemed_cents, "refunds": statement.refunds,
        "refunded_cents": statement.refunded_cents, "clawbacks": statement.clawbacks,
        "clawed_back_cents": statement.clawed_back_cents, "net_cents": statement.net_cents,
        "status": statement.status.value,
        "hold_reason": hold_reason_text(hold) if hold else None, "hold": hold,
        "settled_at": to_city(statement.settled_at).isoformat() if statement.settled_at else None,
        "lines": lines,
    }


# Why a statement is held: stored as JSON of codes and flag ids, rendered in the reader's language -----

SUSPENDED, FRAUD_FLAG = "merchant_suspended", "fraud_flag"


def hold_reason_value(suspended: bool, flag_ids: list[str]) -> str:
    """What ``hold_reason`` stores: ``{"codes": [...], "flag_ids": [...]}`` (no words of any language)."""
    codes = [code for code, applies in ((SUSPENDED, suspended), (FRAUD_FLAG, bool(flag_ids))) if applies]
    return json.dumps({"codes": codes, "flag_ids": sorted(flag_ids)}, separators=(",", ":"))


def hold_of(statement: SettlementStatement) -> dict | None:
    """Why a held statement is held (``{"codes", "flag_ids"}``); None for one that is paid. A statement
    held before reasons were stored was held for its shop's suspension."""
    if statement.status is not StatementStatus.held:
        return None
    if not statement.hold_reason:
        return {"codes": [SUSPENDED], "flag_ids": []}
    stored = json.loads(statement.hold_reason)
    return {"codes": list(stored.get("codes", [])), "flag_ids": list(stored.get("flag_ids", []))}


def hold_reason_text(hold: dict) -> str:
    """The reasons of a hold as sentences in the reader's language."""
    sentences = {
        SUSPENDED: _("Held while the shop is suspended; paid at the first settlement after it is reinstated."),
        FRAUD_FLAG: _("Held while the commerce bureau reviews a fraud flag on the shop's sales; paid at the first "
                      "settlement after the review is closed."),
    }
    return " ".join(sentences[code] for code in hold["codes"] if code in sentences)


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
