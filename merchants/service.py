"""Merchants, their cashiers and their enrolments in campaigns.

Who may do what. The views admit roles; these functions decide about one particular shop:

* The bureau (admin, viewer) sees every merchant, its contact phone masked: a list of every shop's
  phone is personal data in bulk. An admin may ask for one shop's whole number, and each time is
  audited (``merchant.phone_revealed``, with who asked). Only an admin decides: approves, rejects, suspends
  and reinstates merchants, approves and rejects enrolments. Every decision is audited, refused
  attempts included.
* An owner or a cashier sees only their own shop. Another shop's id is answered with ``not_found``,
  for reads and writes alike, so that nobody can learn which ids exist by trying them.
* A shop's owner (or an admin) manages its cashiers; only the owner applies to campaigns.
* The owner and cashiers of a suspended shop may still look (the "my shop" page tells them why it
  is suspended) but not act: ``merchant_suspended``.

Every function that writes owns its transaction (``write_transaction`` or ``audited``). The rows a
decision depends on are read again under a lock inside it; unique constraints have the last word
on "at most once" (one shop per credit code, one username, one application per campaign).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from campaigns.labels import category_labels, district_names
from campaigns.lifecycle import effective_status, no_such_campaign
from campaigns.models import Campaign, CampaignStatus
from campaigns.service import status_label as campaign_status_label
from merchants import credit
from merchants.models import Enrolment, EnrolmentStatus, Merchant, MerchantStatus
from merchants.schemas import MerchantIn, StaffIn
from voucher_app.accounts import sign_ins
from voucher_app.accounts.models import User
from voucher_app.accounts.service import hash_password
from voucher_app.core.audit import AuditRecord, audited
from voucher_app.core.database import keyset_page, new_id, write_transaction
from voucher_app.core.errors import (
    CampaignClosed,
    Conflict,
    Forbidden,
    MerchantSuspended,
    NotEligible,
    NotFound,
    ValidationError,
)
from voucher_app.core.extensions import db
from voucher_app.core.i18n import join_list
from voucher_app.core.roles import BUREAU, SHOP_PEOPLE, Role

PAGE_SIZE = 50

# What ``new_id`` makes. An id of any other shape cannot exist, so it is refused before it reaches
# a query or an audit record (whose target column holds 26 characters).
_ID = re.compile(r"^[0-9a-z]{26}$")

STATUS_LABELS = {
    "pending": _l("waiting for review"), "approved": _l("approved"), "rejected": _l("rejected"),
    "suspended": _l("suspended"),
}


def status_label(status: str) -> str:
    """A merchant's or an enrolment's status in the reader's language."""
    return str(STATUS_LABELS.get(status, status))


def _plausible_id(value: str | None) -> bool:
    return bool(_ID.match(value or ""))


def _no_such_merchant() -> NotFound:
    return NotFound(_("There is no such merchant."))


def _fresh(query):
    """``query`` read from the database even if the session already holds the rows (which it keeps
    between transactions, since nothing expires on commit)."""
    return query.execution_options(populate_existing=True)


# Seeing a merchant ----------------------------------------------------------------------------------

def visible_merchant(actor: User, merchant_id: str) -> Merchant:
    """The merchant ``actor`` may see: every one for the bureau, only their own for a shop's people."""
    if not _plausible_id(merchant_id):
        raise _no_such_merchant()
    merchant = db.session.scalars(_fresh(select(Merchant).where(Merchant.id == merchant_id))).first()
    if merchant is None:
        raise _no_such_merchant()
    if actor.role in BUREAU or (actor.role in SHOP_PEOPLE and actor.merchant_id == merchant.id):
        return merchant
    raise _no_such_merchant()


def shows_full_phone(merchant: Merchant, viewer: User) -> bool:
    """Only the shop's own owner sees its contact phone unmasked; the bureau asks for it (``reveal_contact_phone``)."""
    return viewer.role is Role.merchant_owner and viewer.merchant_id == merchant.id


