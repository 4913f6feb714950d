"""Claiming, the wallet and the QR tokens over the API."""
from __future__ import annotations

import uuid

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from campaigns import public
from campaigns import service as campaign_service
from campaigns.labels import category_labels, district_names

from ..accounts.models import Role
from ..api import api_user, listing, roles_required
from ..clock import now
from ..errors import DomainError
from ..extensions import limiter
from ..idempotency import request_key
from ..validation import json_body
from ..web import page_roles_required
from . import claiming, qr, service, tokens
from .schemas import ClaimIn, wallet_out

api = Blueprint("vouchers_api", __name__)


def _resident_key() -> str:
    user = api_user()
    return f"resident:{user.id}" if user else "anonymous"


def _page_resident_key() -> str:
    return f"resident:{current_user.id}" if current_user.is_authenticated else "anonymous"


claims_per_resident = limiter.shared_limit(lambda: current_app.config["CLAIM_LIMIT_PER_RESIDENT"],
                                           scope="claim-resident", key_func=_resident_key)
claims_per_resident_page = limiter.shared_limit(lambda: current_app.config["CLAIM_LIMIT_PER_RESIDENT"],
                                                scope="claim-resident", key_func=_page_resident_key)
claims_per_ip = limiter.shared_limit(lambda: current_app.config["CLAIM_LIMIT_PER_IP"], scope="claim-ip")


@api.post("/campaigns/<campaign_id>/claims")
@roles_required(Role.resident)
@claims_per_ip
@claims_per_resident
def claim(campaign_id: str):
    body = json_body(ClaimIn)
    voucher, status = claiming.claim_voucher(campaign_id, body.tier_id, api_user(), now(), request_key())
    return jsonify(voucher), status


def _wallet(resident_id: str) -> list[dict]:
    at = now()
    held = service.my_vouchers(resident_id)
    used = service.where_used([v.id for v, _c in held if v.status.value == "redeemed"])
    return [wallet_out(v, c, service.state_at(v, at), at, used.get(v.id)) for v, c in held]


@api.get("/me/vouchers")
@roles_required(Role.resident)
def my_vouchers():
    return listing(_wallet(api_user().id))


@api.get("/me/vouchers/<voucher_id>/token")
@roles_required(Role.resident)
def voucher_token(voucher_id: str):
    voucher = service.owned_voucher(voucher_id, api_user().id)
    return _no_store(jsonify(service.fresh_token(voucher, now())))


@api.get("/me/vouchers/<voucher_id>/qr.png")
@roles_required(Role.resident)
def voucher_qr_png(voucher_id: str):
    token = service.fresh_token(service.owned_voucher(voucher_id, api_user().id), now())["token"]
    return _no_store(Response(qr.png(token), mimetype="image/png"))


@api.get("/me/vouchers/<voucher_id>/qr.svg")
@roles_required(Role.resident)
def voucher_qr_svg(voucher_id: str):
    token = service.fresh_token(service.owned_voucher(voucher_id, api_user().id), now())["token"]
    return _no_store(Response(qr.svg(token), mimetype="image/svg+xml"))


@api.get("/keys")
def keys():
    return jsonify({"keys": tokens.public_keys()})


def _no_store(response: Response) -> Response:
    """A token is good for a minute and belongs to one person: no cache may keep it."""
    response.headers["Cache-Control"] = "no-store, private"
    return response


# Pages ------------------------------------------------------------------------------------------------

pages = Blueprint("vouchers", __name__)


@pages.get("/campaigns")
def campaigns_page():
    """Campaigns a resident can claim from now or soon, with what is left and the next round."""
    at = now()
    return render_template("vouchers/campaigns.html", campaigns=public.campaigns_for_residents(at), now=at)


@pages.get("/campaigns/<campaign_id>")
def campaign_page(campaign_id: str):
    at = now()
    campaign = public.campaign_for_residents(campaign_id, at)
    return render_template("vouchers/campaign.html", campaign=campaign, now=at, claim_key=uuid.uuid4().hex,
                           categories=category_labels(), districts=district_names())


@pages.post("/campaigns/<campaign_id>/claim")
@page_roles_required(Role.resident)
@claims_per_ip
@claims_per_resident_page
def claim_on_page(campaign_id: str):
    tier_id = request.form.get("tier_id", "")
    key = (request.form.get("claim_key") or "")[:100] or None
    try:
        claiming.claim_voucher(campaign_id, tier_id, current_user, now(), key)
    except DomainError as err:
        flash(str(err.detail or err.title), "error")
        return redirect(url_for("vouchers.campaign_page", campaign_id=campaign_id))
    flash(_("Claimed! Your voucher is in your wallet."), "success")
    return redirect(url_for("vouchers.wallet"))


@pages.get("/wallet")
@page_roles_required(Role.resident)
def wallet():
    return render_template("vouchers/wallet.html", vouchers=_wallet(current_user.id), saved_cents=service.saved_cents(current_user.id),
                           categories=category_labels(), districts=district_names())


@pages.get("/wallet/<voucher_id>")
@page_roles_required(Role.resident)
def voucher_page(voucher_id: str):
    """The screen a resident shows at the till: a QR that refreshes itself, and the typed code."""
    at = now()
    voucher = service.owned_voucher(voucher_id, current_user.id)
    campaign = campaign_service.get_campaign(voucher.campaign_id, include_drafts=False)
    item = wallet_out(voucher, campaign, service.state_at(voucher, at), at)
    return render_template("vouchers/voucher.html", voucher=item, categories=category_labels(),
                           districts=district_names())


@pages.get("/wallet/<voucher_id>/qr.svg")
@page_roles_required(Role.resident)
def voucher_qr_page_svg(voucher_id: str):
    """A fresh QR (as SVG) for the voucher screen; its typed code and expiry ride in headers."""
    fresh = service.fresh_token(service.owned_voucher(voucher_id, current_user.id), now())
    response = Response(qr.svg(fresh["token"]), mimetype="image/svg+xml")
    response.headers["X-Voucher-Code"] = fresh["code"]
    response.headers["X-Voucher-Expires"] = fresh["expires_at"]
    response.headers["X-Voucher-Refresh"] = str(fresh["refresh_in"])
    return _no_store(response)


@pages.get("/wallet/<voucher_id>/state.json")
@page_roles_required(Role.resident)
def voucher_state(voucher_id: str):
    """What the voucher screen polls to notice, without a reload, that the cashier has used it."""
    voucher = service.owned_voucher(voucher_id, current_user.id)
    used = service.where_used([voucher.id]).get(voucher.id)
    return _no_store(jsonify({"status": service.state_at(voucher, now()).value, "used": used}))
