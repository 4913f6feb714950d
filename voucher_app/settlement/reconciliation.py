"""The check that every campaign's books agree (``voucher ledger check``).

Double entry makes ``budget + available + reserved + payable + settled = 0`` true of the rows by
construction; the check therefore compares the ledger against what it must equal elsewhere — the
campaign's budget, the vouchers people hold, the redemptions in force (neither refunded nor clawed
back), the clawed-back sales and the statements paid — so a movement that was lost, doubled or
misdirected shows up as a named difference. It reads every money
domain, which is why it lives here, in the highest one.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from campaigns.models import Campaign, CampaignStatus
from voucher_app.core.extensions import db
from voucher_app.fraud.clawback import KIND as CLAWBACK
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.ledger.service import ACCOUNTS, balances
from voucher_app.redemptions.models import Redemption
from voucher_app.settlement.models import SettlementLine, SettlementStatement, StatementStatus
from voucher_app.vouchers.models import Voucher, VoucherStatus


@dataclass(frozen=True)
class Difference:
    campaign_id: str
    what: str
    ledger_cents: int
    expected_cents: int

    def __str__(self) -> str:
        return (f"campaign {self.campaign_id}: {self.what}: ledger {self.ledger_cents} fen, "
                f"expected {self.expected_cents} fen (difference {self.ledger_cents - self.expected_cents})")


def check_ledger() -> tuple[int, list[Difference]]:
    """Every published campaign's books; returns how many campaigns were checked and the differences."""
    def sums(query) -> dict[str, int]:
        return {cid: int(total or 0) for cid, total in db.session.execute(query)}

    campaigns = db.session.execute(select(Campaign.id, Campaign.budget_cents)
                                   .where(Campaign.status != CampaignStatus.draft)).all()
    books = balances()
    held = sums(select(Voucher.campaign_id, func.sum(Voucher.discount_cents))
                .where(Voucher.status == VoucherStatus.claimed).group_by(Voucher.campaign_id))
    r = Redemption
    in_force = sums(select(r.campaign_id, func.sum(r.discount_cents))
                    .where(r.refunded_at.is_(None), r.clawed_back_at.is_(None)).group_by(r.campaign_id))
    clawed_back = sums(select(r.campaign_id, func.sum(r.discount_cents))
                       .where(r.clawed_back_at.is_not(None)).group_by(r.campaign_id))
    clawback_entries = sums(select(LedgerEntry.campaign_id, func.sum(LedgerEntry.amount_cents))
                            .where(LedgerEntry.kind == CLAWBACK, LedgerEntry.from_account == Account.payable,
                                   LedgerEntry.to_account == Account.available)
                            .group_by(LedgerEntry.campaign_id))
    paid = sums(select(SettlementLine.campaign_id, func.sum(SettlementLine.net_cents))
                .join(SettlementStatement, SettlementStatement.id == SettlementLine.statement_id)
                .where(SettlementStatement.status == StatementStatus.settled).group_by(SettlementLine.campaign_id))
    differences: list[Difference] = []
    for campaign_id, budget in campaigns:
        b = books.get(campaign_id, dict.fromkeys(ACCOUNTS, 0))
        expected = [
            ("funded (budget → available) equals the campaign's budget", -b["budget"], budget),
            ("budget = available + reserved + payable + settled",
             b["available"] + b["reserved"] + b["payable"] + b["settled"], -b["budget"]),
            ("reserved equals the discounts of vouchers claimed and unused", b["reserved"], held.get(campaign_id, 0)),
            ("payable + settled equals the discounts of redemptions in force",
             b["payable"] + b["settled"], in_force.get(campaign_id, 0)),
            ("settled equals what settled statements paid", b["settled"], paid.get(campaign_id, 0)),
            ("clawed back (payable → available) equals the discounts of clawed-back redemptions",
             clawback_entries.get(campaign_id, 0), clawed_back.get(campaign_id, 0)),
        ]
        differences += [Difference(campaign_id, what, got, want) for what, got, want in expected if got != want]
        if b["available"] < 0:
            differences.append(Difference(campaign_id, "available is never negative (budget exceeded)",
                                          b["available"], 0))
    orphans = set(books) - {cid for cid, _ in campaigns}
    differences += [Difference(cid, "entries of a campaign that is not published", sum(map(abs, books[cid].values())), 0)
                    for cid in sorted(orphans)]
    return len(campaigns), differences
