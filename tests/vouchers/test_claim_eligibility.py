"""Who may claim (a campaign's districts and profile rule) and how often (per person per city day)."""
from __future__ import annotations

import pytest

from tests.builders import bearer, id_number, new_id_number, resident_token
from tests.vouchers.test_claims_api import admin, claim, code, published, small  # noqa: F401


def with_profile(client, district="lizhou", year=1980) -> str:
    token = resident_token(client)
    answer = client.put("/api/v1/me/profile", headers=bearer(token),
                        json={"district": district, "id_number": new_id_number(year)})
    assert answer.status_code == 200, answer.get_json()
    return token


def test_a_campaign_that_requires_a_profile_refuses_residents_without_one(client, admin, clock):  # noqa: F811
    campaign = published(client, admin, requires_profile=True, **small())
    clock.advance(hours=1)
    refused = claim(client, resident_token(client), campaign)
    assert refused.status_code == 403 and code(refused) == "not_eligible"
    assert refused.get_json()["profile_required"] is True
    assert claim(client, with_profile(client), campaign).status_code == 201


def test_a_campaign_for_some_districts_refuses_residents_of_others(client, admin, clock):  # noqa: F811
    campaign = published(client, admin, resident_districts=["zhaohua"], **small())
    clock.advance(hours=1)
    for token in (resident_token(client), with_profile(client, "lizhou")):
        refused = claim(client, token, campaign)
        assert refused.status_code == 403 and code(refused) == "not_eligible"
        assert refused.get_json()["resident_districts"] == ["zhaohua"]
    assert claim(client, with_profile(client, "zhaohua"), campaign).status_code == 201


@pytest.mark.parametrize("limit_per_day", [1, 2])
def test_claims_per_person_per_city_day(client, admin, clock, limit_per_day):  # noqa: F811
    campaign = published(client, admin, limit_per_day=limit_per_day,
                         **small(quantity=10, rounds=3, limit_per_resident=10, limit_per_round=10))
    clock.advance(hours=1)  # 21:00 in the city
    token = resident_token(client)
    for _ in range(limit_per_day):
        assert claim(client, token, campaign).status_code == 201
    refused = claim(client, token, campaign)
    assert refused.status_code == 409 and code(refused) == "limit_reached"
    clock.advance(hours=2, minutes=30)  # 23:30: still the same city day
    assert code(claim(client, token, campaign)) == "limit_reached"
    clock.advance(minutes=31)  # 00:01 the next day in the city (16:01 UTC)
    assert claim(client, token, campaign).status_code == 201


def test_a_second_phone_of_the_same_person_shares_the_day(client, admin, clock):  # noqa: F811
    campaign = published(client, admin, limit_per_day=1,
                         **small(quantity=10, rounds=1, limit_per_resident=10, limit_per_round=10))
    clock.advance(hours=1)
    number = id_number("51080219700304123")
    phones = [resident_token(client) for _ in range(2)]
    for token in phones:
        assert client.put("/api/v1/me/profile", headers=bearer(token),
                          json={"district": "lizhou", "id_number": number}).status_code == 200
    assert claim(client, phones[0], campaign).status_code == 201
    assert code(claim(client, phones[1], campaign)) == "limit_reached"


