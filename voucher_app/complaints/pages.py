"""Complaints and return requests as pages: the resident files and follows them (from the wallet or a
shop's page), the shop's owner replies and answers refund requests, the bureau works its queue.

Who may see which complaint is decided in ``service``; the decorators here only admit roles."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voucher_app.accounts.guards import page_roles_required
from voucher_app.complaints import service
from voucher_app.complaints.forms import AnswerForm, ComplaintForm, DecisionForm, ReturnRequestForm
from voucher_app.complaints.limits import complaints_per_resident_page, returns_per_resident_page
from voucher_app.complaints.models import ComplaintKind, ComplaintStatus, ReturnStatus
from voucher_app.complaints.schemas import BUREAU, RESIDENT, RESIDENT_KINDS, SHOP, complaint_out, return_request_out
from voucher_app.core.clock import now, parse_iso
from voucher_app.core.errors import DomainError, NotFound, ValidationError
from voucher_app.core.i18n import city_datetime
from voucher_app.core.money import yuan_text
from voucher_app.core.roles import BUREAU as BUREAU_ROLES
from voucher_app.core.roles import Role

pages = Blueprint("complaints", __name__, template_folder="templates")


@pages.context_processor
def _page_helpers() -> dict:
    return {"kind_label": service.kind_label, "complaint_status": service.status_label,
            "return_status": service.return_status_label}


@pages.app_context_processor
def _wallet_helpers() -> dict:
    """What the wallet's used vouchers offer (``complaints/_wallet_actions.html``)."""
    return {"return_request_state": _return_request_state}


def _return_request_state(used: dict) -> dict:
    """For a used voucher in the wallet: a pending refund request, else whether one may still be asked."""
    pending = service.pending_request_for(used["redemption_id"]) if used.get("redemption_id") else None
    until = used.get("refund_until")
    return {"pending": pending, "open": bool(until) and now() <= parse_iso(until)}


def _refusal(err: DomainError) -> str:
    return " ".join([str(err.detail or err.title), *(e["message"] for e in err.errors if e["message"] != err.detail)])


def _complaints(complaints, audience: str) -> list[dict]:
    at = now()
    names = service.merchant_names(c.merchant_id for c in complaints)
    phones = service.resident_phones(c.resident_id for c in complaints) if audience == BUREAU else {}
    return [complaint_out(c, at, audience, merchant_name=names.get(c.merchant_id),
                          resident_phone=phones.get(c.resident_id)) for c in complaints]


def _requests(requests) -> list[dict]:
    names = service.merchant_names(r.merchant_id for r in requests)
    sales = service.sales_of(requests)
    return [return_request_out(r, merchant_name=names.get(r.merchant_id),
                               redemption=service.sale_out(sales.get(r.redemption_id))) for r in requests]


def _sale_label(sale) -> str:
    return _("%(when)s, bill ¥%(bill)s, voucher ¥%(saved)s", when=city_datetime(sale.redeemed_at),
             bill=yuan_text(sale.bill_cents), saved=yuan_text(sale.discount_cents))


# The resident ------------------------------------------------------------------------------------------

@pages.route("/complaints/new", methods=["GET", "POST"])
@page_roles_required(Role.resident)
@complaints_per_resident_page
def new_complaint():
    """The complaint form, for a shop (``merchant_id``) and optionally one of the resident's purchases
    there (``redemption_id``); a signed-out visitor signs in first and comes back here."""
    merchant_id = request.values.get("merchant_id", "")
    if not merchant_id:  # which shop? those the resident bought at lately
        return render_template("complaints/pick_shop.html", shops=service.shops_bought_at(current_user.id))
    merchant = service.complainable_merchant(merchant_id)
    form = ComplaintForm()
    form.kind.choices = [(kind, service.kind_label(kind)) for kind in RESIDENT_KINDS]
    sales = service.recent_sales(current_user.id, merchant.id)
    form.redemption_id.choices = [("", _("None in particular"))] + [(s.id, _sale_label(s)) for s in sales]
    if request.method == "GET" and request.args.get("redemption_id"):
        form.redemption_id.data = request.args["redemption_id"]
    problems: list[str] = []
    status = 200
    if form.validate_on_submit():
        try:
            complaint = service.file_complaint(current_user, merchant.id, form.kind.data, form.text.data,
                                               form.redemption_id.data or None, now())
        except ValidationError as err:
            problems, status = form.show_errors(err.errors), err.status
        else:
            flash(_("Your complaint is filed. Its number is %(id)s; the commerce bureau answers by %(due)s.",
                    id=complaint.id, due=city_datetime(complaint.due_at)), "success")
            return redirect(url_for(".my_complaints", filed=complaint.id))
    return render_template("complaints/new.html", form=form, merchant=merchant, problems=problems), status


