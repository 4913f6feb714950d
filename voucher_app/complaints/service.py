"""Complaints about shops (measure M21), and residents' seven-day return requests (七日无理由退货, M20).

A complaint. A resident complains about a shop — it refused the voucher, raised its prices, forced a
minimum spend beyond the voucher's rule, sold poor goods, or something else — optionally naming one of
their own sales at that shop. The bureau answers by a due date: the end (city time, 23:59:59) of the
``COMPLAINT_DUE_WORKING_DAYS``-th working day after the day it was filed; working days are Monday to
Friday except ``PUBLIC_HOLIDAYS``. An open complaint past its due date is *overdue*: the bureau's queue
shows those first. The shop's owner sees the complaints about the shop (never who filed them: no phone,
no name) and may reply once, while the complaint is open. An officer assigns it (to themself by default),
then upholds or rejects it with an answer the resident reads; upholding appends ``complaint_upheld`` to
the shop's credit record, which withdraws its trusted-merchant badge (``merchants.credit``).

Why each answer is given once. Replying and deciding lock the complaint's row (``FOR UPDATE`` on
PostgreSQL; SQLite's write transaction began ``IMMEDIATE``) and re-read it: a second reply finds
``reply_text`` set (``already_replied``), a second decision, or a reply after it, finds the complaint
decided (``already_decided``). Every action of the shop and the bureau is an audit record, refusals too.

A return request. Within ``REFUND_DAYS`` of a sale the resident may ask the shop to refund it; the shop
accepts (the refund is the till's own, ``redemptions.service.refund``, with the owner as the actor and
the whole bill) or declines with a reason, by the end of the ``RETURN_REQUEST_DUE_WORKING_DAYS``-th
working day. At most one request per sale is pending (a partial unique index). The refund runs in its own
transaction before the request is marked accepted: if the till refuses it (the window has passed, the
shop is suspended) the request stays pending and the owner reads why. A refund made some other way (the
till's refund button) also answers the request: the escalation sweep marks such requests accepted, and so
does an accept that finds the sale already refunded.

Why an unanswered request becomes exactly one complaint. ``escalate_return_requests`` (a scheduled
sweep) turns each request still pending past its due date into a complaint of kind ``return_unanswered``.
Per request, one transaction first moves it ``pending → escalated`` with a conditional UPDATE; only the
transaction whose UPDATE matched the row inserts the complaint. A second scheduler's UPDATE waits for the
first's lock (PostgreSQL) or its turn at the write lock (SQLite), then matches nothing, so a late, doubled
or concurrent run opens no second complaint.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from merchants import credit
from merchants.models import Merchant, MerchantStatus
from voucher_app.accounts.models import User
from voucher_app.complaints.models import Complaint, ComplaintKind, ComplaintStatus, ReturnRequest, ReturnStatus
from voucher_app.complaints.schemas import RESIDENT_KINDS
from voucher_app.core.audit import ID_LENGTH, AuditRecord, audited
from voucher_app.core.clock import city_zone, iso
from voucher_app.core.database import new_id, write_transaction
from voucher_app.core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationError
from voucher_app.core.extensions import db
from voucher_app.core.roles import BUREAU, Role
from voucher_app.redemptions import service as till
from voucher_app.redemptions.models import Redemption
from voucher_app.vouchers.models import Voucher

TEXT_MIN, TEXT_MAX = 5, 1000  # a complaint's text, after stripping spaces
ANSWER_MAX = 1000  # a reply, a decision, a refusal
REASON_MAX = 500  # a return request's reason (optional)
RECENT_SALES = 20  # the sales a complaint form offers to name
PAGE_SIZE = 50

KIND_LABELS = {
    "refused_voucher": _l("The shop refused my voucher"),
    "surcharge": _l("The shop raised its prices because I paid with a voucher"),
    "minimum_spend": _l("The shop made me spend more than the voucher's rule requires"),
    "quality": _l("Poor quality of goods or service"),
    "other": _l("Something else"),
    "return_unanswered": _l("The shop did not answer my refund request in time"),
}
STATUS_LABELS = {"open": _l("Being handled"), "upheld": _l("Upheld"), "rejected": _l("Not upheld")}
RETURN_STATUS_LABELS = {"pending": _l("Waiting for the shop's answer"), "accepted": _l("Refunded"),
                        "declined": _l("Declined by the shop"), "escalated": _l("Unanswered: now a complaint")}

FILE, ASSIGN, REPLY, DECIDE = "complaint.file", "complaint.assign", "complaint.reply", "complaint.decide"
ASK, ACCEPT, DECLINE, ESCALATE = ("return_request.ask", "return_request.accept", "return_request.decline",
                                  "return_request.escalate")


class AlreadyReplied(DomainError):
    code, status, title = "already_replied", 409, _l("The shop has already replied to this complaint.")


class AlreadyDecided(DomainError):
    code, status, title = "already_decided", 409, _l("The commerce bureau has already decided this complaint.")


class AlreadyAnswered(DomainError):
    code, status, title = "already_answered", 409, _l("This refund request has already been answered.")


class AlreadyRequested(DomainError):
    code, status, title = "already_requested", 409, _l(
        "You have already asked the shop to refund this purchase; wait for its answer.")


class RefundWindowClosed(DomainError):
    code, status, title = "refund_window_closed", 409, _l(
        "A purchase can be refunded within %(n)d days only; this one is older.", n=till.REFUND_DAYS)


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def return_status_label(status: str) -> str:
    return str(RETURN_STATUS_LABELS.get(status, status))


# Due dates ---------------------------------------------------------------------------------------------

def holidays() -> frozenset[dt.date]:
    return frozenset(dt.date.fromisoformat(day) for day in current_app.config.get("PUBLIC_HOLIDAYS") or ())


def is_working_day(day: dt.date, off: frozenset[dt.date]) -> bool:
    return day.isoweekday() <= 5 and day not in off


def due_after(start: dt.datetime, working_days: int, off: frozenset[dt.date] | None = None) -> dt.datetime:
    """The end (23:59:59 city time, as UTC) of the ``working_days``-th working day after ``start``'s day."""
    off = holidays() if off is None else off
    zone = city_zone()
    day = start.astimezone(zone).date()
    counted = 0
    while counted < working_days:
        day += dt.timedelta(days=1)
        if is_working_day(day, off):
            counted += 1
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=zone).astimezone(dt.timezone.utc)


