"""Demo activity: residents who claimed and used vouchers, so the bureau's reports have real figures.

A finished autumn campaign (M19) with two rounds — claims in the first minutes of each release,
purchases over the following days at the shops enrolled, a few returns, some vouchers left to
expire — and the first two evenings of the open night-economy campaign. Everything goes through the
same services as the real thing, with "now" set to the moment each act happened; the scheduler then
closes, expires, settles and tallies it like any other day (``voucher serve --with-scheduler`` catches
up at start, or run ``voucher jobs run-due``).

Seeded, so every install shows the same story; running it again changes nothing.
"""
from __future__ import annotations

import datetime as dt
import random
import uuid

from sqlalchemy import select

from campaigns.models import Campaign
from campaigns.schemas import CampaignIn
from campaigns.service import create_campaign
from merchants.models import Enrolment, EnrolmentStatus, Merchant, MerchantStatus
from merchants.service import ineligibility
from voucher_app.accounts.models import User
from voucher_app.core.clock import city_zone
from voucher_app.core.errors import DomainError
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.redemptions.hours import within
from voucher_app.redemptions.service import redeem, refund
from voucher_app.vouchers.claiming import claim_voucher, memo
from voucher_app.vouchers.issuing import publish_campaign
from voucher_app.vouchers.tokens import sign

AUTUMN = "广元金秋促消费券"
DEMO_RESIDENTS = 400
NIGHT = "广元夜间消费券·第一期"


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=city_zone())


def autumn_campaign(today: dt.date) -> dict:
    start = today - dt.timedelta(days=40)
    return {
        "name": AUTUMN, "kind": "general", "measure_codes": ["M19"],
        "description": "金秋消费季：全市商户通用，两轮发放。", "budget_cents": 40_000_00,
        "starts_at": _local(start, 0).isoformat(), "ends_at": _local(today - dt.timedelta(days=12), 23, 59).isoformat(),
        "merchant_categories": [], "districts": [], "limit_per_resident": 2, "limit_per_round": 1,
        "valid_days": 7, "recycle_expired": True,
        "tiers": [{"name": "满100减20", "threshold_cents": 100_00, "discount_cents": 20_00, "quantity": 700},
                  {"name": "满300减60", "threshold_cents": 300_00, "discount_cents": 60_00, "quantity": 300}],
        "rounds": [{"release_at": _local(start + dt.timedelta(days=2), 10).isoformat(), "quantities": [350, 150]},
                   {"release_at": _local(start + dt.timedelta(days=16), 10).isoformat(), "quantities": [350, 150]}],
    }


def load_demo_activity(admin: User, now: dt.datetime) -> list[str]:
    line = (f"activity: {DEMO_RESIDENTS} demo residents claimed and used vouchers of {AUTUMN} (finished) and "
            f"{NIGHT}; the scheduler settles and tallies them")
    if db.session.scalars(select(Campaign.id).where(Campaign.name == AUTUMN)).first():
        return [line]
    rng = random.Random(2026)
    today = now.astimezone(city_zone()).date()
    body = autumn_campaign(today)
    published_at = _local(today - dt.timedelta(days=41), 9)
    autumn = publish_campaign(create_campaign(CampaignIn(**body), admin, published_at).id, admin, published_at)
    residents = _residents(DEMO_RESIDENTS)
    story = _Story(rng, admin)
    story.enrol_everyone(autumn, published_at)
    for rnd, people in zip(autumn.rounds, (residents[:260], residents[140:])):
        story.rush(autumn, rnd.release_at, people, use_share=0.78, now=now)
    night = db.session.scalars(select(Campaign).where(Campaign.name == NIGHT)).first()
    if night is not None:
        released = [r for r in night.rounds if r.release_at <= now]
        for rnd in released[:1]:
            story.rush(night, rnd.release_at, residents[:150], use_share=0.6, now=now)
    memo.forget()
    return [line]


def enrolled_tills(campaign: Campaign) -> list[tuple[Merchant, User]]:
    """Each shop enrolled in ``campaign`` with a cashier of it: where the demo's sales are rung up."""
    return [(merchant, cashier) for merchant, cashier in db.session.execute(
        select(Merchant, User).join(Enrolment, Enrolment.merchant_id == Merchant.id)
        .join(User, (User.merchant_id == Merchant.id) & (User.role == Role.cashier))
        .where(Enrolment.campaign_id == campaign.id, Enrolment.status == EnrolmentStatus.approved))]


