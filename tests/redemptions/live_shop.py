"""A shop open for business on the real server, by the wall clock: a campaign with a voucher
without threshold (¥20), an enrolled shop with its owner and a cashier signed in, and residents
who claim. The till tests of issue #15 drive it through real HTTP."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from merchants.models import Enrolment, EnrolmentStatus, MerchantStatus
from tests.builders import PASSWORD, make_account, make_merchant, make_staff, next_phone
from tests.http_client import Http
from voucher_app.accounts.models import User
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role

FACE = 2_000


def sign_in(http: Http, username: str, password: str = PASSWORD) -> str:
    status, body, _ = http.post("/api/v1/auth/token", {"username": username, "password": password})
    assert status == 200, body
    return body["token"]


@dataclass
class LiveShop:
    http: Http
    admin: str
    campaign: dict
    merchant_id: str
    owner: str
    cashier: str
    cashier_id: str

    @classmethod
    def open(cls, http: Http, clock, quantity: int = 20) -> LiveShop:
        admin = sign_in(http, make_staff(Role.admin).username)
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        body = {"name": "无门槛券", "kind": "general", "measure_codes": ["M19"], "budget_cents": quantity * FACE,
                "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
                "ends_at": (now + dt.timedelta(days=1)).isoformat(),
                "limit_per_resident": 1, "limit_per_round": 1, "valid_days": 1,
                "tiers": [{"name": "20元券", "threshold_cents": 0, "discount_cents": FACE, "quantity": quantity}],
                "rounds": [{"release_at": (now - dt.timedelta(seconds=30)).isoformat(), "quantities": [quantity]}]}
        status, campaign, _ = http.post("/api/v1/campaigns", body, token=admin)
        assert status == 201, campaign
        status, campaign, _ = http.post(f"/api/v1/campaigns/{campaign['id']}/publish", {}, token=admin)
        assert status == 200, campaign
        merchant, owner = make_merchant(MerchantStatus.approved)
        db.session.add(Enrolment(campaign_id=campaign["id"], merchant_id=merchant.id,
                                 status=EnrolmentStatus.approved, created_at=clock.now()))
        db.session.commit()
        cashier = make_account(Role.cashier, merchant)
        return cls(http, admin, campaign, merchant.id, sign_in(http, owner.username),
                   sign_in(http, cashier.username), cashier.id)

    def claim(self) -> tuple[str, dict]:
        """A new resident claims a voucher: (their token, the voucher)."""
        resident = self.http.resident_token(next_phone())
        status, voucher, _ = self.http.post(f"/api/v1/campaigns/{self.campaign['id']}/claims",
                                            {"tier_id": self.campaign["tiers"][0]["id"]}, token=resident,
                                            headers={"Idempotency-Key": uuid.uuid4().hex})
        assert status == 201, voucher
        return resident, voucher

    def qr(self, resident: str, voucher: dict) -> str:
        status, body, _ = self.http.get(f"/api/v1/me/vouchers/{voucher['id']}/token", token=resident)
        assert status == 200, body
        return body["token"]

    def redeem(self, token: str, bill: int, by: str | None = None) -> tuple[int, dict]:
        status, body, _ = self.http.post("/api/v1/redemptions", {"token": token, "bill_cents": bill},
                                         token=by or self.cashier, headers={"Idempotency-Key": uuid.uuid4().hex})
        return status, body

    def refund(self, redemption: dict, by: str | None = None) -> tuple[int, dict]:
        status, body, _ = self.http.post(f"/api/v1/redemptions/{redemption['id']}/refund", {},
                                         token=by or self.owner)
        return status, body


def till_page(browser, base_url: str, shop: LiveShop, timeout_ms: int = 10_000):
    """A phone-sized browser (390×844, Chinese) with the shop's cashier signed in at the till: (context, page)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="zh-CN", base_url=base_url)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.goto("/staff/login")
    page.get_by_label("用户名").fill(db.session.get(User, shop.cashier_id).username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_test_id("staff-sign-in").click()
    page.get_by_test_id("who").wait_for()
    page.goto("/till")
    return context, page
