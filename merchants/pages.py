"""Merchant pages: registration, the owner's shop (cashiers, applications), the bureau's review queues.

Who may see which shop is decided in ``service`` (another shop's id is ``not_found``); the decorators
here only admit roles."""
from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from campaigns.labels import category_labels, district_names
from merchants import credit, service
from merchants.forms import ApplyForm, CashierForm, DecisionForm, OpeningHoursForm, RegistrationForm
from merchants.limits import registrations_per_ip
from merchants.models import EnrolmentStatus, MerchantStatus
from merchants.schemas import MerchantIn, OpeningHoursIn, StaffIn
from voucher_app.accounts.guards import page_roles_required
from voucher_app.accounts.service import start_web_session
from voucher_app.core.clock import now
from voucher_app.core.errors import Conflict, DomainError, MerchantSuspended, ValidationError
from voucher_app.core.http import local_path
from voucher_app.core.phones import mask_phone
from voucher_app.core.roles import BUREAU, SHOP_PEOPLE, Role
from voucher_app.core.validation import validate

pages = Blueprint("merchants", __name__, template_folder="templates")


@pages.context_processor
def _page_helpers() -> dict:
    return {"merchant_status": service.status_label, "action_label": service.action_label,
            "event_label": credit.kind_label,
            "categories": category_labels(), "districts": district_names(), "mask_phone": mask_phone}


def _refusal(err: DomainError) -> str:
    """A refusal in plain words for a flash message: the reason, and what each field needs."""
    return " ".join([str(err.detail or err.title), *(e["message"] for e in err.errors
                                                       if e["message"] != err.detail)])


@pages.route("/merchants/register", methods=["GET", "POST"])
@registrations_per_ip
def register():
    """Anyone registers a shop; the form answers with every field's problem next to the field."""
    form = RegistrationForm()
    form.offer_choices(category_labels(), district_names())
    problems: list[str] = []
    status = 200
    if form.validate_on_submit():
        try:
            merchant, owner = service.register_merchant(validate(MerchantIn, form.body()), now())
        except (ValidationError, Conflict) as err:
            problems, status = form.show_errors(err.errors, str(err.detail or err.title)), err.status
        else:
            if current_user.is_authenticated:  # e.g. a bureau officer registering a shop for its owner
                flash(_("%(name)s is registered and waits for review. Its owner signs in as %(username)s.",
                        name=merchant.name, username=owner.username), "success")
                return redirect(url_for(".register"))
            login_user(start_web_session(owner, now()))
            flash(_("Thank you. %(name)s is registered and waits for the commerce bureau's review.",
                    name=merchant.name), "success")
            return redirect(url_for(".my_shop"))
    return render_template("merchants/register.html", form=form, problems=problems), status


def _render_shop(cashier_form: CashierForm | None = None, status: int = 200,
                 hours_form: OpeningHoursForm | None = None):
    at = now()
    merchant = service.visible_merchant(current_user, current_user.merchant_id or "")
    is_owner = current_user.role is Role.merchant_owner
    options = service.campaign_options(merchant, at)
    current = {option.campaign.id for option in options}
    return render_template(
        "merchants/my_shop.html", merchant=merchant, is_owner=is_owner,
        full_phone=service.shows_full_phone(merchant, current_user),
        staff=service.list_staff(merchant.id, current_user) if is_owner else [], options=options,
        earlier=[e for e in service.merchant_enrolments(merchant.id, current_user) if e.campaign_id not in current],
        cashier_form=cashier_form or CashierForm(formdata=None),
        hours_form=hours_form or OpeningHoursForm(formdata=None, opening_hours=merchant.opening_hours),
        credit_view=service.credit_view(merchant.id, current_user, at) if is_owner else None), status


@pages.get("/shop")
@page_roles_required(*SHOP_PEOPLE)
def my_shop():
    """The owner's and cashiers' view of their shop: its status, cashiers and campaigns."""
    return _render_shop()


@pages.post("/shop/cashiers")
@page_roles_required(Role.merchant_owner)
def shop_add_cashier():
    form = CashierForm()
    try:
        cashier = service.add_cashier(current_user.merchant_id, validate(StaffIn, form.body()), current_user, now())
    except (ValidationError, Conflict) as err:
        problems = form.show_errors(err.errors, str(err.detail or err.title))
        for problem in problems:
            flash(problem, "error")
        return _render_shop(form, err.status)
    except MerchantSuspended as err:
        flash(_refusal(err), "error")
    else:
        flash(_("Cashier %(username)s can now sign in.", username=cashier.username), "success")
    return redirect(url_for(".my_shop"))


