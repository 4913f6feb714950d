"""Reports against the measures, right to the fen: a known world of claims, redemptions (one after
midnight), a refund and an expiry, tallied by the scheduler and read over the API."""
from __future__ import annotations

import pytest

from tests.builders import make_account, make_staff, token_for
from tests.scenario import World, at, tallied_world
from voucher_app.core.roles import Role
from voucher_app.scheduler.runs import run_due

ZERO = {"redeemed": 0, "refunded": 0, "subsidy_cents": 0, "bill_cents": 0, "merchants": 0, "leverage": None}


@pytest.fixture
def world(city, clock) -> World:
    return tallied_world(clock)


@pytest.fixture
def viewer(app):
    return token_for(make_staff(Role.viewer))


def test_the_campaign_report_adds_up_to_the_fen(client, world, viewer):
    report = client.get(f"/api/v1/reports/campaigns/{world.c.id}", headers=viewer).get_json()
    assert {k: report[k] for k in ("claimed", "redeemed", "expired", "revoked", "refunded", "subsidy_cents",
                                    "bill_cents", "leverage", "merchants", "residents")} == {
        "claimed": 4, "redeemed": 3, "expired": 1, "revoked": 0, "refunded": 1, "subsidy_cents": 7_000,
        "bill_cents": 32_800, "leverage": 4.69, "merchants": 1, "residents": 4}
    assert report["campaign_id"] == world.c.id and report["tallied_at"].startswith("2026-12-09T03:00:00")
    assert report["budget_used_share"] == round(7_000 / 5_000_000, 4)


def test_the_campaign_report_by_district_and_category(client, world, viewer):
    report = client.get(f"/api/v1/reports/campaigns/{world.c.id}", headers=viewer).get_json()
    districts = {d["district"]: {k: d[k] for k in ZERO} for d in report["by_district"]}
    assert len(districts) == 8  # every district of the city, those without sales at zero
    assert districts["lizhou"] == {"redeemed": 3, "refunded": 0, "subsidy_cents": 7_000, "bill_cents": 32_800,
                                   "merchants": 1, "leverage": 4.69}
    assert districts["zhaohua"] == {**ZERO, "refunded": 1}
    assert all(districts[d] == ZERO for d in districts if d not in ("lizhou", "zhaohua"))
    assert [(c["category"], c["redeemed"], c["refunded"], c["subsidy_cents"], c["bill_cents"], c["merchants"])
            for c in report["by_category"]] == [("catering", 3, 0, 7_000, 32_800, 1), ("retail", 0, 1, 0, 0, 0)]
    assert [(m["name"], m["redeemed"], m["subsidy_cents"]) for m in report["by_merchant"]] == [
        (world.a.name, 3, 7_000), (world.b.name, 0, 0)]


def test_the_campaign_report_by_day_and_hour_in_city_time(client, world, viewer):
    report = client.get(f"/api/v1/reports/campaigns/{world.c.id}", headers=viewer).get_json()
    days = {d["day"]: (d["claimed"], d["expired"], d["redeemed"], d["refunded"], d["subsidy_cents"], d["bill_cents"])
            for d in report["by_day"]}
    assert days == {"2026-12-01": (4, 0, 1, 1, 3_000, 12_800),  # the refunded sale counts on its own day
                    "2026-12-02": (0, 0, 1, 0, 1_000, 5_000),  # 00:30, after midnight in the city
                    "2026-12-03": (0, 0, 1, 0, 3_000, 15_000),
                    "2026-12-08": (0, 1, 0, 0, 0, 0)}
    hours = {h["hour"]: (h["claimed"], h["redeemed"], h["subsidy_cents"], h["bill_cents"]) for h in report["by_hour"]}
    assert len(hours) == 24
    assert {h: v for h, v in hours.items() if v != (0, 0, 0, 0)} == {
        21: (4, 1, 3_000, 12_800), 0: (0, 1, 1_000, 5_000), 20: (0, 1, 3_000, 15_000)}


def test_the_campaign_report_counts_refusals_by_code(client, world, viewer):
    report = client.get(f"/api/v1/reports/campaigns/{world.c.id}", headers=viewer).get_json()
    assert report["refusals"] == [{"code": "voucher_expired", "count": 1}]
    assert client.get("/api/v1/reports/refusals", headers=viewer).get_json() == {
        "items": [{"code": "voucher_expired", "count": 1}]}


