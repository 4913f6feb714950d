"""Reading the ledger: each campaign's balance per account.

The check that the books agree with the vouchers, redemptions and statements is
``settlement/reconciliation.py``: it reads every money domain, so it sits above them all.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from voucher_app.core.extensions import db
from voucher_app.ledger.models import Account, LedgerEntry

ACCOUNTS = [a.value for a in Account]


def balances(campaign_id: str | None = None) -> dict:
    """Balance per account (in fen): what came in minus what went out. With no campaign, per campaign."""
    flows = []
    for column, sign in ((LedgerEntry.to_account, 1), (LedgerEntry.from_account, -1)):
        query = select(LedgerEntry.campaign_id, column, func.sum(LedgerEntry.amount_cents)).group_by(
            LedgerEntry.campaign_id, column)
        if campaign_id is not None:
            query = query.where(LedgerEntry.campaign_id == campaign_id)
        flows += [(cid, account, sign * int(total)) for cid, account, total in db.session.execute(query)]
    per_campaign: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ACCOUNTS, 0))
    for cid, account, amount in flows:
        key = account.value if isinstance(account, Account) else account
        per_campaign[cid][key] += amount
    if campaign_id is not None:
        return per_campaign.get(campaign_id, dict.fromkeys(ACCOUNTS, 0))
    return dict(per_campaign)
