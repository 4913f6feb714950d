"""Percent vouchers with a cap, and the daily limit of sales per person per shop (issue #16, items 5 and 6).

A percent voucher pays ``percent`` of the bill rounded down to the fen, up to its cap (the voucher's
``discount_cents``, reserved at the claim); what the cap leaves unused goes back to the campaign.
``limit_per_merchant_day`` refuses a person's next sale at a shop the same city day with
``limit_reached``. Run on both databases (``TEST_DATABASE_URL``); on PostgreSQL a campaign without
the limit takes the one-statement sale, one with it the locked transaction.
"""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from campaigns.labels import rule_text
from campaigns.models import Campaign, Tier
from merchants.models import MerchantStatus
from tests.builders import PASSWORD, make_account, make_merchant, token_for
from tests.campaign_data import CITY, T0
from tests.scenario import enrol, make_resident, publish
from voucher_app.accounts.models import User
from voucher_app.core.errors import DomainError
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.redemptions import service
from voucher_app.redemptions.models import Redemption, RedemptionAttempt
from voucher_app.settlement.reconciliation import check_ledger
from voucher_app.vouchers.claiming import claim_voucher, memo
from voucher_app.vouchers.models import Voucher
from voucher_app.vouchers.tokens import sign


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of December 2026 in the city."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=CITY)


def make_percent(tier_id: str, percent: int) -> None:
    """Turn a published tier into a percent one, its face value the cap (as publishing a percent tier mints it)."""
    db.session.execute(update(Tier).where(Tier.id == tier_id).values(percent=percent, cap_cents=Tier.discount_cents))
    db.session.execute(update(Voucher).where(Voucher.tier_id == tier_id).values(percent=percent))
    db.session.commit()


class World:
    """The standard campaign (valid 18:00–02:00) with tier 0 made 20% off a bill of ¥100 or more, up to
    ¥30, and tier 1 15% off with no threshold, up to ¥10; an enrolled shop; the clock at 12-01 21:00."""

    def __init__(self, clock, limit_per_merchant_day: int | None = None):
        self.clock = clock
        clock.set(T0)
        self.admin = make_account(Role.admin)
        self.campaign = publish(self.admin, clock, limit_per_resident=6, limit_per_round=6)
        self.tier20, self.tier15 = (t.id for t in self.campaign.tiers)
        make_percent(self.tier20, 20)
        make_percent(self.tier15, 15)
        if limit_per_merchant_day is not None:
            db.session.execute(update(Campaign).where(Campaign.id == self.campaign.id)
                               .values(limit_per_merchant_day=limit_per_merchant_day))
            db.session.commit()
        memo.forget()
        self.shop, self.cashier = enrol(self.campaign, clock)
        clock.set(at(1, 21))

    def claim(self, tier_id: str, resident: User | None = None) -> str:
        body, _ = claim_voucher(self.campaign.id, tier_id, resident or make_resident(), self.clock.now(),
                                uuid.uuid4().hex)
        db.session.commit()
        return body["id"]

    def redeem(self, voucher_id: str, bill: int, cashier: User | None = None) -> dict | str:
        """The sale's answer, or the refusal's code."""
        now = self.clock.now()
        try:
            body, status = service.redeem(sign(voucher_id, now)[0], bill, cashier or self.cashier, now,
                                          uuid.uuid4().hex)
        except DomainError as refusal:
            return refusal.code
        assert status == 201
        return body


def entries(voucher_id: str) -> list[tuple]:
    db.session.commit()
    return [tuple(e) for e in db.session.execute(
        select(LedgerEntry.kind, LedgerEntry.from_account, LedgerEntry.to_account, LedgerEntry.amount_cents)
        .where(LedgerEntry.voucher_id == voucher_id).order_by(LedgerEntry.at, LedgerEntry.kind))]


# Percent with a cap ----------------------------------------------------------------------------------

PERCENT_CASES = [
    # (tier, bill, discount or refusal): 20% off a bill of ¥100 or more, up to ¥30
    ("tier20", 10_000, 2_000),          # at the threshold
    ("tier20", 12_801, 2_560),          # 2560.2 fen, rounded down to the fen
    ("tier20", 14_999, 2_999),          # 2999.8: down, never up
    ("tier20", 15_000, 3_000),          # exactly the cap
    ("tier20", 50_000, 3_000),          # the cap holds
    ("tier20", 9_999, "below_threshold"),
    # 15% off, no threshold, up to ¥10
    ("tier15", 7, 1),                   # 1.05 fen
    ("tier15", 6, "below_threshold"),   # 0.9 fen: nothing to take off, the voucher is kept
    ("tier15", 1, "below_threshold"),
    ("tier15", 6_666, 999),             # 999.9
    ("tier15", 100_000_000, 1_000),     # the largest bill allowed
]