def test_the_measures_report_sums_each_measures_campaigns(client, world, viewer):
    report = client.get("/api/v1/reports/measures", headers=viewer).get_json()
    items = {m["code"]: m for m in report["items"]}
    assert len(items) == 22  # every measure of the plan, in its order
    for code in ("M12", "M13"):  # the campaign funds both: it counts fully in each
        m = items[code]
        assert {k: m[k] for k in ("campaigns", "claimed", "redeemed", "expired", "refunded", "subsidy_cents",
                                  "bill_cents", "leverage", "merchants", "residents", "budget_cents")} == {
            "campaigns": 1, "claimed": 4, "redeemed": 3, "expired": 1, "refunded": 1, "subsidy_cents": 7_000,
            "bill_cents": 32_800, "leverage": 4.69, "merchants": 1, "residents": 4, "budget_cents": 5_000_000}
        assert m["title"]
    assert items["M03"]["campaigns"] == 0 and items["M03"]["subsidy_cents"] == 0 and items["M03"]["leverage"] is None
    assert items["M11"]["targets"][0]["metric"] == "regular_exercise_share_pct"
    totals = report["totals"]  # each campaign once, though it funds two measures
    assert (totals["campaigns"], totals["subsidy_cents"], totals["bill_cents"]) == (1, 7_000, 32_800)
    retail = next(t for t in report["plan_targets"] if t["metric"] == "retail_sales_total")
    assert retail["value_cents"] == 32_800 and retail["progress"] == 32_800 / 5_000_000_000_000


def test_one_measure_with_its_campaigns_and_breakdowns(client, world, viewer):
    report = client.get("/api/v1/reports/measures/M12", headers=viewer).get_json()
    assert report["tallied_at"].startswith("2026-12-09T03:00:00")
    assert [(c["name"], c["subsidy_cents"]) for c in report["campaign_list"]] == [(world.c.name, 7_000)]
    assert sum(d["subsidy_cents"] for d in report["by_district"]) == 7_000
    assert client.get("/api/v1/reports/measures/M99", headers=viewer).get_json()["code"] == "not_found"


def test_figures_wait_for_the_tally_and_then_include_new_sales(client, world, viewer, clock):
    clock.set(at(12, 11, 21))  # the second round (with the recycled voucher) is out
    from tests.scenario import make_resident

    voucher = world.claim(make_resident(), world.tier30)
    clock.set(at(12, 11, 21, 30))
    world.redeem(voucher, world.cashier_b, 10_000)
    viewer = token_for(make_staff(Role.viewer))  # staff tokens live twelve hours; the clock moved days
    before = client.get(f"/api/v1/reports/campaigns/{world.c.id}", headers=viewer).get_json()
    assert before["subsidy_cents"] == 7_000  # as of the last tally
    clock.set(at(12, 11, 21, 35))
    run_due(clock.now())
    after = client.get(f"/api/v1/reports/campaigns/{world.c.id}", headers=viewer).get_json()
    assert (after["claimed"], after["subsidy_cents"], after["bill_cents"], after["merchants"]) == (5, 10_000, 42_800, 2)


def test_who_may_read_reports(client, world):
    path = f"/api/v1/reports/campaigns/{world.c.id}"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=token_for(make_staff(Role.admin))).status_code == 200
    for role in (Role.cashier, Role.merchant_owner):
        assert client.get(path, headers=token_for(make_account(role, world.a))).get_json()["code"] == "forbidden"


def test_a_draft_has_no_report(client, city, clock, viewer):
    from campaigns.schemas import CampaignIn
    from campaigns.service import create_campaign
    from tests.campaign_data import campaign_body

    draft = create_campaign(CampaignIn(**campaign_body()), make_staff(Role.admin), clock.now())
    assert client.get(f"/api/v1/reports/campaigns/{draft.id}", headers=viewer).get_json()["code"] == "not_found"


def test_the_live_view_counts_claims_as_they_happen(client, city, clock, viewer):
    from tests.scenario import make_resident

    w = World(clock)
    clock.set(at(12, 1, 21, 5))
    w.claim(make_resident(), w.tier30)
    w.claim(make_resident(), w.tier10)
    live = client.get(f"/api/v1/reports/campaigns/{w.c.id}/live", headers=viewer).get_json()
    assert (live["released"], live["claimed"], live["remaining"]) == (750, 2, 748)
    assert [(t["claimed"], t["remaining"]) for t in live["tiers"]] == [(1, 499), (1, 249)]
