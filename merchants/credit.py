"""A shop's credit record (商户信用记录, measure M21): the events every domain appends to it, the score
computed from them, and the criteria of the trusted-merchant badge (放心舒心消费示范单位).

Complaints, fraud review and the shop's own review (approval, suspension) sit in different domains; each
records its event here, in its own transaction, so the record exists exactly when the decision does.
An upheld complaint, a confirmed fraud flag or a suspension withdraws the badge at once.

The credit score (shown to the public, the shop and the bureau) is computed, never stored, from the
events of the last 12 months (``WINDOW``):

    score = max(0, 100 − 10 × upheld complaints − 30 × confirmed fraud flags
                       − 40 × public suspensions (joint punishment for fraud) − 15 × other suspensions)

Approvals, reinstatements and the badge's own events count nothing; a shop with a clean year has 100.
An event older than 12 months no longer counts: the record keeps it, the score forgets it.

The bureau grants the badge only when every criterion of ``badge_unmet`` holds: the shop is approved
(not suspended), was first approved at least 90 days ago, has no upheld complaint and no confirmed
fraud flag in the last 12 months, and its score is at least 90.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from merchants.models import Merchant, MerchantEvent, MerchantStatus
from voucher_app.core.extensions import db

# The kinds of event, as stored (``merchant_events.kind``).
APPROVED, SUSPENDED, REINSTATED = "approved", "suspended", "reinstated"
SUSPENDED_PUBLIC = "suspended_public"  # joint punishment for fraud: on the public list of suspended shops
COMPLAINT_UPHELD, FLAG_CONFIRMED = "complaint_upheld", "flag_confirmed"
BADGE_GRANTED, BADGE_WITHDRAWN = "badge_granted", "badge_withdrawn"

WITHDRAWS_BADGE = frozenset({COMPLAINT_UPHELD, FLAG_CONFIRMED, SUSPENDED, SUSPENDED_PUBLIC})

KIND_LABELS = {
    APPROVED: _l("Approved by the commerce bureau"), SUSPENDED: _l("Suspended"),
    SUSPENDED_PUBLIC: _l("Suspended for fraud (joint punishment)"), REINSTATED: _l("Reinstated"),
    COMPLAINT_UPHELD: _l("Complaint upheld"), FLAG_CONFIRMED: _l("Fraud confirmed"),
    BADGE_GRANTED: _l("Trusted-merchant badge granted"), BADGE_WITHDRAWN: _l("Trusted-merchant badge withdrawn"),
}

# The score's formula, in one place (the module docstring, the README and the public page say it in words).
WINDOW = dt.timedelta(days=365)
FULL_SCORE = 100
DEDUCTIONS = {COMPLAINT_UPHELD: 10, FLAG_CONFIRMED: 30, SUSPENDED_PUBLIC: 40, SUSPENDED: 15}

# The badge's criteria.
BADGE_MIN_SCORE = 90
BADGE_MIN_APPROVED = dt.timedelta(days=90)


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def record_event(merchant_id: str, kind: str, now: dt.datetime, *, ref_type: str | None = None,
                 ref_id: str | None = None, reason: str | None = None, actor_id: str | None = None) -> MerchantEvent:
    """Append one event to the shop's record inside the caller's transaction; an event that withdraws
    the badge also withdraws it (and records that)."""
    event = MerchantEvent(merchant_id=merchant_id, kind=kind, at=now, ref_type=ref_type, ref_id=ref_id,
                          reason=reason, actor_id=actor_id)
    db.session.add(event)
    if kind in WITHDRAWS_BADGE:
        # One UPDATE that only a badge holder matches: it reads no copy the session may hold, and of
        # two transactions withdrawing at once, only the first changes the row (and records it).
        withdrawn = db.session.execute(
            update(Merchant).where(Merchant.id == merchant_id, Merchant.badge_granted_at.is_not(None))
            .values(badge_granted_at=None).execution_options(synchronize_session="fetch"))
        if withdrawn.rowcount:
            db.session.add(MerchantEvent(merchant_id=merchant_id, kind=BADGE_WITHDRAWN, at=now, ref_type=ref_type,
                                         ref_id=ref_id, reason=reason, actor_id=actor_id))
    return event


def score_of(events: Iterable[MerchantEvent], now: dt.datetime) -> int:
    """The credit score the events give at ``now`` (only the last 12 months count)."""
    since = now - WINDOW
    lost = sum(DEDUCTIONS.get(e.kind, 0) for e in events if since < e.at <= now)
    return max(0, FULL_SCORE - lost)


def credit_record(merchant_id: str) -> list[MerchantEvent]:
    """Every event of the shop's record, newest first."""
    return list(db.session.scalars(select(MerchantEvent).where(MerchantEvent.merchant_id == merchant_id)
                                   .order_by(MerchantEvent.at.desc(), MerchantEvent.id.desc())))