def complaint_due(now: dt.datetime) -> dt.datetime:
    return due_after(now, int(current_app.config["COMPLAINT_DUE_WORKING_DAYS"]))


def return_request_due(now: dt.datetime) -> dt.datetime:
    return due_after(now, int(current_app.config["RETURN_REQUEST_DUE_WORKING_DAYS"]))


# Checks shared by the API and the pages ----------------------------------------------------------------

def _stripped(value: str | None) -> str:
    return (value or "").strip()


def _text_error(field: str, text: str, minimum: int, maximum: int) -> dict | None:
    if not text:
        return {"field": field, "message": _("This field is required.")}
    if len(text) < minimum:
        return {"field": field, "message": _("Too short: at least %(n)s.", n=minimum)}
    if len(text) > maximum:
        return {"field": field, "message": _("Too long: at most %(n)s.", n=maximum)}
    return None


def _answer(text: str | None, field: str = "text") -> str:
    """A reply, decision or refusal: required, at most ``ANSWER_MAX`` characters."""
    text = _stripped(text)
    error = _text_error(field, text, 1, ANSWER_MAX)
    if error:
        raise ValidationError(errors=[error])
    return text


def _sized_id(value: str | None) -> str | None:
    return value if value and len(value) <= ID_LENGTH else None


def complainable_merchant(merchant_id: str | None) -> Merchant:
    """A shop a resident may complain about: approved, or suspended (complaints keep coming); a shop the
    bureau has not approved is ``not_found``, as to the public."""
    merchant = db.session.get(Merchant, merchant_id) if _sized_id(merchant_id) else None
    if merchant is None or merchant.status not in (MerchantStatus.approved, MerchantStatus.suspended):
        raise NotFound(_("There is no such shop."))
    return merchant


