"""The complaints API: residents complain about shops and ask for refunds; shops reply and answer refund
requests; the bureau assigns and decides. Who sees which is decided in ``service``."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from voucher_app.accounts.guards import api_user, roles_required
from voucher_app.complaints import service
from voucher_app.complaints.limits import complaints_per_resident, returns_per_resident
from voucher_app.complaints.models import ComplaintKind, ComplaintStatus, ReturnStatus
from voucher_app.complaints.schemas import (
    BUREAU,
    RESIDENT,
    SHOP,
    AssignIn,
    ComplaintIn,
    DecisionIn,
    ListQuery,
    ReturnRequestIn,
    TextIn,
    complaint_out,
    return_request_out,
)
from voucher_app.core.clock import now
from voucher_app.core.errors import ValidationError
from voucher_app.core.http import listing, no_store
from voucher_app.core.roles import Role
from voucher_app.core.validation import json_body, validate

api = Blueprint("complaints_api", __name__)


def _query(statuses) -> ListQuery:
    query = validate(ListQuery, request.args.to_dict())
    if query.status and query.status not in (*statuses, "all"):
        raise ValidationError(errors=[{"field": "status", "message": _(
            "Choose one of: %(options)s.", options=", ".join((*statuses, "all")))}])
    return query


def _complaints_out(complaints, audience: str, at) -> list[dict]:
    names = service.merchant_names(c.merchant_id for c in complaints)
    phones = service.resident_phones(c.resident_id for c in complaints) if audience == BUREAU else {}
    return [complaint_out(c, at, audience, merchant_name=names.get(c.merchant_id),
                          resident_phone=phones.get(c.resident_id)) for c in complaints]


def _requests_out(requests, *, bureau: bool = False) -> list[dict]:
    names = service.merchant_names(r.merchant_id for r in requests)
    sales = service.sales_of(requests)
    phones = service.resident_phones(r.resident_id for r in requests) if bureau else {}
    return [return_request_out(r, merchant_name=names.get(r.merchant_id),
                               redemption=service.sale_out(sales.get(r.redemption_id)),
                               resident_phone=phones.get(r.resident_id) if bureau else None) for r in requests]


def _audience(role: Role) -> str:
    return BUREAU if role in (Role.admin, Role.viewer) else SHOP


# Complaints ---------------------------------------------------------------------------------------------

@api.post("/complaints")
@roles_required(Role.resident)
@complaints_per_resident
def file_complaint():
    body = json_body(ComplaintIn)
    complaint = service.file_complaint(api_user(), body.merchant_id, body.kind, body.text, body.redemption_id, now())
    return jsonify(complaint_out(complaint, now(), RESIDENT,
                                 merchant_name=service.merchant_names([complaint.merchant_id]).get(
                                     complaint.merchant_id))), 201


@api.get("/me/complaints")
@roles_required(Role.resident)
def my_complaints():
    return no_store(listing(_complaints_out(service.my_complaints(api_user().id), RESIDENT, now())))


@api.get("/complaints")
@roles_required(Role.admin, Role.viewer, Role.merchant_owner)
def complaints():
    """The bureau's queue (open ones by due date, overdue first), or the complaints about the owner's shop."""
    user, at = api_user(), now()
    query = _query([s.value for s in ComplaintStatus])
    kind = request.args.get("kind") or None
    if kind and kind not in {k.value for k in ComplaintKind}:
        raise ValidationError(errors=[{"field": "kind", "message": _("Choose what went wrong.")}])
    rows, cursor = service.complaints_for(user, at, query.status, kind=kind,
                                          merchant_id=request.args.get("merchant_id") or None,
                                          assigned_to=request.args.get("assigned_to") or None,
                                          cursor=query.cursor, limit=query.limit)
    return no_store(listing(_complaints_out(rows, _audience(user.role), at), cursor))


@api.get("/complaints/<complaint_id>")
@roles_required(Role.admin, Role.viewer, Role.merchant_owner, Role.resident)
def complaint(complaint_id: str):
    user = api_user()
    found = service.visible_complaint(user, complaint_id)
    audience = RESIDENT if user.role is Role.resident else _audience(user.role)
    return no_store(jsonify(_complaints_out([found], audience, now())[0]))


@api.post("/complaints/<complaint_id>/reply")
@roles_required(Role.merchant_owner)
def reply(complaint_id: str):
    body = json_body(TextIn)
    answered = service.reply(complaint_id, api_user(), body.text, now())
    return jsonify(_complaints_out([answered], SHOP, now())[0])


@api.post("/complaints/<complaint_id>/assign")
@roles_required(Role.admin)
def assign(complaint_id: str):
    body = validate(AssignIn, request.get_json(silent=True) or {})
    assigned = service.assign(complaint_id, api_user(), body.user_id, now())
    return jsonify(_complaints_out([assigned], BUREAU, now())[0])


@api.post("/complaints/<complaint_id>/decide")
@roles_required(Role.admin)
def decide(complaint_id: str):
    body = json_body(DecisionIn)
    decided = service.decide(complaint_id, api_user(), body.outcome, body.text, now())
    return jsonify(_complaints_out([decided], BUREAU, now())[0])


# Return requests ----------------------------------------------------------------------------------------

@api.post("/return-requests")
@roles_required(Role.resident)
@returns_per_resident
def ask_refund():
    body = json_body(ReturnRequestIn)
    made = service.ask_refund(api_user(), body.redemption_id, body.reason, now())
    return jsonify(_requests_out([made])[0]), 201


@api.get("/me/return-requests")
@roles_required(Role.resident)
def my_return_requests():
    return no_store(listing(_requests_out(service.my_return_requests(api_user().id))))


@api.get("/return-requests")
@roles_required(Role.admin, Role.viewer, Role.merchant_owner)
def return_requests():
    user = api_user()
    query = _query([s.value for s in ReturnStatus])
    rows, cursor = service.return_requests_for(user, query.status, cursor=query.cursor, limit=query.limit)
    return no_store(listing(_requests_out(rows, bureau=user.role is not Role.merchant_owner), cursor))


@api.post("/return-requests/<request_id>/accept")
@roles_required(Role.merchant_owner)
def accept(request_id: str):
    return jsonify(_requests_out([service.accept(request_id, api_user(), now())])[0])


@api.post("/return-requests/<request_id>/decline")
@roles_required(Role.merchant_owner)
def decline(request_id: str):
    body = json_body(TextIn)
    return jsonify(_requests_out([service.decline(request_id, api_user(), body.text, now())])[0])
