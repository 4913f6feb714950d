"""Lottery rounds through the API: entering, the draw anyone can check, and what the winners hold."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import func, select

from tests.builders import bearer, make_staff, new_id_number, resident_token, staff_token
from tests.campaign_data import T0, campaign_body
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.lottery import draw
from voucher_app.lottery.jobs import draw_lotteries
from voucher_app.settlement.reconciliation import check_ledger
from voucher_app.vouchers.models import Voucher

OPENS, CLOSES, DRAW = T0 + dt.timedelta(hours=2), T0 + dt.timedelta(hours=26), T0 + dt.timedelta(hours=27)


@pytest.fixture
def admin(client, city):
    """The administrator's headers, signed in afresh at each call (the tests move the clock by days)."""
    username = make_staff(Role.admin).username
    return lambda: bearer(staff_token(client, username))


def lottery_body(quantity=3, limit_per_resident=1, reserved=None, **changes) -> dict:
    tier = {"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": quantity}
    if reserved:
        tier["reserved"] = reserved
    return campaign_body(
        allocation="lottery", tiers=[tier], limit_per_resident=limit_per_resident, limit_per_round=1,
        rounds=[{"entry_opens_at": OPENS.isoformat(), "entry_closes_at": CLOSES.isoformat(),
                 "draw_at": DRAW.isoformat(), "quantities": [quantity]}], **changes)


def published(client, admin, **changes) -> dict:
    created = client.post("/api/v1/campaigns", json=lottery_body(**changes), headers=admin())
    assert created.status_code == 201, created.get_json()
    response = client.post(f"/api/v1/campaigns/{created.get_json()['id']}/publish", headers=admin())
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def enter(client, token, campaign, key=None):
    headers = {**bearer(token), "Idempotency-Key": key or uuid.uuid4().hex}
    return client.post(f"/api/v1/campaigns/{campaign['id']}/entries",
                       json={"tier_id": campaign["tiers"][0]["id"]}, headers=headers)


def draw_path(campaign) -> str:
    return f"/api/v1/campaigns/{campaign['id']}/rounds/{campaign['rounds'][0]['id']}/draw"


def test_residents_enter_once_per_round_and_see_their_entry(client, admin, clock):
    campaign = published(client, admin)
    token = resident_token(client)
    early = enter(client, token, campaign)
    assert early.status_code == 409 and early.get_json()["code"] == "not_open"
    clock.set(OPENS)
    first = enter(client, token, campaign, key="k1")
    assert first.status_code == 201, first.get_json()
    entry = first.get_json()
    assert entry["status"] == "entered" and entry["round_id"] == campaign["rounds"][0]["id"]
    again = enter(client, token, campaign, key="k1")
    assert again.status_code == 201 and again.get_json()["id"] == entry["id"]
    second = enter(client, token, campaign, key="k2")
    assert second.status_code == 409 and second.get_json()["code"] == "limit_reached"
    mine = client.get("/api/v1/me/entries", headers=bearer(token)).get_json()["items"]
    assert [(e["id"], e["status"], e["voucher_id"]) for e in mine] == [(entry["id"], "entered", None)]
    claim = client.post(f"/api/v1/campaigns/{campaign['id']}/claims", json={"tier_id": campaign["tiers"][0]["id"]},
                        headers=bearer(token))
    assert claim.status_code == 403 and claim.get_json()["code"] == "not_eligible"
    clock.set(CLOSES)
    late = enter(client, resident_token(client), campaign)
    assert late.status_code == 409 and late.get_json()["code"] == "not_open"


