"""What the public may read without signing in (M21), and the bureau's consumption warnings (消费预警).

What is public, and what never is:

* A shop has a public page only while it is approved or suspended (a pending or rejected registration
  is ``not_found``): its name, kind, district, address, opening hours, the trusted-merchant badge, its
  credit score (``merchants/credit.py``), the complaints made about it in the last 12 months and how
  many were upheld, the kinds and dates of its credit record (never the reasons, which may name
  people), and the warnings in force on it. Never its contact phone, its credit code or any person.
* Complaint statistics count complaints, never show one: by kind of shop, district and shop, with the
  median times the shop took to reply and the bureau to decide.
* Suspended shops are listed only when the suspension was public (joint punishment for fraud), with
  the bureau's reason and date; an ordinary suspension is between the shop and the bureau.

A warning is on one shop, one kind of shop or the whole city, from ``starts_at`` until ``ends_at``
(or until withdrawn). ``active_warnings_for`` decides which warnings a shop's page, a campaign's page
and a resident's wallet show, in two queries however many vouchers or shops there are.
"""
from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import and_, select

from merchants import credit
from merchants.models import Enrolment, EnrolmentStatus, Merchant, MerchantEvent, MerchantStatus
from voucher_app.accounts.models import User
from voucher_app.complaints.models import Complaint, ComplaintStatus
from voucher_app.core.audit import audited
from voucher_app.core.database import keyset_page, new_id
from voucher_app.core.errors import Conflict, NotFound, ValidationError
from voucher_app.core.extensions import db
from voucher_app.disclosure.models import ConsumptionWarning, WarningScope
from voucher_app.disclosure.schemas import WarningIn

PUBLIC_STATUSES = (MerchantStatus.approved, MerchantStatus.suspended)
YEAR = dt.timedelta(days=365)
DIRECTORY_PAGE = 100


def _fresh(query):
    return query.execution_options(populate_existing=True)


def _no_such_shop() -> NotFound:
    return NotFound(_("No shop with a public page has this id."))


# Warnings --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ShownWarning:
    warning: ConsumptionWarning
    merchant_name: str | None  # the warned shop's name, for a warning on one shop


def _active(now: dt.datetime):
    return and_(ConsumptionWarning.withdrawn_at.is_(None), ConsumptionWarning.starts_at <= now,
                ConsumptionWarning.ends_at > now)


def active_warnings_for(now: dt.datetime, *, shops: Iterable[Merchant] = (),
                        campaigns: Iterable[tuple[str, Sequence[str]]] = ()) -> dict[str, list[ShownWarning]]:
    """The warnings in force at ``now`` that concern each shop and each campaign, by their ids.

    A shop is concerned by warnings on itself, on its kind of shop and on the whole city. A campaign,
    given as ``(id, merchant_categories)`` (an empty list: every kind), by warnings on the whole city,
    on its kinds of shop, and on any shop taking part in it (approved, with an approved enrolment):
    the shops where its vouchers can be used. One query for the warnings, one for the enrolments."""
    shops, campaigns = list(shops), [(cid, list(cats or ())) for cid, cats in campaigns]
    found: dict[str, list[ShownWarning]] = {s.id: [] for s in shops} | {cid: [] for cid, _c in campaigns}
    if not found:
        return found
    rows = [ShownWarning(w, name) for w, name in db.session.execute(
        select(ConsumptionWarning, Merchant.name).outerjoin(Merchant, Merchant.id == ConsumptionWarning.merchant_id)
        .where(_active(now)).order_by(ConsumptionWarning.starts_at.desc(), ConsumptionWarning.id))]
    for shop in shops:
        found[shop.id] = [w for w in rows if w.warning.scope is WarningScope.city
                          or (w.warning.scope is WarningScope.category and w.warning.category == shop.category)
                          or (w.warning.scope is WarningScope.merchant and w.warning.merchant_id == shop.id)]
    if campaigns:
        warned = {w.warning.merchant_id for w in rows if w.warning.scope is WarningScope.merchant}
        taking_part: dict[str, set[str]] = defaultdict(set)
        if warned:
            for campaign_id, merchant_id in db.session.execute(
                    select(Enrolment.campaign_id, Enrolment.merchant_id).join(Merchant)
                    .where(Enrolment.campaign_id.in_([cid for cid, _c in campaigns]),
                           Enrolment.merchant_id.in_(warned), Enrolment.status == EnrolmentStatus.approved,
                           Merchant.status == MerchantStatus.approved)):
                taking_part[campaign_id].add(merchant_id)
        for campaign_id, categories in campaigns:
            found[campaign_id] = [
                w for w in rows if w.warning.scope is WarningScope.city
                or (w.warning.scope is WarningScope.category and (not categories or w.warning.category in categories))
                or (w.warning.scope is WarningScope.merchant and w.warning.merchant_id in taking_part[campaign_id])]
    return found


