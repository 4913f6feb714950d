"""Clawback (追回补贴): a confirmed fraud flag takes back the subsidy of the sales it names.

Why the ledger still balances
-----------------------------
A sale moved its discount ``reserved → payable``; a clawback moves the same amount ``payable →
available`` (entry kind ``clawback``, one per sale): the subsidy is back in the campaign's pool and
can fund other residents' vouchers. The sale's row keeps its voucher ``redeemed`` (the resident did
buy) but is no longer *in force*: ``voucher ledger check`` compares ``payable + settled`` with the
discounts of sales neither refunded nor clawed back, and the clawback entries with the clawed-back
discounts.

Like a refund, a clawback is a fact of the day it happens. The statement of that city day deducts it
(``settlement/service.py``): if the sale was already paid, that day's net goes below zero and the
ledger moves ``settled → payable`` — the shop's next payment is that much smaller. A sale still
unpaid (its day held, say) is paid as it stands and the clawback day takes it back: the shop gets
nothing for it either way, and every fen moves exactly once.

Why a sale cannot be both refunded and clawed back
---------------------------------------------------
The clawback is one conditional ``UPDATE`` that takes only sales of the flag's shop that are neither
refunded nor already clawed back; a refund locks the sale's row (``SELECT … FOR UPDATE``) and refuses
one clawed back (``clawed_back``). On PostgreSQL whichever locks the row first wins: the other waits,
then re-reads the row — the clawback's ``UPDATE`` re-checks its condition and skips a sale just
refunded; the refund's locking read sees ``clawed_back_at`` and refuses. On SQLite write transactions
begin ``IMMEDIATE`` and run one at a time. The ledger entries are written for exactly the rows the
``UPDATE`` returned, so a sale skipped moves no money.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from voucher_app.core.extensions import db
from voucher_app.fraud.models import Flag
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.redemptions.models import Redemption

KIND = "clawback"


def claw_back(flag: Flag, actor_id: str | None, now: dt.datetime) -> dict:
    """Take back the subsidy of the flag's sales still in force, in the caller's write transaction;
    returns how many sales and how many fen (and which sales)."""
    ids = sorted({str(i) for i in (flag.redemption_ids or [])})
    if not ids:
        return {"redemptions": 0, "cents": 0, "redemption_ids": []}
    r = Redemption
    taken = db.session.execute(
        update(r).where(r.id.in_(ids), r.merchant_id == flag.merchant_id, r.refunded_at.is_(None),
                        r.clawed_back_at.is_(None))
        .values(clawed_back_at=now, clawback_flag_id=flag.id)
        .returning(r.id, r.campaign_id, r.voucher_id, r.discount_cents)
        .execution_options(synchronize_session=False)).all()
    for _id, campaign_id, voucher_id, discount in taken:
        if discount > 0:
            db.session.add(LedgerEntry(campaign_id=campaign_id, voucher_id=voucher_id, from_account=Account.payable,
                                       to_account=Account.available, amount_cents=discount, kind=KIND, at=now))
    clawed = {row[0] for row in taken}
    for held in [o for o in db.session.identity_map.values() if isinstance(o, Redemption) and o.id in clawed]:
        db.session.expire(held)  # a copy the session already holds would keep the old values
    return {"redemptions": len(taken), "cents": sum(int(row[3]) for row in taken), "redemption_ids": sorted(clawed)}
