"""A known small world for the scheduler and report tests, built through the services with the
movable clock: one campaign (M12 and M13), two shops in different districts and trades, residents
who claim, redeem, get a refund and let a voucher expire. Every figure it leads to is worked out by
hand in the tests that use it.
"""
from __future__ import annotations

import datetime as dt
import uuid

from campaigns.models import Campaign
from campaigns.schemas import CampaignIn
from campaigns.service import create_campaign
from merchants.models import Enrolment, EnrolmentStatus, MerchantStatus
from tests.builders import make_account, make_merchant, make_staff, next_phone
from tests.campaign_data import CITY, T0, campaign_body
from voucher_app.accounts.models import User
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.redemptions.service import redeem, refund
from voucher_app.vouchers.claiming import claim_voucher
from voucher_app.vouchers.issuing import publish_campaign
from voucher_app.vouchers.tokens import sign


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of 2026 in the city's time."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CITY)


def make_resident() -> User:
    user = User(role=Role.resident, phone=next_phone(), is_active=True)
    db.session.add(user)
    db.session.commit()
    return user


def publish(admin: User, clock, **changes) -> Campaign:
    campaign = create_campaign(CampaignIn(**campaign_body(**changes)), admin, clock.now())
    return publish_campaign(campaign.id, admin, clock.now())


def enrol(campaign: Campaign, clock, **merchant) -> tuple:
    """An approved shop enrolled in ``campaign``, and its cashier, whom the owner allowed to refund."""
    shop, owner = make_merchant(MerchantStatus.approved, **merchant)
    db.session.add(Enrolment(campaign_id=campaign.id, merchant_id=shop.id, status=EnrolmentStatus.approved,
                             created_at=clock.now()))
    cashier = make_account(Role.cashier, shop)
    cashier.refunds_allowed = True
    db.session.commit()
    return shop, cashier


class World:
    """Campaign ``c`` (tiers 满100减30 and 10元券, rounds at 12-01 21:00 and 12-11 20:00, recycling on),
    shop ``a`` (catering, Lizhou) and shop ``b`` (retail, Zhaohua), and what ``play`` does to them."""

    def __init__(self, clock):
        self.clock = clock
        self.admin = make_staff(Role.admin)
        self.c = publish(self.admin, clock, measure_codes=["M12", "M13"], recycle_expired=True, rounds=[
            {"release_at": (T0 + dt.timedelta(hours=1)).isoformat(), "quantities": [500, 250]},
            {"release_at": (T0 + dt.timedelta(days=10)).isoformat(), "quantities": [500, 250]}])
        self.tier30, self.tier10 = (t.id for t in self.c.tiers)
        self.a, self.cashier_a = enrol(self.c, clock, category="catering", district="lizhou")
        self.b, self.cashier_b = enrol(self.c, clock, category="retail", district="zhaohua")

    def claim(self, resident: User, tier_id: str) -> str:
        body, _ = claim_voucher(self.c.id, tier_id, resident, self.clock.now(), uuid.uuid4().hex)
        return body["id"]

    def redeem(self, voucher_id: str, cashier: User, bill: int) -> dict:
        token, _ = sign(voucher_id, self.clock.now())
        body, _ = redeem(token, bill, cashier, self.clock.now(), uuid.uuid4().hex)
        return body

    def play(self) -> None:
        """Four residents claim at 21:00 on 12-01; three vouchers are used (one after midnight), one is
        used, refunded and used again at the other shop, and one is never used and expires."""
        self.clock.set(at(12, 1, 21))
        r1, r2, r3, r4 = (make_resident() for _ in range(4))
        v1, v2, v3 = self.claim(r1, self.tier30), self.claim(r2, self.tier30), self.claim(r3, self.tier10)
        self.v4 = self.claim(r4, self.tier30)  # expires unused at 12-08 21:00
        self.clock.set(at(12, 1, 21, 30))
        self.redeem(v1, self.cashier_a, 12_800)
        self.clock.set(at(12, 1, 22, 15))
        returned = self.redeem(v2, self.cashier_b, 20_000)
        self.clock.set(at(12, 2, 0, 30))
        self.redeem(v3, self.cashier_a, 5_000)
        self.clock.set(at(12, 2, 19))
        refund(returned["id"], None, self.cashier_b, self.clock.now())
        self.clock.set(at(12, 3, 20))
        self.redeem(v2, self.cashier_a, 15_000)


def tallied_world(clock) -> World:
    """The world played, with one refusal at the till (the unused voucher, too late: ``voucher_expired``),
    and every job run at 03:00 on 12-09: what ``test_reports.py`` works out by hand."""
    from voucher_app.core.errors import DomainError
    from voucher_app.scheduler.runs import run_due

    world = World(clock)
    world.play()
    clock.set(at(12, 8, 21, 30))
    try:
        world.redeem(world.v4, world.cashier_b, 20_000)
    except DomainError as refusal:
        assert refusal.code == "voucher_expired"
    else:
        raise AssertionError("a voucher past its expiry was redeemed")
    clock.set(at(12, 9, 3))
    run_due(clock.now())
    return world
