"""Residents claim vouchers: the rules of claiming, the limits, idempotency and the ledger."""
from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import func, select, text

from tests.builders import bearer, make_staff, resident_token, staff_token
from tests.campaign_data import T0, campaign_body
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.ledger.models import Account, LedgerEntry


@pytest.fixture
def admin(client, city):
    return bearer(staff_token(client, make_staff(Role.admin).username))


def published(client, admin, **changes) -> dict:
    body = client.post("/api/v1/campaigns", json=campaign_body(**changes), headers=admin).get_json()
    response = client.post(f"/api/v1/campaigns/{body['id']}/publish", headers=admin)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def small(quantity=3, rounds=1, limit_per_resident=5, limit_per_round=5) -> dict:
    """One 10-yuan tier, ``quantity`` per round, rounds a day apart from T0+1h."""
    return dict(
        tiers=[{"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": quantity * rounds}],
        rounds=[{"release_at": (T0 + dt.timedelta(hours=1, days=i)).isoformat(), "quantities": [quantity]}
                for i in range(rounds)],
        limit_per_resident=limit_per_resident, limit_per_round=limit_per_round)


def claim(client, token, campaign, tier=0, key=None):
    headers = {**bearer(token), "Idempotency-Key": key or uuid.uuid4().hex}
    return client.post(f"/api/v1/campaigns/{campaign['id']}/claims",
                       json={"tier_id": campaign["tiers"][tier]["id"]}, headers=headers)


def code(response) -> str:
    return response.get_json()["code"]


def test_a_resident_claims_a_voucher(client, admin, clock):
    campaign = published(client, admin)
    clock.advance(hours=1)
    response = claim(client, resident_token(client), campaign)
    assert response.status_code == 201
    voucher = response.get_json()
    assert voucher["status"] == "claimed" and voucher["campaign_id"] == campaign["id"]
    assert (voucher["threshold_cents"], voucher["discount_cents"]) == (10_000, 3_000)
    assert voucher["claimed_at"] == "2026-12-01T21:00:00+08:00"
    assert voucher["expires_at"] == "2026-12-08T21:00:00+08:00"  # claim + 7 days
    tier = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()["tiers"][0]
    assert (tier["released"], tier["claimed"], tier["remaining"]) == (500, 1, 499)


def test_expiry_never_passes_the_campaign_end(client, admin, clock):
    campaign = published(client, admin, ends_at=(T0 + dt.timedelta(days=3)).isoformat(),
                         rounds=[{"release_at": (T0 + dt.timedelta(hours=1)).isoformat(), "quantities": [1000, 500]}])
    clock.advance(hours=1)
    voucher = claim(client, resident_token(client), campaign).get_json()
    assert voucher["expires_at"] == "2026-12-04T20:00:00+08:00"


def test_before_the_start_it_is_not_open(client, admin):
    campaign = published(client, admin)
    assert code(claim(client, resident_token(client), campaign)) == "not_open"


def test_an_unreleased_round_is_not_open(client, admin, clock):
    campaign = published(client, admin, starts_at=T0.isoformat(), **small())
    clock.advance(minutes=30)  # campaign started, first round at T0+1h
    response = claim(client, resident_token(client), campaign)
    assert (response.status_code, code(response)) == (409, "not_open")


def test_a_round_released_by_the_clock_is_claimable_without_the_scheduler(client, admin, clock):
    campaign = published(client, admin, **small())
    clock.advance(hours=1)
    assert claim(client, resident_token(client), campaign).status_code == 201


def test_sold_out_after_the_released_quantity(client, admin, clock):
    campaign = published(client, admin, **small(quantity=2, rounds=2))
    clock.advance(hours=1)
    assert [claim(client, resident_token(client), campaign).status_code for _ in range(2)] == [201, 201]
    response = claim(client, resident_token(client), campaign)
    assert (response.status_code, code(response)) == (409, "sold_out")
    assert response.get_json()["next_release_at"] == "2026-12-02T21:00:00+08:00"