@pytest.mark.parametrize("tier, bill, expected", PERCENT_CASES)
def test_a_percent_voucher_pays_its_percent_rounded_down_up_to_its_cap(tier, bill, expected, app, city, clock):
    world = World(clock)
    voucher_id = world.claim(getattr(world, tier))
    cap = 3_000 if tier == "tier20" else 1_000
    answer = world.redeem(voucher_id, bill)
    if isinstance(expected, str):
        assert answer == expected
        assert entries(voucher_id) == [("claim", Account.available, Account.reserved, cap)]
        return
    assert (answer["discount_cents"], answer["payable_cents"]) == (expected, bill - expected)
    db.session.commit()
    redemption = db.session.scalars(select(Redemption).where(Redemption.voucher_id == voucher_id)).one()
    assert (redemption.discount_cents, redemption.payable_cents) == (expected, bill - expected)
    unused = [("unused", Account.reserved, Account.available, cap - expected)] if cap > expected else []
    assert entries(voucher_id)[1:] == [("redeem", Account.reserved, Account.payable, expected), *unused]
    assert check_ledger()[1] == []


def test_the_sale_rule_is_the_subsidy_function():
    """The Python rule (the till's preview and SQLite's sale) on its own."""
    assert service.subsidy(3_000, 12_801, 20) == 2_560
    assert service.subsidy(3_000, 50_000, 20) == 3_000
    assert service.subsidy(1_000, 6, 15) == 0
    assert service.subsidy(3_000, 1_000) == 1_000  # a fixed voucher: never more than the bill


def test_the_ledger_balances_after_percent_sales_and_refunds(app, city, clock):
    world = World(clock)
    kept, returned, expired = (world.claim(world.tier20) for _ in range(3))
    small = world.claim(world.tier15)
    sales = {voucher_id: world.redeem(voucher_id, bill)
             for voucher_id, bill in ((kept, 12_801), (returned, 11_000), (small, 3_333))}
    assert [s["discount_cents"] for s in sales.values()] == [2_560, 2_200, 499]
    assert check_ledger()[1] == []

    world.clock.set(at(1, 22))  # returned the same evening: usable again, the whole cap reserved again
    service.refund(sales[returned]["id"], None, world.cashier, world.clock.now())
    assert sorted(entries(returned)[-2:]) == sorted([("refund", Account.payable, Account.reserved, 2_200),
                                                     ("refund", Account.available, Account.reserved, 800)])
    assert check_ledger()[1] == []
    again = world.redeem(returned, 30_000)  # and used again, for more
    assert again["discount_cents"] == 3_000
    assert check_ledger()[1] == []

    world.clock.set(at(3, 21))  # used two days later, returned after the voucher expired (12-08 21:00)
    sales[expired] = world.redeem(expired, 20_000)
    assert sales[expired]["discount_cents"] == 3_000
    world.clock.set(at(8, 21, 30))
    service.refund(sales[expired]["id"], None, world.cashier, world.clock.now())
    assert sorted(entries(expired)[-2:]) == [("expire", Account.reserved, Account.available, 3_000),
                                             ("refund", Account.payable, Account.reserved, 3_000)]
    assert check_ledger()[1] == []
    db.session.commit()
    in_force = db.session.scalar(select(func.sum(Redemption.discount_cents)).where(Redemption.refunded_at.is_(None)))
    assert in_force == 2_560 + 3_000 + 499


def test_the_till_previews_what_a_percent_voucher_takes_off_the_bill(client, city, clock):
    world = World(clock)
    voucher_id = world.claim(world.tier20)
    assert client.post("/staff/login", data={"username": world.cashier.username,
                                             "password": PASSWORD}).status_code == 302
    token = sign(voucher_id, clock.now())[0]

    def check(bill: str | None = None, lang: str = "zh") -> dict:
        return client.post(f"/till/check?lang={lang}", json={"token": token, "bill": bill}).get_json()

    scanned = check()
    assert scanned["ok"] and scanned["percent"] == 20 and scanned["discount_cents"] == 3_000
    assert scanned["rule"] == "满100元享8折，最高减30元" and scanned["preview"] is None
    assert check(lang="en")["rule"] == "20% off a bill of ¥100 or more, up to ¥30"
    preview = check("128.01")["preview"]
    assert (preview["discount_cents"], preview["payable_cents"], preview["below_threshold"]) == (2_560, 10_241, False)
    assert preview["text"] == "优惠¥25.60，应收¥102.41"
    assert check("500", lang="en")["preview"]["text"] == "Discount ¥30, collect ¥470"
    assert check("99.99")["preview"] == {"bill_cents": 9_999, "below_threshold": True,
                                         "text": "使用该券需消费满 ¥100。"}
    assert check("abc")["preview"] is None
    # What the preview said is what the sale takes.
    page = client.post("/till/redeem", data={"token": token, "bill": "128.01", "key": uuid.uuid4().hex})
    assert page.status_code == 200 and "25.60" in page.get_data(as_text=True)
    db.session.commit()
    assert db.session.scalar(select(Redemption.discount_cents).where(Redemption.voucher_id == voucher_id)) == 2_560