def reveal_contact_phone(merchant_id: str, actor: User, now: dt.datetime) -> str:
    """The shop's whole contact phone, for an admin who asked to see it; each reveal is audited, refusals too."""
    if not _plausible_id(merchant_id):
        raise _no_such_merchant()
    with audited("merchant.phone_revealed", "merchant", merchant_id, actor.id, now):
        if actor.role is not Role.admin:
            raise Forbidden(_("Only the commerce bureau's administrators can see a shop's whole phone number."))
        merchant = visible_merchant(actor, merchant_id)
    return merchant.contact_phone


def _locked_merchant(merchant_id: str, *, shared: bool = False) -> Merchant:
    """The merchant row, locked until the transaction ends: exclusively to change its status, shared
    to act on its behalf (a suspension then waits until the action is committed)."""
    merchant = db.session.scalars(_fresh(select(Merchant).where(Merchant.id == merchant_id)
                                         .with_for_update(read=shared))).first()
    if merchant is None:
        raise _no_such_merchant()
    return merchant


def _refuse_if_suspended(actor: User, merchant: Merchant) -> None:
    """A suspended shop's own people can do nothing for it; the bureau still can."""
    if actor.role in SHOP_PEOPLE and merchant.status is MerchantStatus.suspended:
        raise MerchantSuspended(_("Your shop is suspended by the commerce bureau: %(reason)s",
                                  reason=merchant.status_reason or "-"))


# Registration ---------------------------------------------------------------------------------------

def register_merchant(data: MerchantIn, now: dt.datetime) -> tuple[Merchant, User]:
    """A new pending merchant and its owner's account, created together or not at all."""
    # Hashing is slow on purpose; it happens before the write lock is taken.
    password_hash = hash_password(data.owner_password)
    merchant = Merchant(id=new_id(), name=data.name, uscc=data.uscc, category=data.category,
                        district=data.district, address=data.address, contact_phone=data.contact_phone,
                        opening_hours=data.opening_hours, status=MerchantStatus.pending, created_at=now,
                        updated_at=now)
    owner = User(id=new_id(), role=Role.merchant_owner, username=data.owner_username, password_hash=password_hash,
                 merchant_id=merchant.id, is_active=True, created_at=now, updated_at=now)
    try:
        with write_transaction():
            _refuse_taken(data.uscc, data.owner_username)
            db.session.add(merchant)
            db.session.flush()  # the owner's row refers to the merchant's
            db.session.add(owner)
    except IntegrityError:
        # The same code or username was committed by another registration after the check above:
        # now that it is visible, the check tells the applicant which field it was.
        _refuse_taken(data.uscc, data.owner_username)
        raise Conflict(_("The shop could not be registered just now. Please try again.")) from None
    return merchant, owner


def _refuse_taken(uscc: str, username: str) -> None:
    errors = []
    if db.session.scalar(select(Merchant.id).where(Merchant.uscc == uscc)):
        errors.append({"field": "uscc", "message": _(
            "A shop with this unified social credit code is already registered.")})
    if db.session.scalar(select(User.id).where(User.username == username)):
        errors.append({"field": "owner_username", "message": _("This username is taken.")})
    if errors:
        raise Conflict(" ".join(e["message"] for e in errors), errors=errors)


# The bureau's decisions on merchants ----------------------------------------------------------------

@dataclass(frozen=True)
class _Transition:
    source: MerchantStatus
    target: MerchantStatus
    needs_reason: bool
    refusal: object  # a lazy message with a %(status)s placeholder


_TRANSITIONS = {
    "approve": _Transition(MerchantStatus.pending, MerchantStatus.approved, False, _l(
        "Only a merchant waiting for review can be approved; this one is %(status)s.")),
    "reject": _Transition(MerchantStatus.pending, MerchantStatus.rejected, True, _l(
        "Only a merchant waiting for review can be rejected; this one is %(status)s.")),
    "suspend": _Transition(MerchantStatus.approved, MerchantStatus.suspended, True, _l(
        "Only an approved merchant can be suspended; this one is %(status)s.")),
    "reinstate": _Transition(MerchantStatus.suspended, MerchantStatus.approved, False, _l(
        "Only a suspended merchant can be reinstated; this one is %(status)s.")),
}