def test_vouchers_before_where_this_worker_last_took_one_are_claimed_before_sold_out(client, admin, clock):
    """A claim that locked a voucher and then failed leaves it unclaimed behind the point where this
    worker searches from (``memo.frontier``); the search starts over once before saying sold out."""
    from voucher_app.vouchers.claiming import memo
    from voucher_app.vouchers.models import Voucher

    campaign = published(client, admin, **small(quantity=3))
    clock.advance(hours=1)
    tier_id = campaign["tiers"][0]["id"]
    last = db.session.scalars(select(Voucher).where(Voucher.tier_id == tier_id)
                              .order_by(Voucher.release_at.desc(), Voucher.id.desc())).first()
    memo.advance(tier_id, "", last.release_at, last.id)  # as if the two before it were still locked when it was taken
    token = resident_token(client)
    assert [claim(client, token, campaign).status_code for _ in range(3)] == [201, 201, 201]
    assert code(claim(client, token, campaign)) == "sold_out"


def test_a_sold_out_tier_is_looked_at_again_within_a_second_however_steady_the_refusals(client, admin, clock,
                                                                                         monkeypatch):
    """A worker remembers a sold-out tier for a second at most from the database's word; refusals
    answered from that memory do not extend it. So a voucher that comes free again (a claim that had
    locked it failed) is claimable within a second, even while a rush keeps being refused."""
    from voucher_app.core import cache
    from voucher_app.vouchers.models import Voucher

    seconds = [1_000.0]
    monkeypatch.setattr(cache, "monotonic", lambda: seconds[0])  # the worker's clock, moved by hand
    campaign = published(client, admin, **small(quantity=1))
    clock.advance(hours=1)
    assert claim(client, resident_token(client), campaign).status_code == 201
    assert code(claim(client, resident_token(client), campaign)) == "sold_out"  # the database's word
    for _ in range(3):
        seconds[0] += 0.3
        assert code(claim(client, resident_token(client), campaign)) == "sold_out"  # from memory
    db.session.execute(text("UPDATE vouchers SET status = 'available', resident_id = NULL, claim_round_id = NULL, "
                            "resident_slot = NULL, round_slot = NULL, person_id = NULL, claimed_at = NULL, expires_at = NULL "
                            "WHERE tier_id = :tier"), {"tier": campaign["tiers"][0]["id"]})
    db.session.commit()
    seconds[0] += 0.2  # 1.1 s after the database said sold out
    assert claim(client, resident_token(client), campaign).status_code == 201
    assert db.session.scalar(select(func.count()).select_from(Voucher).where(Voucher.status == "claimed")) == 1


def test_leftovers_of_a_round_stay_claimable_in_the_next(client, admin, clock):
    campaign = published(client, admin, **small(quantity=2, rounds=2))
    clock.advance(hours=1)
    claim(client, resident_token(client), campaign)  # 1 of round 1 left
    clock.advance(days=1)
    statuses = [claim(client, resident_token(client), campaign).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 409]
    tier = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()["tiers"][0]
    assert (tier["released"], tier["claimed"], tier["remaining"]) == (4, 4, 0)


def test_the_limit_per_resident(client, admin, clock):
    campaign = published(client, admin, **small(quantity=5, rounds=2, limit_per_resident=2, limit_per_round=2))
    clock.advance(hours=1)
    token = resident_token(client)
    assert [claim(client, token, campaign).status_code for _ in range(2)] == [201, 201]
    assert code(claim(client, token, campaign)) == "limit_reached"
    clock.advance(days=1)
    assert code(claim(client, token, campaign)) == "limit_reached"


def test_the_limit_per_round(client, admin, clock):
    campaign = published(client, admin, **small(quantity=5, rounds=2, limit_per_resident=3, limit_per_round=1))
    clock.advance(hours=1)
    token = resident_token(client)
    assert claim(client, token, campaign).status_code == 201
    assert code(claim(client, token, campaign)) == "limit_reached"
    clock.advance(days=1)
    assert claim(client, token, campaign).status_code == 201


