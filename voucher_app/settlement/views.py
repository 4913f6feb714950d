"""Settlement statements (结算单) over the JSON API.

The filter is checked by ``StatementQuery``; which statements a user may see is decided in ``service``.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from voucher_app.accounts.guards import api_user, roles_required
from voucher_app.core.http import listing
from voucher_app.core.roles import BUREAU, Role
from voucher_app.settlement import service as settlement
from voucher_app.settlement.schemas import StatementQuery

READERS = (*BUREAU, Role.merchant_owner)


api = Blueprint("settlements_api", __name__)


@api.get("/settlements")
@roles_required(*READERS)
def list_settlements():
    query = StatementQuery.from_args(request.args)
    merchant_id = settlement.merchant_scope(api_user(), query.merchant_id)
    statements, cursor = settlement.statements_for(merchant_id, query.cursor, query.limit, **query.filters())
    return listing(settlement.statements_out(statements), cursor)


@api.get("/settlements/<statement_id>")
@roles_required(*READERS)
def get_settlement(statement_id: str):
    return jsonify(settlement.statements_out([settlement.visible_statement(api_user(), statement_id)])[0])
