"""The world the access matrix walks: one of every object a route's path can name, and the nine
people who try each route, signed in both ways (a bearer token for the API, a session cookie for
the pages).

Built once per module through the services, as production builds it, because the matrix asks who may
reach an object, not how the object came to be: an open campaign with shop 1 enrolled, shop 2 (its
own owner and cashier) applying to it, a resident's claimed voucher, two of shop 1's sales, shop 1's
settlement statement of the day of those sales, a draft and a cancelled campaign, and a shop that
waits for the bureau's review.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from campaigns.schemas import CampaignIn
from campaigns.service import city_data_file, create_campaign, load_city_data
from merchants.models import Enrolment, EnrolmentStatus, MerchantStatus
from merchants.service import apply_for_campaign
from tests.app import access_table as t
from tests.builders import PASSWORD, latest_code, make_account, make_merchant, token_for
from tests.campaign_data import T0, campaign_body
from tests.scenario import make_resident
from voucher_app.accounts.models import User
from voucher_app.complaints.models import Complaint, ComplaintKind, ReturnRequest, ReturnStatus
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.redemptions.service import redeem
from voucher_app.settlement.models import SettlementStatement
from voucher_app.settlement.service import settle
from voucher_app.vouchers.claiming import claim_voucher
from voucher_app.vouchers.issuing import cancel_campaign, publish_campaign
from voucher_app.vouchers.tokens import sign

SALES_AT = T0 + dt.timedelta(hours=1, minutes=30)  # 21:30 in the city on 12-01, inside the vouchers' hours
SETTLED_AT = T0 + dt.timedelta(hours=7)  # 03:00 on 12-02: 12-01 is settled, and the clock stays here


@dataclass
class World:
    """The objects' ids and, for each of the nine people, a bearer token and a signed-in browser."""

    app: Flask
    ids: dict[str, str] = field(default_factory=dict)  # the objects, by the table's names (``t.CAMPAIGN``, …)
    users: dict[str, str] = field(default_factory=dict)  # each signed-in role's user id
    headers: dict[str, dict] = field(default_factory=dict)  # each role's bearer token (none for anonymous)
    pages: dict[str, FlaskClient] = field(default_factory=dict)  # each role's browser, signed in to the pages

    def api_client(self) -> FlaskClient:
        """A client without cookies: the API authenticates by bearer token alone."""
        return self.app.test_client(use_cookies=False)

    def fresh_headers(self, role: str) -> dict:
        """A new bearer token for ``role``, for a call that revokes the one it comes with."""
        if role == t.ANONYMOUS:
            return {}
        with self.app.app_context():
            return token_for(db.session.get(User, self.users[role]))

    def fresh_browser(self, role: str) -> FlaskClient:
        """A new browser signed in as ``role``, for a call that ends the session it comes with."""
        browser = self.app.test_client()
        browser.set_cookie("lang", "en")  # flash messages in the source language, which the table names
        if role != t.ANONYMOUS:
            self._sign_in(browser, role)
        return browser

    def _sign_in(self, browser: FlaskClient, role: str) -> None:
        with self.app.app_context():
            user = db.session.get(User, self.users[role])
            phone, username, is_resident = user.phone, user.username, user.role is Role.resident
        if is_resident:
            sent = browser.post("/login/code", data={"phone": phone})
            assert sent.status_code == 302, sent.get_data(as_text=True)
            signed_in = browser.post("/login", data={"phone": phone, "code": latest_code(browser, phone)})
        else:
            signed_in = browser.post("/staff/login", data={"username": username, "password": PASSWORD})
        assert signed_in.status_code == 302, f"{role} could not sign in: {signed_in.get_data(as_text=True)[:500]}"
        with browser.session_transaction() as session:
            session.pop("_flashes", None)