def test_a_closed_campaign(client, admin, clock):
    campaign = published(client, admin, **small())
    clock.advance(days=31)
    response = claim(client, resident_token(client), campaign)
    assert (response.status_code, code(response)) == (409, "campaign_closed")


def test_a_cancelled_campaign(client, admin, clock):
    campaign = published(client, admin, **small())
    clock.advance(hours=1)
    client.post(f"/api/v1/campaigns/{campaign['id']}/cancel", json={"reason": "预算调整"}, headers=admin)
    assert code(claim(client, resident_token(client), campaign)) == "campaign_closed"


def test_a_tier_of_another_campaign_is_not_eligible(client, admin, clock):
    one, two = published(client, admin, **small()), published(client, admin, **small())
    clock.advance(hours=1)
    response = client.post(f"/api/v1/campaigns/{one['id']}/claims", json={"tier_id": two["tiers"][0]["id"]},
                           headers=bearer(resident_token(client)))
    assert (response.status_code, code(response)) == (403, "not_eligible")


def test_only_residents_claim(client, admin, clock):
    campaign = published(client, admin, **small())
    clock.advance(hours=1)
    assert code(claim(client, staff_token(client, make_staff(Role.cashier).username), campaign)) == "forbidden"
    response = client.post(f"/api/v1/campaigns/{campaign['id']}/claims", json={"tier_id": "x"})
    assert code(response) == "unauthorized"


def test_a_repeated_key_returns_the_first_answer_and_changes_nothing(client, admin, clock):
    campaign = published(client, admin, **small(quantity=5))
    clock.advance(hours=1)
    token = resident_token(client)
    first = claim(client, token, campaign, key="tap-1")
    again = claim(client, token, campaign, key="tap-1")
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert len(client.get("/api/v1/me/vouchers", headers=bearer(token)).get_json()["items"]) == 1


def test_a_repeated_key_gets_its_first_answer_after_the_tier_sold_out_and_after_the_end(client, admin, clock):
    """The cheap refusals (a tier this process knows is sold out; a campaign closed by the clock) still
    answer a retry of a claim that succeeded with that claim."""
    campaign = published(client, admin, ends_at=(T0 + dt.timedelta(days=3)).isoformat(), **small(quantity=1))
    clock.advance(hours=1)
    token = resident_token(client)
    first = claim(client, token, campaign, key="tap-before-sell-out")
    assert first.status_code == 201
    assert code(claim(client, resident_token(client), campaign)) == "sold_out"  # the process now remembers it
    again = claim(client, token, campaign, key="tap-before-sell-out")
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    clock.advance(days=3)  # past the end
    assert code(claim(client, token, campaign)) == "campaign_closed"
    late = claim(client, token, campaign, key="tap-before-sell-out")
    assert (late.status_code, late.get_json()) == (201, first.get_json())


def test_the_same_key_with_a_different_body_is_a_conflict(client, admin, clock):
    campaign = published(client, admin)
    clock.advance(hours=1)
    token = resident_token(client)
    claim(client, token, campaign, tier=0, key="tap-2")
    response = claim(client, token, campaign, tier=1, key="tap-2")
    assert (response.status_code, code(response)) == (409, "idempotency_conflict")


def test_keys_belong_to_their_resident(client, admin, clock):
    campaign = published(client, admin, **small(quantity=5))
    clock.advance(hours=1)
    a, b = claim(client, resident_token(client), campaign, key="same"), claim(client, resident_token(client), campaign, key="same")
    assert a.status_code == b.status_code == 201 and a.get_json()["id"] != b.get_json()["id"]