def list_warnings(now: dt.datetime, *, active_only: bool, cursor: str | None = None,
                  limit: int = 100) -> tuple[list[ShownWarning], str | None]:
    """Warnings, newest first: those in force at ``now``, or every one (the bureau's list)."""
    query = select(ConsumptionWarning, Merchant.name).outerjoin(Merchant,
                                                                 Merchant.id == ConsumptionWarning.merchant_id)
    if active_only:
        query = query.where(_active(now))
    rows, next_cursor = keyset_page(query, ConsumptionWarning.id, cursor, limit, newest_first=True,
                                    rows_of=db.session.execute)
    return [ShownWarning(w, name) for w, name in rows], next_cursor


def publish_warning(data: WarningIn, actor: User, now: dt.datetime) -> ConsumptionWarning:
    """A new consumption warning on a shop, a kind of shop or the whole city; audited."""
    if data.ends_at <= now:
        raise ValidationError(errors=[{"field": "ends_at", "message": _("The warning must end in the future.")}])
    warning = ConsumptionWarning(id=new_id(), scope=WarningScope(data.scope), merchant_id=data.merchant_id, category=data.category,
                                 text=data.text, starts_at=data.starts_at.astimezone(dt.timezone.utc),
                                 ends_at=data.ends_at.astimezone(dt.timezone.utc), created_by=actor.id,
                                 created_at=now)
    with audited("warning.publish", "warning", warning.id, actor.id, now) as detail:
        if data.merchant_id and db.session.get(Merchant, data.merchant_id) is None:
            raise ValidationError(errors=[{"field": "merchant_id", "message": _("No shop has this id.")}])
        db.session.add(warning)
        detail.update({"scope": data.scope, "merchant_id": data.merchant_id, "category": data.category})
    return warning


def withdraw_warning(warning_id: str, actor: User, now: dt.datetime) -> ConsumptionWarning:
    """End a warning now (it stays in the bureau's list); audited."""
    with audited("warning.withdraw", "warning", warning_id, actor.id, now):
        warning = db.session.scalars(_fresh(select(ConsumptionWarning).where(ConsumptionWarning.id == warning_id)
                                            .with_for_update())).first()
        if warning is None:
            raise NotFound(_("There is no such warning."))
        if warning.withdrawn_at is not None:
            raise Conflict(_("This warning was already withdrawn."))
        warning.withdrawn_at = now
    return warning


# Shops' public pages --------------------------------------------------------------------------------

@dataclass
class PublicShop:
    merchant: Merchant
    score: int
    complaints_12m: int
    upheld_12m: int
    events: list[MerchantEvent]
    warnings: list[ShownWarning] = field(default_factory=list)

    @property
    def accepts_vouchers(self) -> bool:
        return self.merchant.status is MerchantStatus.approved

    @property
    def publicly_suspended(self) -> bool:
        return self.merchant.status is MerchantStatus.suspended and self.merchant.suspension_public


def public_shop(merchant_id: str, now: dt.datetime) -> PublicShop:
    """A shop's public page: approved or suspended shops only (any other is ``not_found``)."""
    merchant = db.session.scalars(select(Merchant).where(Merchant.id == merchant_id[:26],
                                                         Merchant.status.in_(PUBLIC_STATUSES))).first()
    if merchant is None:
        raise _no_such_shop()
    statuses = list(db.session.scalars(select(Complaint.status).where(Complaint.merchant_id == merchant.id,
                                                                      Complaint.created_at > now - YEAR)))
    events = [e for e in credit.credit_record(merchant.id) if e.at > now - YEAR]
    return PublicShop(merchant, credit.score_of(events, now), len(statuses),
                      sum(1 for s in statuses if s is ComplaintStatus.upheld), events,
                      active_warnings_for(now, shops=[merchant])[merchant.id])


