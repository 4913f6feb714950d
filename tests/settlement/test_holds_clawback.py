"""Fraud holds and clawbacks in settlement (issue #17, part 3), on SQLite and PostgreSQL.

An open flag scoring at least ``FRAUD_HOLD_SCORE`` holds the shop's statements until it is resolved;
a confirmed flag claws back the subsidy of its sales: a negative clawback line on the statement of
the confirmation's day, the subsidy back in the campaign's pool, and ``voucher ledger check`` clean
to the fen. Flags are made here as rows (the fraud rules that open them are tested with the rules)
and confirmed the way the review does it: ``claw_back`` in the resolving write transaction.
"""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import select, text

from merchants.models import Merchant, MerchantStatus
from tests.builders import make_account, token_for
from tests.scenario import World, at, make_resident
from tests.settlement.test_cutoff import committing_after_the_block
from tests.settlement.test_settlement_pages import page, rows, shown, sign_in
from tests.settlement.test_settlements_api import owner_of
from voucher_app.core.database import write_transaction
from voucher_app.core.extensions import db
from voucher_app.core.hotpath import release
from voucher_app.core.roles import Role
from voucher_app.fraud.clawback import claw_back
from voucher_app.fraud.models import Flag, FlagStatus
from voucher_app.ledger.models import LedgerEntry
from voucher_app.ledger.service import balances
from voucher_app.redemptions.models import Redemption
from voucher_app.redemptions.service import refund
from voucher_app.scheduler.runs import run_manually
from voucher_app.scheduler.schedule import job_named
from voucher_app.settlement.models import SettlementStatement
from voucher_app.settlement.reconciliation import check_ledger

HELD_EN = ("Held while the commerce bureau reviews a fraud flag on the shop's sales; paid at the first settlement "
           "after the review is closed.")


# Helpers -----------------------------------------------------------------------------------------------

@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}  # the pages' forms as in production


@pytest.fixture
def world(city, clock) -> World:
    """Campaign ``c`` with shops ``a`` and ``b``; five residents' 满100减30 vouchers in ``world.v``."""
    world = World(clock)
    clock.set(at(12, 1, 21))
    world.v = [world.claim(make_resident(), world.tier30) for _ in range(5)]
    return world


def open_flag(world: World, shop: Merchant, redemption_ids: list[str], score: int = 80, rule: str = "test_rule") -> str:
    """An open flag on ``shop`` naming ``redemption_ids``, as a fraud rule would open it; its id."""
    now = world.clock.now()
    flag = Flag(rule=rule, merchant_id=shop.id, score=score, explanation={"test": True},
                redemption_ids=list(redemption_ids), status=FlagStatus.open, opened_at=now, updated_at=now)
    db.session.add(flag)
    db.session.commit()
    return flag.id


def resolve(flag_id: str, outcome: str, now: dt.datetime) -> dict | None:
    """The bureau's decision on a flag: cleared, or confirmed (its sales clawed back in the same transaction)."""
    with write_transaction():
        flag = db.session.scalars(select(Flag).where(Flag.id == flag_id).with_for_update()
                                  .execution_options(populate_existing=True)).one()
        flag.status, flag.resolved_at = FlagStatus(outcome), now
        taken = claw_back(flag, None, now) if outcome == "confirmed" else None
    return taken


def settle_at(clock, when: dt.datetime) -> dict:
    clock.set(when)
    return run_manually(job_named("settle"), clock.now()).summary