def _require_reason(reason: str | None) -> None:
    if not (reason or "").strip():
        raise ValidationError(_("Please give a reason."), errors=[{"field": "reason", "message": _(
            "Say why: the shop will see this reason.")}])


def _decide_merchant(action: str, merchant_id: str, reason: str | None, actor: User, now: dt.datetime, *,
                     public: bool = False) -> Merchant:
    rule = _TRANSITIONS[action]
    if not _plausible_id(merchant_id):
        raise _no_such_merchant()
    with audited(f"merchant.{action}", "merchant", merchant_id, actor.id, now, reason=reason) as detail:
        if rule.needs_reason:
            _require_reason(reason)
        merchant = _locked_merchant(merchant_id)
        if merchant.status is not rule.source:
            raise Conflict(str(rule.refusal) % {"status": status_label(merchant.status.value)})
        detail.update({"from": merchant.status.value, "to": rule.target.value})
        merchant.status = rule.target
        merchant.status_reason = reason if rule.needs_reason else None
        if rule.target is MerchantStatus.suspended:  # its owner and cashiers are signed out at once
            sign_ins.revoke_users(select(User.id).where(User.merchant_id == merchant.id), now)
            merchant.suspended_at, merchant.suspension_public = now, public
            if public:
                detail["public"] = True
        elif rule.source is MerchantStatus.suspended:
            merchant.suspended_at, merchant.suspension_public = None, False
        merchant.updated_at = merchant.reviewed_at = now
        event = _CREDIT_EVENTS.get(action)
        if event:
            kind = credit.SUSPENDED_PUBLIC if action == "suspend" and public else event
            credit.record_event(merchant.id, kind, now, reason=reason, actor_id=actor.id)
    return merchant


# What each decision adds to the shop's credit record (a rejected registration never had one).
_CREDIT_EVENTS = {"approve": credit.APPROVED, "suspend": credit.SUSPENDED, "reinstate": credit.REINSTATED}


def approve_merchant(merchant_id: str, reason: str | None, actor: User, now: dt.datetime) -> Merchant:
    """pending → approved: the shop may enrol in campaigns."""
    return _decide_merchant("approve", merchant_id, reason, actor, now)


def reject_merchant(merchant_id: str, reason: str | None, actor: User, now: dt.datetime) -> Merchant:
    """pending → rejected, with the reason the owner will read."""
    return _decide_merchant("reject", merchant_id, reason, actor, now)


def suspend_merchant(merchant_id: str, reason: str | None, actor: User, now: dt.datetime, *,
                     public: bool = False) -> Merchant:
    """approved → suspended, with the reason; its owner and cashiers can then do nothing for it. A
    ``public`` suspension (joint punishment for fraud) is listed, with its reason, on the public list
    of suspended shops and costs more credit."""
    return _decide_merchant("suspend", merchant_id, reason, actor, now, public=public)


def reinstate_merchant(merchant_id: str, reason: str | None, actor: User, now: dt.datetime) -> Merchant:
    """suspended → approved; the shop leaves the public list of suspended shops."""
    return _decide_merchant("reinstate", merchant_id, reason, actor, now)


MERCHANT_DECISIONS = {"approve": approve_merchant, "reject": reject_merchant, "suspend": suspend_merchant,
                      "reinstate": reinstate_merchant}


# Opening hours --------------------------------------------------------------------------------------

def set_opening_hours(merchant_id: str, opening_hours: str | None, actor: User, now: dt.datetime) -> Merchant:
    """The shop's opening hours (already checked by ``OpeningHoursIn``), set by its owner or an admin;
    None clears them."""
    visible_merchant(actor, merchant_id)
    with audited("merchant.opening_hours", "merchant", merchant_id, actor.id, now) as detail:
        merchant = _locked_merchant(merchant_id)
        _refuse_if_suspended(actor, merchant)
        detail.update({"from": merchant.opening_hours, "to": opening_hours})
        merchant.opening_hours = opening_hours
        merchant.updated_at = now
    return merchant


