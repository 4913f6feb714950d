"""Minting and revoking vouchers in bulk, with their ledger entries.

Minting happens once, in the publishing transaction, together with the ledger entry that moves the
campaign's budget to ``available``: claims then only ever take rows that exist. Revoking (when a
campaign is cancelled) returns each unused claimed voucher's reserved value to ``available``.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, text, update

from campaigns.models import Campaign
from voucher_app.core.clock import parse_iso
from voucher_app.core.database import new_id
from voucher_app.core.extensions import db
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.vouchers.models import Voucher, VoucherStatus

BATCH = 5_000


def mint_campaign(campaign: Campaign, now: dt.datetime) -> int:
    """Create the voucher rows of every round of ``campaign`` and fund it; returns how many."""
    rows = []
    minted = 0
    quotas = {tier.id: _quotas(tier) for tier in campaign.tiers}
    for rnd in sorted(campaign.rounds, key=lambda r: (r.release_at, r.position)):
        for tier in campaign.tiers:
            for _ in range(rnd.quantity_of(tier.id)):
                voucher_id = new_id()
                pool, pool_until = _next_pool(quotas[tier.id], rnd.release_at)
                rows.append({"id": voucher_id, "short_code": voucher_id[-10:], "campaign_id": campaign.id,
                             "tier_id": tier.id, "round_id": rnd.id,
                             "release_at": rnd.release_at, "threshold_cents": tier.threshold_cents,
                             "discount_cents": tier.discount_cents, "percent": tier.percent,
                             "status": VoucherStatus.available,
                             "pool": pool, "pool_until": pool_until})
                if len(rows) >= BATCH:
                    minted += _insert(rows)
    minted += _insert(rows)
    if campaign.budget_cents > 0:
        db.session.add(LedgerEntry(campaign_id=campaign.id, from_account=Account.budget,
                                   to_account=Account.available, amount_cents=campaign.budget_cents,
                                   kind="fund", at=now))
    return minted


def _quotas(tier) -> list[list]:
    """The tier's reserved quotas still to fill while minting: [group, how many, until]."""
    return [[quota["group"], int(quota["quantity"]), parse_iso(quota["until"])] for quota in tier.reserved or ()]


def _next_pool(quotas: list[list], release_at: dt.datetime) -> tuple[str, dt.datetime | None]:
    """The pool of the next voucher a round releases at ``release_at``: a quota is made of the first
    vouchers released before its time runs out (a round released after it has nothing to reserve)."""
    for quota in quotas:
        group, left, until = quota
        if left > 0 and release_at < until:
            quota[1] -= 1
            return group, until
    return "", None


def refresh_statistics() -> None:
    """After minting, tell PostgreSQL's planner how many vouchers there now are (run after the commit).

    A campaign adds thousands of rows at once; until autovacuum's next ANALYZE the planner still
    believes the table small, and plans the claim's pick as "sort every available voucher" instead
    of one step along the index — 5 ms instead of 0.1 ms per claim, in the first minutes of a rush.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ANALYZE vouchers"))
        db.session.commit()


def _insert(rows: list[dict]) -> int:
    if not rows:
        return 0
    count = len(rows)
    db.session.execute(insert(Voucher), rows)
    rows.clear()
    return count


def revoke_claimed(campaign_id: str, now: dt.datetime) -> int:
    """Revoke the campaign's claimed, unused vouchers in the caller's transaction; returns how many.

    The caller has locked the campaign's row ``FOR UPDATE`` and marked it cancelled first: from then
    on no claim can take a voucher, and every claim that took one has committed, so this statement,
    which reads the vouchers after the lock, leaves none claimed."""
    revoked = db.session.execute(
        update(Voucher.__table__)
        .where(Voucher.__table__.c.campaign_id == campaign_id,
               Voucher.__table__.c.status == VoucherStatus.claimed.value)
        .values(status=VoucherStatus.revoked.value, revoked_at=now)
        .returning(Voucher.__table__.c.id, Voucher.__table__.c.discount_cents)).all()
    if revoked:
        db.session.execute(insert(LedgerEntry.__table__), [
            {"id": new_id(), "campaign_id": campaign_id, "voucher_id": voucher_id, "from_account": "reserved",
             "to_account": "available", "amount_cents": amount, "kind": "revoke", "at": now}
            for voucher_id, amount in revoked])
    return len(revoked)
