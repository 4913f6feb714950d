"""Claiming, the wallet and the QR tokens over the API."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from voucher_app.accounts.guards import api_user, roles_required
from voucher_app.core import conditional
from voucher_app.core.clock import now
from voucher_app.core.http import listing, no_store
from voucher_app.core.idempotency import request_key
from voucher_app.core.roles import Role
from voucher_app.core.validation import json_body
from voucher_app.redemptions.service import where_used
from voucher_app.redemptions.typed import wrong_codes
from voucher_app.vouchers import claiming, printing, qr, service, tokens
from voucher_app.vouchers.limits import claims_per_ip, claims_per_resident
from voucher_app.vouchers.schemas import ClaimIn

api = Blueprint("vouchers_api", __name__)


@api.post("/campaigns/<campaign_id>/claims")
@roles_required(Role.resident)
@claims_per_ip
@claims_per_resident
def claim(campaign_id: str):
    body = json_body(ClaimIn)
    voucher, status = claiming.claim_voucher(campaign_id, body.tier_id, api_user(), now(), request_key())
    return jsonify(voucher), status


@api.get("/me/vouchers")
@roles_required(Role.resident)
def my_vouchers():
    return listing(service.wallet(api_user().id, now(), where_used, wrong_codes, printing.sheets))


@api.get("/me/vouchers/<voucher_id>/token")
@roles_required(Role.resident)
def voucher_token(voucher_id: str):
    voucher = service.owned_voucher(voucher_id, api_user().id)
    return no_store(jsonify(service.fresh_token(voucher, now())))


@api.get("/me/vouchers/<voucher_id>/qr.png")
@roles_required(Role.resident)
def voucher_qr_png(voucher_id: str):
    token = service.fresh_token(service.owned_voucher(voucher_id, api_user().id), now())["token"]
    return no_store(Response(qr.png(token), mimetype="image/png"))


@api.get("/me/vouchers/<voucher_id>/qr.svg")
@roles_required(Role.resident)
def voucher_qr_svg(voucher_id: str):
    token = service.fresh_token(service.owned_voucher(voucher_id, api_user().id), now())["token"]
    return no_store(Response(qr.svg(token), mimetype="image/svg+xml"))


@api.post("/me/vouchers/<voucher_id>/print")
@roles_required(Role.resident, Role.community_worker)
def print_voucher(voucher_id: str):
    """A printed sheet (PDF) for the voucher's owner, or the community worker who claimed it for them."""
    sheet = printing.print_sheet(voucher_id, api_user(), now())
    response = Response(sheet, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="voucher-{voucher_id}.pdf"'
    return no_store(response)


@api.post("/me/vouchers/<voucher_id>/print/revoke")
@roles_required(Role.resident, Role.community_worker)
def revoke_printed_voucher(voucher_id: str):
    printing.revoke_sheets(voucher_id, api_user(), now())
    return "", 204


KEYS_MAX_AGE = 60  # a scanner verifying offline meets a newly rotated key's tokens within a minute


@api.get("/keys")
def keys():
    """The verification keys: public, the same in every language, kept until a key is added or retired."""
    return conditional.answer("keys", tokens.keys_version(), lambda: {"keys": tokens.public_keys()},
                              conditional.public(KEYS_MAX_AGE))
