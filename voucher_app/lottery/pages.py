"""Residents entering a draw from the campaign page, and the public page of a draw."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voucher_app.accounts.guards import page_roles_required
from voucher_app.core.clock import now
from voucher_app.core.errors import DomainError
from voucher_app.core.roles import Role
from voucher_app.lottery import service
from voucher_app.vouchers.limits import claims_per_ip, claims_per_resident_page

pages = Blueprint("lottery", __name__, template_folder="templates")


@pages.post("/campaigns/<campaign_id>/enter")
@page_roles_required(Role.resident)
@claims_per_ip
@claims_per_resident_page
def enter_on_page(campaign_id: str):
    key = (request.form.get("entry_key") or "")[:100] or None
    try:
        entry, _status = service.enter(campaign_id, request.form.get("tier_id", ""), current_user, now(), key)
    except DomainError as err:
        flash(str(err.detail or err.title), "error")
        return redirect(url_for("campaigns.residents_campaign", campaign_id=campaign_id))
    flash(_("You are in the draw. Your entry number is %(id)s; the result shows in your wallet after the draw.",
            id=entry["id"]), "success")
    return redirect(url_for("vouchers.wallet"))


@pages.get("/campaigns/<campaign_id>/rounds/<round_id>/draw")
def draw_page(campaign_id: str, round_id: str):
    """The draw as anyone may check it; a signed-in resident also sees their own entry."""
    at = now()
    document = service.draw_document(campaign_id, round_id, at, entries=False)
    mine = None
    if current_user.is_authenticated and current_user.role is Role.resident:
        mine = next((e for e in service.my_entries(current_user.id) if e["round_id"] == round_id), None)
    return render_template("lottery/draw.html", draw=document, mine=mine)


@pages.post("/bureau/campaigns/<campaign_id>/rounds/<round_id>/draw")
@page_roles_required(Role.admin)
def draw_on_page(campaign_id: str, round_id: str):
    """The administrator draws by hand (from the close of entries on; the scheduler draws at the draw time)."""
    try:
        service.draw_round(campaign_id, round_id, current_user, now(), document=False)
    except DomainError as err:
        flash(str(err.detail or err.title), "error")
        return redirect(url_for("campaigns.campaign_detail", campaign_id=campaign_id))
    flash(_("Drawn. The winners' vouchers are in their wallets; the seed is now public."), "success")
    return redirect(url_for("lottery.draw_page", campaign_id=campaign_id, round_id=round_id))