def own_sale(resident_id: str, redemption_id: str | None) -> Redemption | None:
    """One of the resident's own sales (a redemption of one of their vouchers), or None."""
    if not _sized_id(redemption_id):
        return None
    return db.session.scalars(select(Redemption).join(Voucher, Voucher.id == Redemption.voucher_id)
                              .where(Redemption.id == redemption_id, Voucher.resident_id == resident_id)).first()


def recent_sales(resident_id: str, merchant_id: str) -> list[Redemption]:
    """The resident's latest sales at the shop, newest first (what a complaint may name)."""
    return list(db.session.scalars(
        select(Redemption).join(Voucher, Voucher.id == Redemption.voucher_id)
        .where(Voucher.resident_id == resident_id, Redemption.merchant_id == merchant_id)
        .order_by(Redemption.redeemed_at.desc()).limit(RECENT_SALES)))


def shops_bought_at(resident_id: str) -> list[Merchant]:
    """The shops where the resident used vouchers lately, most recent first (the complaint form's picker)."""
    rows = db.session.execute(
        select(Merchant, func.max(Redemption.redeemed_at).label("last"))
        .join(Redemption, Redemption.merchant_id == Merchant.id).join(Voucher, Voucher.id == Redemption.voucher_id)
        .where(Voucher.resident_id == resident_id,
               Merchant.status.in_([MerchantStatus.approved, MerchantStatus.suspended]))
        .group_by(Merchant.id).order_by(func.max(Redemption.redeemed_at).desc()).limit(RECENT_SALES)).all()
    return [merchant for merchant, _last in rows]


def sale_out(redemption: Redemption | None) -> dict | None:
    if redemption is None:
        return None
    return {"id": redemption.id, "bill_cents": redemption.bill_cents, "discount_cents": redemption.discount_cents,
            "redeemed_at": iso(redemption.redeemed_at), "refunded_at": iso(redemption.refunded_at),
            "refund_until": iso(redemption.redeemed_at + dt.timedelta(days=till.REFUND_DAYS))}


# Complaints: the resident ------------------------------------------------------------------------------

def file_complaint(resident: User, merchant_id: str | None, kind: str | None, text: str | None,
                   redemption_id: str | None, now: dt.datetime) -> Complaint:
    """File a resident's complaint about a shop; it is due by the end of the configured working days.

    Refused field by field (``validation_error``): a kind residents cannot choose, a text shorter than
    5 or longer than 1000 characters. A shop that is not approved or suspended, or a sale that is not
    the resident's own at that shop, is ``not_found``."""
    text = _stripped(text)
    errors = []
    if kind not in RESIDENT_KINDS:
        errors.append({"field": "kind", "message": _("Choose what went wrong.")})
    error = _text_error("text", text, TEXT_MIN, TEXT_MAX)
    if error:
        errors.append(error)
    if not merchant_id:
        errors.append({"field": "merchant_id", "message": _("This field is required.")})
    if errors:
        raise ValidationError(errors=errors)
    merchant = complainable_merchant(merchant_id)
    sale = None
    if redemption_id:
        sale = own_sale(resident.id, redemption_id)
        if sale is None or sale.merchant_id != merchant.id:
            raise NotFound(_("There is no such purchase of yours at this shop."))
    complaint = Complaint(id=new_id(), resident_id=resident.id, merchant_id=merchant.id, kind=ComplaintKind(kind),
                          text=text, redemption_id=sale.id if sale else None, status=ComplaintStatus.open,
                          created_at=now, due_at=complaint_due(now))
    with write_transaction():
        db.session.add(complaint)
        db.session.add(AuditRecord(at=now, actor_id=resident.id, action=FILE, target_type="complaint",
                                   target_id=complaint.id, outcome="ok",
                                   detail={"merchant_id": merchant.id, "kind": kind}))
    return complaint


def my_complaints(resident_id: str) -> list[Complaint]:
    """The resident's complaints, newest first."""
    return list(db.session.scalars(select(Complaint).where(Complaint.resident_id == resident_id)
                                   .order_by(Complaint.created_at.desc(), Complaint.id.desc()).limit(200)))


# Complaints: who sees which ----------------------------------------------------------------------------

