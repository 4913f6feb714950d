"""Each rule fires on the pattern it is for, names the planted sales as its evidence, and keeps quiet
about an honest shop next to it (a month of December, judged on the 31st)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.fraud.plant import EVALUATED_AT, Plant, city_time, daily
from voucher_app.core.extensions import db
from voucher_app.fraud.models import Flag
from voucher_app.fraud.rules import open_at, parse_hours
from voucher_app.fraud.service import evaluate


@pytest.fixture
def plant(app, city):
    return Plant()


@pytest.fixture
def honest(plant):
    """A busy, honest shop: 20 sales a day all month in its opening hours, bills of every size, a
    resident now and then coming back, the odd redo of a mistyped bill."""
    shop, cashier = plant.shop(opening_hours="10:00-22:00")
    regulars = plant.residents(120)
    times = daily(1, 30, 20, hour=11)
    bills = [10_000 + (i * 7919) % 25_000 for i in range(len(times))]
    plant.sales(shop, cashier, times, residents=regulars, bills=bills)
    for resident in regulars[:8]:
        plant.sign_in(resident, city_time(1, 9), device=f"phone-{resident}", address="10.0.0.1")
    return shop


def flags_of(shop) -> dict[str, Flag]:
    return {flag.rule: flag for flag in db.session.scalars(select(Flag).where(Flag.merchant_id == shop.id))}


def judge():
    return evaluate(EVALUATED_AT.astimezone(dt.timezone.utc))


def test_a_month_of_honest_trade_raises_no_flag(plant, honest):
    judge()
    assert flags_of(honest) == {}


def test_velocity_a_day_far_above_the_shops_own_history(plant, honest):
    shop, cashier = plant.shop()
    plant.sales(shop, cashier, daily(1, 20, 8))
    spike = plant.sales(shop, cashier, daily(21, 21, 60, hour=10))
    plant.sales(shop, cashier, daily(22, 30, 8))
    judge()
    flag = flags_of(shop)["velocity"]
    assert set(spike) == set(flag.redemption_ids)
    assert flag.explanation["kind"] == "day" and flag.explanation["count"] == 60
    assert flag.explanation["median"] == 8 and flag.explanation["ratio"] == 7.5
    assert flags_of(honest) == {}


def test_velocity_one_cashiers_burst_within_an_hour(plant, honest):
    shop, (steady, burst) = plant.shop(cashiers=2)
    plant.sales(shop, steady, daily(1, 30, 10))
    minutes = [city_time(18, 15, m) for m in range(0, 60, 2)]  # 30 in one hour
    planted = plant.sales(shop, burst, minutes)
    judge()
    flag = flags_of(shop)["velocity"]
    assert flag.explanation["kind"] == "cashier_hour" and flag.explanation["count"] == 30
    assert set(planted) <= set(flag.redemption_ids)
    assert flags_of(honest) == {}


def test_repeat_pair_one_resident_again_and_again(plant, honest):
    shop, cashier = plant.shop()
    (regular,) = plant.residents(1)
    planted = plant.sales(shop, cashier, [city_time(day, 19) for day in range(2, 14)], residents=[regular])
    judge()
    flag = flags_of(shop)["repeat_pair"]
    assert set(flag.redemption_ids) == set(planted) and flag.explanation["count"] == 12
    assert flag.explanation["resident"].startswith("R-")
    assert flags_of(honest) == {}


def test_threshold_hugging_bills_made_to_fit_the_voucher(plant, honest):
    shop, cashier = plant.shop()
    times = daily(1, 30, 2)
    bills = [10_000 + (i % 51) if i % 5 else 16_800 for i in range(len(times))]  # 4 in 5 at 100.00–100.50
    sales = plant.sales(shop, cashier, times, bills=bills)
    judge()
    flag = flags_of(shop)["threshold_hugging"]
    assert set(flag.redemption_ids) == {sid for sid, bill in zip(sales, bills, strict=True) if bill <= 10_050}
    assert flag.explanation["share"] == 80
    assert flags_of(honest) == {}


def test_threshold_hugging_ignores_face_value_and_percent_vouchers(plant):
    shop, cashier = plant.shop()
    plant.sales(shop, cashier, daily(1, 30, 2), bills=[1_000] * 60, threshold=0, discount=1_000)
    plant.sales(shop, cashier, daily(1, 30, 1), bills=[10_000] * 30, threshold=0, discount=5_000, percent=20)
    judge()
    assert "threshold_hugging" not in flags_of(shop)


def test_outside_hours_sales_while_the_shop_is_closed(plant, honest):
    shop, cashier = plant.shop(opening_hours="17:00-02:00,10:00-14:00")
    plant.sales(shop, cashier, daily(1, 30, 3, hour=18))
    plant.sales(shop, cashier, [city_time(day, 1, 30) for day in range(1, 30)])  # after midnight: still open
    night = plant.sales(shop, cashier, [city_time(day, 3, 40) for day in range(2, 9)])
    judge()
    flag = flags_of(shop)["outside_hours"]
    assert set(flag.redemption_ids) == set(night)
    assert flag.explanation["busiest_hour"] == "03:00"
    assert flags_of(honest) == {}


def test_outside_hours_does_not_judge_a_shop_without_hours(plant):
    shop, cashier = plant.shop(opening_hours=None)
    plant.sales(shop, cashier, [city_time(day, 3, 40) for day in range(1, 20)])
    judge()
    assert "outside_hours" not in flags_of(shop)


@pytest.mark.parametrize(("text", "minute", "inside"), [
    ("09:00-22:00", 9 * 60, True), ("09:00-22:00", 22 * 60, False), ("09:00-22:00", 8 * 60 + 59, False),
    ("17:00-02:00", 60, True), ("17:00-02:00", 2 * 60, False), ("17:00-02:00,10:00-14:00", 11 * 60, True),
    ("17:00-02:00,10:00-14:00", 15 * 60, False), ("00:00-24:00", 3 * 60, True), ("22:00-06:00", 5 * 60 + 59, True),
])
def test_opening_hours_may_cross_midnight(text, minute, inside):
    assert open_at(minute, parse_hours(text), grace=0) is inside


def test_unreadable_opening_hours_are_not_judged():
    assert parse_hours("all day") is None and parse_hours("") is None and parse_hours("25:00-26:00") is None


def test_fast_claim_redeem_many_residents_within_seconds(plant, honest):
    shop, cashier = plant.shop()
    plant.sales(shop, cashier, daily(1, 30, 3))
    planted = plant.sales(shop, cashier, [city_time(day, 20, 5) for day in range(2, 14)],
                          claim_gap=dt.timedelta(seconds=12))
    judge()
    flag = flags_of(shop)["fast_claim_redeem"]
    assert set(flag.redemption_ids) == set(planted)
    assert flag.explanation["residents"] == 12 and flag.explanation["average"] == 12
    assert flags_of(honest) == {}


def test_shared_device_many_residents_signed_in_on_one_phone(plant, honest):
    shop, cashier = plant.shop()
    plant.sales(shop, cashier, daily(1, 30, 3))
    scalped = plant.residents(6)
    for resident in scalped:
        plant.sign_in(resident, city_time(1, 10), device="a-scalpers-phone", address=f"10.1.0.{len(resident)}")
    planted = plant.sales(shop, cashier, [city_time(day, 15) for day in range(2, 8)], residents=scalped)
    judge()
    flag = flags_of(shop)["shared_device"]
    assert set(flag.redemption_ids) == set(planted)
    assert flag.explanation["kind"] == "device" and flag.explanation["residents"] == 6
    assert flags_of(honest) == {}


def test_refund_cycle_the_same_voucher_redeemed_refunded_and_redeemed_again(plant, honest):
    shop, cashier = plant.shop()
    plant.sales(shop, cashier, daily(1, 30, 3))
    first = plant.sales(shop, cashier, [city_time(day, 12) for day in range(2, 8)])
    cycled = [sid for day, sale in zip(range(2, 8), first, strict=True)
              for sid in plant.cycle(shop, cashier, sale, [city_time(day, 13), city_time(day, 14)])]
    judge()
    flag = flags_of(shop)["refund_cycle"]
    assert set(flag.redemption_ids) == set(first) | set(cycled)
    assert flag.explanation["vouchers"] == 6 and flag.explanation["most"] == 3
    assert flags_of(honest) == {}
