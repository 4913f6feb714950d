"""Settlement statements as pages for the shop's owner and the bureau, and as CSV/XLSX exports."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from merchants.service import visible_merchant
from voucher_app.accounts.guards import page_roles_required
from voucher_app.core.exports import table_response
from voucher_app.core.i18n import city_datetime
from voucher_app.core.money import yuan
from voucher_app.core.roles import BUREAU, Role
from voucher_app.settlement import service as settlement
from voucher_app.settlement.schemas import StatementQuery

pages = Blueprint("settlements", __name__, template_folder="templates")


@pages.context_processor
def _page_helpers() -> dict:
    return {"statement_status": settlement.statement_status_label}


def _filter_args(query: StatementQuery) -> dict:
    """The filter as query-string arguments, for the "more" and export links (url_for drops the Nones)."""
    return {"merchant_id": query.merchant_id, "from": query.day_from, "to": query.day_to, "status": query.status}


def _paging_args(query: StatementQuery) -> dict:
    return {**_filter_args(query), "limit": query.limit if query.limit != settlement.PAGE_SIZE else None}


def _statement_list(template: str, merchant_id: str | None, query: StatementQuery, **context):
    statements, cursor = settlement.statements_for(merchant_id, query.cursor, query.limit, **query.filters())
    return render_template(template, query=query, statements=settlement.statements_out(statements),
                           next_cursor=cursor, totals=settlement.statement_totals(merchant_id, **query.filters()),
                           filter_args=_filter_args(query), paging_args=_paging_args(query), **context)


def _statement_page(statement_id: str, *, bureau: bool):
    statement = settlement.visible_statement(current_user, statement_id)
    body = settlement.statements_out([statement])[0]
    sales, refunds, clawbacks = settlement.statement_activity(statement)
    return render_template("settlement/statement.html", s=body, sales=sales, refunds=refunds, clawbacks=clawbacks,
                           campaign_names={ln["campaign_id"]: ln["campaign_name"] for ln in body["lines"]},
                           bureau=bureau)


def _export(merchant_id: str | None, query: StatementQuery, fmt: str, *, with_merchant: bool):
    """The statements the filter selects, every one (not a page), money in yuan."""
    header = [_("Day"), *([_("Shop")] if with_merchant else []), _("Redemptions"), _("Consumption (yuan)"),
              _("Subsidy owed (yuan)"), _("Refunds"), _("Refunded subsidy (yuan)"), _("Clawbacks"),
              _("Clawed-back subsidy (yuan)"), _("Net (yuan)"), _("Status"), _("Paid at"), _("Why held")]
    rows = ([s.day.isoformat(), *([name] if with_merchant else []), s.redemptions, yuan(s.bill_cents),
             yuan(s.redeemed_cents), s.refunds, yuan(s.refunded_cents), s.clawbacks, yuan(s.clawed_back_cents),
             yuan(s.net_cents), settlement.statement_status_label(s.status.value), city_datetime(s.settled_at),
             settlement.hold_reason_of(s)]
            for s, name in settlement.statement_rows(merchant_id, **query.filters()))
    period = [d.isoformat() for d in (query.day_from, query.day_to) if d]
    return table_response("_".join([_("settlements"), *period]), _("Settlement statements"), header, rows, fmt)


@pages.get("/shop/settlements")
@page_roles_required(Role.merchant_owner)
def shop_settlements():
    """The owner's statements, newest day first, with the filter's totals and how settlement works:
    the owner reconciles these against the bureau's payments."""
    query = StatementQuery.from_args(request.args)
    merchant_id = settlement.merchant_scope(current_user, None)
    return _statement_list("settlement/shop.html", merchant_id, query,
                           merchant=visible_merchant(current_user, merchant_id))


@pages.get("/shop/settlements.<any(csv, xlsx):fmt>")
@page_roles_required(Role.merchant_owner)
def shop_settlements_export(fmt: str):
    """The owner's statements for the filter as a spreadsheet, for the shop's books."""
    query = StatementQuery.from_args(request.args)
    return _export(settlement.merchant_scope(current_user, None), query, fmt, with_merchant=False)


@pages.get("/shop/settlements/<statement_id>")
@page_roles_required(Role.merchant_owner)
def shop_statement(statement_id: str):
    """One statement, per campaign, with the sales and refunds it counts, so each fen can be traced."""
    return _statement_page(statement_id, bureau=False)


@pages.get("/bureau/settlements")
@page_roles_required(*BUREAU)
def bureau_settlements():
    """Every merchant's statements with totals; held ones are a click away, since they are money the
    bureau still owes once a shop is reinstated."""
    query = StatementQuery.from_args(request.args)
    held = settlement.statement_totals(query.merchant_id, **{**query.filters(), "status": "held"})["statements"]
    return _statement_list("settlement/bureau.html", query.merchant_id, query, held_count=held,
                           merchants=settlement.merchants_with_statements())


@pages.get("/bureau/settlements.<any(csv, xlsx):fmt>")
@page_roles_required(*BUREAU)
def bureau_settlements_export(fmt: str):
    """Every merchant's statements for the filter as a spreadsheet, for the bureau's payment run."""
    query = StatementQuery.from_args(request.args)
    return _export(query.merchant_id, query, fmt, with_merchant=True)


@pages.get("/bureau/settlements/<statement_id>")
@page_roles_required(*BUREAU)
def bureau_statement(statement_id: str):
    """One merchant's statement as its owner sees it, for answering the shop's questions."""
    return _statement_page(statement_id, bureau=True)
