"""A shop where residents have used vouchers, for the complaints tests: an open campaign (T0 + 1 hour,
vouchers valid 18:00-02:00), shop ``a`` enrolled with its owner and a cashier, shop ``b`` likewise, the
bureau's admin and viewer; ``sale`` makes a resident claim and use a voucher at a shop."""
from __future__ import annotations

import datetime as dt
import uuid

from merchants.models import Enrolment, EnrolmentStatus, MerchantStatus
from tests.builders import make_account, make_merchant, make_staff, token_for
from tests.campaign_data import T0
from tests.scenario import make_resident, publish
from voucher_app.accounts.models import User
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.redemptions.service import redeem
from voucher_app.vouchers.claiming import claim_voucher
from voucher_app.vouchers.tokens import sign

SALE_AT = T0 + dt.timedelta(hours=1, minutes=30)  # Tuesday 2026-12-01, 21:30 in the city


class ShopWorld:
    def __init__(self, clock):
        self.clock = clock
        clock.set(T0)
        self.admin = make_staff(Role.admin)
        self.viewer = make_account(Role.viewer)
        self.campaign = publish(self.admin, clock)
        self.tier = self.campaign.tiers[0].id  # 满100减30
        self.a, self.owner_a, self.cashier_a = self._shop()
        self.b, self.owner_b, self.cashier_b = self._shop()
        clock.set(SALE_AT)

    def _shop(self):
        shop, owner = make_merchant(MerchantStatus.approved)
        db.session.add(Enrolment(campaign_id=self.campaign.id, merchant_id=shop.id, status=EnrolmentStatus.approved,
                                 created_at=self.clock.now()))
        db.session.commit()
        return shop, owner, make_account(Role.cashier, shop)

    def sale(self, resident: User | None = None, cashier: User | None = None, bill: int = 12_800) -> tuple[User, dict]:
        """A resident (new unless given) claims a voucher and uses it at the cashier's shop (``a``'s by default)."""
        resident = resident or make_resident()
        now = self.clock.now()
        voucher, status = claim_voucher(self.campaign.id, self.tier, resident, now, uuid.uuid4().hex)
        assert status == 201, voucher
        token, _ = sign(voucher["id"], now)
        sold, status = redeem(token, bill, cashier or self.cashier_a, now, uuid.uuid4().hex)
        assert status == 201, sold
        return resident, sold

    def headers(self, user: User, lang: str | None = None) -> dict:
        headers = token_for(user)
        if lang:
            headers["Accept-Language"] = lang
        return headers
