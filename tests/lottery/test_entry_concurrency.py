"""Entries under real parallel requests against the real server: one per person per round, whatever
the number of phones, keys and workers."""
from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from tests.builders import PASSWORD, id_number, make_staff
from tests.vouchers.test_claim_concurrency import PARALLEL, http, residents, rush_server  # noqa: F401
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.lottery.models import Entry


def open_lottery(http) -> dict:
    admin = make_staff(Role.admin)
    _, token, _ = http.post("/api/v1/auth/token", {"username": admin.username, "password": PASSWORD})
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    body = {"name": "并发报名", "kind": "general", "measure_codes": ["M19"], "budget_cents": 10 * 1_000,
            "allocation": "lottery", "starts_at": (now - dt.timedelta(minutes=2)).isoformat(),
            "ends_at": (now + dt.timedelta(days=2)).isoformat(), "limit_per_resident": 1, "limit_per_round": 1,
            "valid_days": 3,
            "tiers": [{"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": 10}],
            "rounds": [{"entry_opens_at": (now - dt.timedelta(minutes=1)).isoformat(),
                        "entry_closes_at": (now + dt.timedelta(hours=1)).isoformat(),
                        "draw_at": (now + dt.timedelta(hours=2)).isoformat(), "quantities": [10]}]}
    status, campaign, _ = http.post("/api/v1/campaigns", body, token=token["token"])
    assert status == 201, campaign
    status, campaign, _ = http.post(f"/api/v1/campaigns/{campaign['id']}/publish", {}, token=token["token"])
    assert status == 200, campaign
    return campaign


def enter(http, campaign: dict, token: str, key: str | None = None):
    status, body, _ = http.post(f"/api/v1/campaigns/{campaign['id']}/entries", {"tier_id": campaign["tiers"][0]["id"]},
                                token=token, headers={"Idempotency-Key": key or uuid.uuid4().hex})
    return status, body


def entries_of(campaign_id: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Entry).where(Entry.campaign_id == campaign_id))


def test_a_crowd_enters_once_each_and_one_person_with_two_phones_once(http):  # noqa: F811
    campaign = open_lottery(http)
    crowd = residents(http, 60)
    phones = residents(http, 2)
    retrier = residents(http, 1)[0]
    for token in phones:  # one person, two phones
        status, answer, _ = http.call("PUT", "/api/v1/me/profile",
                                      {"district": "lizhou", "id_number": id_number("51080219610203123")},
                                      token=token)
        assert status == 200, answer
    calls = [(token, None) for token in crowd] + [(phones[i % 2], None) for i in range(16)]
    calls += [(retrier, "same-key")] * 6  # one resident's retries under one key
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(lambda call: enter(http, campaign, *call), calls))
    crowd_results, person_results, retries = results[:60], results[60:76], results[76:]
    assert all(status == 201 for status, _ in crowd_results), [body for status, body in crowd_results if status != 201]
    codes = sorted("201" if status == 201 else body["code"] for status, body in person_results)
    assert codes == ["201"] + ["limit_reached"] * 15
    assert [status for status, _ in retries] == [201] * 6  # every retry gets the first answer
    assert len({body["id"] for _, body in retries}) == 1
    assert entries_of(campaign["id"]) == 62  # sixty residents, the one person and the retrier, each once