def statements(client, shop: Merchant, **query) -> list[dict]:
    response = client.get("/api/v1/settlements", headers=token_for(owner_of(shop)), query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def one_day(client, shop: Merchant, day: str, **query) -> dict:
    return next(s for s in statements(client, shop, **query) if s["day"] == day)


def ledger_check_passes(runner) -> None:
    """``voucher ledger check`` as an operator runs it: exit 0, every campaign balanced."""
    db.session.commit()  # the test's own read transaction must not hide what was just written
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.output
    assert "balance" in result.output
    assert check_ledger()[1] == []


def sell(world: World, voucher: str, cashier, bill: int, when: dt.datetime) -> str:
    world.clock.set(when)
    return world.redeem(voucher, cashier, bill)["id"]


# Hold → clear → paid ------------------------------------------------------------------------------------

def test_an_open_flag_holds_the_shops_statement_until_it_is_cleared(client, runner, world, clock):
    sold = sell(world, world.v[0], world.cashier_a, 12_800, at(12, 1, 21, 30))
    sell(world, world.v[1], world.cashier_b, 20_000, at(12, 1, 22))
    flag_id = open_flag(world, world.a, [sold], score=80)

    first = settle_at(clock, at(12, 2, 2, 30))
    assert (first["statements"], first["statements_held"]) == (2, 1)
    held = one_day(client, world.a, "2026-12-01", lang="en")
    assert (held["status"], held["net_cents"], held["settled_at"]) == ("held", 3_000, None)
    assert held["hold_reason"] == HELD_EN
    assert held["hold"] == {"codes": ["fraud_flag"], "flag_ids": [flag_id]}
    assert one_day(client, world.b, "2026-12-01")["status"] == "settled"  # the other shop is paid
    assert balances(world.c.id)["payable"] == 3_000
    ledger_check_passes(runner)

    assert settle_at(clock, at(12, 3, 2, 30))["statements_released"] == 0  # still open: still held
    resolve(flag_id, "cleared", at(12, 3, 10))
    assert settle_at(clock, at(12, 4, 2, 30))["statements_released"] == 1
    paid = one_day(client, world.a, "2026-12-01")
    assert (paid["status"], paid["net_cents"], paid["hold_reason"], paid["settled_at"]) == (
        "settled", 3_000, None, "2026-12-04T02:30:00+08:00")
    assert balances(world.c.id)["payable"] == 0 and balances(world.c.id)["settled"] == 6_000
    ledger_check_passes(runner)


def test_the_hold_reason_is_in_chinese_by_default(client, world, clock):
    sold = sell(world, world.v[0], world.cashier_a, 12_800, at(12, 1, 21, 30))
    open_flag(world, world.a, [sold])
    settle_at(clock, at(12, 2, 2, 30))
    assert one_day(client, world.a, "2026-12-01")["hold_reason"] == \
        "商务局正在核查该商户交易的疑似欺诈标记，暂缓结算；核查结束后的首次结算时支付。"


def test_a_flag_below_the_hold_score_does_not_hold(client, world, clock):
    sold = sell(world, world.v[0], world.cashier_a, 12_800, at(12, 1, 21, 30))
    open_flag(world, world.a, [sold], score=69)
    assert settle_at(clock, at(12, 2, 2, 30))["statements_held"] == 0
    assert one_day(client, world.a, "2026-12-01")["status"] == "settled"


@pytest.mark.parametrize("app_overrides", [{"FRAUD_HOLD_SCORE": 50}])
def test_the_hold_score_is_configurable(client, world, clock):
    sold = sell(world, world.v[0], world.cashier_a, 12_800, at(12, 1, 21, 30))
    open_flag(world, world.a, [sold], score=50)
    assert settle_at(clock, at(12, 2, 2, 30))["statements_held"] == 1


def test_a_shop_suspended_and_flagged_stays_held_until_both_end(client, world, clock):
    sold = sell(world, world.v[0], world.cashier_a, 12_800, at(12, 1, 21, 30))
    flag_id = open_flag(world, world.a, [sold])
    db.session.get(Merchant, world.a.id).status = MerchantStatus.suspended
    db.session.commit()
    settle_at(clock, at(12, 2, 2, 30))
    held = one_day(client, world.a, "2026-12-01", lang="en")
    assert held["hold"]["codes"] == ["merchant_suspended", "fraud_flag"]
    assert held["hold_reason"] == ("Held while the shop is suspended; paid at the first settlement after it is "
                                   "reinstated. " + HELD_EN)
    resolve(flag_id, "cleared", at(12, 2, 10))
    assert settle_at(clock, at(12, 3, 2, 30))["statements_released"] == 0  # still suspended
    db.session.get(Merchant, world.a.id).status = MerchantStatus.approved
    db.session.commit()
    assert settle_at(clock, at(12, 4, 2, 30))["statements_released"] == 1


# Hold → confirm → clawback → balanced ------------------------------------------------------------------

def test_a_confirmed_flag_claws_back_on_the_next_statement_and_the_books_balance(client, runner, world, clock):
    fraud = sell(world, world.v[0], world.cashier_a, 12_800, at(12, 1, 21, 30))
    honest = sell(world, world.v[1], world.cashier_a, 10_000, at(12, 1, 21, 40))
    sell(world, world.v[2], world.cashier_b, 20_000, at(12, 1, 22))  # so 12-02 is not the first day settled
    flag_id = open_flag(world, world.a, [fraud])
    settle_at(clock, at(12, 2, 2, 30))
    available = balances(world.c.id)["available"]

    assert resolve(flag_id, "confirmed", at(12, 2, 15)) == {"redemptions": 1, "cents": 3_000,
                                                           "redemption_ids": [fraud]}
    assert balances(world.c.id)["available"] == available + 3_000  # the subsidy is back in the pool
    ledger_check_passes(runner)  # between the clawback and the next settlement too

    summary = settle_at(clock, at(12, 3, 2, 30))
    assert (summary["statements_released"], summary["statements"]) == (1, 1)
    clawback_day = one_day(client, world.a, "2026-12-02")
    assert {k: clawback_day[k] for k in ("redemptions", "clawbacks", "clawed_back_cents", "net_cents", "status")} == {
        "redemptions": 0, "clawbacks": 1, "clawed_back_cents": 3_000, "net_cents": -3_000, "status": "settled"}
    assert clawback_day["lines"] == [{"kind": "clawback", "campaign_id": world.c.id, "redemptions": 1,
                                      "net_cents": -3_000, "flag_ids": [flag_id],
                                      "campaign_name": "广元夜间消费券·第一期"}]
    held_day = one_day(client, world.a, "2026-12-01")
    assert (held_day["status"], held_day["net_cents"]) == ("settled", 6_000)  # paid as it stands
    assert [ln["kind"] for ln in held_day["lines"]] == ["sales"]
    books = balances(world.c.id)
    assert (books["payable"], books["settled"]) == (0, 3_000 + 3_000)  # the honest sale, and shop b's
    ledger_check_passes(runner)
    assert db.session.get(Redemption, honest).clawed_back_at is None
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "clawback")).all()
    assert [(e.from_account.value, e.to_account.value, e.amount_cents) for e in entries] == [
        ("payable", "available", 3_000)]


