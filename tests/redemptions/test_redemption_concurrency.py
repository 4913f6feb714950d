"""Invariant 3 against the real server: twenty parallel scans of one voucher, from two shops, make
exactly one redemption and one ledger movement; and a campaign's daily limit per person per shop
holds when two cashiers scan one person's vouchers at once (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select, update

from campaigns.models import Campaign
from merchants.models import Enrolment, EnrolmentStatus, MerchantStatus
from tests.builders import PASSWORD, make_account, make_merchant, make_staff, next_phone
from tests.vouchers.test_claim_concurrency import http, open_campaign, rush_server  # noqa: F401 (fixtures)
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.redemptions.models import Redemption
from voucher_app.settlement.reconciliation import check_ledger
from voucher_app.vouchers.claiming import SNAPSHOT_SECONDS


def test_twenty_parallel_scans_redeem_once(http, clock):  # noqa: F811
    campaign = open_campaign(http, 5)
    cashiers = []
    for _ in range(2):
        merchant, _owner = make_merchant(MerchantStatus.approved)
        db.session.add(Enrolment(campaign_id=campaign["id"], merchant_id=merchant.id,
                                 status=EnrolmentStatus.approved, created_at=clock.now()))
        db.session.commit()
        user = make_account(Role.cashier, merchant)
        _, signed_in, _ = http.post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD})
        cashiers.append(signed_in["token"])
    resident = http.resident_token(next_phone())
    _, voucher, _ = http.post(f"/api/v1/campaigns/{campaign['id']}/claims", {"tier_id": campaign["tiers"][0]["id"]},
                              token=resident, headers={"Idempotency-Key": uuid.uuid4().hex})
    _, qr, _ = http.get(f"/api/v1/me/vouchers/{voucher['id']}/token", token=resident)

    def scan(i):
        status, body, _ = http.post("/api/v1/redemptions", {"token": qr["token"], "bill_cents": 8_800},
                                    token=cashiers[i % 2], headers={"Idempotency-Key": uuid.uuid4().hex})
        return status, body

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(scan, range(20)))
    statuses = [status for status, _ in results]
    assert statuses.count(201) == 1, results
    assert all(body["code"] == "already_redeemed" for status, body in results if status != 201)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Redemption)
                             .where(Redemption.voucher_id == voucher["id"])) == 1
    payable = db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.voucher_id == voucher["id"], LedgerEntry.to_account == Account.payable))
    assert payable == 1
    assert check_ledger()[1] == []  # and the campaign's books balance


def test_parallel_scans_of_one_person_s_vouchers_stop_at_the_shop_s_daily_limit(http, clock):  # noqa: F811
    """One person holds twelve vouchers of a campaign allowing three sales per person per shop per
    day; two cashiers of one shop scan all twelve at once: three sales, nine ``limit_reached``. The
    same person's vouchers then still work at another shop."""
    vouchers, limit = 12, 3
    admin = http.post("/api/v1/auth/token", {"username": make_staff(Role.admin).username,
                                             "password": PASSWORD})[1]["token"]
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    body = {"name": "每店每日限用", "kind": "general", "measure_codes": ["M19"], "budget_cents": vouchers * 2_000,
            "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
            "ends_at": (now + dt.timedelta(days=1)).isoformat(),
            "limit_per_resident": vouchers, "limit_per_round": vouchers, "valid_days": 1,
            "tiers": [{"name": "20元券", "threshold_cents": 0, "discount_cents": 2_000, "quantity": vouchers}],
            "rounds": [{"release_at": (now - dt.timedelta(seconds=30)).isoformat(), "quantities": [vouchers]}]}
    status, campaign, _ = http.post("/api/v1/campaigns", body, token=admin)
    assert status == 201, campaign
    db.session.execute(update(Campaign).where(Campaign.id == campaign["id"]).values(limit_per_merchant_day=limit))
    db.session.commit()
    status, campaign, _ = http.post(f"/api/v1/campaigns/{campaign['id']}/publish", {}, token=admin)
    assert status == 200, campaign
    shops = []
    for _ in range(2):
        merchant, _owner = make_merchant(MerchantStatus.approved)
        db.session.add(Enrolment(campaign_id=campaign["id"], merchant_id=merchant.id,
                                 status=EnrolmentStatus.approved, created_at=clock.now()))
        db.session.commit()
        shops.append([http.post("/api/v1/auth/token", {"username": make_account(Role.cashier, merchant).username,
                                                       "password": PASSWORD})[1]["token"] for _ in range(2)])
    resident = http.resident_token(next_phone())
    held = []
    for _ in range(vouchers):
        status, voucher, _ = http.post(f"/api/v1/campaigns/{campaign['id']}/claims",
                                       {"tier_id": campaign["tiers"][0]["id"]}, token=resident,
                                       headers={"Idempotency-Key": uuid.uuid4().hex})
        assert status == 201, voucher
        held.append(voucher["id"])
    time.sleep(SNAPSHOT_SECONDS)  # whatever the server's workers knew of the campaign before the limit is gone
    qrs = [http.get(f"/api/v1/me/vouchers/{voucher_id}/token", token=resident)[1]["token"] for voucher_id in held]

    def scan(i: int, shop: list[str]):
        status, answer, _ = http.post("/api/v1/redemptions", {"token": qrs[i], "bill_cents": 8_800},
                                      token=shop[i % 2], headers={"Idempotency-Key": uuid.uuid4().hex})
        return status, answer

    with ThreadPoolExecutor(vouchers) as pool:
        results = list(pool.map(lambda i: scan(i, shops[0]), range(vouchers)))
    assert [status for status, _ in results].count(201) == limit, results
    assert all((status, answer["code"]) == (409, "limit_reached") for status, answer in results if status != 201)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Redemption)
                             .where(Redemption.voucher_id.in_(held), Redemption.refunded_at.is_(None))) == limit

    unused = [i for i, (status, _) in enumerate(results) if status != 201]
    with ThreadPoolExecutor(len(unused)) as pool:
        elsewhere = list(pool.map(lambda i: scan(i, shops[1]), unused))
    assert [status for status, _ in elsewhere].count(201) == limit, elsewhere
    assert check_ledger()[1] == []
