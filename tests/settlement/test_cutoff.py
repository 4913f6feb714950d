"""Settlement's cut-off (issue #15, item 4): a sale whose commit straddles midnight is paid exactly once.

A till reads the clock before its transaction commits, so a sale stamped 23:59:59.9 can become
visible after a settlement run that began at midnight has read the day. These tests hold such a
sale (and a refund) in flight across a settlement run, let it commit after, and read the shop's
statements through the API: the sale is counted on its own day, once, the money is paid once, and
the books balance. On SQLite and PostgreSQL.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
import uuid

import pytest
from sqlalchemy import select, text

from merchants.models import Merchant
from tests.builders import token_for
from tests.scenario import World, at, make_resident
from voucher_app.accounts.models import User
from voucher_app.core.extensions import db
from voucher_app.core.hotpath import release
from voucher_app.core.roles import Role
from voucher_app.ledger.service import balances
from voucher_app.redemptions.models import Redemption
from voucher_app.redemptions.service import redeem, refund
from voucher_app.scheduler.runs import run_manually
from voucher_app.scheduler.schedule import job_named
from voucher_app.settlement.reconciliation import check_ledger
from voucher_app.vouchers.tokens import sign

FIGURES = ("day", "redemptions", "bill_cents", "redeemed_cents", "refunds", "refunded_cents", "net_cents", "status")
JUST_BEFORE_MIDNIGHT = at(12, 1, 23, 59) + dt.timedelta(seconds=59.9)


@pytest.fixture
def world(city, clock) -> World:
    """Shop a sells at 22:00 on 12-01, so that day has a statement to settle; three more claimed
    vouchers (``left``, ``other``, ``spare``) wait for the tests' sales."""
    world = World(clock)
    clock.set(at(12, 1, 21))
    first, world.left = world.claim(make_resident(), world.tier30), world.claim(make_resident(), world.tier30)
    world.other, world.spare = world.claim(make_resident(), world.tier30), world.claim(make_resident(), world.tier30)
    clock.set(at(12, 1, 22))
    world.redeem(first, world.cashier_a, 10_000)
    return world


def settle_at(clock, when: dt.datetime) -> dict:
    """Run the settlement job at ``when``, as the scheduler would; its summary."""
    clock.set(when)
    return run_manually(job_named("settle"), clock.now()).summary


@contextlib.contextmanager
def committing_after_the_block(app, write, locked_table: str, locked_id: str):
    """Run ``write`` so that it reads the clock before the block and commits only after it.

    PostgreSQL: ``write`` runs in a thread while this test holds the row it must lock
    (``locked_table``/``locked_id``) from a connection of its own; the block runs while the write's
    transaction waits, and the lock is let go when it ends.
    SQLite: one writer at a time — a write transaction open across the block would make the
    settlement wait for it, and it would then count the sale. What straddles the cut-off there is a
    write whose clock was read before the settlement and whose transaction began after it, so
    ``write`` runs when the block ends, with the time it was given.
    """
    outcome: dict = {}
    if db.engine.dialect.name != "postgresql":
        yield outcome
        outcome["answer"] = write()
        return

    def in_thread():
        with app.app_context():
            try:
                outcome["answer"] = write()
            except BaseException as err:  # handed to the test below
                outcome["error"] = err
            finally:
                db.session.remove()
                release(db.engine)

    blocker = db.engine.connect()
    held = blocker.begin()
    blocker.execute(text(f"SELECT id FROM {locked_table} WHERE id = :id FOR UPDATE"), {"id": locked_id})
    thread = threading.Thread(target=in_thread)
    thread.start()
    try:
        _wait_until_blocked_by(blocker)
        yield outcome
    finally:
        held.rollback()
        blocker.close()
        thread.join(30)
    if "error" in outcome:
        raise outcome["error"]


def _wait_until_blocked_by(blocker) -> None:
    """Until a transaction waits for ``blocker``'s lock (pg_locks is read afresh each time, unlike
    pg_stat_activity, which a transaction reads once)."""
    pid = blocker.execute(text("SELECT pg_backend_pid()")).scalar()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if blocker.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted AND :pid = ANY(pg_blocking_pids(pid))"),
                           {"pid": pid}).scalar():
            return
        time.sleep(0.01)
    raise AssertionError("the write never waited for the test's lock")


def sale(world: World, voucher_id: str, cashier: User, bill: int, when: dt.datetime):
    """A sale at the till whose clock read ``when``."""
    token, _ = sign(voucher_id, when)
    return lambda: redeem(token, bill, cashier, when, uuid.uuid4().hex)[0]


def shop_statements(client, shop: Merchant) -> list[tuple]:
    """The shop's statements as its owner reads them over the API, newest day first."""
    owner = db.session.scalars(select(User).where(User.merchant_id == shop.id, User.role == Role.merchant_owner)).one()
    response = client.get("/api/v1/settlements", headers=token_for(owner))
    assert response.status_code == 200, response.get_json()
    return [tuple(item[f] for f in FIGURES) for item in response.get_json()["items"]]


