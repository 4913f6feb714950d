"""Claiming, the wallet and the QR tokens over the API."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from ..accounts.models import Role
from ..api import api_user, listing, roles_required
from ..clock import now
from ..extensions import limiter
from ..idempotency import request_key
from ..validation import json_body
from . import qr, service, tokens
from .schemas import ClaimIn, wallet_out

api = Blueprint("vouchers_api", __name__)


def _resident_key() -> str:
    user = api_user()
    return f"resident:{user.id}" if user else "anonymous"


claims_per_resident = limiter.shared_limit(lambda: current_app.config["CLAIM_LIMIT_PER_RESIDENT"],
                                           scope="claim-resident", key_func=_resident_key)
claims_per_ip = limiter.shared_limit(lambda: current_app.config["CLAIM_LIMIT_PER_IP"], scope="claim-ip")


@api.post("/campaigns/<campaign_id>/claims")
@roles_required(Role.resident)
@claims_per_ip
@claims_per_resident
def claim(campaign_id: str):
    body = json_body(ClaimIn)
    voucher, status = service.claim_voucher(campaign_id, body.tier_id, api_user(), now(), request_key())
    return jsonify(voucher), status


@api.get("/me/vouchers")
@roles_required(Role.resident)
def my_vouchers():
    at = now()
    return listing(wallet_out(v, c, service.state_at(v, at), at) for v, c in service.my_vouchers(api_user().id))


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
