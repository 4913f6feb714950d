"""Issue #15, item 1: a voucher never pays more than the bill. A shop that rings up a 1-fen sale on a
¥20 voucher without threshold is paid 1 fen; the other ¥19.99 goes back to the campaign, the books
still balance, and settlement and the reports count only what the subsidy really paid. Through the
real server, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.http_client import Http
from tests.redemptions.live_shop import FACE, LiveShop
from voucher_app.core.extensions import db
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.ledger.service import balances
from voucher_app.settlement.models import SettlementStatement
from voucher_app.settlement.reconciliation import check_ledger
from voucher_app.settlement.service import settle


@pytest.fixture
def shop(server, clock) -> LiveShop:
    return LiveShop.open(Http(server.url), clock)


def moved(voucher_id: str, source: Account, target: Account) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
        LedgerEntry.voucher_id == voucher_id, LedgerEntry.from_account == source, LedgerEntry.to_account == target))


@pytest.mark.parametrize("bill, discount", [(1, 1), (1_500, 1_500), (FACE, FACE), (FACE + 1, FACE), (9_900, FACE)])
def test_the_discount_is_the_face_value_or_the_bill_whichever_is_smaller(shop, bill, discount):
    resident, voucher = shop.claim()
    status, sale = shop.redeem(shop.qr(resident, voucher), bill)
    assert status == 201, sale
    assert (sale["bill_cents"], sale["discount_cents"], sale["payable_cents"]) == (bill, discount, bill - discount)
    assert moved(voucher["id"], Account.reserved, Account.payable) == discount
    assert moved(voucher["id"], Account.reserved, Account.available) == FACE - discount  # back to the campaign
    assert check_ledger()[1] == []


def test_a_one_fen_sale_earns_one_fen_and_the_wallet_shows_the_real_saving(shop):
    resident, voucher = shop.claim()
    shop.redeem(shop.qr(resident, voucher), 1)
    _, wallet, _ = shop.http.get("/api/v1/me/vouchers", token=resident)
    used = next(item for item in wallet["items"] if item["id"] == voucher["id"])
    assert used["status"] == "redeemed" and used["used"]["saved_cents"] == 1


def test_refunding_a_small_sale_gives_the_voucher_its_whole_value_back(shop):
    resident, voucher = shop.claim()
    _, sale = shop.redeem(shop.qr(resident, voucher), 300)
    assert sale["discount_cents"] == 300
    status, refunded = shop.refund(sale)
    assert status == 200 and refunded["voucher_status"] == "claimed", refunded
    assert check_ledger()[1] == []
    assert balances(shop.campaign["id"])[Account.reserved.value] == FACE  # the whole face value held again
    status, again = shop.redeem(shop.qr(resident, voucher), 5_000)
    assert status == 201 and again["discount_cents"] == FACE
    assert check_ledger()[1] == []


def test_settlement_pays_the_shop_only_what_the_subsidy_paid(shop):
    for bill in (1, 700, 8_800):
        resident, voucher = shop.claim()
        assert shop.redeem(shop.qr(resident, voucher), bill)[0] == 201
    settle(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))  # the sales were made by the wall clock
    db.session.expire_all()
    paid = db.session.scalar(select(func.sum(SettlementStatement.net_cents)).where(
        SettlementStatement.merchant_id == shop.merchant_id))
    assert paid == 1 + 700 + FACE
    assert check_ledger()[1] == []
