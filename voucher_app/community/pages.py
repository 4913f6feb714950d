"""The community worker's pages: register a resident, the residents they help, and for each one the
open campaigns to claim or enter for them and their vouchers to print."""
from __future__ import annotations

import uuid

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from campaigns.labels import category_labels, district_names, tier_rule
from voucher_app.accounts.guards import page_roles_required
from voucher_app.community import service
from voucher_app.community.forms import RegisterResidentForm
from voucher_app.community.schemas import resident_out
from voucher_app.core.clock import now
from voucher_app.core.errors import DomainError, ValidationError
from voucher_app.core.http import no_store
from voucher_app.core.roles import Role
from voucher_app.redemptions.service import where_used
from voucher_app.redemptions.typed import wrong_codes
from voucher_app.vouchers import printing
from voucher_app.vouchers import service as wallet
from voucher_app.vouchers.availability import campaigns_for_residents
from voucher_app.vouchers.limits import claims_per_ip, claims_per_resident_page

pages = Blueprint("community", __name__, template_folder="templates")


def _form() -> RegisterResidentForm:
    form = RegisterResidentForm(district=current_user.district)
    form.district.choices = [(current_user.district, district_names().get(current_user.district,
                                                                           current_user.district))]
    return form


def _home(form: RegisterResidentForm, status: int = 200):
    residents = [resident_out(r) for r in service.my_residents(current_user.id)]
    return render_template("community/home.html", form=form, residents=residents,
                           districts=district_names()), status


@pages.get("/community")
@page_roles_required(Role.community_worker)
def home():
    """Register a resident, and the residents this worker helps."""
    return _home(_form())


@pages.post("/community/residents")
@page_roles_required(Role.community_worker)
def register():
    form = _form()
    if form.validate_on_submit():
        try:
            resident = service.register_resident(current_user, form.name.data or "", form.id_number.data or "",
                                                 form.district.data or "", form.phone.data, form.consent.data, now())
        except ValidationError as err:
            for error in err.errors:
                getattr(form, error["field"], form.id_number).errors.append(error["message"])
        except DomainError as err:
            flash(str(err.detail or err.title), "error")
            if err.extra.get("resident_id"):
                return redirect(url_for("community.resident_page", resident_id=err.extra["resident_id"]))
        else:
            flash(_("Registered %(name)s. You can now claim vouchers and enter draws for them.",
                    name=resident.display_name), "success")
            return redirect(url_for("community.resident_page", resident_id=resident.id))
    return _home(form, 422)


@pages.get("/community/residents/<resident_id>")
@page_roles_required(Role.community_worker)
def resident_page(resident_id: str):
    """One resident: open campaigns to claim or enter for them, and their vouchers to print."""
    at = now()
    resident = service.resident_of(current_user, resident_id)
    campaigns = [c for c in campaigns_for_residents(at) if c["status"] == "open"]
    return render_template("community/resident.html", resident=resident_out(resident), campaigns=campaigns,
                           vouchers=wallet.wallet(resident.id, at, where_used, wrong_codes, printing.sheets),
                           key=uuid.uuid4().hex, categories=category_labels(), districts=district_names(),
                           tier_rule=tier_rule)


def _act(resident_id: str, act, done: str):
    key = (request.form.get("key") or "")[:100] or None
    try:
        act(current_user, resident_id, request.form.get("campaign_id", ""), request.form.get("tier_id", ""), now(),
            key)
    except DomainError as err:
        flash(str(err.detail or err.title), "error")
    else:
        flash(done, "success")
    return redirect(url_for("community.resident_page", resident_id=resident_id))


@pages.post("/community/residents/<resident_id>/claim")
@page_roles_required(Role.community_worker)
@claims_per_ip
@claims_per_resident_page
def claim(resident_id: str):
    return _act(resident_id, service.claim_for, _("Claimed: the voucher is in the resident's list below."))


@pages.post("/community/residents/<resident_id>/enter")
@page_roles_required(Role.community_worker)
@claims_per_ip
@claims_per_resident_page
def enter(resident_id: str):
    return _act(resident_id, service.enter_for, _("Entered in the draw for the resident."))


@pages.post("/community/residents/<resident_id>/vouchers/<voucher_id>/print")
@page_roles_required(Role.community_worker)
def print_voucher(resident_id: str, voucher_id: str):
    """The printed sheet, opened in the browser's PDF viewer; a refusal goes back to the resident."""
    service.resident_of(current_user, resident_id)
    try:
        sheet = printing.print_sheet(voucher_id, current_user, now())
    except DomainError as err:
        flash(str(err.detail or err.title), "error")
        return redirect(url_for("community.resident_page", resident_id=resident_id))
    response = Response(sheet, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="voucher-{voucher_id}.pdf"'
    return no_store(response)


@pages.post("/community/residents/<resident_id>/vouchers/<voucher_id>/print/revoke")
@page_roles_required(Role.community_worker)
def revoke_printed(resident_id: str, voucher_id: str):
    service.resident_of(current_user, resident_id)
    try:
        printing.revoke_sheets(voucher_id, current_user, now())
    except DomainError as err:
        flash(str(err.detail or err.title), "error")
    else:
        flash(_("Done: the printed sheet no longer works. Print again if you need a new one."), "success")
    return redirect(url_for("community.resident_page", resident_id=resident_id))