# The credit record and the trusted-merchant badge (M21) ----------------------------------------------

@dataclass(frozen=True)
class CreditView:
    """What the bureau and the shop's owner read of its credit: the score, the badge, every event."""

    merchant: Merchant
    score: int
    badge_since: dt.datetime | None
    events: list
    unmet: list  # the badge's criteria not met now (``credit.Unmet``)


def credit_view(merchant_id: str, actor: User, now: dt.datetime) -> CreditView:
    """The shop's credit record as its owner and the bureau see it (reasons included)."""
    merchant = visible_merchant(actor, merchant_id)
    events = credit.credit_record(merchant.id)
    return CreditView(merchant, credit.score_of(events, now), merchant.badge_granted_at, events,
                      credit.badge_unmet(merchant, now))


def grant_badge(merchant_id: str, reason: str | None, actor: User, now: dt.datetime) -> Merchant:
    """Grant the trusted-merchant badge, when every criterion holds (``credit.badge_unmet``); else
    ``not_eligible`` listing the unmet criteria."""
    if not _plausible_id(merchant_id):
        raise _no_such_merchant()
    with audited("merchant.badge_grant", "merchant", merchant_id, actor.id, now, reason=reason):
        merchant = _locked_merchant(merchant_id)
        if merchant.badge_granted_at is not None:
            raise Conflict(_("The shop already holds the trusted-merchant badge."))
        unmet = credit.badge_unmet(merchant, now)
        if unmet:
            raise NotEligible(_("The shop does not meet every criterion of the badge: %(unmet)s",
                                unmet=" ".join(u.message for u in unmet)),
                              unmet=[{"criterion": u.criterion, "message": u.message} for u in unmet])
        merchant.badge_granted_at = merchant.updated_at = now
        credit.record_event(merchant.id, credit.BADGE_GRANTED, now, reason=reason, actor_id=actor.id)
    return merchant


def withdraw_badge(merchant_id: str, reason: str | None, actor: User, now: dt.datetime) -> Merchant:
    """Withdraw the trusted-merchant badge, with the reason the shop will read."""
    if not _plausible_id(merchant_id):
        raise _no_such_merchant()
    with audited("merchant.badge_withdraw", "merchant", merchant_id, actor.id, now, reason=reason):
        _require_reason(reason)
        merchant = _locked_merchant(merchant_id)
        if merchant.badge_granted_at is None:
            raise Conflict(_("The shop does not hold the trusted-merchant badge."))
        merchant.badge_granted_at, merchant.updated_at = None, now
        credit.record_event(merchant.id, credit.BADGE_WITHDRAWN, now, reason=reason, actor_id=actor.id)
    return merchant


# Listing merchants ----------------------------------------------------------------------------------

def _status_filter(enum_cls, status: str | None):
    if not status:
        return None
    try:
        return enum_cls(status)
    except ValueError:
        raise ValidationError(errors=[{"field": "status", "message": _(
            "Choose one of: %(options)s.", options=", ".join(s.value for s in enum_cls))}]) from None


def list_merchants(status: str | None, cursor: str | None = None,
                   limit: int = PAGE_SIZE) -> tuple[list[Merchant], str | None]:
    """Merchants in the order they registered (a queue: oldest first), optionally of one status."""
    query = select(Merchant)
    wanted = _status_filter(MerchantStatus, status)
    if wanted:
        query = query.where(Merchant.status == wanted)
    return keyset_page(query, Merchant.id, cursor, limit)


# Cashiers -------------------------------------------------------------------------------------------

def list_staff(merchant_id: str, actor: User) -> list[User]:
    """The shop's accounts: its owner first, then its cashiers in the order they were added."""
    merchant = visible_merchant(actor, merchant_id)
    return list(db.session.scalars(
        select(User).where(User.merchant_id == merchant.id)
        .order_by((User.role == Role.merchant_owner).desc(), User.id)))


def _username_taken() -> Conflict:
    message = _("This username is taken.")
    return Conflict(message, errors=[{"field": "username", "message": message}])


