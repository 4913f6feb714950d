"""The disclosure API: public pages of shops, complaint statistics and suspended shops (no sign-in), and
the bureau's consumption warnings. Public answers may be cached for a minute (``PUBLIC_MAX_AGE``), in
each language apart (they name categories and districts), and carry an ETag (``core/conditional.py``:
built on every request, since complaints and credit change them without a data version)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from campaigns.labels import category_labels, district_names
from voucher_app.accounts.guards import api_user, roles_required
from voucher_app.core import conditional
from voucher_app.core.clock import now
from voucher_app.core.http import listing
from voucher_app.core.roles import Role
from voucher_app.core.validation import json_body
from voucher_app.disclosure import service
from voucher_app.disclosure.schemas import WarningIn, public_merchant_out, stats_out, suspended_out, warning_out

api = Blueprint("disclosure_api", __name__)

PUBLIC_MAX_AGE = 60  # seconds a browser or proxy may keep a public answer


PUBLIC = conditional.public(PUBLIC_MAX_AGE, vary="Accept-Language, Cookie")


def _public(body: dict):
    return conditional.answer(None, None, lambda: body, PUBLIC)


@api.get("/public/merchants/<merchant_id>")
def public_merchant(merchant_id: str):
    shop = service.public_shop(merchant_id, now())
    return _public(public_merchant_out(shop, category_labels(), district_names()))


@api.get("/public/complaints/stats")
def complaint_stats():
    return _public(stats_out(service.complaint_stats(now()), category_labels(), district_names()))


@api.get("/public/suspended")
def suspended():
    categories, districts = category_labels(), district_names()
    return _public({"items": [suspended_out(m, categories, districts) for m in service.publicly_suspended()],
                    "next": None})


@api.get("/warnings")
def list_warnings():
    """Warnings in force (anyone); ``?active=false`` lists every one, withdrawn and ended too."""
    active = request.args.get("active", "true").lower() not in ("false", "0", "no")
    warnings, cursor = service.list_warnings(now(), active_only=active, cursor=request.args.get("cursor"))
    return listing((warning_out(w.warning, w.merchant_name) for w in warnings), cursor)


@api.post("/warnings")
@roles_required(Role.admin)
def publish_warning():
    warning = service.publish_warning(json_body(WarningIn), api_user(), now())
    return jsonify(warning_out(warning)), 201


@api.post("/warnings/<warning_id>/withdraw")
@roles_required(Role.admin)
def withdraw_warning(warning_id: str):
    return jsonify(warning_out(service.withdraw_warning(warning_id, api_user(), now())))