@pages.post("/shop/cashiers/<user_id>/<any(disable, enable):change>")
@page_roles_required(Role.merchant_owner)
def shop_change_cashier(user_id: str, change: str):
    try:
        cashier = service.set_cashier_active(current_user.merchant_id, user_id, change == "enable", current_user,
                                             now())
    except DomainError as err:
        flash(_refusal(err), "error")
    else:
        flash(_("Cashier %(username)s can sign in again.", username=cashier.username) if cashier.is_active else
              _("Cashier %(username)s can no longer sign in.", username=cashier.username), "success")
    return redirect(url_for(".my_shop"))


@pages.post("/shop/cashiers/<user_id>/<any('allow-refunds', 'deny-refunds'):change>")
@page_roles_required(Role.merchant_owner)
def shop_change_cashier_refunds(user_id: str, change: str):
    try:
        cashier = service.set_cashier_refunds(current_user.merchant_id, user_id, change == "allow-refunds",
                                              current_user, now())
    except DomainError as err:
        flash(_refusal(err), "error")
    else:
        flash(_("Cashier %(username)s can now refund purchases.", username=cashier.username)
              if cashier.refunds_allowed else
              _("Cashier %(username)s can no longer refund; refunds are yours.", username=cashier.username), "success")
    return redirect(url_for(".my_shop"))


@pages.post("/shop/opening-hours")
@page_roles_required(Role.merchant_owner)
def shop_opening_hours():
    form = OpeningHoursForm()
    try:
        hours = validate(OpeningHoursIn, {"opening_hours": form.opening_hours.data or ""}).opening_hours
        service.set_opening_hours(current_user.merchant_id, hours, current_user, now())
    except ValidationError as err:
        for problem in form.show_errors(err.errors, str(err.detail or err.title)):
            flash(problem, "error")
        return _render_shop(status=err.status, hours_form=form)
    except DomainError as err:
        flash(_refusal(err), "error")
    else:
        flash(_("Opening hours saved: %(hours)s", hours=hours) if hours else _("Opening hours removed."), "success")
    return redirect(url_for(".my_shop"))


@pages.post("/shop/enrolments")
@page_roles_required(Role.merchant_owner)
def shop_apply():
    form = ApplyForm()
    try:
        enrolment = service.apply_for_campaign(form.campaign_id.data or "", current_user.merchant_id, current_user,
                                               now())
    except DomainError as err:
        flash(_refusal(err), "error")
    else:
        flash(_("Your application to %(campaign)s is sent. The commerce bureau will review it.",
                campaign=enrolment.campaign.name), "success")
    return redirect(url_for(".my_shop"))


def _status_choice() -> str | None:
    """The status a queue shows: pending unless asked otherwise ("all" shows every one)."""
    status = request.args.get("status", "pending")
    return None if status == "all" else status


def _back(form: DecisionForm, default: str) -> str:
    """Where the decision was made (a queue or the detail page), never another site."""
    return local_path(form.next.data) or default


@pages.get("/bureau/merchants")
@page_roles_required(*BUREAU)
def bureau_merchants():
    """The bureau's queue of merchants waiting for review (or of another status); admins decide in one click."""
    status = _status_choice()
    merchants, cursor = service.list_merchants(status, request.args.get("cursor"))
    return render_template("merchants/bureau_merchants.html", merchants=merchants, status=status or "all",
                           statuses=[s.value for s in MerchantStatus], next_cursor=cursor)


def _render_bureau_merchant(merchant_id: str, *, revealed: bool = False):
    merchant = service.visible_merchant(current_user, merchant_id)
    return render_template("merchants/bureau_merchant.html", merchant=merchant,
                           full_phone=revealed or service.shows_full_phone(merchant, current_user), revealed=revealed,
                           staff=service.list_staff(merchant.id, current_user),
                           enrolments=service.merchant_enrolments(merchant.id, current_user),
                           history=service.merchant_history(merchant.id),
                           credit_view=service.credit_view(merchant.id, current_user, now()))


@pages.get("/bureau/merchants/<merchant_id>")
@page_roles_required(*BUREAU)
def bureau_merchant(merchant_id: str):
    """One merchant: its details, its history (audit records) and the decisions that fit its status."""
    return _render_bureau_merchant(merchant_id)


