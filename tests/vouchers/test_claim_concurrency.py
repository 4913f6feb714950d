"""Invariants 1, 2, 4 and 5 under real parallel requests against the real server.

A round of Q vouchers and 3Q residents pressing "claim" at once; one resident firing 20 claims at
once; one request repeated in parallel with the same Idempotency-Key. Run on SQLite and PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tests.builders import PASSWORD, make_staff, next_phone
from tests.conftest import LiveServer
from tests.http_client import Http
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.settlement.reconciliation import check_ledger
from voucher_app.vouchers.models import Voucher, VoucherStatus

Q = 30
PARALLEL = 24


@pytest.fixture(scope="module")
def rush_server(_schema, keys_dir):
    """A server with more parallelism than the default: 2 workers × 8 threads."""
    server = LiveServer(_schema, keys_dir, workers=2, threads=8)
    yield server
    server.stop()


@pytest.fixture
def http(app, city, rush_server) -> Http:
    return Http(rush_server.url)


def open_campaign(http: Http, quantity: int, limit_per_resident: int = 1, limit_per_round: int = 1) -> dict:
    """A campaign open now by the wall clock, one tier of ``quantity`` vouchers released 30 s ago."""
    admin = make_staff(Role.admin)
    _, token, _ = http.post("/api/v1/auth/token", {"username": admin.username, "password": PASSWORD})
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    body = {"name": "并发测试", "kind": "general", "measure_codes": ["M19"], "budget_cents": quantity * 2_000,
            "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
            "ends_at": (now + dt.timedelta(days=1)).isoformat(),
            "limit_per_resident": limit_per_resident, "limit_per_round": limit_per_round, "valid_days": 3,
            "tiers": [{"name": "满50减20", "threshold_cents": 5_000, "discount_cents": 2_000, "quantity": quantity}],
            "rounds": [{"release_at": (now - dt.timedelta(seconds=30)).isoformat(), "quantities": [quantity]}]}
    status, campaign, _ = http.post("/api/v1/campaigns", body, token=token["token"])
    assert status == 201, campaign
    status, campaign, _ = http.post(f"/api/v1/campaigns/{campaign['id']}/publish", {}, token=token["token"])
    assert status == 200 and campaign["status"] == "open", campaign
    return campaign


def residents(http: Http, n: int) -> list[str]:
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(lambda _: http.resident_token(next_phone()), range(n)))


def claim(http: Http, campaign: dict, token: str, key: str | None = None):
    status, body, _ = http.post(f"/api/v1/campaigns/{campaign['id']}/claims",
                                {"tier_id": campaign["tiers"][0]["id"]}, token=token,
                                headers={"Idempotency-Key": key or uuid.uuid4().hex})
    return status, body


def reserved_cents(campaign_id: str) -> int:
    def moved(src, dst):
        return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.campaign_id == campaign_id, LedgerEntry.from_account == src, LedgerEntry.to_account == dst))

    return moved(Account.available, Account.reserved) - moved(Account.reserved, Account.available)


def claimed_vouchers(campaign_id: str) -> list[Voucher]:
    db.session.expire_all()
    return list(db.session.scalars(select(Voucher).where(Voucher.campaign_id == campaign_id,
                                                         Voucher.status != VoucherStatus.available)))


def test_a_rush_never_oversells(http):
    campaign = open_campaign(http, Q)
    tokens = residents(http, 3 * Q)
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(lambda token: claim(http, campaign, token), tokens))
    codes = [201 if status == 201 else body["code"] for status, body in results]
    assert codes.count(201) == Q
    assert codes.count("sold_out") == 2 * Q, codes
    vouchers = claimed_vouchers(campaign["id"])
    assert len(vouchers) == Q and len({v.resident_id for v in vouchers}) == Q
    assert reserved_cents(campaign["id"]) == sum(v.discount_cents for v in vouchers) == Q * 2_000
    _, after, _ = http.get(f"/api/v1/campaigns/{campaign['id']}")
    assert (after["tiers"][0]["claimed"], after["tiers"][0]["remaining"]) == (Q, 0)
    assert check_ledger()[1] == []  # the books balance after the rush: budget = available + reserved + …


def test_one_resident_firing_twenty_claims_gets_no_more_than_the_limit(http):
    campaign = open_campaign(http, 50, limit_per_resident=2, limit_per_round=2)
    token = residents(http, 1)[0]
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: claim(http, campaign, token), range(20)))
    statuses = [status for status, _ in results]
    assert statuses.count(201) == 2
    assert all(body["code"] == "limit_reached" for status, body in results if status != 201)
    vouchers = claimed_vouchers(campaign["id"])
    assert len(vouchers) == 2 and reserved_cents(campaign["id"]) == 2 * 2_000
    assert check_ledger()[1] == []


def test_the_same_key_in_parallel_claims_once(http):
    campaign = open_campaign(http, 50, limit_per_resident=5, limit_per_round=5)
    token = residents(http, 1)[0]
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda _: claim(http, campaign, token, key="double-tap"), range(10)))
    assert {status for status, _ in results} == {201}
    assert len({body["id"] for _, body in results}) == 1
    assert len(claimed_vouchers(campaign["id"])) == 1 and reserved_cents(campaign["id"]) == 2_000