def credit_score(merchant_id: str, now: dt.datetime) -> int:
    """The shop's credit score at ``now``."""
    return scores([merchant_id], now)[merchant_id]


def scores(merchant_ids: list[str], now: dt.datetime) -> dict[str, int]:
    """The credit score of each shop at ``now``, in one query."""
    lost = {merchant_id: 0 for merchant_id in merchant_ids}
    if merchant_ids:
        rows = db.session.execute(
            select(MerchantEvent.merchant_id, MerchantEvent.kind, func.count())
            .where(MerchantEvent.merchant_id.in_(merchant_ids), MerchantEvent.kind.in_(list(DEDUCTIONS)),
                   MerchantEvent.at > now - WINDOW, MerchantEvent.at <= now)
            .group_by(MerchantEvent.merchant_id, MerchantEvent.kind))
        for merchant_id, kind, count in rows:
            lost[merchant_id] += DEDUCTIONS[kind] * count
    return {merchant_id: max(0, FULL_SCORE - points) for merchant_id, points in lost.items()}


@dataclass(frozen=True)
class Unmet:
    """A criterion of the badge the shop does not meet: a stable code and the words for it."""

    criterion: str
    message: str


def approved_since(merchant: Merchant) -> dt.datetime | None:
    """When the shop was first approved: its first ``approved`` event, else (a shop approved before
    the record existed) the time of its last review while it is approved."""
    first = db.session.scalar(select(func.min(MerchantEvent.at)).where(MerchantEvent.merchant_id == merchant.id,
                                                                        MerchantEvent.kind == APPROVED))
    if first is not None:
        return first
    return merchant.reviewed_at if merchant.status is MerchantStatus.approved else None


def badge_unmet(merchant: Merchant, now: dt.datetime) -> list[Unmet]:
    """The badge's criteria the shop does not meet at ``now``; empty when it may be granted."""
    unmet = []
    if merchant.status is not MerchantStatus.approved:
        unmet.append(Unmet("approved", _("The shop must be approved and not suspended.")))
    since = approved_since(merchant)
    if since is None or now - since < BADGE_MIN_APPROVED:
        unmet.append(Unmet("approved_90_days", _(
            "The shop must have been approved for at least %(days)d days.", days=BADGE_MIN_APPROVED.days)))
    kinds = dict(db.session.execute(
        select(MerchantEvent.kind, func.count()).where(MerchantEvent.merchant_id == merchant.id,
                                                      MerchantEvent.at > now - WINDOW, MerchantEvent.at <= now)
        .group_by(MerchantEvent.kind)).all())
    if kinds.get(COMPLAINT_UPHELD):
        unmet.append(Unmet("no_upheld_complaint", _("No complaint may have been upheld in the last 12 months.")))
    if kinds.get(FLAG_CONFIRMED):
        unmet.append(Unmet("no_confirmed_flag", _("No fraud may have been confirmed in the last 12 months.")))
    score = max(0, FULL_SCORE - sum(DEDUCTIONS.get(kind, 0) * count for kind, count in kinds.items()))
    if score < BADGE_MIN_SCORE:
        unmet.append(Unmet("score", _("The credit score must be at least %(min)d; it is %(score)d.",
                                      min=BADGE_MIN_SCORE, score=score)))
    return unmet