def test_a_clawback_of_an_already_paid_sale_makes_the_day_negative_and_is_recovered(client, runner, world, clock):
    fraud = sell(world, world.v[0], world.cashier_a, 12_800, at(12, 1, 21, 30))
    settle_at(clock, at(12, 2, 2, 30))
    assert one_day(client, world.a, "2026-12-01")["status"] == "settled"  # paid before anyone noticed
    sell(world, world.v[1], world.cashier_a, 10_000, at(12, 2, 20))  # a sale the same day as the clawback
    clock.set(at(12, 2, 20, 30))
    flag_id = open_flag(world, world.a, [fraud], score=95)
    resolve(flag_id, "confirmed", at(12, 2, 21))

    settle_at(clock, at(12, 3, 2, 30))
    day = one_day(client, world.a, "2026-12-02")
    assert (day["redeemed_cents"], day["clawed_back_cents"], day["net_cents"], day["status"]) == (
        3_000, 3_000, 0, "settled")
    assert [(ln["kind"], ln["net_cents"]) for ln in day["lines"]] == [("sales", 3_000), ("clawback", -3_000)]
    assert sum(ln["net_cents"] for ln in day["lines"]) == day["net_cents"]

    # Another paid sale clawed back on a day without sales: the day owes less than nothing.
    other = sell(world, world.v[2], world.cashier_a, 10_000, at(12, 3, 20))
    settle_at(clock, at(12, 4, 2, 30))
    resolve(open_flag(world, world.a, [other], score=90, rule="other_rule"), "confirmed", at(12, 4, 12))
    settle_at(clock, at(12, 5, 2, 30))
    negative = one_day(client, world.a, "2026-12-04")
    assert (negative["net_cents"], negative["status"]) == (-3_000, "settled")
    books = balances(world.c.id)
    assert (books["payable"], books["settled"]) == (0, 3_000)  # only the honest 12-02 sale stays paid
    ledger_check_passes(runner)


def test_the_bureaus_review_over_the_api_claws_back_and_the_books_balance(client, runner, world, clock):
    """End to end: hold, the officer confirms through ``POST /flags/{id}/resolve``, the next run pays
    the held day and deducts the clawback, ``voucher ledger check`` exits 0."""
    fraud = sell(world, world.v[0], world.cashier_a, 12_800, at(12, 1, 21, 30))
    flag_id = open_flag(world, world.a, [fraud], score=90)
    settle_at(clock, at(12, 2, 2, 30))
    assert one_day(client, world.a, "2026-12-01")["status"] == "held"
    clock.set(at(12, 2, 16))
    response = client.post(f"/api/v1/flags/{flag_id}/resolve", headers=token_for(make_account(Role.admin)),
                           json={"outcome": "confirmed", "note": "Same phone paid at every till; confirmed."})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["clawback"]["cents"] == 3_000
    settle_at(clock, at(12, 3, 2, 30))
    assert [(s["day"], s["status"], s["net_cents"]) for s in statements(client, world.a)] == [
        ("2026-12-02", "settled", -3_000), ("2026-12-01", "settled", 3_000)]
    assert balances(world.c.id)["settled"] == 0 and balances(world.c.id)["payable"] == 0
    ledger_check_passes(runner)