@pages.get("/me/complaints")
@page_roles_required(Role.resident)
def my_complaints():
    """The resident's complaints and refund requests, with the shop's and the bureau's answers."""
    return render_template("complaints/mine.html",
                           complaints=_complaints(service.my_complaints(current_user.id), RESIDENT),
                           requests=_requests(service.my_return_requests(current_user.id)),
                           filed=request.args.get("filed"))


@pages.route("/me/return-requests/new", methods=["GET", "POST"])
@page_roles_required(Role.resident)
@returns_per_resident_page
def new_return_request():
    """Ask the shop to refund one purchase (from the wallet's used voucher)."""
    redemption_id = request.values.get("redemption_id", "")
    if not redemption_id:
        flash(_("Choose the used voucher whose purchase you want refunded."), "info")
        return redirect(url_for("vouchers.wallet"))
    sale = service.own_sale(current_user.id, redemption_id)
    if sale is None:
        raise NotFound(_("There is no such purchase of yours."))
    merchant = service.merchant_names([sale.merchant_id])
    form = ReturnRequestForm()
    status = 200
    if form.validate_on_submit():
        try:
            made = service.ask_refund(current_user, sale.id, form.reason.data, now())
        except ValidationError as err:
            for problem in form.show_errors(err.errors):
                flash(problem, "error")
            status = err.status
        except DomainError as err:
            flash(_refusal(err), "error")
            status = err.status
        else:
            flash(_("Your refund request is sent to the shop. Its number is %(id)s; the shop answers by %(due)s, "
                    "or it becomes a complaint to the commerce bureau.", id=made.id, due=city_datetime(made.due_at)),
                  "success")
            return redirect(url_for(".my_complaints"))
    return render_template("complaints/return_new.html", form=form, sale=service.sale_out(sale),
                           merchant_name=merchant.get(sale.merchant_id), merchant_id=sale.merchant_id), status


# The shop's owner --------------------------------------------------------------------------------------

@pages.get("/merchant/complaints")
@page_roles_required(Role.merchant_owner)
def shop_complaints():
    """Complaints about the shop (never who filed them); the owner may reply once to each open one."""
    status = request.args.get("status") or "all"
    if status not in ({s.value for s in ComplaintStatus} | {"all"}):
        status = "all"
    rows, _cursor = service.complaints_for(current_user, now(), status, limit=200)
    return render_template("complaints/shop.html", complaints=_complaints(rows, SHOP), status=status,
                           form=AnswerForm(formdata=None))


@pages.post("/merchant/complaints/<complaint_id>/reply")
@page_roles_required(Role.merchant_owner)
def shop_reply(complaint_id: str):
    form = AnswerForm()
    try:
        service.reply(complaint_id, current_user, form.text.data, now())
    except DomainError as err:
        flash(_refusal(err), "error")
    else:
        flash(_("Your reply is recorded; the resident and the commerce bureau can read it."), "success")
    return redirect(url_for(".shop_complaints"))


@pages.get("/merchant/returns")
@page_roles_required(Role.merchant_owner)
def shop_returns():
    """Residents' refund requests to the shop: accept (the purchase is refunded) or decline with a reason."""
    rows, _cursor = service.return_requests_for(current_user, None, limit=200)
    return render_template("complaints/returns.html", requests=_requests(rows), form=AnswerForm(formdata=None))


