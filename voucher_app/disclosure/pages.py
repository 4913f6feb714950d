"""The public pages (no sign-in): a shop's page, the directory of shops, complaint statistics and the
list of publicly suspended shops; and the bureau's warnings page. The public pages may be cached for a
minute. Two template helpers show the warnings in force on a campaign's page and in the wallet."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from campaigns.labels import category_labels, district_names
from merchants import credit
from voucher_app.accounts.guards import page_roles_required
from voucher_app.core import conditional
from voucher_app.core.clock import city_zone, now
from voucher_app.core.errors import DomainError, ValidationError
from voucher_app.core.roles import BUREAU, Role
from voucher_app.core.validation import validate
from voucher_app.disclosure import service
from voucher_app.disclosure.forms import WarningForm
from voucher_app.disclosure.schemas import WarningIn, hours

pages = Blueprint("disclosure", __name__, template_folder="templates")

PUBLIC_MAX_AGE = 60


def _public(body: str):
    """A public page: the same for every anonymous reader, so a browser or proxy may keep it a minute —
    unless it is the reader's own (signed in, or with a session: ``conditional.page``)."""
    return conditional.page(body, PUBLIC_MAX_AGE)


@pages.app_context_processor
def _warning_helpers() -> dict:
    """``campaign_warnings(campaign)`` for a campaign's page and ``wallet_warnings(vouchers)`` for the
    wallet: the warnings in force that concern them (``service.active_warnings_for``)."""
    return {"campaign_warnings": _campaign_warnings, "wallet_warnings": _wallet_warnings}


def _campaign_warnings(campaign) -> list:
    return service.active_warnings_for(now(), campaigns=[(campaign["id"], campaign.get("merchant_categories"))])[
        campaign["id"]]


def _wallet_warnings(vouchers) -> dict:
    """The warnings for each voucher the resident can still use, by voucher id (the others have none)."""
    unused = [v for v in vouchers if v["status"] == "claimed"]
    by_campaign = service.active_warnings_for(
        now(), campaigns={v["campaign"]["id"]: v["merchant_categories"] for v in unused}.items())
    return {v["id"]: by_campaign[v["campaign"]["id"]] for v in unused if by_campaign[v["campaign"]["id"]]}


@pages.context_processor
def _page_helpers() -> dict:
    return {"categories": category_labels(), "districts": district_names(), "event_label": credit.kind_label,
            "hours": hours}


@pages.get("/shops")
def directory():
    """Shops taking vouchers, with their badge and credit score; by district or kind of shop."""
    district, category = request.args.get("district") or None, request.args.get("category") or None
    shops, cursor = service.directory(now(), district=district, category=category, cursor=request.args.get("cursor"))
    return _public(render_template("disclosure/directory.html", shops=shops, next_cursor=cursor,
                                   district=district, category=category))


@pages.get("/shops/<merchant_id>")
def shop_page(merchant_id: str):
    """A shop's public page: what anyone may know about it, and a link to complain about it."""
    return _public(render_template("disclosure/shop.html", shop=service.public_shop(merchant_id, now()),
                                   credit=credit))


@pages.get("/public/complaints")
def complaint_stats():
    return _public(render_template("disclosure/complaints.html", stats=service.complaint_stats(now())))


@pages.get("/public/suspended")
def suspended():
    return _public(render_template("disclosure/suspended.html", shops=service.publicly_suspended()))


# The bureau's warnings --------------------------------------------------------------------------------

def _render_warnings(form: WarningForm, problems: list[str] | None = None, status: int = 200):
    at = now()
    warnings, cursor = service.list_warnings(at, active_only=False, cursor=request.args.get("cursor"))
    return render_template("disclosure/bureau_warnings.html", form=form, warnings=warnings, next_cursor=cursor,
                           problems=problems or [], now=at), status


@pages.get("/bureau/warnings")
@page_roles_required(*BUREAU)
def bureau_warnings():
    """Every warning, newest first, and (for admins) the form to publish one."""
    form = WarningForm(formdata=None)
    form.offer_choices(category_labels())
    return _render_warnings(form)


@pages.post("/bureau/warnings")
@page_roles_required(Role.admin)
def publish_warning():
    form = WarningForm()
    form.offer_choices(category_labels())
    if not form.validate_on_submit():
        return _render_warnings(form, [_("The form expired. Please try again.")], 400)
    try:
        service.publish_warning(validate(WarningIn, form.body(city_zone())), current_user, now())
    except ValidationError as err:
        problems = [f'{e["message"]}' for e in err.errors] or [str(err.detail or err.title)]
        return _render_warnings(form, problems, err.status)
    flash(_("The warning is published."), "success")
    return redirect(url_for(".bureau_warnings"))


@pages.post("/bureau/warnings/<warning_id>/withdraw")
@page_roles_required(Role.admin)
def withdraw_warning(warning_id: str):
    try:
        service.withdraw_warning(warning_id, current_user, now())
    except DomainError as err:
        flash(str(err.detail or err.title), "error")
    else:
        flash(_("The warning is withdrawn."), "success")
    return redirect(url_for(".bureau_warnings"))
