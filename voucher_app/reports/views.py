"""Reports over the API, for the bureau (admin) and read-only viewers (责任单位)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..accounts.models import Role
from ..api import roles_required
from ..clock import now
from . import service

api = Blueprint("reports_api", __name__)

READERS = (Role.admin, Role.viewer)


@api.get("/reports/campaigns/<campaign_id>")
@roles_required(*READERS)
def campaign_report(campaign_id: str):
    return jsonify(service.campaign_report(campaign_id, now()))


@api.get("/reports/campaigns/<campaign_id>/live")
@roles_required(*READERS)
def live_round(campaign_id: str):
    return jsonify(service.live_round(campaign_id, now()))


@api.get("/reports/measures")
@roles_required(*READERS)
def measures_report():
    return jsonify(service.measures_report(now()))


@api.get("/reports/measures/<code>")
@roles_required(*READERS)
def measure_report(code: str):
    return jsonify(service.measure_report(code, now()))


@api.get("/reports/refusals")
@roles_required(*READERS)
def refusals():
    return jsonify({"items": service.refusals_by_code(request.args.get("campaign_id") or None)})
