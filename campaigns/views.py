"""The city's plan and its campaigns over the JSON API. Views stay thin: parse, call a service, answer.

The plan and residents' campaigns are public reads, answered conditionally (``core/conditional.py``):
the same for every anonymous asker and every resident, so any cache may keep them — the plan for
``PLAN_MAX_AGE`` (it changes about once a year), campaigns for ``availability.COUNTS_MAX_AGE`` (they
show claimed counts). They vary with the language (``Accept-Language``, or the ``lang`` cookie) and
campaigns with ``Authorization`` too: the bureau's token sees drafts, in a ``private`` answer."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify, request
from flask_babel import get_locale

from campaigns import service
from campaigns.schemas import CampaignIn, CampaignPatch, ReasonIn
from voucher_app.accounts.guards import api_user, roles_required
from voucher_app.core import conditional, versions
from voucher_app.core.clock import now
from voucher_app.core.roles import BUREAU, Role
from voucher_app.core.validation import json_body, validate
from voucher_app.vouchers import availability, issuing

api = Blueprint("campaigns_api", __name__)

PLAN_MAX_AGE = 600
PLAN = conditional.public(PLAN_MAX_AGE, vary="Accept-Language, Cookie")
CAMPAIGNS = conditional.public(availability.COUNTS_MAX_AGE, vary="Accept-Language, Cookie, Authorization")
BUREAU_ONLY = conditional.private(vary="Accept-Language, Cookie, Authorization")


def _plan(read: str, items):
    language = str(get_locale())
    version = versions.current(versions.PLAN)
    return conditional.answer((read, language), version, lambda: {"items": items(), "next": None}, PLAN)


@api.get("/measures")
def measures():
    return _plan("measures", service.list_measures)


@api.get("/districts")
def districts():
    return _plan("districts", service.list_districts)


def _sees_drafts() -> bool:
    user = api_user()
    return user is not None and user.role in BUREAU


@api.get("/campaigns")
def list_campaigns():
    at = now()
    status, cursor = request.args.get("status") or None, request.args.get("cursor")
    if not _sees_drafts():
        state, build = availability.residents_page(at, status=status, cursor=cursor, limit=service.PAGE_SIZE)
        return conditional.answer(("campaigns", status, cursor, str(get_locale())), state, build, CAMPAIGNS)
    campaigns, cursor = service.list_campaigns(at, status=status, include_drafts=True, cursor=cursor)
    return conditional.answer(None, None, lambda: {"items": availability.with_counts(campaigns, at), "next": cursor},
                              BUREAU_ONLY)


@api.get("/campaigns/<campaign_id>")
def get_campaign(campaign_id: str):
    if not _sees_drafts():
        state, build = availability.residents_campaign(campaign_id, now())
        return conditional.answer(("campaign", campaign_id, str(get_locale())), state, build, CAMPAIGNS)
    return conditional.answer(None, None, lambda: _bureau_view(campaign_id, now()), BUREAU_ONLY)


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