def directory(now: dt.datetime, *, district: str | None = None, category: str | None = None,
              cursor: str | None = None) -> tuple[list[tuple[Merchant, int]], str | None]:
    """Approved shops (those taking vouchers), with their credit scores, optionally of one district or kind."""
    query = select(Merchant).where(Merchant.status == MerchantStatus.approved)
    if district:
        query = query.where(Merchant.district == district)
    if category:
        query = query.where(Merchant.category == category)
    merchants, next_cursor = keyset_page(query, Merchant.id, cursor, DIRECTORY_PAGE)
    score = credit.scores([m.id for m in merchants], now)
    return [(m, score[m.id]) for m in merchants], next_cursor


def publicly_suspended() -> list[Merchant]:
    """Shops suspended publicly (joint punishment for fraud), the latest first."""
    return list(db.session.scalars(
        select(Merchant).where(Merchant.status == MerchantStatus.suspended, Merchant.suspension_public.is_(True))
        .order_by(Merchant.suspended_at.desc(), Merchant.id)))


# Complaint statistics --------------------------------------------------------------------------------

@dataclass
class Tally:
    """Complaints of one group: how many, how many upheld, rejected or still open, and the median times."""

    key: str
    name: str | None = None
    complaints: int = 0
    upheld: int = 0
    rejected: int = 0
    open: int = 0
    _reply: list[dt.timedelta] = field(default_factory=list, repr=False)
    _decision: list[dt.timedelta] = field(default_factory=list, repr=False)

    def add(self, status: ComplaintStatus, created_at, replied_at, decided_at) -> None:
        self.complaints += 1
        setattr(self, status.value, getattr(self, status.value) + 1)
        if replied_at is not None:
            self._reply.append(replied_at - created_at)
        if decided_at is not None:
            self._decision.append(decided_at - created_at)

    @property
    def median_reply(self) -> dt.timedelta | None:
        return statistics.median(self._reply) if self._reply else None

    @property
    def median_decision(self) -> dt.timedelta | None:
        return statistics.median(self._decision) if self._decision else None


@dataclass
class ComplaintStats:
    since: dt.datetime
    until: dt.datetime
    total: Tally
    by_category: list[Tally]
    by_district: list[Tally]
    by_merchant: list[Tally]


def complaint_stats(now: dt.datetime) -> ComplaintStats:
    """Complaints made in the last 12 months about shops with a public page, counted by kind of shop,
    district and shop; the median times from a complaint to the shop's reply and to the bureau's decision
    count the complaints that have one."""
    since = now - YEAR
    rows = db.session.execute(
        select(Complaint.status, Complaint.created_at, Complaint.replied_at, Complaint.decided_at,
               Merchant.id, Merchant.name, Merchant.category, Merchant.district)
        .join(Merchant, Merchant.id == Complaint.merchant_id)
        .where(Complaint.created_at > since, Complaint.created_at <= now, Merchant.status.in_(PUBLIC_STATUSES)))
    total = Tally("all")
    groups: dict[str, dict[str, Tally]] = {"category": {}, "district": {}, "merchant": {}}
    for status, created_at, replied_at, decided_at, merchant_id, name, category, district in rows:
        total.add(status, created_at, replied_at, decided_at)
        for kind, key, label in (("category", category, None), ("district", district, None),
                                 ("merchant", merchant_id, name)):
            groups[kind].setdefault(key, Tally(key, label)).add(status, created_at, replied_at, decided_at)

    def ordered(kind: str) -> list[Tally]:
        return sorted(groups[kind].values(), key=lambda t: (-t.complaints, -t.upheld, t.key))

    return ComplaintStats(since, now, total, ordered("category"), ordered("district"), ordered("merchant"))
