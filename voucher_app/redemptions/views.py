"""Redemptions and refunds over the API, for a shop's cashiers and owner."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from ..accounts.models import Role
from ..api import api_user, listing, roles_required
from ..clock import now, to_city
from ..errors import DomainError, ValidationError
from ..idempotency import request_key
from ..validation import json_body, validate
from ..web import page_roles_required
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


# The till (收银台) ---------------------------------------------------------------------------------------

pages = Blueprint("till", __name__)


def _fen(yuan: str) -> int | str:
    """The bill typed in yuan, as fen; anything that is not money is passed on for the service to refuse."""
    try:
        amount = Decimal((yuan or "").strip().replace("¥", "").replace(",", ""))
    except InvalidOperation:
        return yuan
    if amount != amount.quantize(Decimal("0.01")):
        return yuan
    return int(amount * 100)


def _till(result: dict | None = None, status: int = 200):
    actor = current_user
    at = now()
    today = service.shop_redemptions(actor, to_city(at).date())
    in_force = [r for r in today if r.refunded_at is None]
    return render_template("redemptions/till.html", result=result, redemptions=today, key=uuid.uuid4().hex,
                           totals={"count": len(in_force), "bill": sum(r.bill_cents for r in in_force),
                                   "discount": sum(r.discount_cents for r in in_force),
                                   "payable": sum(r.payable_cents for r in in_force)},
                           refundable_after=at - dt.timedelta(days=service.REFUND_DAYS)), status


@pages.get("/till")
@page_roles_required(*SHOP)
def till():
    """The cashier's page: scan or type the code, enter the bill, see the answer in large type."""
    return _till()


@pages.post("/till/check")
@page_roles_required(*SHOP)
def till_check():
    """After a scan: the voucher's rule, or why this shop cannot take it (JSON for the page's script)."""
    data = request.get_json(silent=True) or {}
    try:
        return jsonify({"ok": True, **service.describe(str(data.get("token", "")), current_user, now())})
    except DomainError as err:
        return jsonify({"ok": False, "code": err.code, "message": str(err.detail or err.title)})


@pages.post("/till/redeem")
@page_roles_required(*SHOP)
def till_redeem():
    token = request.form.get("token", "")
    try:
        body, _status = service.redeem(token, _fen(request.form.get("bill", "")), current_user, now(),
                                       (request.form.get("key") or "")[:100] or None)
    except DomainError as err:
        message = str(err.detail or err.title)
        if err.errors:
            message = "；".join(e["message"] for e in err.errors)
        return _till({"ok": False, "code": err.code, "message": message}, 422 if err.status == 422 else 200)
    return _till({"ok": True, **body})


@pages.post("/till/redemptions/<redemption_id>/refund")
@page_roles_required(*SHOP)
def till_refund(redemption_id: str):
    try:
        body = service.refund(redemption_id, None, current_user, now())
    except DomainError as err:
        flash(str(err.detail or err.title), "error")
    else:
        flash(_("Refunded. The voucher is usable again.") if body["voucher_status"] == "claimed"
              else _("Refunded. The voucher had expired; its value returns to the campaign."), "success")
    return redirect(url_for("till.till"))