def _shop_of(user: User) -> str:
    if user.role is not Role.merchant_owner or not user.merchant_id:
        raise Forbidden()
    return user.merchant_id


def complaints_for(user: User, now: dt.datetime, status: str | None = None, *, kind: str | None = None,
                   merchant_id: str | None = None, assigned_to: str | None = None, cursor: str | None = None,
                   limit: int = PAGE_SIZE) -> tuple[list[Complaint], str | None]:
    """Complaints the user may see (the bureau: all; a shop's owner: its own), and the next page's cursor.

    Open ones come by due date, so the overdue ones first; decided ones (or all) newest first."""
    query = select(Complaint)
    if user.role in BUREAU:
        if merchant_id:
            query = query.where(Complaint.merchant_id == merchant_id)
    else:
        query = query.where(Complaint.merchant_id == _shop_of(user))
    if status and status != "all":
        query = query.where(Complaint.status == ComplaintStatus(status))
    if kind:
        query = query.where(Complaint.kind == ComplaintKind(kind))
    if assigned_to:
        query = query.where(Complaint.assigned_to == assigned_to)
    after = db.session.get(Complaint, cursor) if _sized_id(cursor) else None
    if status == "open":
        if after is not None:
            query = query.where((Complaint.due_at > after.due_at)
                                | ((Complaint.due_at == after.due_at) & (Complaint.id > after.id)))
        query = query.order_by(Complaint.due_at, Complaint.id)
    else:
        if after is not None:
            query = query.where(Complaint.id < after.id)
        query = query.order_by(Complaint.id.desc())
    rows = list(db.session.scalars(query.limit(limit + 1)))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def overdue_count(now: dt.datetime) -> int:
    """Open complaints past their due date, for the queue's heading."""
    return db.session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.status == ComplaintStatus.open, Complaint.due_at < now)) or 0


def visible_complaint(user: User, complaint_id: str) -> Complaint:
    """One complaint the user may see: the resident their own, the owner their shop's, the bureau any;
    anyone else's is ``not_found``."""
    complaint = db.session.get(Complaint, complaint_id) if _sized_id(complaint_id) else None
    if complaint is None:
        raise NotFound(_("There is no such complaint."))
    if user.role in BUREAU:
        return complaint
    if user.role is Role.resident and complaint.resident_id == user.id:
        return complaint
    if user.role is Role.merchant_owner and complaint.merchant_id == user.merchant_id:
        return complaint
    raise NotFound(_("There is no such complaint."))


def merchant_names(merchant_ids: Iterable[str]) -> dict[str, str]:
    ids = set(merchant_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Merchant.id, Merchant.name).where(Merchant.id.in_(ids))).all())


def resident_phones(resident_ids: Iterable[str]) -> dict[str, str | None]:
    """The complainants' phones, for the bureau's masked view only."""
    ids = set(resident_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.phone).where(User.id.in_(ids))).all())


def officers() -> list[User]:
    """The bureau's officers a complaint can be assigned to."""
    return list(db.session.scalars(select(User).where(User.role == Role.admin, User.is_active.is_(True))
                                   .order_by(User.username)))


# Complaints: the shop and the bureau -------------------------------------------------------------------

def _locked_complaint(complaint_id: str) -> Complaint | None:
    return db.session.scalars(select(Complaint).where(Complaint.id == complaint_id).with_for_update()).first()


def reply(complaint_id: str, owner: User, text: str | None, now: dt.datetime) -> Complaint:
    """The shop owner's one reply to a complaint about the shop, while it is open."""
    merchant_id = _shop_of(owner)
    visible_complaint(owner, complaint_id)  # another shop's complaint is not_found, whatever the text
    text = _answer(text)
    with audited(REPLY, "complaint", complaint_id, owner.id, now) as detail:
        complaint = _locked_complaint(complaint_id)
        if complaint is None or complaint.merchant_id != merchant_id:
            raise NotFound(_("There is no such complaint about your shop."))
        if complaint.reply_text is not None:
            raise AlreadyReplied()
        if complaint.status is not ComplaintStatus.open:
            raise AlreadyDecided(_("The commerce bureau has already decided this complaint; a reply is no longer "
                                   "possible."))
        complaint.reply_text, complaint.replied_at, complaint.replied_by = text, now, owner.id
        detail.update(merchant_id=merchant_id)
    return complaint