def test_claims_reserve_the_discount_in_the_ledger(client, admin, clock):
    campaign = published(client, admin)
    clock.advance(hours=1)
    claim(client, resident_token(client), campaign, tier=0)
    claim(client, resident_token(client), campaign, tier=1)

    def moved(src, dst):
        return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.campaign_id == campaign["id"], LedgerEntry.from_account == src, LedgerEntry.to_account == dst))

    assert moved(Account.budget, Account.available) == 5_000_000
    assert moved(Account.available, Account.reserved) == 3_000 + 1_000


def test_the_wallet_lists_my_vouchers_only(client, admin, clock):
    campaign = published(client, admin)
    clock.advance(hours=1)
    mine, theirs = resident_token(client), resident_token(client)
    claim(client, mine, campaign)
    claim(client, theirs, campaign)
    items = client.get("/api/v1/me/vouchers", headers=bearer(mine)).get_json()["items"]
    assert len(items) == 1 and items[0]["status"] == "claimed"


def test_claims_are_rate_limited_per_resident(client, admin, clock):
    campaign = published(client, admin, **small(quantity=50, limit_per_resident=50, limit_per_round=50))
    clock.advance(hours=1)
    client.application.config["CLAIM_LIMIT_PER_RESIDENT"] = "3/minute"
    token = resident_token(client)
    statuses = [claim(client, token, campaign).status_code for _ in range(4)]
    assert statuses[:3] == [201, 201, 201] and statuses[3] == 429
    assert claim(client, resident_token(client), campaign).status_code == 201


def test_cancelling_revokes_claimed_vouchers_and_returns_their_value(client, admin, clock):
    campaign = published(client, admin, **small(quantity=5))
    clock.advance(hours=1)
    token = resident_token(client)
    voucher = claim(client, token, campaign).get_json()
    client.post(f"/api/v1/campaigns/{campaign['id']}/cancel", json={"reason": "预算调整"}, headers=admin)
    listed = client.get("/api/v1/me/vouchers", headers=bearer(token)).get_json()["items"]
    assert [v["status"] for v in listed] == ["revoked"]
    refused = client.get(f"/api/v1/me/vouchers/{voucher['id']}/token", headers=bearer(token))
    assert refused.get_json()["code"] == "voucher_revoked"

    def moved(src, dst):
        return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.campaign_id == campaign["id"], LedgerEntry.from_account == src, LedgerEntry.to_account == dst))

    assert moved(Account.available, Account.reserved) - moved(Account.reserved, Account.available) == 0


def test_claims_go_on_after_the_database_drops_its_connections(client, admin, clock):
    """A restart of PostgreSQL (or an idle timeout) closes the hot path's connection under it: the
    next claim reconnects, and a retried key still claims once."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")
    campaign = published(client, admin, **small(quantity=3))
    clock.advance(hours=1)
    token = resident_token(client)
    assert claim(client, token, campaign).status_code == 201  # the hot path's connection is open now
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    key = uuid.uuid4().hex
    first = claim(client, token, campaign, key=key)
    again = claim(client, token, campaign, key=key)
    assert first.status_code == 201, first.get_json()
    assert again.get_json() == first.get_json()
    held = db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.to_account == Account.reserved))
    assert held == 2


def _counting_takes(monkeypatch, seconds: list[float], took: float) -> None:
    """The worker's clock is ``seconds[0]``, and counting takes ``took`` seconds by its stopwatch."""
    import itertools
    from types import SimpleNamespace

    from voucher_app.core import cache
    from voucher_app.vouchers import counts

    stopwatch = itertools.cycle([0.0, took])
    monkeypatch.setattr(cache, "monotonic", lambda: seconds[0])
    monkeypatch.setattr(counts, "time", SimpleNamespace(perf_counter=lambda: next(stopwatch)))


def _claimed_elsewhere(campaign) -> None:
    """Another worker's claim: the row changes, this process's memory does not hear of it."""
    db.session.execute(text("UPDATE vouchers SET status = 'claimed' WHERE id = (SELECT min(id) FROM vouchers "
                            "WHERE tier_id = :tier AND status = 'available')"), {"tier": campaign["tiers"][0]["id"]})
    db.session.commit()


