"""A demo lottery a newcomer can try in minutes: entries open now and close a quarter of an hour after
``voucher demo`` ran, the draw five minutes later (the scheduler of ``make run`` draws it; the
administrator may draw by hand once entries close). A hundred and twenty demo residents have entered,
some of them elderly for whom a fifth of the vouchers is kept; a second round opens in a week.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select

from campaigns import service as campaigns
from campaigns.models import Campaign
from campaigns.schemas import CampaignIn
from voucher_app.accounts.models import User
from voucher_app.core.clock import to_city
from voucher_app.core.errors import DomainError
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.core.validation import validate
from voucher_app.lottery import service

NAME = "广元惠民消费券·摇号"
ENTRANTS = 120


def lottery_body(now: dt.datetime) -> dict:
    d = dt.timedelta
    minute = now.replace(second=0, microsecond=0)
    return {
        "name": NAME, "kind": "general", "measure_codes": ["M19"], "allocation": "lottery",
        "description": "摇号发放，人人机会均等：开放报名期间点击“参加抽签”，开奖后中签者的券自动进入券包。"
                       "每轮留出部分名额给 60 岁以上老人。",
        "budget_cents": 3_000_00 * 40,
        "starts_at": (minute - d(days=1)).isoformat(), "ends_at": (minute + d(days=30)).isoformat(),
        "merchant_categories": ["catering", "retail", "supermarket"], "districts": [],
        "limit_per_resident": 2, "limit_per_round": 1, "valid_days": 7,
        "tiers": [{"name": "8折券（最高减30元）", "percent": 20, "cap_cents": 30_00, "threshold_cents": 0,
                   "quantity": 200,
                   "reserved": [{"group": "elderly", "quantity": 20, "until": (minute + d(days=2)).isoformat()}]}],
        "rounds": [
            {"entry_opens_at": (minute - d(hours=12)).isoformat(), "entry_closes_at": (minute + d(minutes=15)).isoformat(),
             "draw_at": (minute + d(minutes=20)).isoformat(), "quantities": [100]},
            {"entry_opens_at": (minute + d(days=7)).isoformat(), "entry_closes_at": (minute + d(days=8)).isoformat(),
             "draw_at": (minute + d(days=8, hours=1)).isoformat(), "quantities": [100]},
        ],
    }


def load_demo_lottery(admin: User, now: dt.datetime, publish: Callable[[str, User, dt.datetime], object]) -> list[str]:
    """Create, publish and fill the demo lottery unless it exists; a line telling how to try it."""
    campaign = db.session.scalars(select(Campaign).where(Campaign.name == NAME)).first()
    if campaign is None:
        campaign = campaigns.create_campaign(validate(CampaignIn, lottery_body(now)), admin, now)
        publish(campaign.id, admin, now)
    first = campaign.rounds[0]
    return [f"lottery: {NAME} — enter at /campaigns/{campaign.id} until {to_city(first.entry_closes_at):%H:%M}; "
            f"the draw at /campaigns/{campaign.id}/rounds/{first.id}/draw"]


def enter_demo_residents(now: dt.datetime) -> None:
    """The demo residents (made by the redemptions' demo) enter the first round, once."""
    campaign = db.session.scalars(select(Campaign).where(Campaign.name == NAME)).first()
    if campaign is None or campaign.rounds[0].entry_count is not None:
        return
    residents = db.session.scalars(select(User).where(User.role == Role.resident, User.phone.is_not(None))
                                   .order_by(User.phone).limit(ENTRANTS)).all()
    for resident in residents:
        try:
            service.enter(campaign.id, campaign.tiers[0].id, resident, now, key=f"demo-entry-{campaign.id}")
        except DomainError:
            continue  # already entered (a second run), or a resident the rules leave out