@pages.post("/bureau/merchants/<merchant_id>/contact-phone")
@page_roles_required(Role.admin)
def bureau_reveal_contact_phone(merchant_id: str):
    """The merchant's page with its whole contact phone, at an admin's explicit request (audited).

    Answered directly rather than by a redirect, so that the number is in no session cookie and no
    later page; ``no-store`` keeps it out of the browser's cache. CSRFProtect checks the form's token."""
    service.reveal_contact_phone(merchant_id, current_user, now())
    response = make_response(_render_bureau_merchant(merchant_id, revealed=True))
    response.headers["Cache-Control"] = "no-store"
    return response


_MERCHANT_DONE = {
    "approve": lambda m: _("%(name)s is approved. Its owner can now apply to campaigns.", name=m.name),
    "reject": lambda m: _("%(name)s is rejected. Its owner will see your reason.", name=m.name),
    "suspend": lambda m: (_("%(name)s is suspended publicly: it is on the public list of suspended shops with "
                            "your reason.", name=m.name) if m.suspension_public else
                          _("%(name)s is suspended. Its owner and cashiers can do nothing for it until it is "
                            "reinstated.", name=m.name)),
    "reinstate": lambda m: _("%(name)s is reinstated.", name=m.name),
}


@pages.post("/bureau/merchants/<merchant_id>/<any(approve, reject, suspend, reinstate):decision>")
@page_roles_required(Role.admin)
def bureau_decide_merchant(merchant_id: str, decision: str):
    form = DecisionForm()
    reason = (form.reason.data or "").strip() or None
    try:
        if decision == "suspend":
            merchant = service.suspend_merchant(merchant_id, reason, current_user, now(), public=bool(form.public.data))
        else:
            merchant = service.MERCHANT_DECISIONS[decision](merchant_id, reason, current_user, now())
    except DomainError as err:
        flash(_refusal(err), "error")
    else:
        flash(_MERCHANT_DONE[decision](merchant), "success")
    return redirect(_back(form, url_for(".bureau_merchant", merchant_id=merchant_id)))


@pages.post("/bureau/merchants/<merchant_id>/badge/<any(grant, withdraw):change>")
@page_roles_required(Role.admin)
def bureau_badge(merchant_id: str, change: str):
    """Grant the trusted-merchant badge (when the criteria hold) or withdraw it (with a reason)."""
    form = DecisionForm()
    reason = (form.reason.data or "").strip() or None
    try:
        if change == "grant":
            merchant = service.grant_badge(merchant_id, reason, current_user, now())
        else:
            merchant = service.withdraw_badge(merchant_id, reason, current_user, now())
    except DomainError as err:
        flash(_refusal(err), "error")
    else:
        flash(_("%(name)s now holds the trusted-merchant badge.", name=merchant.name) if change == "grant" else
              _("The trusted-merchant badge of %(name)s is withdrawn.", name=merchant.name), "success")
    return redirect(url_for(".bureau_merchant", merchant_id=merchant_id))


@pages.get("/bureau/enrolments")
@page_roles_required(*BUREAU)
def bureau_enrolments():
    """The bureau's queue of applications waiting for review (or of another status); admins decide in one click."""
    status = _status_choice()
    enrolments, cursor = service.list_enrolments(status, request.args.get("cursor"))
    return render_template("merchants/bureau_enrolments.html", enrolments=enrolments, status=status or "all",
                           statuses=[s.value for s in EnrolmentStatus], next_cursor=cursor)


@pages.post("/bureau/enrolments/<enrolment_id>/<any(approve, reject):decision>")
@page_roles_required(Role.admin)
def bureau_decide_enrolment(enrolment_id: str, decision: str):
    form = DecisionForm()
    try:
        enrolment = service.ENROLMENT_DECISIONS[decision](enrolment_id, (form.reason.data or "").strip() or None,
                                                          current_user, now())
    except DomainError as err:
        flash(_refusal(err), "error")
    else:
        names = {"shop": enrolment.merchant.name, "campaign": enrolment.campaign.name}
        flash(_("%(shop)s takes part in %(campaign)s.", **names) if decision == "approve" else
              _("The application of %(shop)s to %(campaign)s is rejected. The shop will see your reason.", **names),
              "success")
    return redirect(_back(form, url_for(".bureau_enrolments")))
