"""A campaign's fair-allocation fields through the API (issue #16): percent tiers with a cap, reserved
quotas, who may claim, daily limits, and lottery rounds whose seeds are committed to at publishing.

The test clock starts at 2026-12-01T20:00 city time; ``campaign_body`` starts an hour later.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pytest
from sqlalchemy import func, select

from campaigns.models import Round
from tests.builders import bearer, make_staff, staff_token
from tests.campaign_data import T0, campaign_body, lottery_body, percent_tier
from voucher_app.core.audit import AuditRecord
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.vouchers.models import Voucher

HEX64 = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture
def admin(client, city):
    return bearer(staff_token(client, make_staff(Role.admin).username))


def post(client, admin, body):
    return client.post("/api/v1/campaigns", json=body, headers=admin)


def create(client, admin, body):
    response = post(client, admin, body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def patch(client, admin, campaign_id, changes):
    return client.patch(f"/api/v1/campaigns/{campaign_id}", json=changes, headers=admin)


def publish(client, admin, campaign_id):
    return client.post(f"/api/v1/campaigns/{campaign_id}/publish", headers=admin)


def problems(response) -> dict[str, str]:
    body = response.get_json()
    assert (response.status_code, body["code"]) == (422, "validation_error"), body
    return {e["field"]: e["message"] for e in body["errors"]}


def at(delta: dt.timedelta) -> str:
    return (T0 + delta).isoformat()


def with_tier(tier: dict, **changes) -> dict:
    """``campaign_body`` whose first tier (1,000 vouchers, 500 a round) is ``tier``."""
    body = campaign_body(**changes)
    body["tiers"][0] = {"name": "券", "threshold_cents": 0, "quantity": 1_000, **tier}
    return body


# Percent tiers --------------------------------------------------------------------------------------------

def test_a_percent_tier_is_worth_its_cap_to_the_budget_and_its_vouchers_carry_the_percent(client, admin):
    body = create(client, admin, with_tier(percent_tier(quantity=1_000, threshold_cents=3_000)))
    tier = body["tiers"][0]
    assert (tier["percent"], tier["cap_cents"], tier["discount_cents"], tier["threshold_cents"]) == (20, 5_000, 5_000, 3_000)
    assert body["tiers"][1]["percent"] is None and body["tiers"][1]["cap_cents"] is None
    assert body["exposure_cents"] == 1_000 * 5_000 + 500 * 1_000

    # The budget (50,000 yuan) cannot cover 1,000 vouchers of at most 50 yuan and 500 of 10; a cap above
    # the threshold is no mistake (20% off bills from 30 yuan, at most 50 off).
    found = problems(publish(client, admin, body["id"]))
    assert set(found) == {"budget_cents"}
    assert patch(client, admin, body["id"], {"budget_cents": 5_500_000}).status_code == 200
    assert publish(client, admin, body["id"]).status_code == 200

    tier_id = body["tiers"][0]["id"]
    minted = db.session.execute(select(Voucher.percent, Voucher.discount_cents, func.count())
                                .where(Voucher.tier_id == tier_id)
                                .group_by(Voucher.percent, Voucher.discount_cents)).all()
    assert minted == [(20, 5_000, 1_000)]
    plain = db.session.scalars(select(Voucher.percent).where(Voucher.tier_id != tier_id)).all()
    assert plain and set(plain) == {None}


@pytest.mark.parametrize("fields, field", [
    ({"percent": 20}, "tiers.0.cap_cents"),
    ({"cap_cents": 5_000}, "tiers.0.percent"),
    ({"percent": 20, "cap_cents": 5_000, "discount_cents": 3_000}, "tiers.0.discount_cents"),
    ({}, "tiers.0.discount_cents"),
    ({"percent": 0, "cap_cents": 5_000}, "tiers.0.percent"),
    ({"percent": 100, "cap_cents": 5_000}, "tiers.0.percent"),
    ({"percent": 12.5, "cap_cents": 5_000}, "tiers.0.percent"),
    ({"percent": 20, "cap_cents": 0}, "tiers.0.cap_cents"),
])
def test_a_tier_of_mixed_or_incomplete_kind_is_refused_field_by_field(client, admin, fields, field):
    found = problems(post(client, admin, with_tier(fields)))
    assert field in found and found[field]


def test_the_mix_of_kinds_is_explained(client, admin):
    found = problems(post(client, admin, with_tier({"percent": 20, "cap_cents": 5_000, "discount_cents": 1})))
    assert "discount_cents" in found["tiers.0.discount_cents"] and "percent" in found["tiers.0.discount_cents"]
    found = problems(post(client, admin, with_tier({"percent": 20})))
    assert found["tiers.0.cap_cents"] == "折扣券须设置封顶金额，即每张券最多可减的金额。"


def test_a_percent_tier_read_back_can_be_sent_back(client, admin):
    body = create(client, admin, with_tier(percent_tier(quantity=1_000)))
    keys = ("name", "threshold_cents", "discount_cents", "percent", "cap_cents", "quantity", "reserved")
    tiers = [{k: t[k] for k in keys} for t in body["tiers"]]
    response = patch(client, admin, body["id"], {"tiers": tiers})
    assert response.status_code == 200, response.get_json()
    assert [{k: t[k] for k in keys} for t in response.get_json()["tiers"]] == tiers


# Who may claim, and the daily limits -----------------------------------------------------------------------

def test_new_fields_have_defaults_that_change_nothing(client, admin):
    body = create(client, admin, campaign_body())
    assert (body["allocation"], body["resident_districts"], body["requires_profile"]) == ("fcfs", [], False)
    assert (body["limit_per_day"], body["limit_per_merchant_day"]) == (None, None)
    assert body["tiers"][0]["reserved"] == [] and "entry_opens_at" not in body["rounds"][0]


def test_who_may_claim_and_the_daily_limits_are_kept_and_can_be_cleared(client, admin):
    body = create(client, admin, campaign_body(resident_districts=["lizhou", "zhaohua", "lizhou"], requires_profile=True,
                                               limit_per_day=1, limit_per_merchant_day=2))
    assert body["resident_districts"] == ["lizhou", "zhaohua"] and body["requires_profile"] is True
    assert (body["limit_per_day"], body["limit_per_merchant_day"]) == (1, 2)
    assert publish(client, admin, body["id"]).status_code == 200
    public = client.get(f"/api/v1/campaigns/{body['id']}").get_json()
    assert (public["resident_districts"], public["requires_profile"], public["limit_per_day"]) == (["lizhou", "zhaohua"], True, 1)

    other = create(client, admin, campaign_body(limit_per_day=3, requires_profile=True, resident_districts=["lizhou"]))
    edited = patch(client, admin, other["id"], {"limit_per_day": None, "requires_profile": False,
                                                "resident_districts": []}).get_json()
    assert (edited["limit_per_day"], edited["requires_profile"], edited["resident_districts"]) == (None, False, [])
    assert edited["limit_per_merchant_day"] is None


@pytest.mark.parametrize("changes, field", [
    ({"allocation": "raffle"}, "allocation"),
    ({"limit_per_day": 0}, "limit_per_day"),
    ({"limit_per_merchant_day": "2"}, "limit_per_merchant_day"),
    ({"resident_districts": "lizhou"}, "resident_districts"),
    ({"requires_profile": [1]}, "requires_profile"),
])
def test_malformed_fields_are_refused(client, admin, changes, field):
    assert field in problems(post(client, admin, campaign_body(**changes)))


def test_an_unknown_district_of_residence_blocks_publishing(client, admin):
    body = create(client, admin, campaign_body(resident_districts=["lizhou", "atlantis"]))
    found = problems(publish(client, admin, body["id"]))
    assert set(found) == {"resident_districts"} and "atlantis" in found["resident_districts"]


# Reserved quotas ---------------------------------------------------------------------------------------------

def test_reserved_quotas_are_kept_with_their_tier_and_minted_into_their_pools(client, admin):
    reserved = [{"group": "elderly", "quantity": 50, "until": at(dt.timedelta(days=3))},
                {"group": "low_income", "quantity": 20, "until": "2026-12-04T12:00:00Z"}]
    body = campaign_body()
    body["tiers"][0]["reserved"] = reserved
    created = create(client, admin, body)
    assert created["tiers"][0]["reserved"] == [
        {"group": "elderly", "quantity": 50, "until": "2026-12-04T20:00:00+08:00"},
        {"group": "low_income", "quantity": 20, "until": "2026-12-04T20:00:00+08:00"}]  # in the city's zone
    assert created["tiers"][1]["reserved"] == []

    assert publish(client, admin, created["id"]).status_code == 200
    pools = dict(db.session.execute(select(Voucher.pool, func.count()).where(
        Voucher.tier_id == created["tiers"][0]["id"]).group_by(Voucher.pool)).all())
    assert pools == {"elderly": 50, "low_income": 20, "": 930}


@pytest.mark.parametrize("reserved, field", [
    ([{"group": "children", "quantity": 5, "until": at(dt.timedelta(days=3))}], "tiers.0.reserved.0.group"),
    ([{"group": "elderly", "quantity": 5, "until": at(dt.timedelta(days=3))},
      {"group": "elderly", "quantity": 5, "until": at(dt.timedelta(days=4))}], "tiers.0.reserved.1.group"),
    ([{"group": "elderly", "quantity": 0, "until": at(dt.timedelta(days=3))}], "tiers.0.reserved.0.quantity"),
    ([{"group": "elderly", "quantity": 5, "until": "2026-12-04T20:00:00"}], "tiers.0.reserved.0.until"),
    ([{"group": "elderly", "quantity": 5}], "tiers.0.reserved.0.until"),
])
def test_a_malformed_reserved_quota_is_refused_field_by_field(client, admin, reserved, field):
    body = campaign_body()
    body["tiers"][0]["reserved"] = reserved
    assert field in problems(post(client, admin, body))


@pytest.mark.parametrize("reserved, field", [
    ([{"group": "elderly", "quantity": 800, "until": at(dt.timedelta(days=3))},
      {"group": "low_income", "quantity": 201, "until": at(dt.timedelta(days=3))}], "tiers.0.reserved"),
    ([{"group": "elderly", "quantity": 5, "until": at(dt.timedelta(days=31))}], "tiers.0.reserved.0.until"),
    ([{"group": "elderly", "quantity": 5, "until": at(dt.timedelta(minutes=30))}], "tiers.0.reserved.0.until"),
])
def test_reserved_quotas_must_fit_the_tier_and_the_period_to_publish(client, admin, reserved, field):
    body = campaign_body()
    body["tiers"][0]["reserved"] = reserved
    created = create(client, admin, body)
    assert set(problems(publish(client, admin, created["id"]))) == {field}


# Lottery rounds ------------------------------------------------------------------------------------------------

def test_a_lottery_round_has_its_window_and_is_released_at_its_draw(client, admin):
    body = create(client, admin, lottery_body())
    assert body["allocation"] == "lottery"
    first = body["rounds"][0]
    assert first["entry_opens_at"] == "2026-12-01T22:00:00+08:00"
    assert first["entry_closes_at"] == "2026-12-02T20:00:00+08:00"
    assert first["draw_at"] == first["release_at"] == "2026-12-02T21:00:00+08:00"
    assert (first["commitment"], first["entries_digest"], first["drawn_at"]) == (None, None, None)
    assert first["quantities"] == [500, 250] and "seed" not in first


@pytest.mark.parametrize("make, field", [
    (lambda b: b["rounds"][0].pop("entry_closes_at"), "rounds.0.entry_closes_at"),
    (lambda b: b["rounds"][1].pop("draw_at"), "rounds.1.draw_at"),
    (lambda b: b["rounds"][0].update(release_at=at(dt.timedelta(hours=3))), "rounds.0.release_at"),
])
def test_a_lottery_round_needs_its_window_and_no_other_release(client, admin, make, field):
    body = lottery_body()
    make(body)
    assert field in problems(post(client, admin, body))


def test_a_lottery_round_may_repeat_its_draw_as_release(client, admin):
    body = lottery_body()
    body["rounds"][0]["release_at"] = body["rounds"][0]["draw_at"]
    create(client, admin, body)


@pytest.mark.parametrize("make, field", [
    (lambda b: b["rounds"][0].update(draw_at=at(dt.timedelta(days=1))), "rounds.0.draw_at"),
    (lambda b: b["rounds"][1].update(entry_opens_at=at(dt.timedelta(days=7))), "rounds.1.entry_opens_at"),
    (lambda b: b["rounds"][1].pop("release_at"), "rounds.1.release_at"),
])
def test_a_first_come_round_refuses_a_window(client, admin, make, field):
    body = campaign_body()
    make(body)
    found = problems(post(client, admin, body))
    assert field in found and len(found) == 1


@pytest.mark.parametrize("index, changes, field", [
    (0, {"entry_closes_at": at(dt.timedelta(hours=2))}, "rounds.0.entry_closes_at"),  # closes as it opens
    (0, {"draw_at": at(dt.timedelta(hours=12))}, "rounds.0.draw_at"),  # drawn before entries close
    (0, {"entry_opens_at": at(dt.timedelta(minutes=30))}, "rounds.0.entry_opens_at"),  # before the start
    (1, {"draw_at": at(dt.timedelta(days=30))}, "rounds.1.draw_at"),  # at the campaign's end
])
def test_a_lottery_window_must_run_in_order_within_the_period_to_publish(client, admin, index, changes, field):
    body = lottery_body()
    body["rounds"][index].update(changes)
    created = create(client, admin, body)
    assert set(problems(publish(client, admin, created["id"]))) == {field}


def test_a_draft_can_switch_its_allocation(client, admin):
    first_come = create(client, admin, campaign_body())
    found = problems(patch(client, admin, first_come["id"], {"allocation": "lottery"}))
    assert {"rounds.0.entry_opens_at", "rounds.0.entry_closes_at", "rounds.0.draw_at"} <= set(found)

    lottery = create(client, admin, lottery_body())
    switched = patch(client, admin, lottery["id"], {"allocation": "fcfs"})
    assert switched.status_code == 200, switched.get_json()
    rounds = switched.get_json()["rounds"]
    assert [r["release_at"] for r in rounds] == [r["draw_at"] for r in lottery["rounds"]]
    assert "entry_opens_at" not in rounds[0]

    kept = create(client, admin, lottery_body())
    edited = patch(client, admin, kept["id"], {"budget_cents": 4_000_000, "tiers": [
        {"name": "满100减30", "threshold_cents": 10_000, "discount_cents": 3_000, "quantity": 1_000},
        {"name": "8折券", "threshold_cents": 0, "percent": 20, "cap_cents": 1_000, "quantity": 500}]}).get_json()
    assert [(r["entry_opens_at"], r["draw_at"]) for r in edited["rounds"]] == \
        [(r["entry_opens_at"], r["draw_at"]) for r in kept["rounds"]]


def test_publishing_a_lottery_commits_to_a_secret_seed_for_each_round(client, admin, clock):
    body = create(client, admin, lottery_body())
    published = publish(client, admin, body["id"])
    assert published.status_code == 200

    db.session.expire_all()
    rounds = db.session.scalars(select(Round).where(Round.campaign_id == body["id"]).order_by(Round.position)).all()
    seeds = [r.seed for r in rounds]
    assert all(HEX64.match(seed) for seed in seeds) and len(set(seeds)) == 2
    assert [r.commitment for r in rounds] == [hashlib.sha256(bytes.fromhex(s)).hexdigest() for s in seeds]

    # Before its entries open, a round's commitment is not shown; the seed never is, to anyone.
    answers = [published,
               client.get(f"/api/v1/campaigns/{body['id']}"),
               client.get(f"/api/v1/campaigns/{body['id']}", headers=admin),
               client.get("/api/v1/campaigns"), client.get("/api/v1/campaigns", headers=admin)]
    for answer in answers:
        assert answer.status_code == 200 and not any(seed in answer.get_data(as_text=True) for seed in seeds)
    assert [r["commitment"] for r in client.get(f"/api/v1/campaigns/{body['id']}").get_json()["rounds"]] == [None, None]

    clock.advance(hours=2)  # the first round's entries open
    for headers in ({}, admin):
        shown = client.get(f"/api/v1/campaigns/{body['id']}", headers=headers)
        assert [r["commitment"] for r in shown.get_json()["rounds"]] == [rounds[0].commitment, None]
        assert not any(seed in shown.get_data(as_text=True) for seed in seeds)

    audit = db.session.scalars(select(AuditRecord.detail).where(AuditRecord.target_id == body["id"])).all()
    assert not any(seed in json.dumps(detail) for detail in audit for seed in seeds)


def test_a_first_come_campaign_gets_no_seed(client, admin):
    body = create(client, admin, campaign_body())
    assert publish(client, admin, body["id"]).status_code == 200
    db.session.expire_all()
    assert db.session.execute(select(Round.seed, Round.commitment).where(Round.campaign_id == body["id"])).all() == \
        [(None, None), (None, None)]
