"""Entering lottery rounds, the residents' entries, and the draw over the API."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from voucher_app.accounts.guards import api_user, roles_required
from voucher_app.core.clock import now
from voucher_app.core.http import listing
from voucher_app.core.idempotency import request_key
from voucher_app.core.roles import Role
from voucher_app.core.validation import json_body
from voucher_app.lottery import service
from voucher_app.lottery.schemas import EntryIn
from voucher_app.vouchers.limits import claims_per_ip, claims_per_resident

api = Blueprint("lottery_api", __name__)


@api.post("/campaigns/<campaign_id>/entries")
@roles_required(Role.resident)
@claims_per_ip
@claims_per_resident
def enter(campaign_id: str):
    body = json_body(EntryIn)
    entry, status = service.enter(campaign_id, body.tier_id, api_user(), now(), request_key())
    return jsonify(entry), status


@api.get("/me/entries")
@roles_required(Role.resident)
def my_entries():
    return listing(service.my_entries(api_user().id))


@api.post("/campaigns/<campaign_id>/rounds/<round_id>/draw")
@roles_required(Role.admin)
def run_draw(campaign_id: str, round_id: str):
    return jsonify(service.draw_round(campaign_id, round_id, api_user(), now()))


@api.get("/campaigns/<campaign_id>/rounds/<round_id>/draw")
def draw_document(campaign_id: str, round_id: str):
    return Response(service.document_json(campaign_id, round_id, now()), mimetype="application/json")
