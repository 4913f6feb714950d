"""The bureau's fraud API: the queue, the decision (and its refusals), the rules' tuning, all audited;
and one pattern made through the real claim and till, confirmed, with the books still balanced."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from merchants.models import MerchantEvent
from tests.builders import make_staff, token_for
from tests.fraud.plant import EVALUATED_AT, Plant, city_time
from tests.scenario import World, at, make_resident
from voucher_app.core.audit import AuditRecord
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.fraud import service
from voucher_app.fraud.models import Flag
from voucher_app.redemptions.models import Redemption

NOW = EVALUATED_AT.astimezone(dt.timezone.utc)


@pytest.fixture
def plant(app, city):
    return Plant()


@pytest.fixture
def admin(app):
    return make_staff(Role.admin)


@pytest.fixture
def flagged(plant, clock):
    """A shop where one resident used twelve vouchers: one open ``repeat_pair`` flag."""
    shop, cashier = plant.shop(name="回头客小馆")
    (resident,) = plant.residents(1)
    ids = plant.sales(shop, cashier, [city_time(day, 19) for day in range(2, 14)], residents=[resident])
    clock.set(NOW)
    service.evaluate(NOW)
    flag = db.session.scalars(select(Flag)).one()
    return flag, shop, ids


def test_the_bureau_reads_the_queue_by_score(client, flagged, admin):
    flag, shop, ids = flagged
    viewer = make_staff(Role.viewer)
    body = client.get("/api/v1/flags?status=open", headers=token_for(viewer)).get_json()
    (item,) = body["items"]
    assert {k: item[k] for k in ("id", "rule", "merchant_id", "status")} == {
        "id": flag.id, "rule": "repeat_pair", "merchant_id": shop.id, "status": "open"}
    assert set(item["redemption_ids"]) == set(ids) and 0 < item["score"] <= 100
    assert item["merchant_name"] == "回头客小馆" and body["next"] is None
    assert client.get("/api/v1/flags?status=cleared", headers=token_for(viewer)).get_json()["items"] == []
    assert client.get("/api/v1/flags?status=nonsense", headers=token_for(viewer)).status_code == 422
    assert client.get("/api/v1/flags").status_code == 401
    detail = client.get(f"/api/v1/flags/{flag.id}", headers=token_for(viewer)).get_json()
    assert [row["id"] for row in detail["evidence"]] == sorted(ids)
    row = detail["evidence"][0]
    assert row["resident"].startswith("R-") and row["bill_cents"] == 12_800 and "phone" not in str(row)


def test_the_explanation_is_told_in_the_readers_language(client, flagged, admin):
    flag, _shop, _ids = flagged
    headers = token_for(admin)
    zh = client.get("/api/v1/flags", headers=headers).get_json()["items"][0]["explanation"]
    en = client.get("/api/v1/flags", headers={**headers, "Accept-Language": "en"}).get_json()["items"][0]["explanation"]
    resident = flag.explanation["resident"]
    assert zh.startswith(f"居民 {resident} ") and "12" in zh and "本店" in zh
    assert en.startswith(f"Resident {resident} used 12 vouchers at this shop in 30 days")


def test_resolving_is_for_officers_with_a_note_and_only_once(client, flagged, admin):
    flag, shop, ids = flagged
    url = f"/api/v1/flags/{flag.id}/resolve"
    viewer = make_staff(Role.viewer)
    assert client.post(url, json={"outcome": "cleared", "note": "x"}, headers=token_for(viewer)).status_code == 403
    refused = client.post(url, json={"outcome": "confirmed", "note": "  "}, headers=token_for(admin))
    assert refused.status_code == 422 and refused.get_json()["code"] == "validation_error"
    assert refused.get_json()["errors"][0]["field"] == "note"
    assert client.post(url, json={"outcome": "maybe", "note": "x"}, headers=token_for(admin)).status_code == 422
    assert client.post(url, json={"outcome": "cleared", "note": "x" * 2001}, headers=token_for(admin)).status_code == 422

    answer = client.post(url, json={"outcome": "confirmed", "note": "The owner's son's twelve accounts."},
                         headers=token_for(admin))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "confirmed" and body["clawback"]["redemptions"] == 12
    assert body["clawback"]["cents"] == 12 * 3_000
    db.session.expire_all()
    assert all(db.session.get(Redemption, rid).clawed_back_at is not None for rid in ids)
    kinds = set(db.session.scalars(select(MerchantEvent.kind).where(MerchantEvent.merchant_id == shop.id)))
    assert "flag_confirmed" in kinds

    again = client.post(url, json={"outcome": "cleared", "note": "Second thoughts."}, headers=token_for(admin))
    assert again.status_code == 409 and again.get_json()["code"] == "flag_resolved"
    records = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "flag.resolve")
                                 .order_by(AuditRecord.id)).all()
    assert [r.outcome for r in records][-2:] == ["ok", "flag_resolved"]
    ok = next(r for r in records if r.outcome == "ok")
    assert ok.reason == "The owner's son's twelve accounts." and ok.detail["clawback"]["redemptions"] == 12
    assert client.get("/api/v1/flags?status=confirmed", headers=token_for(admin)).get_json()["items"][0]["note"] == \
        "The owner's son's twelve accounts."


def test_tuning_a_rule_changes_what_it_finds_and_is_audited(client, plant, admin, clock):
    shop, cashier = plant.shop()
    (resident,) = plant.residents(1)
    plant.sales(shop, cashier, [city_time(day, 19) for day in range(2, 12)], residents=[resident])  # ten
    headers = token_for(admin)
    rules = client.get("/api/v1/fraud-rules", headers=headers).get_json()["items"]
    assert len(rules) == 7 and {r["code"] for r in rules} >= {"velocity", "refund_cycle", "shared_device"}

    for wrong in ({"params": {"min_count": "12"}}, {"params": {"min_count": 12.5}}, {"params": {"minimum": 3}},
                  {"params": {"min_count": -1}}, {"enabled": "yes"}, {"colour": "red"}):
        answer = client.put("/api/v1/fraud-rules/repeat_pair", json=wrong, headers=headers)
        assert answer.status_code == 422 and answer.get_json()["code"] == "validation_error", wrong
    assert client.put("/api/v1/fraud-rules/nothing", json={}, headers=headers).status_code == 404
    assert client.put("/api/v1/fraud-rules/repeat_pair", json={"params": {"min_count": 12}},
                      headers=token_for(make_staff(Role.viewer))).status_code == 403

    answer = client.put("/api/v1/fraud-rules/repeat_pair", json={"params": {"min_count": 12}}, headers=headers)
    assert answer.status_code == 200 and answer.get_json()["params"]["min_count"] == 12
    service.evaluate(NOW)
    assert db.session.scalars(select(Flag)).all() == []
    record = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "fraud_rule.update",
                                                          AuditRecord.outcome == "ok")).one()
    assert record.target_id == "repeat_pair" and record.actor_id == admin.id
    assert record.detail["before"]["params"]["min_count"] == 8 and record.detail["after"]["params"]["min_count"] == 12

    client.put("/api/v1/fraud-rules/repeat_pair", json={"params": {"min_count": 10}}, headers=headers)
    client.put("/api/v1/fraud-rules/repeat_pair", json={"enabled": False}, headers=headers)
    service.evaluate(NOW)
    assert db.session.scalars(select(Flag)).all() == []
    client.put("/api/v1/fraud-rules/repeat_pair", json={"enabled": True}, headers=headers)
    service.evaluate(NOW)
    assert db.session.scalars(select(Flag.rule)).all() == ["repeat_pair"]


def test_claimed_and_redeemed_at_the_till_within_seconds_through_the_real_paths(client, clock, city):
    from voucher_app.settlement.reconciliation import check_ledger

    world = World(clock)
    sales = []
    for i in range(10):
        clock.set(at(12, 1, 21, i))
        voucher = world.claim(make_resident(), world.tier30)
        clock.advance(seconds=8)
        sales.append(world.redeem(voucher, world.cashier_a, 10_000 + i)["id"])
    clock.set(at(12, 1, 23))
    service.evaluate(clock.now())
    flag = db.session.scalars(select(Flag).where(Flag.rule == "fast_claim_redeem")).one()
    assert flag.merchant_id == world.a.id and set(flag.redemption_ids) == set(sales)
    assert flag.explanation["residents"] == 10 and flag.explanation["average"] == 8

    answer = client.post(f"/api/v1/flags/{flag.id}/resolve", json={"outcome": "confirmed", "note": "Phones at the till."},
                         headers=token_for(world.admin))
    assert answer.status_code == 200 and answer.get_json()["clawback"]["cents"] == 10 * 3_000
    checked, differences = check_ledger()
    assert checked == 1 and differences == []