def assign(complaint_id: str, admin: User, user_id: str | None, now: dt.datetime) -> Complaint:
    """Give an open complaint to an officer (the one asking, by default)."""
    assignee_id = user_id or admin.id
    with audited(ASSIGN, "complaint", complaint_id, admin.id, now) as detail:
        complaint = _locked_complaint(complaint_id)
        if complaint is None:
            raise NotFound(_("There is no such complaint."))
        assignee = db.session.get(User, assignee_id) if _sized_id(assignee_id) else None
        if assignee is None or assignee.role is not Role.admin or not assignee.is_active:
            raise ValidationError(errors=[{"field": "user_id", "message": _(
                "Choose an officer of the commerce bureau.")}])
        if complaint.status is not ComplaintStatus.open:
            raise AlreadyDecided()
        complaint.assigned_to, complaint.assigned_at = assignee.id, now
        detail.update(assigned_to=assignee.id)
    return complaint


def decide(complaint_id: str, admin: User, outcome: str, text: str | None, now: dt.datetime) -> Complaint:
    """Uphold or reject an open complaint with an answer the resident reads; an upheld one goes on the
    shop's credit record (and withdraws its badge)."""
    errors = []
    if outcome not in (ComplaintStatus.upheld.value, ComplaintStatus.rejected.value):
        errors.append({"field": "outcome", "message": _("Choose upheld or rejected.")})
    answer = _stripped(text)
    error = _text_error("text", answer, 1, ANSWER_MAX)
    if error:
        errors.append(error)
    if errors:
        raise ValidationError(errors=errors)
    with audited(DECIDE, "complaint", complaint_id, admin.id, now, reason=answer) as detail:
        complaint = _locked_complaint(complaint_id)
        if complaint is None:
            raise NotFound(_("There is no such complaint."))
        if complaint.status is not ComplaintStatus.open:
            raise AlreadyDecided()
        complaint.status = ComplaintStatus(outcome)
        complaint.decision_text, complaint.decided_at, complaint.decided_by = answer, now, admin.id
        if complaint.assigned_to is None:
            complaint.assigned_to, complaint.assigned_at = admin.id, now
        if complaint.status is ComplaintStatus.upheld:
            credit.record_event(complaint.merchant_id, credit.COMPLAINT_UPHELD, now, ref_type="complaint",
                                ref_id=complaint.id, reason=answer, actor_id=admin.id)
        detail.update(outcome=outcome, merchant_id=complaint.merchant_id)
    return complaint


# Return requests ---------------------------------------------------------------------------------------

def _refund_window_open(sale: Redemption, now: dt.datetime) -> bool:
    return now - sale.redeemed_at <= dt.timedelta(days=till.REFUND_DAYS)


def ask_refund(resident: User, redemption_id: str | None, reason: str | None, now: dt.datetime) -> ReturnRequest:
    """A resident asks the shop to refund one of their purchases, within the refund window.

    ``not_found``: not the resident's own purchase. ``conflict``: already refunded;
    ``refund_window_closed``: older than the window; ``already_requested``: a request is pending."""
    reason = _stripped(reason)
    errors = []
    if not redemption_id:
        errors.append({"field": "redemption_id", "message": _("This field is required.")})
    if len(reason) > REASON_MAX:
        errors.append({"field": "reason", "message": _("Too long: at most %(n)s.", n=REASON_MAX)})
    if errors:
        raise ValidationError(errors=errors)
    with write_transaction():
        sale = own_sale(resident.id, redemption_id)
        if sale is None:
            raise NotFound(_("There is no such purchase of yours."))
        if sale.refunded_at is not None or sale.clawed_back_at is not None:
            raise Conflict(_("This purchase has already been refunded."))
        if not _refund_window_open(sale, now):
            raise RefundWindowClosed()
        pending = db.session.scalar(select(ReturnRequest.id).where(ReturnRequest.redemption_id == sale.id,
                                                                   ReturnRequest.status == ReturnStatus.pending))
        if pending:
            raise AlreadyRequested(request_id=pending)
        request = ReturnRequest(id=new_id(), redemption_id=sale.id, resident_id=resident.id,
                                merchant_id=sale.merchant_id, reason=reason, status=ReturnStatus.pending,
                                created_at=now, due_at=return_request_due(now))
        db.session.add(request)
        db.session.add(AuditRecord(at=now, actor_id=resident.id, action=ASK, target_type="return_request",
                                   target_id=request.id, outcome="ok", detail={"merchant_id": sale.merchant_id}))
        try:
            db.session.flush()
        except IntegrityError:  # a double tap's twin committed first (PostgreSQL): the index has the last word
            raise AlreadyRequested() from None
    return request


