"""Builders for the fraud tests: shops, residents and sales written straight into the tables, so a test
can lay down weeks of a shop's history in a few statements (the rules read tables, not requests)."""
from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import insert

from campaigns.models import Campaign
from merchants.models import MerchantStatus
from tests.builders import make_account, make_campaign, make_merchant, next_phone
from voucher_app.accounts.models import SignIn, User
from voucher_app.core.database import new_id
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.redemptions.models import Redemption
from voucher_app.vouchers.models import Voucher, VoucherStatus

CITY = dt.timezone(dt.timedelta(hours=8))
EVALUATED_AT = dt.datetime(2026, 12, 31, 12, 0, tzinfo=CITY)  # the month of December judged at its end
_sign_ins = itertools.count(1)


def city_time(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, second, tzinfo=CITY)


class Plant:
    """One campaign whose tier is 满100减30, and helpers that write shops, residents and their sales."""

    def __init__(self, campaign: Campaign | None = None):
        self.campaign = campaign or make_campaign()
        self.tier = self.campaign.tiers[0]
        self.round = self.campaign.rounds[0]
        self.admin = None

    def shop(self, opening_hours: str | None = None, cashiers: int = 1, **changes):
        merchant, owner = make_merchant(MerchantStatus.approved, **changes)
        merchant.opening_hours = opening_hours
        db.session.commit()
        staff = [make_account(Role.cashier, merchant) for _ in range(cashiers)]
        return merchant, (staff[0] if cashiers == 1 else staff)

    def residents(self, n: int) -> list[str]:
        rows = [{"id": new_id(), "role": Role.resident, "phone": next_phone(), "is_active": True} for _ in range(n)]
        db.session.execute(insert(User), rows)
        db.session.commit()
        return [row["id"] for row in rows]

    def sign_in(self, resident_id: str, at: dt.datetime, device: str | None = None, address: str | None = None):
        db.session.add(SignIn(id=f"plant-{next(_sign_ins)}", user_id=resident_id, kind="api", created_at=at,
                              expires_at=at + dt.timedelta(days=14), last_seen_at=at, device=device, address=address))
        db.session.commit()

    def sales(self, shop, cashier, times: list[dt.datetime], *, residents: list[str] | None = None,
              bills: list[int] | None = None, claim_gap: dt.timedelta = dt.timedelta(hours=3),
              threshold: int | None = None, discount: int | None = None, percent: int | None = None) -> list[str]:
        """One voucher and one sale per time (each resident's own voucher); the sales' ids."""
        residents = residents or self.residents(len(times))
        bills = bills or [12_800] * len(times)
        threshold = self.tier.threshold_cents if threshold is None else threshold
        discount = self.tier.discount_cents if discount is None else discount
        vouchers, sales = [], []
        for i, at in enumerate(times):
            resident = residents[i % len(residents)]
            voucher_id = new_id()
            vouchers.append({
                "id": voucher_id, "short_code": voucher_id[-10:], "campaign_id": self.campaign.id,
                "tier_id": self.tier.id, "round_id": self.round.id, "release_at": self.round.release_at,
                "threshold_cents": threshold, "discount_cents": discount, "status": VoucherStatus.redeemed,
                "resident_id": resident, "person_id": resident, "claimed_at": at - claim_gap,
                "expires_at": at + dt.timedelta(days=7), "redeemed_at": at, "percent": percent})
            sales.append(self._sale(voucher_id, shop, cashier, at, bills[i], discount))
        db.session.execute(insert(Voucher), vouchers)
        db.session.execute(insert(Redemption), sales)
        db.session.commit()
        return [sale["id"] for sale in sales]

    def cycle(self, shop, cashier, sale_id: str, times: list[dt.datetime], bill: int = 12_800) -> list[str]:
        """The sale refunded, then its voucher redeemed again at each time, each new sale but the last
        refunded ten minutes later."""
        first = db.session.get(Redemption, sale_id)
        first.refunded_at = times[0] - dt.timedelta(minutes=10)
        db.session.commit()
        sales = [self._sale(first.voucher_id, shop, cashier, at, bill, self.tier.discount_cents) for at in times]
        for sale, at in zip(sales[:-1], times[:-1], strict=True):
            sale["refunded_at"] = at + dt.timedelta(minutes=10)
        db.session.execute(insert(Redemption), sales)
        db.session.commit()
        return [sale["id"] for sale in sales]

    def _sale(self, voucher_id, shop, cashier, at, bill, discount) -> dict:
        discount = min(discount, bill)
        return {"id": new_id(), "voucher_id": voucher_id, "campaign_id": self.campaign.id, "merchant_id": shop.id,
                "cashier_id": cashier.id, "bill_cents": bill, "discount_cents": discount,
                "payable_cents": bill - discount, "redeemed_at": at.astimezone(dt.timezone.utc)}


def daily(first_day: int, last_day: int, per_day: int, hour: int = 12, month: int = 12) -> list[dt.datetime]:
    """``per_day`` sales on each day, spread over the hours from ``hour`` on."""
    return [city_time(day, hour + (i * 7) // per_day, (i * 7 * 60 // per_day) % 60, month=month)
            for day in range(first_day, last_day + 1) for i in range(per_day)]
