"""Invariant 3 against the real server: twenty parallel scans of one voucher, from two shops, make
exactly one redemption and one ledger movement (SQLite and PostgreSQL)."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from merchants.models import Enrolment, EnrolmentStatus, MerchantStatus
from tests.builders import PASSWORD, make_account, make_merchant, next_phone
from tests.vouchers.test_claim_concurrency import http, open_campaign, rush_server  # noqa: F401 (fixtures)
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.redemptions.models import Redemption
from voucher_app.settlement.reconciliation import check_ledger


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