def _tier(client, campaign) -> tuple[int, int]:
    tier = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()["tiers"][0]
    return tier["claimed"], tier["remaining"]


def test_page_counts_cost_a_bounded_share_and_a_resident_sees_their_own_claim_at_once(client, admin, clock,
                                                                                      monkeypatch):
    seconds = [1_000.0]
    _counting_takes(monkeypatch, seconds, took=0.004)  # reused for 50 × 4 ms = 0.2 s
    campaign = published(client, admin, **small(quantity=10))
    clock.advance(hours=1)
    assert _tier(client, campaign) == (0, 10)
    assert claim(client, resident_token(client), campaign).status_code == 201
    assert _tier(client, campaign) == (1, 9)  # this process's own claim counts at once
    _claimed_elsewhere(campaign)
    seconds[0] += 0.19
    assert _tier(client, campaign) == (1, 9)  # the copy, 0.19 s old
    seconds[0] += 0.01
    assert _tier(client, campaign) == (2, 8)  # counted again
    assert client.get("/api/v1/campaigns").get_json()["items"][0]["tiers"][0]["claimed"] == 2


def test_a_count_that_took_long_is_still_at_most_a_second_old(client, admin, clock, monkeypatch):
    seconds = [1_000.0]
    _counting_takes(monkeypatch, seconds, took=0.2)  # 50 × 0.2 s would be 10 s
    campaign = published(client, admin, **small(quantity=10))
    clock.advance(hours=1)
    assert _tier(client, campaign) == (0, 10)
    _claimed_elsewhere(campaign)
    seconds[0] += 0.99
    assert _tier(client, campaign) == (0, 10)
    seconds[0] += 0.01
    assert _tier(client, campaign) == (1, 9)


def test_residents_see_a_cancellation_at_once(client, admin, clock):
    campaign = published(client, admin, **small(quantity=10))
    clock.advance(hours=1)
    assert claim(client, resident_token(client), campaign).status_code == 201
    seen = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()  # kept by this process from here on
    assert (seen["status"], seen["tiers"][0]["remaining"]) == ("open", 9)
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/cancel", json={"reason": "预算调整"},
                       headers=admin).status_code == 200
    seen = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()
    assert (seen["status"], seen["cancel_reason"], seen["tiers"][0]["remaining"]) == ("cancelled", "预算调整", 0)
    page = client.get(f"/campaigns/{campaign['id']}").get_data(as_text=True)
    assert 'class="badge badge-cancelled"' in page and "claim_key" not in page  # no claim button any more


def test_residents_list_open_campaigns_then_those_opening_soon(client, admin, clock):
    published(client, admin, name="第二期", starts_at=(T0 + dt.timedelta(days=2)).isoformat(),
              rounds=[{"release_at": (T0 + dt.timedelta(days=2)).isoformat(), "quantities": [1_000, 500]}])
    first = published(client, admin, name="第一期", **small(quantity=10))
    draft = client.post("/api/v1/campaigns", json=campaign_body(name="草稿"), headers=admin).get_json()
    cancelled = published(client, admin, name="取消的一期")
    clock.advance(hours=1)
    assert claim(client, resident_token(client), first).status_code == 201

    def cards() -> tuple[list[tuple[str, str]], str]:
        page = client.get("/campaigns").get_data(as_text=True)
        return re.findall(r'data-testid="campaign-card">\s*<div class="campaign-head">\s*<h2>([^<]+)</h2>\s*'
                          r'<span class="badge badge-(\w+)">', page), page

    listed, page = cards()
    assert listed == [("取消的一期", "open"), ("第一期", "open"), ("第二期", "scheduled")]
    assert "剩 9 张" in page  # 第一期: one of its ten claimed
    client.post(f"/api/v1/campaigns/{cancelled['id']}/cancel", json={}, headers=admin)
    assert cards()[0] == [("第一期", "open"), ("第二期", "scheduled")]  # gone at once
    assert draft["id"] not in page
