"""Redemptions and refunds over the API, for a shop's cashiers and owner."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field

from ..accounts.models import Role
from ..api import api_user, listing, roles_required
from ..clock import now, to_city
from ..errors import ValidationError
from ..idempotency import request_key
from ..validation import json_body, validate
from . import service

api = Blueprint("redemptions_api", __name__)

SHOP = (Role.cashier, Role.merchant_owner)


class RedeemIn(BaseModel):
    """The bill is checked by the service, in the contract's order, after the voucher's own rules."""

    model_config = ConfigDict(extra="ignore")
    token: str = Field(max_length=400)
    bill_cents: Any = None


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    amount_cents: int | None = None


@api.post("/redemptions")
@roles_required(*SHOP)
def redeem():
    body = json_body(RedeemIn)
    redemption, status = service.redeem(body.token, body.bill_cents, api_user(), now(), request_key())
    return jsonify(redemption), status


@api.post("/redemptions/<redemption_id>/refund")
@roles_required(*SHOP)
def refund(redemption_id: str):
    body = validate(RefundIn, request.get_json(silent=True) or {})
    return jsonify(service.refund(redemption_id, body.amount_cents, api_user(), now()))


@api.get("/merchant/redemptions")
@roles_required(*SHOP)
def shop_redemptions():
    raw = request.args.get("date")
    try:
        day = dt.date.fromisoformat(raw) if raw else to_city(now()).date()
    except ValueError:
        raise ValidationError(errors=[{"field": "date", "message": _("Give the date as YYYY-MM-DD.")}]) from None
    return listing(service.redemption_out(r) for r in service.shop_redemptions(api_user(), day))
