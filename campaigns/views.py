"""The city's plan and its campaigns over the API. Views stay thin: parse, call a service, answer."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from voucher_app.accounts.models import Role
from voucher_app.api import api_user, listing, roles_required
from voucher_app.clock import now
from voucher_app.validation import json_body, validate

from . import service
from .schemas import CampaignIn, CampaignPatch, ReasonIn

api = Blueprint("campaigns_api", __name__)

BUREAU = (Role.admin, Role.viewer)


@api.get("/measures")
def measures():
    return listing(service.list_measures())


@api.get("/districts")
def districts():
    return listing(service.list_districts())


def _sees_drafts() -> bool:
    user = api_user()
    return user is not None and user.role in BUREAU


@api.get("/campaigns")
def list_campaigns():
    at = now()
    campaigns, cursor = service.list_campaigns(at, status=request.args.get("status") or None,
                                               include_drafts=_sees_drafts(), cursor=request.args.get("cursor"))
    return listing(service.campaign_views(campaigns, at), cursor)


@api.get("/campaigns/<campaign_id>")
def get_campaign(campaign_id: str):
    campaign = service.get_campaign(campaign_id, include_drafts=_sees_drafts())
    return jsonify(service.campaign_view(campaign, now()))


@api.post("/campaigns")
@roles_required(Role.admin)
def create_campaign():
    at = now()
    campaign = service.create_campaign(json_body(CampaignIn), api_user(), at)
    return jsonify(service.campaign_view(service.get_campaign(campaign.id, include_drafts=True), at)), 201


@api.patch("/campaigns/<campaign_id>")
@roles_required(Role.admin)
def update_campaign(campaign_id: str):
    at = now()
    service.update_campaign(campaign_id, json_body(CampaignPatch), api_user(), at)
    return jsonify(service.campaign_view(service.get_campaign(campaign_id, include_drafts=True), at))


@api.post("/campaigns/<campaign_id>/publish")
@roles_required(Role.admin)
def publish_campaign(campaign_id: str):
    at = now()
    service.publish_campaign(campaign_id, api_user(), at)
    return jsonify(service.campaign_view(service.get_campaign(campaign_id, include_drafts=True), at))


@api.post("/campaigns/<campaign_id>/cancel")
@roles_required(Role.admin)
def cancel_campaign(campaign_id: str):
    at = now()
    body = validate(ReasonIn, request.get_json(silent=True) or {})
    service.cancel_campaign(campaign_id, body.reason, api_user(), at)
    return jsonify(service.campaign_view(service.get_campaign(campaign_id, include_drafts=True), at))
