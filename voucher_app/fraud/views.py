"""Fraud flags and the rules behind them over the JSON API: the bureau reads them; administrators
resolve flags and tune rules."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from voucher_app.accounts.guards import api_user, roles_required
from voucher_app.core.clock import now
from voucher_app.core.http import listing
from voucher_app.core.roles import BUREAU, Role
from voucher_app.core.validation import json_body
from voucher_app.fraud import service
from voucher_app.fraud.schemas import FlagQuery, ResolveIn, RuleUpdateIn

api = Blueprint("fraud_api", __name__)


@api.get("/flags")
@roles_required(*BUREAU)
def list_flags():
    query = FlagQuery.from_args(request.args)
    items, cursor = service.flags_page(query.status, query.cursor, query.limit)
    return listing(items, cursor)


@api.get("/flags/<flag_id>")
@roles_required(*BUREAU)
def get_flag(flag_id: str):
    return jsonify(service.flag_detail(flag_id))


@api.post("/flags/<flag_id>/resolve")
@roles_required(Role.admin)
def resolve_flag(flag_id: str):
    body = json_body(ResolveIn)
    return jsonify(service.resolve(flag_id, body.outcome, body.note, api_user(), now()))


@api.get("/fraud-rules")
@roles_required(*BUREAU)
def list_rules():
    return listing(service.rule_settings())


@api.put("/fraud-rules/<code>")
@roles_required(Role.admin)
def update_rule(code: str):
    body = json_body(RuleUpdateIn)
    return jsonify(service.update_rule(code, body.enabled, body.params, api_user(), now()))