def test_the_rule_text_of_a_percent_voucher(app):
    with force_locale("zh"):
        assert rule_text(0, 5_000, 20) == "8折，最高减50元"
        assert rule_text(0, 1_000, 15) == "8.5折，最高减10元"
        assert rule_text(10_000, 3_000) == "满100减30"
    with force_locale("en"):
        assert rule_text(0, 5_000, 20) == "20% off, up to ¥50"
        assert rule_text(0, 2_000) == "20 off, no minimum spend"


def test_the_wallet_shows_a_percent_voucher_s_rule(client, city, clock):
    world = World(clock)
    resident = make_resident()
    world.claim(world.tier15, resident)
    items = client.get("/api/v1/me/vouchers", headers=token_for(resident)).get_json()["items"]
    assert [(v["rule"], v["percent"]) for v in items] == [("8.5折，最高减10元", 15)]


# The daily limit per person per shop ------------------------------------------------------------------

def test_a_person_s_sales_at_one_shop_stop_at_the_daily_limit(app, city, clock):
    world = World(clock, limit_per_merchant_day=2)
    resident = make_resident()
    vouchers = [world.claim(world.tier20, resident) for _ in range(5)]
    assert world.redeem(vouchers[0], 12_800)["discount_cents"] == 2_560
    assert world.redeem(vouchers[1], 12_800)["discount_cents"] == 2_560
    assert world.redeem(vouchers[2], 12_800) == "limit_reached"
    now = clock.now()
    with pytest.raises(DomainError) as refused:  # the till says so at the scan already
        service.describe(sign(vouchers[2], now)[0], world.cashier, now)
    assert refused.value.code == "limit_reached" and refused.value.status == 409
    assert "2" in str(refused.value.detail)

    # Another person at the same shop, and the same person at another shop, are not limited by it.
    assert world.redeem(world.claim(world.tier20), 12_800)["discount_cents"] == 2_560
    _other_shop, other_cashier = enrol(world.campaign, clock)
    assert world.redeem(vouchers[2], 12_800, other_cashier)["discount_cents"] == 2_560

    # A refund gives the sale back; the next city day starts afresh (midnight in the city, not UTC).
    first = db.session.scalar(select(Redemption.id).where(Redemption.voucher_id == vouchers[0]))
    clock.set(at(1, 23))
    service.refund(first, None, world.cashier, clock.now())
    assert world.redeem(vouchers[3], 12_800)["discount_cents"] == 2_560
    assert world.redeem(vouchers[4], 12_800) == "limit_reached"
    clock.set(at(2, 0, 1))
    assert world.redeem(vouchers[4], 12_800)["discount_cents"] == 2_560
    assert check_ledger()[1] == []
    db.session.commit()
    refused_codes = db.session.scalars(select(RedemptionAttempt.outcome).where(
        RedemptionAttempt.outcome != "ok", RedemptionAttempt.action == "redeem")).all()
    assert refused_codes == ["limit_reached", "limit_reached"]


def test_accounts_sharing_an_id_number_are_one_person_at_the_till(app, city, clock):
    world = World(clock, limit_per_merchant_day=1)
    phone, second_phone = make_resident(), make_resident()
    second_phone.person_id = phone.id  # the second account bound the first one's ID number
    db.session.commit()
    first = world.claim(world.tier20, phone)
    second = world.claim(world.tier20, second_phone)
    assert world.redeem(first, 12_800)["discount_cents"] == 2_560
    assert world.redeem(second, 12_800) == "limit_reached"


def test_the_limit_comes_after_the_voucher_s_state_and_before_the_bill(app, city, clock):
    world = World(clock, limit_per_merchant_day=1)
    resident = make_resident()
    used, next_one = world.claim(world.tier20, resident), world.claim(world.tier20, resident)
    world.redeem(used, 12_800)
    assert world.redeem(used, 12_800) == "already_redeemed"
    assert world.redeem(next_one, 100) == "limit_reached"  # a bill below the threshold: the limit first
    clock.set(at(2, 17, 59))
    assert world.redeem(next_one, 12_800) == "outside_hours"  # a new day, outside the hours: the hours first


def test_a_shop_that_cannot_take_the_voucher_is_refused_as_before(app, city, clock):
    world = World(clock, limit_per_merchant_day=1)
    stranger, _ = make_merchant(MerchantStatus.approved)
    cashier = make_account(Role.cashier, stranger)
    assert world.redeem(world.claim(world.tier20), 12_800, cashier) == "merchant_not_enrolled"