# Refunds and clawbacks exclude each other -----------------------------------------------------------------

def test_a_refund_after_a_clawback_is_refused_with_its_own_code(client, world, clock):
    fraud = sell(world, world.v[0], world.cashier_a, 12_800, at(12, 1, 21, 30))
    resolve(open_flag(world, world.a, [fraud]), "confirmed", at(12, 1, 23))
    clock.set(at(12, 2, 9))
    response = client.post(f"/api/v1/redemptions/{fraud}/refund", json={}, headers=token_for(world.cashier_a),
                           query_string={"lang": "en"})
    body = response.get_json()
    assert (response.status_code, body["code"]) == (409, "clawed_back"), body
    assert "clawed back" in body["detail"]
    db.session.expire_all()
    assert db.session.get(Redemption, fraud).refunded_at is None


def test_a_clawback_skips_refunded_sales_other_shops_sales_and_sales_already_clawed_back(runner, world, clock):
    refunded = sell(world, world.v[0], world.cashier_a, 12_800, at(12, 1, 21, 30))
    kept = sell(world, world.v[1], world.cashier_a, 10_000, at(12, 1, 21, 40))
    elsewhere = sell(world, world.v[2], world.cashier_b, 10_000, at(12, 1, 21, 50))
    refund(refunded, None, world.cashier_a, at(12, 1, 22))
    taken = resolve(open_flag(world, world.a, [refunded, kept, elsewhere, "01NOSUCHREDEMPTION00000000"]),
                    "confirmed", at(12, 1, 23))
    assert taken == {"redemptions": 1, "cents": 3_000, "redemption_ids": [kept]}
    again = resolve(open_flag(world, world.a, [kept], rule="second_rule"), "confirmed", at(12, 1, 23, 30))
    assert again == {"redemptions": 0, "cents": 0, "redemption_ids": []}
    db.session.expire_all()
    assert db.session.get(Redemption, elsewhere).clawed_back_at is None
    ledger_check_passes(runner)


def test_the_ledger_check_still_finds_a_clawback_without_its_money(runner, world, clock):
    fraud = sell(world, world.v[0], world.cashier_a, 12_800, at(12, 1, 21, 30))
    with write_transaction():  # a clawback that forgot the ledger
        db.session.get(Redemption, fraud).clawed_back_at = at(12, 1, 23)
    _, differences = check_ledger()
    assert {d.what for d in differences} == {
        "payable + settled equals the discounts of redemptions in force",
        "clawed back (payable → available) equals the discounts of clawed-back redemptions"}
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 1


def _race(app, fraud: str, cashier, flag_id: str, now: dt.datetime, first: str) -> dict:
    """A refund and the flag's confirmation of the same sale at once, in two threads with connections
    of their own. On PostgreSQL the test holds the sale's row until both wait for it, ``first`` (a
    name) queued first; on SQLite, where writers run one at a time, the two just start together."""
    outcome: dict = {}
    actions = {"refund": lambda: refund(fraud, None, cashier, now),
               "clawback": lambda: resolve(flag_id, "confirmed", now)}

    def run(name):
        with app.app_context():
            try:
                outcome[name] = actions[name]()
            except Exception as err:  # the test asserts which refusal it was
                outcome[name] = err
            finally:
                db.session.remove()
                release(db.engine)

    order = [first, *(name for name in actions if name != first)]
    threads = [threading.Thread(target=run, args=(name,)) for name in order]
    if db.engine.dialect.name != "postgresql":
        for thread in threads:
            thread.start()
    else:
        blocker = db.engine.connect()
        held = blocker.begin()
        try:
            blocker.execute(text("SELECT id FROM redemptions WHERE id = :id FOR UPDATE"), {"id": fraud})
            for waiting, thread in enumerate(threads, start=1):
                thread.start()
                _wait_for_waiters(blocker, waiting)
        finally:
            held.rollback()
            blocker.close()
    for thread in threads:
        thread.join(30)
    db.session.commit()
    return outcome