def my_return_requests(resident_id: str) -> list[ReturnRequest]:
    return list(db.session.scalars(select(ReturnRequest).where(ReturnRequest.resident_id == resident_id)
                                   .order_by(ReturnRequest.created_at.desc(), ReturnRequest.id.desc()).limit(200)))


def pending_request_for(redemption_id: str) -> ReturnRequest | None:
    return db.session.scalars(select(ReturnRequest).where(ReturnRequest.redemption_id == redemption_id,
                                                          ReturnRequest.status == ReturnStatus.pending)).first()


def return_requests_for(user: User, status: str | None = None, *, cursor: str | None = None,
                        limit: int = PAGE_SIZE) -> tuple[list[ReturnRequest], str | None]:
    """Return requests the user may see (the bureau: all; the shop's owner: its own). Pending ones come by
    due date, the others newest first."""
    query = select(ReturnRequest)
    if user.role not in BUREAU:
        query = query.where(ReturnRequest.merchant_id == _shop_of(user))
    if status and status != "all":
        query = query.where(ReturnRequest.status == ReturnStatus(status))
    after = db.session.get(ReturnRequest, cursor) if _sized_id(cursor) else None
    if status == "pending":
        if after is not None:
            query = query.where((ReturnRequest.due_at > after.due_at)
                                | ((ReturnRequest.due_at == after.due_at) & (ReturnRequest.id > after.id)))
        query = query.order_by(ReturnRequest.due_at, ReturnRequest.id)
    else:
        if after is not None:
            query = query.where(ReturnRequest.id < after.id)
        query = query.order_by(case((ReturnRequest.status == ReturnStatus.pending, 0), else_=1), ReturnRequest.id.desc())
    rows = list(db.session.scalars(query.limit(limit + 1)))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def sales_of(requests: Iterable[ReturnRequest]) -> dict[str, Redemption]:
    ids = {r.redemption_id for r in requests}
    if not ids:
        return {}
    return {r.id: r for r in db.session.scalars(select(Redemption).where(Redemption.id.in_(ids)))}


def _shop_request(request_id: str, merchant_id: str, *, lock: bool = False) -> ReturnRequest:
    query = select(ReturnRequest).where(ReturnRequest.id == request_id)
    request = db.session.scalars(query.with_for_update() if lock else query).first() if _sized_id(request_id) \
        else None
    if request is None or request.merchant_id != merchant_id:
        raise NotFound(_("There is no such refund request at your shop."))
    return request


def accept(request_id: str, owner: User, now: dt.datetime) -> ReturnRequest:
    """The owner accepts a return request: the purchase is refunded in full by the till's own refund, then
    the request is marked accepted. A refund the till refuses leaves the request pending."""
    merchant_id = _shop_of(owner)
    request = _shop_request(request_id, merchant_id)
    if request.status not in (ReturnStatus.pending, ReturnStatus.escalated):
        _record_refusal(ACCEPT, request_id, owner, now, AlreadyAnswered())
    sale = db.session.get(Redemption, request.redemption_id)
    db.session.commit()  # ends the read: the refund's write transaction begins afresh
    if sale.refunded_at is None:
        if not _refund_window_open(sale, now):
            _record_refusal(ACCEPT, request_id, owner, now, RefundWindowClosed())
        try:
            till.refund(sale.id, None, owner, now)
        except DomainError as err:
            _record_refusal(ACCEPT, request_id, owner, now, err)
    with audited(ACCEPT, "return_request", request_id, owner.id, now) as detail:
        request = _shop_request(request_id, merchant_id, lock=True)
        if request.status not in (ReturnStatus.pending, ReturnStatus.escalated):
            raise AlreadyAnswered()
        detail.update(redemption_id=request.redemption_id, was=request.status.value)
        request.status, request.answered_at, request.answered_by = ReturnStatus.accepted, now, owner.id
    return request


