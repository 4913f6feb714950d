"""The city's plan and its campaigns over the JSON API. Views stay thin: parse, call a service, answer."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify, request

from campaigns import service
from campaigns.schemas import CampaignIn, CampaignPatch, ReasonIn
from voucher_app.accounts.guards import api_user, roles_required
from voucher_app.core.clock import now
from voucher_app.core.http import listing
from voucher_app.core.roles import BUREAU, Role
from voucher_app.core.validation import json_body, validate
from voucher_app.vouchers import availability, issuing

api = Blueprint("campaigns_api", __name__)


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
    status, cursor = request.args.get("status") or None, request.args.get("cursor")
    if not _sees_drafts():
        return listing(*availability.campaign_list_for_residents(at, status=status, cursor=cursor,
                                                                 limit=service.PAGE_SIZE))
    campaigns, cursor = service.list_campaigns(at, status=status, include_drafts=True, cursor=cursor)
    return listing(availability.with_counts(campaigns, at), cursor)


@api.get("/campaigns/<campaign_id>")
def get_campaign(campaign_id: str):
    if not _sees_drafts():
        return jsonify(availability.campaign_for_residents(campaign_id, now()))
    return jsonify(_bureau_view(campaign_id, now()))


@api.post("/campaigns")
@roles_required(Role.admin)
def create_campaign():
    at = now()
    campaign = service.create_campaign(json_body(CampaignIn), api_user(), at)
    return jsonify(_bureau_view(campaign.id, at)), 201


@api.patch("/campaigns/<campaign_id>")
@roles_required(Role.admin)
def update_campaign(campaign_id: str):
    at = now()
    service.update_campaign(campaign_id, json_body(CampaignPatch), api_user(), at)
    return jsonify(_bureau_view(campaign_id, at))


@api.post("/campaigns/<campaign_id>/publish")
@roles_required(Role.admin)
def publish_campaign(campaign_id: str):
    at = now()
    issuing.publish_campaign(campaign_id, api_user(), at)
    return jsonify(_bureau_view(campaign_id, at))


@api.post("/campaigns/<campaign_id>/cancel")
@roles_required(Role.admin)
def cancel_campaign(campaign_id: str):
    at = now()
    body = validate(ReasonIn, request.get_json(silent=True) or {})
    issuing.cancel_campaign(campaign_id, body.reason, api_user(), at)
    return jsonify(_bureau_view(campaign_id, at))


def _bureau_view(campaign_id: str, at: dt.datetime) -> dict:
    """The campaign as the bureau's API shows it (drafts too), with its tiers' claimed counts."""
    return availability.with_counts([service.get_campaign(campaign_id, include_drafts=True)], at)[0]