@pages.post("/merchant/returns/<request_id>/accept")
@page_roles_required(Role.merchant_owner)
def shop_accept(request_id: str):
    try:
        service.accept(request_id, current_user, now())
    except DomainError as err:
        flash(_refusal(err), "error")
    else:
        flash(_("Refunded: the resident's voucher is usable again if it is still valid."), "success")
    return redirect(url_for(".shop_returns"))


@pages.post("/merchant/returns/<request_id>/decline")
@page_roles_required(Role.merchant_owner)
def shop_decline(request_id: str):
    form = AnswerForm()
    try:
        service.decline(request_id, current_user, form.text.data, now())
    except DomainError as err:
        flash(_refusal(err), "error")
    else:
        flash(_("The request is declined; the resident reads your reason."), "success")
    return redirect(url_for(".shop_returns"))


# The bureau --------------------------------------------------------------------------------------------

@pages.get("/bureau/complaints")
@page_roles_required(*BUREAU_ROLES)
def bureau_queue():
    """The queue: open complaints by due date, so the overdue ones first; filters by kind, shop and
    officer ("mine")."""
    at = now()
    status = request.args.get("status") or "open"
    if status not in ({s.value for s in ComplaintStatus} | {"all"}):
        status = "open"
    kind = request.args.get("kind") or None
    if kind not in {k.value for k in ComplaintKind}:
        kind = None
    mine = request.args.get("mine") == "1"
    rows, cursor = service.complaints_for(current_user, at, status, kind=kind,
                                          merchant_id=request.args.get("merchant_id") or None,
                                          assigned_to=current_user.id if mine else None,
                                          cursor=request.args.get("cursor"), limit=service.PAGE_SIZE)
    return render_template("complaints/bureau_queue.html", complaints=_complaints(rows, BUREAU), status=status,
                           kind=kind, mine=mine, next_cursor=cursor, overdue=service.overdue_count(at),
                           kinds=[k.value for k in ComplaintKind], statuses=[s.value for s in ComplaintStatus],
                           pending_returns=len(service.return_requests_for(
                               current_user, ReturnStatus.pending.value, limit=200)[0]))


def _bureau_complaint_page(complaint_id: str, form: DecisionForm | None = None, status: int = 200):
    complaint = service.visible_complaint(current_user, complaint_id)
    body = _complaints([complaint], BUREAU)[0]
    sale = service.sale_out(service.sales_of([complaint]).get(complaint.redemption_id)) \
        if complaint.redemption_id else None
    officers = {u.id: u.display_name or u.username for u in service.officers()}
    return render_template("complaints/bureau_complaint.html", c=body, sale=sale, officers=officers,
                           form=form or DecisionForm(formdata=None)), status


@pages.get("/bureau/complaints/<complaint_id>")
@page_roles_required(*BUREAU_ROLES)
def bureau_complaint(complaint_id: str):
    return _bureau_complaint_page(complaint_id)


@pages.post("/bureau/complaints/<complaint_id>/assign")
@page_roles_required(Role.admin)
def bureau_assign(complaint_id: str):
    try:
        service.assign(complaint_id, current_user, request.form.get("user_id") or None, now())
    except DomainError as err:
        flash(_refusal(err), "error")
    else:
        flash(_("The complaint is assigned."), "success")
    return redirect(url_for(".bureau_complaint", complaint_id=complaint_id))


@pages.post("/bureau/complaints/<complaint_id>/decide")
@page_roles_required(Role.admin)
def bureau_decide(complaint_id: str):
    form = DecisionForm()
    try:
        service.decide(complaint_id, current_user, form.outcome.data or "", form.text.data, now())
    except ValidationError as err:
        for problem in form.show_errors(err.errors):
            flash(problem, "error")
        return _bureau_complaint_page(complaint_id, form, err.status)
    except DomainError as err:
        flash(_refusal(err), "error")
    else:
        flash(_("The decision is recorded; the resident can read your answer."), "success")
    return redirect(url_for(".bureau_complaint", complaint_id=complaint_id))
