"""Redemptions and refunds over the API, for a shop's cashiers and owner."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from voucher_app.accounts.guards import api_user, roles_required
from voucher_app.core.clock import now, to_city
from voucher_app.core.errors import ValidationError
from voucher_app.core.http import listing
from voucher_app.core.idempotency import request_key
from voucher_app.core.roles import SHOP_PEOPLE
from voucher_app.core.validation import json_body, validate
from voucher_app.redemptions import service
from voucher_app.redemptions.schemas import RedeemIn, RefundIn

api = Blueprint("redemptions_api", __name__)


@api.post("/redemptions")
@roles_required(*SHOP_PEOPLE)
def redeem():
    body = json_body(RedeemIn)
    redemption, status = service.redeem(body.token, body.bill_cents, api_user(), now(), request_key())
    return jsonify(redemption), status


@api.post("/redemptions/<redemption_id>/refund")
@roles_required(*SHOP_PEOPLE)
def refund(redemption_id: str):
    body = validate(RefundIn, request.get_json(silent=True) or {})
    return jsonify(service.refund(redemption_id, body.amount_cents, api_user(), now()))


@api.get("/merchant/redemptions")
@roles_required(*SHOP_PEOPLE)
def shop_redemptions():
    raw = request.args.get("date")
    try:
        day = dt.date.fromisoformat(raw) if raw else to_city(now()).date()
    except ValueError:
        raise ValidationError(errors=[{"field": "date", "message": _("Give the date as YYYY-MM-DD.")}]) from None
    return listing(service.redemption_out(r) for r in service.shop_redemptions(api_user(), day))