def _residents(n: int) -> list[User]:
    people = []
    for i in range(n):
        phone = f"1390839{i:04d}"
        user = db.session.scalars(select(User).where(User.phone == phone)).first()
        if user is None:
            user = User(role=Role.resident, phone=phone, is_active=True)
            db.session.add(user)
        people.append(user)
    db.session.commit()
    return people


class _Story:
    """Claims in a rush after a release, then purchases on the following days within the rules."""

    def __init__(self, rng: random.Random, admin: User):
        self.rng, self.admin = rng, admin
        self.claims = self.redemptions = self.refunds = 0
        self._cashiers: dict[str, User] = {}

    def enrol_everyone(self, campaign: Campaign, at: dt.datetime) -> None:
        for merchant in db.session.scalars(select(Merchant).where(Merchant.status == MerchantStatus.approved)):
            if ineligibility(campaign, merchant):
                continue
            db.session.add(Enrolment(campaign_id=campaign.id, merchant_id=merchant.id, status=EnrolmentStatus.approved,
                                     created_at=at, reviewed_at=at, reviewed_by=self.admin.id))
        db.session.commit()

    def rush(self, campaign: Campaign, release_at: dt.datetime, people: list[User], use_share: float,
             now: dt.datetime) -> None:
        shops = enrolled_tills(campaign)
        if not shops:
            return
        tiers = campaign.tiers
        bought = []
        for person in people:
            moment = release_at + dt.timedelta(seconds=self.rng.expovariate(1 / 90))  # most in the first minutes
            if moment >= now:
                continue
            tier = tiers[0] if self.rng.random() < 0.7 else tiers[-1]
            try:
                voucher, _status = claim_voucher(campaign.id, tier.id, person, moment, uuid.uuid4().hex)
            except DomainError:
                continue  # sold out or over the limit, as in real life
            self.claims += 1
            if self.rng.random() < use_share:
                bought.append((voucher, tier))
        for voucher, tier in bought:
            self._purchase(campaign, voucher, tier, shops, now)

    def _purchase(self, campaign: Campaign, voucher: dict, tier, shops, now: dt.datetime) -> None:
        claimed = dt.datetime.fromisoformat(voucher["claimed_at"])
        expires = dt.datetime.fromisoformat(voucher["expires_at"])
        for _try in range(12):
            moment = claimed + dt.timedelta(hours=self.rng.uniform(1, (expires - claimed).total_seconds() / 3600 - 1))
            local = moment.astimezone(city_zone())
            hour = self.rng.choice([11, 12, 12, 13, 17, 18, 18, 19, 19, 20, 20, 21, 22, 23])
            moment = local.replace(hour=hour, minute=self.rng.randrange(60))
            if moment < expires and moment < now and within(moment, city_zone(), campaign.valid_from,
                                                              campaign.valid_to, campaign.valid_weekdays):
                break
        else:
            return
        merchant, cashier = self.rng.choice(shops)
        bill = tier.threshold_cents + self.rng.randrange(0, 250) * 100 + self.rng.choice([0, 50, 80]) * 10
        token, _ = sign(voucher["id"], moment)
        if self.rng.random() < 0.04:  # a bill short of the threshold: refused, then the customer buys more
            self._refused(token, tier.threshold_cents - 500, cashier, moment - dt.timedelta(minutes=2))
        try:
            sale, _status = redeem(token, max(bill, 1_00), cashier, moment, uuid.uuid4().hex)
        except DomainError:
            return
        self.redemptions += 1
        if self.rng.random() < 0.03:  # the same QR shown again at the next till
            self._refused(token, bill, cashier, moment + dt.timedelta(seconds=20))
        returned_at = moment + dt.timedelta(hours=self.rng.uniform(2, 30))
        if self.rng.random() < 0.03 and returned_at < now:
            refund(sale["id"], None, self._owner(merchant), returned_at)  # refunds are the owner's
            self.refunds += 1

    @staticmethod
    def _owner(merchant: Merchant) -> User:
        return db.session.scalars(select(User).where(User.merchant_id == merchant.id,
                                                     User.role == Role.merchant_owner)).first()

    @staticmethod
    def _refused(token: str, bill: int, cashier: User, moment: dt.datetime) -> None:
        try:
            redeem(token, bill, cashier, moment, uuid.uuid4().hex)
        except DomainError:
            pass  # recorded as a refused attempt, as at a real till
