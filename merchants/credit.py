"""A shop's credit record (商户信用记录, measure M21): the events every domain appends to it.

Complaints, fraud review and the shop's own review (approval, suspension) sit in different domains; each
records its event here, in its own transaction, so the record exists exactly when the decision does.
An upheld complaint or a confirmed fraud flag withdraws the trusted-merchant badge at once.
"""
from __future__ import annotations

import datetime as dt

from merchants.models import Merchant, MerchantEvent
from voucher_app.core.extensions import db

# The kinds of event, as stored (``merchant_events.kind``).
APPROVED, SUSPENDED, REINSTATED = "approved", "suspended", "reinstated"
COMPLAINT_UPHELD, FLAG_CONFIRMED = "complaint_upheld", "flag_confirmed"
BADGE_GRANTED, BADGE_WITHDRAWN = "badge_granted", "badge_withdrawn"

WITHDRAWS_BADGE = frozenset({COMPLAINT_UPHELD, FLAG_CONFIRMED, SUSPENDED})


def record_event(merchant_id: str, kind: str, now: dt.datetime, *, ref_type: str | None = None,
                 ref_id: str | None = None, reason: str | None = None, actor_id: str | None = None) -> MerchantEvent:
    """Append one event to the shop's record inside the caller's transaction; an event that withdraws
    the badge also withdraws it (and records that)."""
    event = MerchantEvent(merchant_id=merchant_id, kind=kind, at=now, ref_type=ref_type, ref_id=ref_id,
                          reason=reason, actor_id=actor_id)
    db.session.add(event)
    if kind in WITHDRAWS_BADGE:
        merchant = db.session.get(Merchant, merchant_id)
        if merchant is not None and merchant.badge_granted_at is not None:
            merchant.badge_granted_at = None
            db.session.add(MerchantEvent(merchant_id=merchant_id, kind=BADGE_WITHDRAWN, at=now, ref_type=ref_type,
                                         ref_id=ref_id, reason=reason, actor_id=actor_id))
    return event