def build_world(app: Flask) -> World:
    """Every object of the table, then a token and a signed-in browser for each of the nine people."""
    clock = app.extensions["voucher.clock"]
    world = World(app)
    with app.app_context():
        clock.set(T0)
        load_city_data(city_data_file())
        admin, viewer = make_account(Role.admin), make_account(Role.viewer)
        campaign = publish_campaign(create_campaign(CampaignIn(**campaign_body()), admin, clock.now()).id, admin,
                                    clock.now())
        lottery = publish_campaign(create_campaign(CampaignIn(**campaign_body(
            name="摇号", allocation="lottery",
            rounds=[{"entry_opens_at": (T0 + dt.timedelta(hours=2)).isoformat(),
                     "entry_closes_at": (T0 + dt.timedelta(hours=26)).isoformat(),
                     "draw_at": (T0 + dt.timedelta(hours=27)).isoformat(), "quantities": [10, 10]}],
            tiers=[{"name": "满100减30", "threshold_cents": 10_000, "discount_cents": 3_000, "quantity": 10},
                   {"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": 10}])),
            admin, clock.now()).id, admin, clock.now())
        draft = create_campaign(CampaignIn(**campaign_body(name="草稿")), admin, clock.now())
        cancelled = create_campaign(CampaignIn(**campaign_body(name="已取消")), admin, clock.now())
        cancel_campaign(cancelled.id, "测试", admin, clock.now())

        shop_1, owner_1 = make_merchant(MerchantStatus.approved)
        shop_2, owner_2 = make_merchant(MerchantStatus.approved)
        pending_shop, _ = make_merchant()
        cashier_1, cashier_2 = make_account(Role.cashier, shop_1), make_account(Role.cashier, shop_2)
        db.session.add(Enrolment(campaign_id=campaign.id, merchant_id=shop_1.id, status=EnrolmentStatus.approved,
                                 created_at=clock.now()))
        db.session.commit()
        pending_enrolment = apply_for_campaign(campaign.id, shop_2.id, owner_2, clock.now())

        clock.set(SALES_AT)  # the campaign opened at 21:00
        tier = campaign.tiers[0].id
        resident, other_resident = make_resident(), make_resident()
        voucher = _claim(campaign.id, tier, resident, clock.now())
        sales = [_sell(_claim(campaign.id, tier, make_resident(), clock.now()), cashier_1, clock.now())
                 for _ in range(2)]
        clock.set(SETTLED_AT)
        settle(clock.now())
        statement = db.session.scalars(select(SettlementStatement.id)
                                       .where(SettlementStatement.merchant_id == shop_1.id)).one()

        complaint = Complaint(resident_id=resident.id, merchant_id=shop_1.id, kind=ComplaintKind.quality,
                              text="菜品不新鲜，商家拒绝处理", created_at=clock.now(),
                              due_at=clock.now() + dt.timedelta(days=3))
        answered = ReturnRequest(redemption_id=sales[0], resident_id=resident.id, merchant_id=shop_1.id, reason="",
                                 status=ReturnStatus.declined, created_at=clock.now(), due_at=clock.now(),
                                 answered_at=clock.now(), answered_by=owner_1.id, answer_text="已使用")
        db.session.add_all([complaint, answered])
        db.session.commit()

        world.ids = {t.CAMPAIGN: campaign.id, t.DRAFT: draft.id, t.CANCELLED: cancelled.id, t.SHOP_1: shop_1.id,
                     t.PENDING_SHOP: pending_shop.id, t.CASHIER_1: cashier_1.id,
                     t.CASHIER_1_NAME: cashier_1.username, t.VOUCHER: voucher,
                     t.REDEMPTION: sales[0], t.PAGE_REDEMPTION: sales[1], t.STATEMENT: statement,
                     t.PENDING_ENROLMENT: pending_enrolment.id, t.LOTTERY: lottery.id,
                     t.LOTTERY_ROUND: lottery.rounds[0].id, t.RESIDENT_ACCOUNT: resident.id,
                     t.COMPLAINT: complaint.id, t.RETURN_REQUEST: answered.id}
        people = {t.RESIDENT: resident, t.OTHER_RESIDENT: other_resident, t.CASHIER: cashier_1,
                  t.OTHER_CASHIER: cashier_2, t.OWNER: owner_1, t.OTHER_OWNER: owner_2, t.VIEWER: viewer,
                  t.ADMIN: admin}
        world.users = {role: user.id for role, user in people.items()}
        world.headers = {role: token_for(user) for role, user in people.items()}
    world.headers[t.ANONYMOUS] = {}
    world.pages = {role: world.fresh_browser(role) for role in t.ROLES}
    return world


def _claim(campaign_id: str, tier_id: str, resident: User, now: dt.datetime) -> str:
    body, status = claim_voucher(campaign_id, tier_id, resident, now, uuid.uuid4().hex)
    assert status == 201, body
    return body["id"]


def _sell(voucher_id: str, cashier: User, now: dt.datetime) -> str:
    token, _ = sign(voucher_id, now)
    body, status = redeem(token, 12_800, cashier, now, uuid.uuid4().hex)
    assert status == 201, body
    return body["id"]
