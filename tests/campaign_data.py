"""Campaign request bodies for tests, around the test clock (2026-12-01T12:00Z = 20:00 in the city)."""
from __future__ import annotations

import copy
import datetime as dt

CITY = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 12, 1, 20, 0, tzinfo=CITY)  # the movable clock's start, in city time


def campaign_body(**changes) -> dict:
    """A campaign that breaks no rule: opens an hour after the test clock, two tiers, two rounds."""
    body = {
        "name": "广元夜间消费券·第一期",
        "kind": "night_economy",
        "measure_codes": ["M12"],
        "budget_cents": 5_000_000,
        "starts_at": (T0 + dt.timedelta(hours=1)).isoformat(),
        "ends_at": (T0 + dt.timedelta(days=30)).isoformat(),
        "merchant_categories": ["catering", "retail"],
        "districts": ["lizhou", "zhaohua"],
        "limit_per_resident": 2,
        "limit_per_round": 1,
        "valid_days": 7,
        "valid_hours": {"from": "18:00", "to": "02:00"},
        "valid_weekdays": [1, 2, 3, 4, 5, 6, 7],
        "tiers": [
            {"name": "满100减30", "threshold_cents": 10_000, "discount_cents": 3_000, "quantity": 1_000},
            {"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": 500},
        ],
        "rounds": [
            {"release_at": (T0 + dt.timedelta(hours=1)).isoformat(), "quantities": [500, 250]},
            {"release_at": (T0 + dt.timedelta(days=7)).isoformat(), "quantities": [500, 250]},
        ],
    }
    body = copy.deepcopy(body)
    body.update(changes)
    return body


def percent_tier(**changes) -> dict:
    """A tier of 20% off, at most 50 yuan a voucher, no minimum spend."""
    tier = {"name": "8折券", "threshold_cents": 0, "percent": 20, "cap_cents": 5_000, "quantity": 100}
    tier.update(changes)
    return tier


def lottery_body(**changes) -> dict:
    """``campaign_body`` given out by lottery: two rounds whose entries open after the campaign starts
    (the first an hour after, i.e. two hours after the test clock) and are drawn the day they close."""
    rounds = [
        {"entry_opens_at": (T0 + dt.timedelta(hours=2)).isoformat(),
         "entry_closes_at": (T0 + dt.timedelta(days=1)).isoformat(),
         "draw_at": (T0 + dt.timedelta(days=1, hours=1)).isoformat(), "quantities": [500, 250]},
        {"entry_opens_at": (T0 + dt.timedelta(days=7)).isoformat(),
         "entry_closes_at": (T0 + dt.timedelta(days=8)).isoformat(),
         "draw_at": (T0 + dt.timedelta(days=8)).isoformat(), "quantities": [500, 250]},
    ]
    return campaign_body(**{"allocation": "lottery", "rounds": rounds, **changes})