def _record_refusal(action: str, request_id: str, actor: User, now: dt.datetime, err: DomainError):
    """Record a refused shop action that ran outside ``audited`` (the refund has its own transaction)."""
    db.session.rollback()
    with write_transaction():
        db.session.add(AuditRecord(at=now, actor_id=actor.id, action=action, target_type="return_request",
                                   target_id=request_id, outcome=err.code,
                                   detail={"error": str(err.detail or err.title)}))
    raise err


def decline(request_id: str, owner: User, text: str | None, now: dt.datetime) -> ReturnRequest:
    """The owner declines a pending return request, saying why (the resident reads it)."""
    merchant_id = _shop_of(owner)
    _shop_request(request_id, merchant_id)  # another shop's request is not_found, whatever the text
    text = _answer(text)
    with audited(DECLINE, "return_request", request_id, owner.id, now, reason=text):
        request = _shop_request(request_id, merchant_id, lock=True)
        if request.status is not ReturnStatus.pending:
            raise AlreadyAnswered()
        request.status, request.answered_at, request.answered_by = ReturnStatus.declined, now, owner.id
        request.answer_text = text
    return request


def escalate_return_requests(now: dt.datetime) -> dict[str, int]:
    """Sweep the pending return requests: those whose purchase was refunded meanwhile are accepted; those
    past their due date become one complaint each (``return_unanswered``), exactly once."""
    r = ReturnRequest.__table__
    refunded = db.session.execute(
        select(r.c.id, Redemption.refunded_at, Redemption.refunded_by).join(Redemption, Redemption.id == r.c.redemption_id)
        .where(r.c.status == ReturnStatus.pending.value, Redemption.refunded_at.is_not(None))).all()
    due = list(db.session.scalars(select(r.c.id).where(r.c.status == ReturnStatus.pending.value, r.c.due_at < now)
                                  .order_by(r.c.due_at)))
    db.session.commit()  # end the read
    accepted = escalated = 0
    for request_id, refunded_at, refunded_by in refunded:
        with write_transaction():
            accepted += db.session.execute(
                update(r).where(r.c.id == request_id, r.c.status == ReturnStatus.pending.value)
                .values(status=ReturnStatus.accepted.value, answered_at=refunded_at, answered_by=refunded_by)
            ).rowcount
    for request_id in due:
        escalated += _escalate(request_id, now)
    return {"return_requests_accepted": accepted, "return_requests_escalated": escalated}


def _escalate(request_id: str, now: dt.datetime) -> int:
    """One request, pending and past due, into a complaint: 1 if this transaction did it, else 0."""
    r = ReturnRequest.__table__
    with write_transaction():
        taken = db.session.execute(
            update(r).where(r.c.id == request_id, r.c.status == ReturnStatus.pending.value, r.c.due_at < now)
            .values(status=ReturnStatus.escalated.value)
            .returning(r.c.resident_id, r.c.merchant_id, r.c.redemption_id, r.c.reason)).first()
        if taken is None:
            return 0
        complaint_id = new_id()
        db.session.add(Complaint(id=complaint_id, resident_id=taken.resident_id, merchant_id=taken.merchant_id,
                                 kind=ComplaintKind.return_unanswered, text=taken.reason or "",
                                 redemption_id=taken.redemption_id, return_request_id=request_id,
                                 status=ComplaintStatus.open, created_at=now, due_at=complaint_due(now)))
        db.session.flush()
        db.session.execute(update(r).where(r.c.id == request_id).values(complaint_id=complaint_id))
        db.session.add(AuditRecord(at=now, actor_id=None, action=ESCALATE, target_type="return_request",
                                   target_id=request_id, outcome="ok", detail={"complaint_id": complaint_id}))
    return 1
