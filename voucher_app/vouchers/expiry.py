"""The expiry sweep: claimed vouchers past their expiry become ``expired``, and their value returns.

A voucher past its expiry is refused at the till whether or not this has run (the redemption checks
``expires_at`` itself); the sweep makes the state and the money say so. Each voucher is recorded
expired *at its expiry*, with the ledger entry dated the same, so a sweep that runs hours late leaves
exactly what one on time would have. When the campaign recycles expired vouchers, each one's value
comes back as a new voucher of the same tier in the first round released after that expiry.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import insert, select, update

from campaigns.models import Campaign, Round, RoundAllocation, Tier
from voucher_app.core import versions
from voucher_app.core.database import new_id, write_transaction
from voucher_app.core.extensions import db
from voucher_app.ledger.models import LedgerEntry
from voucher_app.vouchers.models import Voucher, VoucherStatus

BATCH = 2_000  # vouchers per write transaction: short locks while the till keeps working

_v = Voucher.__table__


def expire_vouchers(now: dt.datetime) -> dict[str, int]:
    """Expire every claimed voucher whose expiry has passed; returns how many, and how many recycled."""
    expired = recycled = 0
    while True:
        with write_transaction():
            due = select(_v.c.id).where(_v.c.status == VoucherStatus.claimed.value, _v.c.expires_at <= now) \
                .order_by(_v.c.expires_at).limit(BATCH)
            rows = db.session.execute(
                update(_v).where(_v.c.id.in_(due.scalar_subquery()), _v.c.status == VoucherStatus.claimed.value)
                .values(status=VoucherStatus.expired.value, expired_at=_v.c.expires_at)
                .returning(_v.c.id, _v.c.campaign_id, _v.c.tier_id, _v.c.discount_cents, _v.c.expires_at)).all()
            if not rows:
                break
            db.session.execute(insert(LedgerEntry.__table__), [
                {"id": new_id(), "campaign_id": r.campaign_id, "voucher_id": r.id, "from_account": "reserved",
                 "to_account": "available", "amount_cents": r.discount_cents, "kind": "expire", "at": r.expires_at}
                for r in rows])
            recycled += _recycle(rows)
            expired += len(rows)
    return {"vouchers_expired": expired, "vouchers_recycled": recycled}


def _recycle(rows) -> int:
    """Mint one voucher per expired one of a recycling campaign into the next round, if there is one."""
    campaign_ids = {r.campaign_id for r in rows}
    recycling = set(db.session.scalars(select(Campaign.id).where(Campaign.id.in_(campaign_ids),
                                                                 Campaign.recycle_expired.is_(True))))
    if not recycling:
        return 0
    rounds: dict[str, list[Round]] = defaultdict(list)
    for rnd in db.session.scalars(select(Round).where(Round.campaign_id.in_(recycling)).order_by(Round.release_at)):
        rounds[rnd.campaign_id].append(rnd)
    added: dict[tuple[str, str], int] = defaultdict(int)  # (round id, tier id) → vouchers
    minted = []
    for r in rows:
        if r.campaign_id not in recycling:
            continue
        target = next((rnd for rnd in rounds[r.campaign_id] if rnd.release_at > r.expires_at), None)
        if target is None:
            continue  # no round left: the value simply stays in the campaign's available budget
        tier = db.session.get(Tier, r.tier_id)
        voucher_id = new_id()
        minted.append({"id": voucher_id, "short_code": voucher_id[-10:], "campaign_id": r.campaign_id,
                       "tier_id": r.tier_id, "round_id": target.id, "release_at": target.release_at,
                       "threshold_cents": tier.threshold_cents, "discount_cents": tier.discount_cents,
                       "status": VoucherStatus.available.value})
        added[(target.id, r.tier_id)] += 1
    if not minted:
        return 0
    db.session.execute(insert(_v), minted)
    for (round_id, tier_id), n in added.items():
        allocation = db.session.get(RoundAllocation, (round_id, tier_id))
        if allocation is None:
            db.session.add(RoundAllocation(round_id=round_id, tier_id=tier_id, quantity=n))
        else:
            allocation.quantity += n
        db.session.execute(update(Round).where(Round.id == round_id).values(recycled=Round.recycled + n))
        db.session.execute(update(Tier).where(Tier.id == tier_id).values(quantity=Tier.quantity + n))
    versions.bump(versions.CAMPAIGNS)  # a later round of the campaign grew
    db.session.flush()
    return len(minted)