def add_cashier(merchant_id: str, data: StaffIn, actor: User, now: dt.datetime) -> User:
    """A new cashier account of the shop (a cashier belongs to exactly one shop)."""
    visible_merchant(actor, merchant_id)
    password_hash = hash_password(data.password)  # slow on purpose: before the write lock
    cashier = User(id=new_id(), role=Role.cashier, username=data.username, password_hash=password_hash,
                   merchant_id=merchant_id, is_active=True, created_at=now, updated_at=now)
    with audited("merchant.add_cashier", "merchant", merchant_id, actor.id, now) as detail:
        merchant = _locked_merchant(merchant_id, shared=True)
        _refuse_if_suspended(actor, merchant)
        if db.session.scalar(select(User.id).where(User.username == data.username)):
            raise _username_taken()
        db.session.add(cashier)
        try:
            db.session.flush()
        except IntegrityError:  # taken by a concurrent request after the check
            raise _username_taken() from None
        detail.update({"user_id": cashier.id, "username": cashier.username})
    return cashier


def set_cashier_active(merchant_id: str, user_id: str, active: bool, actor: User, now: dt.datetime) -> User:
    """Enable or disable one of the shop's cashiers; a disabled one can neither sign in nor use a token."""
    action = "merchant.enable_cashier" if active else "merchant.disable_cashier"
    with _changing_cashier(action, merchant_id, user_id, actor, now) as cashier:
        cashier.is_active = active
        if not active:
            sign_ins.revoke_users([cashier.id], now)  # signed out everywhere, at once
    return cashier


def set_cashier_refunds(merchant_id: str, user_id: str, allowed: bool, actor: User, now: dt.datetime) -> User:
    """Let one of the shop's cashiers refund, or no longer: refunds are the owner's unless granted,
    since a refund hands money back across the counter."""
    action = "merchant.allow_refunds" if allowed else "merchant.deny_refunds"
    with _changing_cashier(action, merchant_id, user_id, actor, now) as cashier:
        cashier.refunds_allowed = allowed
    return cashier


@contextlib.contextmanager
def _changing_cashier(action: str, merchant_id: str, user_id: str, actor: User, now: dt.datetime):
    """One of the shop's cashiers, locked, to change in an audited transaction."""
    visible_merchant(actor, merchant_id)
    with audited(action, "merchant", merchant_id, actor.id, now) as detail:
        merchant = _locked_merchant(merchant_id, shared=True)
        _refuse_if_suspended(actor, merchant)
        cashier = db.session.scalars(_fresh(
            select(User).where(User.id == user_id, User.merchant_id == merchant.id, User.role == Role.cashier)
            .with_for_update())).first()
        if cashier is None:
            raise NotFound(_("This shop has no such cashier."))
        yield cashier
        cashier.updated_at = now
        detail.update({"user_id": cashier.id, "username": cashier.username})


# Enrolments -----------------------------------------------------------------------------------------

def ineligibility(campaign: Campaign, merchant: Merchant) -> list[str]:
    """Why the shop cannot take part in the campaign; empty when it can. An empty list on the
    campaign means every category (or district)."""
    reasons = []
    if campaign.merchant_categories and merchant.category not in campaign.merchant_categories:
        labels = category_labels()
        reasons.append(_("The campaign is only for these kinds of shop: %(categories)s; yours is %(category)s.",
                         categories=join_list(labels.get(c, c) for c in campaign.merchant_categories),
                         category=labels.get(merchant.category, merchant.category)))
    if campaign.districts and merchant.district not in campaign.districts:
        names = district_names()
        reasons.append(_("The campaign is only for shops in %(districts)s; yours is in %(district)s.",
                         districts=join_list(names.get(d, d) for d in campaign.districts),
                         district=names.get(merchant.district, merchant.district)))
    return reasons


_TAKES_APPLICATIONS = (CampaignStatus.scheduled, CampaignStatus.open)