def _wait_for_waiters(blocker, n: int) -> None:
    """Until ``n`` backends wait for a lock: the first in line waits for the blocker's transaction, the
    next for the first (a row's waiters queue), so every waiter counts (pg_locks is read afresh)."""
    deadline = time.monotonic() + 10
    while blocker.execute(text("SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted")).scalar() < n:
        assert time.monotonic() < deadline, f"{n} writers never waited for the sale"
        time.sleep(0.01)


def test_a_refund_and_a_clawback_of_the_same_sale_at_once_exactly_one_wins(app, runner, world, clock):
    postgres = db.engine.dialect.name == "postgresql"
    wins = []
    for i, first in enumerate(["refund", "clawback", "refund", "clawback"]):
        fraud = sell(world, world.v[i], world.cashier_a, 12_800, at(12, 1, 21, 30 + i))
        flag_id = open_flag(world, world.a, [fraud], rule=f"race_{i}")
        outcome = _race(app, fraud, world.cashier_a, flag_id, at(12, 1, 23, i), first)
        taken, refunded = outcome["clawback"], outcome["refund"]
        assert not isinstance(taken, Exception), taken
        if taken["redemptions"] == 1:
            assert getattr(refunded, "code", None) == "clawed_back", refunded
            wins.append("clawback")
        else:
            assert taken == {"redemptions": 0, "cents": 0, "redemption_ids": []}
            assert not isinstance(refunded, Exception), refunded
            wins.append("refund")
        db.session.expire_all()
        row = db.session.get(Redemption, fraud)
        assert (row.refunded_at is None) != (row.clawed_back_at is None)
    if postgres:  # whoever had the row first won; the other read the outcome
        assert wins == ["refund", "clawback", "refund", "clawback"]
    ledger_check_passes(runner)


# The late check ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("app_overrides", [{"SETTLEMENT_HORIZON_SECONDS": 0}])
def test_a_clawback_that_commits_after_its_day_was_settled_is_deducted_once(app, client, runner, world, clock):
    fraud = sell(world, world.v[0], world.cashier_a, 12_800, at(12, 1, 21, 30))
    sell(world, world.v[1], world.cashier_a, 10_000, at(12, 2, 20))  # 12-02 has a statement to amend
    settle_at(clock, at(12, 2, 2, 30))
    flag_id = open_flag(world, world.a, [fraud], score=60)  # below the hold score: nothing held
    stamped = at(12, 2, 23, 59) + dt.timedelta(seconds=59.9)
    with committing_after_the_block(app, lambda: resolve(flag_id, "confirmed", stamped), "redemptions", fraud):
        first = settle_at(clock, at(12, 3, 0) + dt.timedelta(seconds=5))
    assert first["days_settled"] == 1
    assert (one_day(client, world.a, "2026-12-02")["net_cents"]) == 3_000  # settled without the clawback

    second = settle_at(clock, at(12, 3, 2, 30))
    assert second["statements_amended"] == 1
    amended = one_day(client, world.a, "2026-12-02")
    assert (amended["clawbacks"], amended["net_cents"], amended["status"]) == (1, 0, "settled")
    assert [(ln["kind"], ln["net_cents"]) for ln in amended["lines"]] == [("sales", 3_000), ("clawback", -3_000)]
    ledger_check_passes(runner)

    again = settle_at(clock, at(12, 4, 2, 30))
    assert again["statements_amended"] == 0
    assert one_day(client, world.a, "2026-12-02")["net_cents"] == 0
    assert balances(world.c.id)["settled"] == 3_000 and balances(world.c.id)["payable"] == 0
    ledger_check_passes(runner)


# Reports ---------------------------------------------------------------------------------------------

def test_clawed_back_subsidy_is_not_counted_as_spent(client, world, clock):
    fraud = sell(world, world.v[0], world.cashier_a, 12_800, at(12, 1, 21, 30))
    sell(world, world.v[1], world.cashier_a, 10_000, at(12, 1, 21, 40))
    resolve(open_flag(world, world.a, [fraud]), "confirmed", at(12, 1, 23))
    clock.set(at(12, 2, 3))
    run_manually(job_named("tally"), clock.now())
    report = client.get(f"/api/v1/reports/campaigns/{world.c.id}", headers=token_for(make_account(Role.viewer)))
    body = report.get_json()
    assert {k: body[k] for k in ("redeemed", "refunded", "subsidy_cents", "bill_cents")} == {
        "redeemed": 1, "refunded": 0, "subsidy_cents": 3_000, "bill_cents": 10_000}


# Pages ---------------------------------------------------------------------------------------------------

