"""A tier's reserved quota under real parallel requests: only its group takes it until its time."""
from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

from tests.builders import PASSWORD, make_staff, new_id_number
from tests.vouchers.test_claim_concurrency import PARALLEL, claim, claimed_vouchers, http, residents, rush_server  # noqa: F401
from voucher_app.core.roles import Role
from voucher_app.settlement.reconciliation import check_ledger


def elderly_profile(http, token: str) -> None:
    status, answer, _ = http.call("PUT", "/api/v1/me/profile", {"district": "lizhou",
                                                                "id_number": new_id_number(1950)},
                                  token=token)
    assert status == 200, answer


def open_campaign(http, quantity: int, reserved: int, until: dt.datetime) -> dict:
    admin = make_staff(Role.admin)
    _, token, _ = http.post("/api/v1/auth/token", {"username": admin.username, "password": PASSWORD})
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    body = {"name": "老年人专享额度", "kind": "general", "measure_codes": ["M19"], "budget_cents": quantity * 1_000,
            "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
            "ends_at": (now + dt.timedelta(days=1)).isoformat(), "limit_per_resident": 1, "limit_per_round": 1,
            "valid_days": 3,
            "tiers": [{"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": quantity,
                       "reserved": [{"group": "elderly", "quantity": reserved, "until": until.isoformat()}]}],
            "rounds": [{"release_at": (now - dt.timedelta(seconds=30)).isoformat(), "quantities": [quantity]}]}
    status, campaign, _ = http.post("/api/v1/campaigns", body, token=token["token"])
    assert status == 201, campaign
    status, campaign, _ = http.post(f"/api/v1/campaigns/{campaign['id']}/publish", {}, token=token["token"])
    assert status == 200, campaign
    return campaign


def test_nobody_outside_the_group_takes_the_quota_in_a_rush(http):  # noqa: F811
    campaign = open_campaign(http, 30, 10, dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))
    young, old = residents(http, 40), residents(http, 8)
    for token in old:
        elderly_profile(http, token)
    crowd = [("young", token) for token in young] + [("old", token) for token in old]
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(lambda person: (person[0], claim(http, campaign, person[1])), crowd))
    won = {"young": 0, "old": 0}
    for who, (status, body) in results:
        if status == 201:
            won[who] += 1
        else:
            assert body["code"] == "sold_out", body
    assert won == {"young": 20, "old": 8}  # the general pool went to the crowd; every elder got one
    vouchers = claimed_vouchers(campaign["id"])
    assert sum(1 for v in vouchers if v.pool == "elderly") == 8  # the elders took their quota first
    assert check_ledger()[1] == []


def test_a_quota_past_its_time_joins_the_general_pool(http):  # noqa: F811
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=3)
    campaign = open_campaign(http, 2, 2, until)
    early, late = residents(http, 2)
    status, body = claim(http, campaign, early)
    assert status == 409 and body["code"] == "sold_out"  # everything is kept for the elderly, for now
    time.sleep(max(0.0, (until - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 1.2)
    status, body = claim(http, campaign, late)
    assert status == 201, body