def test_the_draw_publishes_commitment_then_digest_then_seed_and_anyone_can_check_it(client, admin, clock, runner,
                                                                                       tmp_path):
    campaign = published(client, admin, quantity=3)
    before = client.get(draw_path(campaign)).get_json()
    assert before["commitment"] is None and before["seed"] is None and before["entries"] is None
    clock.set(OPENS)
    opened = client.get(draw_path(campaign)).get_json()
    assert len(opened["commitment"]) == 64 and opened["seed"] is None
    tokens = [resident_token(client) for _ in range(8)]
    entries = {enter(client, token, campaign).get_json()["id"]: token for token in tokens}
    too_early = client.post(draw_path(campaign), headers=admin())
    assert too_early.status_code == 409 and too_early.get_json()["code"] == "too_early"

    clock.set(CLOSES)
    drawn = client.post(draw_path(campaign), headers=admin())
    assert drawn.status_code == 200, drawn.get_json()
    document = drawn.get_json()
    assert document["seed"] and draw.commitment(document["seed"]) == opened["commitment"]
    assert document["entries"] == sorted(entries)
    assert document["entries_digest"] == draw.entries_digest(sorted(entries))[0]
    assert len(document["winners"]) == 3 and set(document["winners"]) <= set(entries)
    assert draw.verify(document) == []

    path = tmp_path / "draw.json"
    path.write_text(json.dumps(client.get(draw_path(campaign)).get_json()), encoding="utf-8")
    result = runner.invoke(args=["draw", "verify", str(path)])
    assert result.exit_code == 0, result.output
    tampered = {**document, "winners": document["winners"][1:] + [next(e for e in entries if e not in
                                                                      document["winners"])]}
    path.write_text(json.dumps(tampered), encoding="utf-8")
    assert runner.invoke(args=["draw", "verify", str(path)]).exit_code == 1

    for entry_id, token in entries.items():
        mine = client.get("/api/v1/me/entries", headers=bearer(token)).get_json()["items"][0]
        wallet = client.get("/api/v1/me/vouchers", headers=bearer(token)).get_json()["items"]
        if entry_id in document["winners"]:
            assert mine["status"] == "won" and [v["id"] for v in wallet] == [mine["voucher_id"]]
            assert wallet[0]["status"] == "claimed"
        else:
            assert mine["status"] == "lost" and wallet == []
    assert check_ledger()[1] == []


def test_a_late_or_repeated_draw_changes_nothing(client, admin, clock):
    campaign = published(client, admin, quantity=2)
    clock.set(OPENS)
    for _ in range(5):
        enter(client, resident_token(client), campaign)
    clock.set(DRAW + dt.timedelta(hours=3))  # the scheduler was down at the draw time
    outcome = draw_lotteries(clock.now())
    assert outcome["rounds_drawn"] == 1
    first = client.get(draw_path(campaign)).get_json()
    again = client.post(draw_path(campaign), headers=admin()).get_json()
    assert draw_lotteries(clock.now())["rounds_drawn"] == 0
    assert (again["seed"], again["winners"]) == (first["seed"], first["winners"])
    claimed = db.session.scalar(select(func.count()).select_from(Voucher).where(
        Voucher.campaign_id == campaign["id"], Voucher.status == "claimed"))
    assert claimed == 2


def test_the_elderly_quota_goes_to_the_elderly_first(client, admin, clock):
    until = (T0 + dt.timedelta(days=10)).isoformat()
    campaign = published(client, admin, quantity=4, reserved=[{"group": "elderly", "quantity": 2, "until": until}])
    clock.set(OPENS)
    elderly = []
    for year in (1950, 1955):
        token = resident_token(client)
        profile = client.put("/api/v1/me/profile", headers=bearer(token), json=_profile(year))
        assert profile.status_code == 200, profile.get_json()
        elderly.append(enter(client, token, campaign).get_json()["id"])
    young = [enter(client, resident_token(client), campaign).get_json()["id"] for _ in range(20)]
    clock.set(CLOSES)
    document = client.post(draw_path(campaign), headers=admin()).get_json()
    assert set(elderly) <= set(document["winners"]) and len(document["winners"]) == 4
    assert len(set(young) & set(document["winners"])) == 2
    assert document["tiers"][0]["quotas"] == [{"group": "elderly", "vouchers": 2, "entries": sorted(elderly)}]
    assert draw.verify(document) == []





def _profile(year: int) -> dict:
    return {"district": "lizhou", "id_number": new_id_number(year)}


def test_the_draw_page_explains_the_draw_and_shows_a_resident_their_entry(client, admin, clock):
    campaign = published(client, admin, quantity=1)
    clock.set(OPENS)
    token = resident_token(client)
    entry = enter(client, token, campaign).get_json()
    page = client.get(f"/campaigns/{campaign['id']}/rounds/{campaign['rounds'][0]['id']}/draw")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert client.get(draw_path(campaign)).get_json()["commitment"] in text
    clock.set(CLOSES)
    client.post(draw_path(campaign), headers=admin())
    seed = client.get(draw_path(campaign)).get_json()["seed"]
    client.set_cookie("lang", "en")
    english = client.get(f"/campaigns/{campaign['id']}/rounds/{campaign['rounds'][0]['id']}/draw").get_data(
        as_text=True)
    assert seed in english and "Check it yourself" in english
    assert entry["id"] not in english  # the page is public: entry numbers only to their holder
