"""Merchants, cashiers and enrolments over the JSON API.

Views stay thin: parse, call a service, answer. Who may see which shop is decided in
``service`` (another shop's id is ``not_found``); the decorators here only admit roles."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from merchants import service
from merchants.limits import registrations_per_ip
from merchants.schemas import (
    DecisionIn,
    EnrolmentIn,
    MerchantIn,
    OpeningHoursIn,
    ReasonIn,
    StaffIn,
    credit_out,
    enrolment_out,
    merchant_out,
    staff_out,
)
from voucher_app.accounts.guards import api_user, roles_required
from voucher_app.core.clock import now
from voucher_app.core.http import listing
from voucher_app.core.roles import BUREAU, SHOP_PEOPLE, Role
from voucher_app.core.validation import json_body, validate

api = Blueprint("merchants_api", __name__)


def _merchant_view(merchant, viewer) -> dict:
    return merchant_out(merchant, full_phone=service.shows_full_phone(merchant, viewer))


def _reason() -> str | None:
    return validate(ReasonIn, request.get_json(silent=True) or {}).reason or None


@api.post("/merchants")
@registrations_per_ip
def register_merchant():
    merchant, owner = service.register_merchant(json_body(MerchantIn), now())
    return jsonify({**merchant_out(merchant, full_phone=True), "owner": staff_out(owner)}), 201


@api.get("/merchants")
@roles_required(*BUREAU)
def list_merchants():
    viewer = api_user()
    merchants, cursor = service.list_merchants(request.args.get("status"), request.args.get("cursor"))
    return listing((_merchant_view(m, viewer) for m in merchants), cursor)


@api.get("/merchants/<merchant_id>")
@roles_required(*BUREAU, *SHOP_PEOPLE)
def get_merchant(merchant_id: str):
    viewer = api_user()
    return jsonify(_merchant_view(service.visible_merchant(viewer, merchant_id), viewer))


@api.post("/merchants/<merchant_id>/<any(approve, reject, suspend, reinstate):decision>")
@roles_required(Role.admin)
def decide_merchant(merchant_id: str, decision: str):
    body = validate(DecisionIn, request.get_json(silent=True) or {})
    if decision == "suspend":  # ``public``: joint punishment for fraud, on the public list
        merchant = service.suspend_merchant(merchant_id, body.reason or None, api_user(), now(), public=body.public)
    else:
        merchant = service.MERCHANT_DECISIONS[decision](merchant_id, body.reason or None, api_user(), now())
    return jsonify(_merchant_view(merchant, api_user()))


@api.put("/merchants/<merchant_id>/opening-hours")
@roles_required(Role.merchant_owner, Role.admin)
def set_opening_hours(merchant_id: str):
    body = json_body(OpeningHoursIn)
    merchant = service.set_opening_hours(merchant_id, body.opening_hours, api_user(), now())
    return jsonify(_merchant_view(merchant, api_user()))


@api.get("/merchants/<merchant_id>/credit")
@roles_required(Role.merchant_owner, *BUREAU)
def merchant_credit(merchant_id: str):
    """The shop's credit score, badge and record (with reasons): for the bureau and the shop's owner."""
    return jsonify(credit_out(service.credit_view(merchant_id, api_user(), now())))


@api.post("/merchants/<merchant_id>/badge")
@roles_required(Role.admin)
def grant_badge(merchant_id: str):
    service.grant_badge(merchant_id, _reason(), api_user(), now())
    return jsonify(credit_out(service.credit_view(merchant_id, api_user(), now())))


@api.delete("/merchants/<merchant_id>/badge")
@roles_required(Role.admin)
def withdraw_badge(merchant_id: str):
    service.withdraw_badge(merchant_id, _reason(), api_user(), now())
    return jsonify(credit_out(service.credit_view(merchant_id, api_user(), now())))


@api.post("/merchants/<merchant_id>/contact-phone")
@roles_required(Role.admin)
def reveal_contact_phone(merchant_id: str):
    """The shop's whole contact phone, which every other answer to the bureau masks; the reveal is audited."""
    response = jsonify({"phone": service.reveal_contact_phone(merchant_id, api_user(), now())})
    response.headers["Cache-Control"] = "no-store"
    return response


@api.get("/merchants/<merchant_id>/staff")
@roles_required(Role.merchant_owner, *BUREAU)
def list_staff(merchant_id: str):
    return listing(staff_out(u) for u in service.list_staff(merchant_id, api_user()))


@api.post("/merchants/<merchant_id>/staff")
@roles_required(Role.merchant_owner, Role.admin)
def add_cashier(merchant_id: str):
    cashier = service.add_cashier(merchant_id, json_body(StaffIn), api_user(), now())
    return jsonify(staff_out(cashier)), 201


@api.post("/merchants/<merchant_id>/staff/<user_id>/<any(disable, enable):change>")
@roles_required(Role.merchant_owner, Role.admin)
def change_cashier(merchant_id: str, user_id: str, change: str):
    cashier = service.set_cashier_active(merchant_id, user_id, change == "enable", api_user(), now())
    return jsonify(staff_out(cashier))


@api.post("/merchants/<merchant_id>/staff/<user_id>/<any('allow-refunds', 'deny-refunds'):change>")
@roles_required(Role.merchant_owner, Role.admin)
def change_cashier_refunds(merchant_id: str, user_id: str, change: str):
    cashier = service.set_cashier_refunds(merchant_id, user_id, change == "allow-refunds", api_user(), now())
    return jsonify(staff_out(cashier))


@api.post("/campaigns/<campaign_id>/enrolments")
@roles_required(Role.merchant_owner)
def apply_for_campaign(campaign_id: str):
    body = json_body(EnrolmentIn)
    return jsonify(enrolment_out(service.apply_for_campaign(campaign_id, body.merchant_id, api_user(), now()))), 201


@api.get("/merchants/<merchant_id>/enrolments")
@roles_required(*BUREAU, *SHOP_PEOPLE)
def merchant_enrolments(merchant_id: str):
    return listing(enrolment_out(e) for e in service.merchant_enrolments(merchant_id, api_user()))


@api.get("/enrolments")
@roles_required(*BUREAU)
def list_enrolments():
    enrolments, cursor = service.list_enrolments(request.args.get("status"), request.args.get("cursor"))
    return listing((enrolment_out(e) for e in enrolments), cursor)


@api.post("/enrolments/<enrolment_id>/<any(approve, reject):decision>")
@roles_required(Role.admin)
def decide_enrolment(enrolment_id: str, decision: str):
    enrolment = service.ENROLMENT_DECISIONS[decision](enrolment_id, _reason(), api_user(), now())
    return jsonify(enrolment_out(enrolment))
