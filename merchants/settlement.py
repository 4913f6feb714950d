"""Settlement (结算): a statement per merchant per city day of what the bureau owes, and the payout.

The ``settle`` sweep settles every whole day not yet settled, up to yesterday, one day per
transaction, so a scheduler that was down for a week catches up in one run and a second run finds
nothing to do (a statement is unique per merchant and day). Redemptions count on the day they were
made, refunds on the day they were made. A suspended merchant's statement is held: the money stays
payable until the merchant is reinstated, and the next run pays it.

Paying out is recorded in the ledger per campaign: ``payable → settled`` for what is owed, and
``settled → payable`` for a day whose refunds of earlier (already paid) sales exceed its sales.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, select

from campaigns.models import Campaign, CampaignStatus
from voucher_app.clock import city_day, city_day_bounds
from voucher_app.database import keyset_page, write_transaction
from voucher_app.extensions import db
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.ledger.service import balances
from voucher_app.redemptions.models import Redemption
from voucher_app.vouchers.models import Voucher, VoucherStatus

from .models import Merchant, MerchantStatus, SettlementLine, SettlementStatement, StatementStatus

REFUND_DAYS = 7  # as long as a sale can still be refunded (redemptions.service.REFUND_DAYS)


def settle(now: dt.datetime) -> dict[str, int]:
    """Settle every unsettled day up to yesterday, pay held statements of reinstated merchants, and
    mark closed campaigns whose money is all paid as settled."""
    days = statements = held = 0
    yesterday = city_day(now) - dt.timedelta(days=1)
    day = _first_unsettled_day()
    while day is not None and day <= yesterday:
        made, kept = _settle_day(day, now)
        statements, held, days = statements + made, held + kept, days + 1
        day += dt.timedelta(days=1)
    released = _release_held(now)
    campaigns = _mark_campaigns_settled(now)
    return {"days_settled": days, "statements": statements, "statements_held": held,
            "statements_released": released, "campaigns_settled": campaigns}


def _first_unsettled_day() -> dt.date | None:
    last = db.session.scalar(select(func.max(SettlementStatement.day)))
    if last is not None:
        return last + dt.timedelta(days=1)
    first = db.session.scalar(select(func.min(Redemption.redeemed_at)))
    return city_day(first) if first is not None else None


def _settle_day(day: dt.date, now: dt.datetime) -> tuple[int, int]:
    start, end = city_day_bounds(day)
    lines: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)  # merchant → campaign → figures

    def line(merchant_id: str, campaign_id: str) -> dict[str, int]:
        return lines[merchant_id].setdefault(campaign_id, {"redemptions": 0, "bill_cents": 0, "redeemed_cents": 0,
                                                           "refunds": 0, "refunded_cents": 0})

    r = Redemption
    with write_transaction():
        if db.session.scalar(select(func.count()).where(SettlementStatement.day == day)):
            return 0, 0  # settled by a run that overlapped this one
        for merchant_id, campaign_id, n, bills, discounts in db.session.execute(
                select(r.merchant_id, r.campaign_id, func.count(), func.sum(r.bill_cents), func.sum(r.discount_cents))
                .where(r.redeemed_at >= start, r.redeemed_at < end).group_by(r.merchant_id, r.campaign_id)):
            figures = line(merchant_id, campaign_id)
            figures.update(redemptions=n, bill_cents=int(bills), redeemed_cents=int(discounts))
        for merchant_id, campaign_id, n, discounts in db.session.execute(
                select(r.merchant_id, r.campaign_id, func.count(), func.sum(r.discount_cents))
                .where(r.refunded_at >= start, r.refunded_at < end).group_by(r.merchant_id, r.campaign_id)):
            line(merchant_id, campaign_id).update(refunds=n, refunded_cents=int(discounts))
        if not lines:
            return 0, 0
        suspended = set(db.session.scalars(select(Merchant.id).where(Merchant.id.in_(lines),
                                                                      Merchant.status == MerchantStatus.suspended)))
        for merchant_id, by_campaign in lines.items():
            statement = SettlementStatement(merchant_id=merchant_id, day=day, created_at=now,
                                            status=StatementStatus.held if merchant_id in suspended
                                            else StatementStatus.settled)
            for campaign_id, figures in by_campaign.items():
                statement.lines.append(SettlementLine(campaign_id=campaign_id, **figures,
                                                      net_cents=figures["redeemed_cents"] - figures["refunded_cents"]))
            for field in ("redemptions", "bill_cents", "redeemed_cents", "refunds", "refunded_cents", "net_cents"):
                setattr(statement, field, sum(getattr(ln, field) for ln in statement.lines))
            db.session.add(statement)
            if statement.status is StatementStatus.settled:
                _pay(statement, now)
    return len(lines), len(suspended)


def _pay(statement: SettlementStatement, now: dt.datetime) -> None:
    statement.status, statement.settled_at = StatementStatus.settled, now
    for ln in statement.lines:
        if ln.net_cents:
            source, target = ((Account.payable, Account.settled) if ln.net_cents > 0
                              else (Account.settled, Account.payable))
            db.session.add(LedgerEntry(campaign_id=ln.campaign_id, from_account=source, to_account=target,
                                       amount_cents=abs(ln.net_cents), kind="settle", at=now))


def _release_held(now: dt.datetime) -> int:
    with write_transaction():
        held = db.session.scalars(
            select(SettlementStatement).join(Merchant, Merchant.id == SettlementStatement.merchant_id)
            .where(SettlementStatement.status == StatementStatus.held, Merchant.status == MerchantStatus.approved)
            .with_for_update(of=SettlementStatement)).all()
        for statement in held:
            _pay(statement, now)
    return len(held)


def _mark_campaigns_settled(now: dt.datetime) -> int:
    """A closed campaign is settled once no sale can be refunded, no voucher is still claimed, and
    nothing is owed to a merchant."""
    done = 0
    with write_transaction():
        candidates = db.session.scalars(
            select(Campaign).where(Campaign.status == CampaignStatus.closed,
                                   Campaign.ends_at <= now - dt.timedelta(days=REFUND_DAYS))).all()
        for campaign in candidates:
            unused = db.session.scalar(select(func.count()).where(Voucher.campaign_id == campaign.id,
                                                                  Voucher.status == VoucherStatus.claimed))
            if unused or balances(campaign.id).get(Account.payable.value, 0) != 0:
                continue
            campaign.status, campaign.settled_at = CampaignStatus.settled, now
            done += 1
    return done


# Reading statements --------------------------------------------------------------------------------

def statements_for(merchant_id: str | None, cursor: str | None, limit: int = 50, *,
                   day_from: dt.date | None = None, day_to: dt.date | None = None, status: str | None = None):
    """Statements, newest day first: one merchant's (``merchant_id``) or every merchant's."""
    query = select(SettlementStatement)
    if merchant_id is not None:
        query = query.where(SettlementStatement.merchant_id == merchant_id)
    if day_from is not None:
        query = query.where(SettlementStatement.day >= day_from)
    if day_to is not None:
        query = query.where(SettlementStatement.day <= day_to)
    if status:
        query = query.where(SettlementStatement.status == StatementStatus(status))
    return keyset_page(query, SettlementStatement.id, cursor, limit, newest_first=True)


def statement_out(statement: SettlementStatement) -> dict:
    from voucher_app.clock import to_city

    return {
        "id": statement.id, "merchant_id": statement.merchant_id, "day": statement.day.isoformat(),
        "redemptions": statement.redemptions, "bill_cents": statement.bill_cents,
        "redeemed_cents": statement.redeemed_cents, "refunds": statement.refunds,
        "refunded_cents": statement.refunded_cents, "net_cents": statement.net_cents,
        "status": statement.status.value,
        "settled_at": to_city(statement.settled_at).isoformat() if statement.settled_at else None,
        "lines": [{"campaign_id": ln.campaign_id, "redemptions": ln.redemptions, "bill_cents": ln.bill_cents,
                   "redeemed_cents": ln.redeemed_cents, "refunds": ln.refunds, "refunded_cents": ln.refunded_cents,
                   "net_cents": ln.net_cents} for ln in statement.lines],
    }