def paid_once(world: World) -> None:
    """The campaign owes nothing more and the books agree with the redemptions and statements."""
    books = balances(world.c.id)
    assert books["payable"] == 0, books
    assert check_ledger()[1] == []


def test_a_sale_stamped_before_midnight_that_commits_after_a_run_at_midnight_is_paid_once(app, client, world, clock):
    with committing_after_the_block(app, sale(world, world.left, world.cashier_a, 20_000, JUST_BEFORE_MIDNIGHT),
                                    "vouchers", world.left) as late:
        settle_at(clock, at(12, 2, 0) + dt.timedelta(seconds=5))
    assert late["answer"]["redeemed_at"] == "2026-12-01T23:59:59.900000+08:00"

    settle_at(clock, at(12, 2, 2))  # the nightly run
    settle_at(clock, at(12, 3, 2))
    assert shop_statements(client, world.a) == [("2026-12-01", 2, 30_000, 6_000, 0, 0, 6_000, "settled")]
    assert balances(world.c.id)["settled"] == 6_000
    paid_once(world)


def test_a_day_is_not_settled_until_the_horizon_has_passed(app, world, clock):
    assert settle_at(clock, at(12, 2, 0, 9))["days_settled"] == 0  # ten minutes by default
    assert settle_at(clock, at(12, 2, 0, 10))["days_settled"] == 1


@pytest.mark.parametrize("app_overrides", [{"SETTLEMENT_HORIZON_SECONDS": 0}])
def test_a_sale_that_commits_after_its_day_was_settled_is_added_to_that_days_statement_once(app, client, world,
                                                                                            clock):
    """The horizon defeated (a write outlasting it): the next run finds the sale and pays it."""
    with committing_after_the_block(app, sale(world, world.left, world.cashier_b, 20_000, JUST_BEFORE_MIDNIGHT),
                                    "vouchers", world.left):
        first = settle_at(clock, at(12, 2, 0) + dt.timedelta(seconds=5))
    assert (first["days_settled"], first["statements"]) == (1, 1)  # shop a's day; shop b had no sale yet
    assert shop_statements(client, world.b) == []
    assert balances(world.c.id)["payable"] == 3_000  # owed, not yet paid

    second = settle_at(clock, at(12, 2, 2))
    assert shop_statements(client, world.b) == [("2026-12-01", 1, 20_000, 3_000, 0, 0, 3_000, "settled")]
    assert shop_statements(client, world.a) == [("2026-12-01", 1, 10_000, 3_000, 0, 0, 3_000, "settled")]
    assert second["statements_amended"] == 1
    paid_once(world)

    again = settle_at(clock, at(12, 3, 2))
    assert again["statements_amended"] == 0
    assert shop_statements(client, world.b) == [("2026-12-01", 1, 20_000, 3_000, 0, 0, 3_000, "settled")]
    assert balances(world.c.id)["settled"] == 6_000
    paid_once(world)


@pytest.mark.parametrize("app_overrides", [{"SETTLEMENT_HORIZON_SECONDS": 0}])
def test_a_late_sale_and_a_late_refund_on_a_settled_statement_are_each_counted_once(app, client, world, clock):
    clock.set(at(12, 2, 20))
    sold = world.redeem(world.other, world.cashier_a, 15_000)
    with committing_after_the_block(app, sale(world, world.left, world.cashier_a, 20_000,
                                              at(12, 2, 23, 59) + dt.timedelta(seconds=59.9)),
                                    "vouchers", world.left):
        settle_at(clock, at(12, 3, 0, 1))
    assert shop_statements(client, world.a)[0] == ("2026-12-02", 1, 15_000, 3_000, 0, 0, 3_000, "settled")

    clock.set(at(12, 3, 20))
    world.redeem(world.spare, world.cashier_b, 10_000)  # so that 12-03 has a statement to settle
    refunded_at = at(12, 3, 23, 59) + dt.timedelta(seconds=59.9)
    with committing_after_the_block(app, lambda: refund(sold["id"], None, world.cashier_a, refunded_at),
                                    "redemptions", sold["id"]):
        amending = settle_at(clock, at(12, 4, 0, 1))  # 12-02 gets its late sale; 12-03 is settled without the refund
    assert shop_statements(client, world.a)[0] == ("2026-12-02", 2, 35_000, 6_000, 0, 0, 6_000, "settled")
    assert (amending["statements_amended"], amending["days_settled"]) == (1, 1)
    db.session.expire_all()
    assert db.session.get(Redemption, sold["id"]).refunded_at == refunded_at

    found = settle_at(clock, at(12, 5, 2))
    again = settle_at(clock, at(12, 6, 2))
    assert shop_statements(client, world.a) == [
        ("2026-12-03", 0, 0, 0, 1, 3_000, -3_000, "settled"),
        ("2026-12-02", 2, 35_000, 6_000, 0, 0, 6_000, "settled"),
        ("2026-12-01", 1, 10_000, 3_000, 0, 0, 3_000, "settled")]
    assert (found["statements_amended"], again["statements_amended"]) == (1, 0)
    assert balances(world.c.id)["settled"] == 3_000 + 6_000 - 3_000 + 3_000  # shop a's three days, shop b's sale
    paid_once(world)
