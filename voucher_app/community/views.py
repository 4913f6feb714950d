"""Community workers over the API: registering residents without a smartphone, claiming and entering
draws for them, and finding their vouchers to print (``POST /me/vouchers/{id}/print`` prints them)."""
from __future__ import annotations

from flask import Blueprint, jsonify

from voucher_app.accounts.guards import api_user, roles_required
from voucher_app.community import service
from voucher_app.community.schemas import OnBehalfIn, ResidentIn, resident_out
from voucher_app.core.clock import now
from voucher_app.core.http import listing, no_store
from voucher_app.core.idempotency import request_key
from voucher_app.core.roles import Role
from voucher_app.core.validation import json_body
from voucher_app.redemptions.service import where_used
from voucher_app.redemptions.typed import wrong_codes
from voucher_app.vouchers import printing
from voucher_app.vouchers import service as wallet
from voucher_app.vouchers.limits import claims_per_ip, claims_per_resident

api = Blueprint("community_api", __name__)


@api.post("/proxy/residents")
@roles_required(Role.community_worker)
def register_resident():
    body = json_body(ResidentIn)
    resident = service.register_resident(api_user(), body.name, body.id_number, body.district, body.phone,
                                         body.consent, now())
    return jsonify({"id": resident.id}), 201


@api.get("/proxy/residents")
@roles_required(Role.community_worker)
def my_residents():
    return no_store(listing(resident_out(r) for r in service.my_residents(api_user().id)))


@api.post("/proxy/residents/<resident_id>/claims")
@roles_required(Role.community_worker)
@claims_per_ip
@claims_per_resident
def claim_for(resident_id: str):
    body = json_body(OnBehalfIn)
    voucher, status = service.claim_for(api_user(), resident_id, body.campaign_id, body.tier_id, now(),
                                        request_key())
    return jsonify(voucher), status


@api.post("/proxy/residents/<resident_id>/entries")
@roles_required(Role.community_worker)
@claims_per_ip
@claims_per_resident
def enter_for(resident_id: str):
    body = json_body(OnBehalfIn)
    entry, status = service.enter_for(api_user(), resident_id, body.campaign_id, body.tier_id, now(),
                                      request_key())
    return jsonify(entry), status


@api.get("/proxy/residents/<resident_id>/vouchers")
@roles_required(Role.community_worker)
def resident_vouchers(resident_id: str):
    """The resident's wallet, for the worker to find what to print."""
    resident = service.resident_of(api_user(), resident_id)
    return no_store(listing(wallet.wallet(resident.id, now(), where_used, wrong_codes, printing.sheets)))


@api.get("/me/on-behalf")
@roles_required(Role.resident)
def done_on_behalf():
    """What a community worker did for the signed-in resident."""
    return listing(service.done_on_behalf(api_user()))
