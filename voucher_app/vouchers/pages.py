"""Residents' voucher pages: claiming from a campaign page, the wallet, and the screen shown at the till
(a QR that refreshes itself, and the typed code)."""
from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from campaigns import service as campaign_service
from campaigns.labels import category_labels, district_names
from voucher_app.accounts.guards import page_roles_required
from voucher_app.community import service as community
from voucher_app.core.clock import now
from voucher_app.core.errors import DomainError
from voucher_app.core.http import no_store
from voucher_app.core.roles import Role
from voucher_app.lottery import service as lottery
from voucher_app.redemptions.service import where_used
from voucher_app.redemptions.typed import wrong_codes
from voucher_app.vouchers import claiming, printing, qr, service
from voucher_app.vouchers.limits import claims_per_ip, claims_per_resident_page
from voucher_app.vouchers.schemas import wallet_out

pages = Blueprint("vouchers", __name__, template_folder="templates")


@pages.post("/campaigns/<campaign_id>/claim")
@page_roles_required(Role.resident)
@claims_per_ip
@claims_per_resident_page
def claim_on_page(campaign_id: str):
    tier_id = request.form.get("tier_id", "")
    key = (request.form.get("claim_key") or "")[:100] or None
    try:
        claiming.claim_voucher(campaign_id, tier_id, current_user, now(), key)
    except DomainError as err:
        flash(str(err.detail or err.title), "error")
        return redirect(url_for("campaigns.residents_campaign", campaign_id=campaign_id))
    flash(_("Claimed! Your voucher is in your wallet."), "success")
    return redirect(url_for("vouchers.wallet"))


@pages.get("/wallet")
@page_roles_required(Role.resident)
def wallet():
    vouchers = service.wallet(current_user.id, now(), where_used, wrong_codes, printing.sheets)
    saved = sum(v["used"]["saved_cents"] for v in vouchers if v["used"])  # what the subsidy really paid
    return render_template("vouchers/wallet.html", vouchers=vouchers, saved_cents=saved,
                           categories=category_labels(), districts=district_names(),
                           entries=lottery.my_entries(current_user.id), on_behalf=community.done_on_behalf(current_user))


@pages.get("/wallet/<voucher_id>")
@page_roles_required(Role.resident)
def voucher_page(voucher_id: str):
    """The screen a resident shows at the till: a QR that refreshes itself, and the typed code."""
    at = now()
    voucher = service.owned_voucher(voucher_id, current_user.id)
    campaign = campaign_service.get_campaign(voucher.campaign_id, include_drafts=False)
    item = wallet_out(voucher, campaign, service.state_at(voucher, at), at)
    return render_template("vouchers/voucher.html", voucher=item, categories=category_labels(),
                           districts=district_names())


@pages.post("/wallet/<voucher_id>/print")
@page_roles_required(Role.resident)
def print_on_page(voucher_id: str):
    """The printed sheet, opened in the browser's PDF viewer to print; a refusal goes back to the wallet."""
    service.owned_voucher(voucher_id, current_user.id)  # another's voucher: "not found", as everywhere
    try:
        sheet = printing.print_sheet(voucher_id, current_user, now())
    except DomainError as err:
        flash(str(err.detail or err.title), "error")
        return redirect(url_for("vouchers.wallet"))
    response = Response(sheet, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="voucher-{voucher_id}.pdf"'
    return no_store(response)


@pages.post("/wallet/<voucher_id>/print/revoke")
@page_roles_required(Role.resident)
def revoke_printed_on_page(voucher_id: str):
    service.owned_voucher(voucher_id, current_user.id)
    printing.revoke_sheets(voucher_id, current_user, now())
    flash(_("Done: the printed sheet no longer works. Print again if you need a new one."), "success")
    return redirect(url_for("vouchers.wallet"))


@pages.get("/wallet/<voucher_id>/qr.svg")
@page_roles_required(Role.resident)
def voucher_qr_page_svg(voucher_id: str):
    """A fresh QR (as SVG) for the voucher screen; its typed code and expiry ride in headers."""
    fresh = service.fresh_token(service.owned_voucher(voucher_id, current_user.id), now())
    response = Response(qr.svg(fresh["token"]), mimetype="image/svg+xml")
    response.headers["X-Voucher-Code"] = fresh["code"]
    response.headers["X-Voucher-Expires"] = fresh["expires_at"]
    response.headers["X-Voucher-Refresh"] = str(fresh["refresh_in"])
    return no_store(response)


@pages.get("/wallet/<voucher_id>/state.json")
@page_roles_required(Role.resident)
def voucher_state(voucher_id: str):
    """What the voucher screen polls to notice, without a reload, that the cashier has used it."""
    voucher = service.owned_voucher(voucher_id, current_user.id)
    used = where_used([voucher.id]).get(voucher.id)
    return no_store(jsonify({"status": service.state_at(voucher, now()).value, "used": used}))
