"""Claiming and the wallet over the API."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from pydantic import BaseModel, ConfigDict, Field

from ..accounts.models import Role
from ..api import api_user, listing, roles_required
from ..clock import now
from ..extensions import limiter
from ..idempotency import request_key
from ..validation import json_body
from . import service

api = Blueprint("vouchers_api", __name__)


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    tier_id: str = Field(min_length=1, max_length=26)


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
    return listing(service.voucher_out(v) for v in service.my_vouchers(api_user().id))