@pytest.fixture
def clawed(world, clock) -> World:
    """Shop a: its 12-01 sale held by a flag, which is confirmed on 12-02 and clawed back; settled 12-03."""
    world.fraud = sell(world, world.v[0], world.cashier_a, 12_800, at(12, 1, 21, 30))
    sell(world, world.v[1], world.cashier_b, 20_000, at(12, 1, 22))
    world.flag_id = open_flag(world, world.a, [world.fraud])
    settle_at(clock, at(12, 2, 2, 30))
    return world


def test_the_shop_sees_why_its_statement_is_held_in_english_and_chinese(client, clawed):
    sign_in(client, owner_of(clawed.a))
    body = page(client, "/shop/settlements", lang="en")
    assert rows(body)[0][1].startswith("2026-12-01 1 ¥128 ¥30 ¥0 ¥30 held")
    assert shown(body, "held-note") == ("Held while the commerce bureau reviews an alert about your shop's voucher "
                                        "sales; paid once the review is closed.")
    assert clawed.flag_id not in body  # the shop is not shown the bureau's flag
    zh = page(client, "/shop/settlements", lang="zh")
    assert shown(zh, "held-note") == "商务局正在核查关于本店用券交易的提示，暂缓结算；核查结束后支付。"


def test_the_bureau_sees_the_flag_behind_a_hold(client, clawed):
    sign_in(client, make_account(Role.admin))
    body = page(client, "/bureau/settlements", lang="en", status="held")
    assert shown(body, "held-note") == (f"Held while a fraud flag on the shop's sales is open ({clawed.flag_id}); "
                                        "paid at the first settlement after it is resolved.")
    zh = page(client, "/bureau/settlements", lang="zh", status="held")
    assert shown(zh, "held-note") == f"该商户交易的疑似欺诈标记（{clawed.flag_id}）尚未处理，暂缓结算；处理后的首次结算时支付。"


@pytest.fixture
def confirmed(clawed, clock) -> str:
    """The flag confirmed on 12-02 and that day settled: the id of shop a's 12-02 statement."""
    resolve(clawed.flag_id, "confirmed", at(12, 2, 15))
    settle_at(clock, at(12, 3, 2, 30))
    return db.session.scalars(select(SettlementStatement.id).where(
        SettlementStatement.merchant_id == clawed.a.id, SettlementStatement.day == dt.date(2026, 12, 2))).one()


def test_the_shop_sees_the_clawback_in_its_list_and_statement_in_english(client, clawed, confirmed):
    sign_in(client, owner_of(clawed.a))
    listing = page(client, "/shop/settlements", lang="en")
    assert shown(listing, "clawback-note") == ("The subsidy of 1 sale, ¥30, was clawed back after a confirmed "
                                               "fraud review.")
    assert shown(listing, "negative-note") == ("Refunds and clawbacks exceed this day's sales: ¥30 is deducted "
                                               "from your next payment.")
    assert shown(listing, "totals").endswith("clawed back ¥30 · net ¥0")
    one = page(client, f"/shop/settlements/{confirmed}", lang="en")
    assert shown(one, "clawed-back") == "1 sale, -¥30"
    assert shown(one, "net") == "-¥30"
    line = one.split('data-testid="clawback-line"')[1].split("</tr>")[0]
    assert "Clawback: fraud confirmed" in line and "1 sale clawed back" in line and "-¥30" in line
    assert f'data-testid="clawback" data-redemption-id="{clawed.fraud}"' in one
    assert clawed.flag_id not in one


def test_the_shop_sees_the_clawback_in_chinese(client, clawed, confirmed):
    sign_in(client, owner_of(clawed.a))
    assert shown(page(client, "/shop/settlements"), "clawback-note") == "经核实为欺诈，1 笔交易的补贴 ¥30 已被追回。"
    one = page(client, f"/shop/settlements/{confirmed}")
    assert "追回补贴：经核实为欺诈" in one and "本日追回的补贴" in one
    assert shown(one, "clawed-back") == "1 笔，-¥30"


def test_the_bureau_sees_the_clawback_and_its_flag(client, clawed, confirmed):
    sign_in(client, make_account(Role.admin))
    one = page(client, f"/bureau/settlements/{confirmed}", lang="en")
    assert shown(one, "clawback-flag") == clawed.flag_id
    assert f"({clawed.flag_id})" in one.split('data-testid="clawback-line"')[1].split("</tr>")[0]
    zh = page(client, f"/bureau/settlements/{confirmed}")
    assert "追回补贴：经核实为欺诈" in zh