def apply_for_campaign(campaign_id: str, merchant_id: str, actor: User, now: dt.datetime) -> Enrolment:
    """The shop's application to a published campaign that has not ended; the bureau decides on it."""
    visible_merchant(actor, merchant_id)
    enrolment = Enrolment(id=new_id(), campaign_id=campaign_id, merchant_id=merchant_id,
                          status=EnrolmentStatus.pending, applied_by=actor.id, created_at=now)
    with write_transaction():
        merchant = _locked_merchant(merchant_id, shared=True)
        _refuse_if_suspended(actor, merchant)
        if merchant.status is not MerchantStatus.approved:
            raise Forbidden(_("Your shop can apply once the commerce bureau has approved it; it is %(status)s.",
                              status=status_label(merchant.status.value)))
        campaign = None
        if _plausible_id(campaign_id):
            campaign = db.session.scalars(_fresh(select(Campaign).where(Campaign.id == campaign_id))).first()
        if campaign is None or campaign.status is CampaignStatus.draft:
            raise no_such_campaign()
        status = effective_status(campaign, now)
        if status not in _TAKES_APPLICATIONS:
            raise CampaignClosed(_("This campaign is %(status)s and takes no more applications.",
                                   status=campaign_status_label(status.value)))
        reasons = ineligibility(campaign, merchant)
        if reasons:
            raise NotEligible(" ".join(reasons))
        existing = db.session.scalars(select(Enrolment).where(Enrolment.campaign_id == campaign_id,
                                                              Enrolment.merchant_id == merchant_id)).first()
        if existing is not None:
            raise Conflict(_("Your shop has already applied to this campaign; the application is %(status)s.",
                             status=status_label(existing.status.value)))
        db.session.add(enrolment)
        try:
            db.session.flush()
        except IntegrityError:  # a concurrent application committed after the check
            raise Conflict(_("Your shop has already applied to this campaign.")) from None
    return _loaded_enrolment(enrolment.id)


def _decide_enrolment(action: str, enrolment_id: str, reason: str | None, actor: User,
                      now: dt.datetime) -> Enrolment:
    if not _plausible_id(enrolment_id):
        raise NotFound(_("There is no such enrolment."))
    approve = action == "approve"
    with audited(f"enrolment.{action}", "enrolment", enrolment_id, actor.id, now, reason=reason) as detail:
        if not approve:
            _require_reason(reason)
        enrolment = db.session.scalars(_fresh(select(Enrolment).where(Enrolment.id == enrolment_id)
                                              .with_for_update())).first()
        if enrolment is None:
            raise NotFound(_("There is no such enrolment."))
        if enrolment.status is not EnrolmentStatus.pending:
            current = status_label(enrolment.status.value)
            raise Conflict(
                _("Only an application waiting for review can be approved; this one is %(status)s.", status=current)
                if approve else
                _("Only an application waiting for review can be rejected; this one is %(status)s.", status=current))
        if approve:
            merchant = _locked_merchant(enrolment.merchant_id, shared=True)
            if merchant.status is not MerchantStatus.approved:
                raise Conflict(_("The shop is %(status)s; only an approved shop's application can be approved.",
                                 status=status_label(merchant.status.value)))
            status = effective_status(enrolment.campaign, now)
            if status not in _TAKES_APPLICATIONS:
                raise CampaignClosed(_("This campaign is %(status)s; its applications can no longer be approved.",
                                       status=campaign_status_label(status.value)))
        enrolment.status = EnrolmentStatus.approved if approve else EnrolmentStatus.rejected
        enrolment.reason = reason or None
        enrolment.reviewed_at, enrolment.reviewed_by = now, actor.id
        detail.update({"merchant_id": enrolment.merchant_id, "campaign_id": enrolment.campaign_id})
    return _loaded_enrolment(enrolment_id)


def approve_enrolment(enrolment_id: str, reason: str | None, actor: User, now: dt.datetime) -> Enrolment:
    """pending → approved: the shop takes part in the campaign."""
    return _decide_enrolment("approve", enrolment_id, reason, actor, now)


