"""Demo campaigns around today's date: night economy (M12), a holiday (M19), tourism (M03/M05).

Built through the same services as the bureau's editor, so the demo obeys every publishing rule.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select

from campaigns import service
from campaigns.models import Campaign
from campaigns.schemas import CampaignIn
from voucher_app.accounts.models import User
from voucher_app.core.clock import city_zone
from voucher_app.core.extensions import db
from voucher_app.core.validation import validate


def _at(day: dt.date, hour: int, minute: int = 0) -> str:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=city_zone()).isoformat()


def demo_campaigns(today: dt.date) -> list[dict]:
    """Three campaigns whose rounds fall before, on and after ``today`` (a date in the city)."""
    d = dt.timedelta
    night_start = today - d(days=3)
    holiday_start = today + d(days=10)
    tour_start = today - d(days=1)
    return [
        {
            "name": "广元夜间消费券·第一期", "kind": "night_economy", "measure_codes": ["M12", "M13"],
            "description": "点亮夜广元：在金橄榄广场、皇泽寺凤街、旺苍红场、昭化西市等夜间消费街区使用。",
            "budget_cents": 60_000_00,
            "starts_at": _at(night_start, 0), "ends_at": _at(night_start + d(days=30), 23, 59),
            "merchant_categories": ["catering", "retail", "entertainment", "supermarket"], "districts": [],
            "limit_per_resident": 3, "limit_per_round": 1, "valid_days": 7,
            "valid_hours": {"from": "18:00", "to": "02:00"}, "recycle_expired": True,
            "tiers": [
                {"name": "满100减30", "threshold_cents": 100_00, "discount_cents": 30_00, "quantity": 900},
                {"name": "满50减15", "threshold_cents": 50_00, "discount_cents": 15_00, "quantity": 1200},
            ],
            "rounds": [
                {"release_at": _at(night_start + d(days=1), 20), "quantities": [300, 400]},
                {"release_at": _at(today, 20), "quantities": [300, 400]},
                {"release_at": _at(today + d(days=7), 20), "quantities": [300, 400]},
            ],
        },
        {
            "name": "元旦迎新消费券", "kind": "holiday", "measure_codes": ["M19"],
            "description": "节假日促消费：商超、家电、餐饮通用。",
            "budget_cents": 50_000_00,
            "starts_at": _at(holiday_start, 0), "ends_at": _at(holiday_start + d(days=14), 23, 59),
            "merchant_categories": ["supermarket", "appliances", "catering", "retail"], "districts": [],
            "limit_per_resident": 2, "limit_per_round": 1, "valid_days": 5,
            "tiers": [
                {"name": "满200减50", "threshold_cents": 200_00, "discount_cents": 50_00, "quantity": 600},
                {"name": "20元无门槛", "threshold_cents": 0, "discount_cents": 20_00, "quantity": 500},
            ],
            "rounds": [
                {"release_at": _at(holiday_start, 10), "quantities": [300, 250]},
                {"release_at": _at(holiday_start + d(days=3), 10), "quantities": [300, 250]},
            ],
        },
        {
            "name": "剑门蜀道文旅消费券", "kind": "tourism", "measure_codes": ["M03", "M05"],
            "description": "游广元：景区门票、住宿、特色餐饮可用，周末通用。",
            "budget_cents": 40_000_00,
            "starts_at": _at(tour_start, 8), "ends_at": _at(tour_start + d(days=45), 22),
            "merchant_categories": ["tourism", "accommodation", "catering"],
            "districts": ["lizhou", "zhaohua", "jiange", "qingchuan", "cangxi"],
            "limit_per_resident": 2, "limit_per_round": 1, "valid_days": 10,
            "valid_weekdays": [5, 6, 7],
            "tiers": [{"name": "满300减80", "threshold_cents": 300_00, "discount_cents": 80_00, "quantity": 400}],
            "rounds": [
                {"release_at": _at(tour_start, 10), "quantities": [200]},
                {"release_at": _at(tour_start + d(days=14), 10), "quantities": [200]},
            ],
        },
    ]


def load_demo_campaigns(admin: User, now: dt.datetime,
                        publish: Callable[[str, User, dt.datetime], object]) -> list[str]:
    """Create and publish the demo campaigns that do not exist yet; return a line per campaign.

    ``publish`` is ``vouchers.issuing.publish_campaign``: publishing mints vouchers, a higher domain's work."""
    lines = []
    today = now.astimezone(city_zone()).date()
    for body in demo_campaigns(today):
        existing = db.session.scalars(select(Campaign).where(Campaign.name == body["name"])).first()
        if existing is None:
            campaign = service.create_campaign(validate(CampaignIn, body), admin, now)
            publish(campaign.id, admin, now)
        lines.append(f"campaign: {body['name']}")
    return lines
