"""Reports over the API, for the bureau (admin) and read-only viewers (责任单位)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from voucher_app.accounts.guards import roles_required
from voucher_app.core.clock import now
from voucher_app.core.roles import BUREAU
from voucher_app.reports import service

api = Blueprint("reports_api", __name__)



@api.get("/reports/campaigns/<campaign_id>")
@roles_required(*BUREAU)
def campaign_report(campaign_id: str):
    return jsonify(service.campaign_report(campaign_id, now()))


@api.get("/reports/campaigns/<campaign_id>/live")
@roles_required(*BUREAU)
def live_round(campaign_id: str):
    return jsonify(service.live_round(campaign_id, now()))


@api.get("/reports/measures")
@roles_required(*BUREAU)
def measures_report():
    return jsonify(service.measures_report(now()))


@api.get("/reports/measures/<code>")
@roles_required(*BUREAU)
def measure_report(code: str):
    return jsonify(service.measure_report(code, now()))


@api.get("/reports/refusals")
@roles_required(*BUREAU)
def refusals():
    return jsonify({"items": service.refusals_by_code(request.args.get("campaign_id") or None)})