def reject_enrolment(enrolment_id: str, reason: str | None, actor: User, now: dt.datetime) -> Enrolment:
    """pending → rejected, with the reason the owner will read."""
    return _decide_enrolment("reject", enrolment_id, reason, actor, now)


ENROLMENT_DECISIONS = {"approve": approve_enrolment, "reject": reject_enrolment}


def _with_names(query):
    return _fresh(query.options(selectinload(Enrolment.campaign), selectinload(Enrolment.merchant)))


def _loaded_enrolment(enrolment_id: str) -> Enrolment:
    return db.session.scalars(_with_names(select(Enrolment).where(Enrolment.id == enrolment_id))).one()


def list_enrolments(status: str | None, cursor: str | None = None,
                    limit: int = PAGE_SIZE) -> tuple[list[Enrolment], str | None]:
    """Enrolments in the order they were made (a queue: oldest first), optionally of one status."""
    query = select(Enrolment)
    wanted = _status_filter(EnrolmentStatus, status)
    if wanted:
        query = query.where(Enrolment.status == wanted)
    return keyset_page(query, Enrolment.id, cursor, limit, options=_with_names)


def merchant_enrolments(merchant_id: str, actor: User) -> list[Enrolment]:
    """The shop's applications, newest first."""
    merchant = visible_merchant(actor, merchant_id)
    return list(db.session.scalars(_with_names(
        select(Enrolment).where(Enrolment.merchant_id == merchant.id).order_by(Enrolment.id.desc()))))


@dataclass
class CampaignOption:
    """A campaign taking applications, as one shop sees it on its page."""

    campaign: Campaign
    enrolment: Enrolment | None
    reasons: list[str]  # why the shop cannot take part; empty if it can

    @property
    def can_apply(self) -> bool:
        return self.enrolment is None and not self.reasons


def campaign_options(merchant: Merchant, now: dt.datetime) -> list[CampaignOption]:
    """Every published campaign that has not ended, with the shop's application or why it cannot apply."""
    campaigns = db.session.scalars(
        select(Campaign).where(Campaign.status.in_(_TAKES_APPLICATIONS), Campaign.ends_at > now)
        .order_by(Campaign.starts_at, Campaign.id)).all()
    applied = {e.campaign_id: e for e in db.session.scalars(
        select(Enrolment).where(Enrolment.merchant_id == merchant.id))}
    return [CampaignOption(c, applied.get(c.id), ineligibility(c, merchant)) for c in campaigns]


# History --------------------------------------------------------------------------------------------

def merchant_history(merchant_id: str) -> list[tuple[AuditRecord, str | None]]:
    """The audit trail of a shop, newest first, with who acted: decisions on the shop and on its
    applications, and changes to its cashiers, refused attempts included."""
    own_enrolments = select(Enrolment.id).where(Enrolment.merchant_id == merchant_id)
    query = (select(AuditRecord, User.username).outerjoin(User, User.id == AuditRecord.actor_id)
             .where(or_(and_(AuditRecord.target_type == "merchant", AuditRecord.target_id == merchant_id),
                        and_(AuditRecord.target_type == "enrolment", AuditRecord.target_id.in_(own_enrolments))))
             .order_by(AuditRecord.at.desc(), AuditRecord.id.desc()))
    return [(record, username) for record, username in db.session.execute(query)]


ACTION_LABELS = {
    "merchant.approve": _l("Merchant approved"), "merchant.reject": _l("Merchant rejected"),
    "merchant.suspend": _l("Merchant suspended"), "merchant.reinstate": _l("Merchant reinstated"),
    "merchant.add_cashier": _l("Cashier added"), "merchant.disable_cashier": _l("Cashier disabled"),
    "merchant.enable_cashier": _l("Cashier enabled"), "merchant.opening_hours": _l("Opening hours changed"),
    "merchant.badge_grant": _l("Trusted-merchant badge granted"),
    "merchant.badge_withdraw": _l("Trusted-merchant badge withdrawn"), "enrolment.approve": _l("Application approved"),
    "enrolment.reject": _l("Application rejected"), "merchant.phone_revealed": _l("Contact phone shown in full"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))
