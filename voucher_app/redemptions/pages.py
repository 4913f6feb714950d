"""The till page: scan or type a voucher, enter the bill, see the answer; today's sales and refunds."""
from __future__ import annotations

import datetime as dt
import uuid

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voucher_app.accounts.guards import page_roles_required
from voucher_app.core.clock import now, to_city
from voucher_app.core.errors import DomainError, TokenMissing
from voucher_app.core.money import UnreadableAmount, parse_yuan, yuan_text
from voucher_app.core.roles import SHOP_PEOPLE
from voucher_app.redemptions import service

pages = Blueprint("till", __name__, template_folder="templates")


def _fen(text: str) -> int | str:
    """The bill typed in yuan, as fen; anything that is not money is passed on for the service to refuse."""
    try:
        fen = parse_yuan(text)
    except UnreadableAmount:
        return text
    return text if fen is None else fen


def _page_message(err: DomainError) -> str:
    """A refusal as the till says it: the bill in yuan, as its field asks for it (the API's wording is
    about ``bill_cents``, in fen)."""
    if any(error["field"] == "bill_cents" for error in err.errors):
        return _("Enter the bill in yuan: more than 0 and at most ¥%(max)s, with at most two decimals.",
                 max=yuan_text(current_app.config["REDEMPTION_MAX_BILL_CENTS"], trim="whole"))
    if err.errors:
        return "；".join(e["message"] for e in err.errors)
    return str(err.detail or err.title)


def _till(result: dict | None = None, status: int = 200, typed: dict | None = None):
    """The till; after a refusal ``typed`` (the code and the bill as sent) stays in the fields to correct."""
    actor = current_user
    at = now()
    today = service.shop_redemptions(actor, to_city(at).date())
    in_force = [r for r in today if r.refunded_at is None]
    return render_template("redemptions/till.html", result=result, redemptions=today, key=uuid.uuid4().hex,
                           typed=typed or {},
                           totals={"count": len(in_force), "bill": sum(r.bill_cents for r in in_force),
                                   "discount": sum(r.discount_cents for r in in_force),
                                   "payable": sum(r.payable_cents for r in in_force)},
                           refundable_after=at - dt.timedelta(days=service.REFUND_DAYS),
                           may_refund=service.may_refund(actor)), status


@pages.get("/till")
@page_roles_required(*SHOP_PEOPLE)
def till():
    """The cashier's page: scan or type the code, enter the bill, see the answer in large type."""
    return _till()


@pages.post("/till/check")
@page_roles_required(*SHOP_PEOPLE)
def till_check():
    """After a scan: the voucher's rule, or why this shop cannot take it (JSON for the page's script);
    with the bill typed so far (yuan), what it would come to."""
    data = request.get_json(silent=True) or {}
    try:
        voucher = service.describe(_scanned(str(data.get("token", ""))), current_user, now())
    except DomainError as err:
        return jsonify({"ok": False, "code": err.code, "message": str(err.detail or err.title)})
    bill = str(data.get("bill") or "").strip()
    return jsonify({"ok": True, **voucher, "preview": _preview(service.preview(voucher, _fen(bill)) if bill else None,
                                                               voucher)})


def _preview(preview: dict | None, voucher: dict) -> dict | None:
    """The sale a typed bill would make, with the sentence the till shows."""
    if preview is None:
        return None
    if preview["below_threshold"] and preview["bill_cents"] < voucher["threshold_cents"]:
        return {**preview, "text": _("The bill must reach ¥%(threshold)s for this voucher.",
                                     threshold=yuan_text(voucher["threshold_cents"], trim="whole"))}
    if preview["below_threshold"]:
        return {**preview, "text": _("The bill is too small for this voucher to take anything off it.")}
    return {**preview, "text": _("Discount ¥%(discount)s, collect ¥%(payable)s",
                                 discount=yuan_text(preview["discount_cents"], trim="whole"),
                                 payable=yuan_text(preview["payable_cents"], trim="whole"))}


@pages.post("/till/redeem")
@page_roles_required(*SHOP_PEOPLE)
def till_redeem():
    token, bill = request.form.get("token", ""), request.form.get("bill", "")
    try:
        body, _status = service.redeem(_scanned(token), _fen(bill), current_user, now(),
                                       (request.form.get("key") or "")[:100] or None)
    except DomainError as err:
        return _till({"ok": False, "code": err.code, "message": _page_message(err)},
                     422 if err.status == 422 else 200, typed={"token": token, "bill": bill})
    return _till({"ok": True, **body})


def _scanned(token: str) -> str:
    """The scanned or typed code; ``token_missing`` when there is none (no scan, nothing typed)."""
    if not token.strip():
        raise TokenMissing()
    return token


@pages.post("/till/redemptions/<redemption_id>/refund")
@page_roles_required(*SHOP_PEOPLE)
def till_refund(redemption_id: str):
    try:
        body = service.refund(redemption_id, None, current_user, now())
    except DomainError as err:
        flash(str(err.detail or err.title), "error")
    else:
        flash(_("Refunded. The voucher is usable again.") if body["voucher_status"] == "claimed"
              else _("Refunded. The voucher had expired; its value returns to the campaign."), "success")
    return redirect(url_for("till.till"))
