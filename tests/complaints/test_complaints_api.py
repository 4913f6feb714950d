"""Complaints over the API: a resident files one about a shop, the shop replies once, the bureau assigns
and decides once; who sees what (never the resident's phone to the shop); overdue complaints first."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from merchants import credit
from merchants.models import Merchant, MerchantEvent, MerchantStatus
from tests.builders import make_merchant
from tests.complaints.shop_world import ShopWorld
from tests.scenario import make_resident
from voucher_app.core.audit import AuditRecord
from voucher_app.core.extensions import db


@pytest.fixture
def world(city, clock) -> ShopWorld:
    return ShopWorld(clock)


def file(client, world, resident, **body):
    payload = {"merchant_id": world.a.id, "kind": "surcharge", "text": "用券后价格比标价高了二十元", **body}
    return client.post("/api/v1/complaints", json=payload, headers=world.headers(resident))


def problem(response) -> tuple[int, str]:
    return response.status_code, response.get_json()["code"]


def test_a_resident_files_a_complaint_naming_a_purchase_and_sees_it(client, world):
    resident, sale = world.sale()
    filed = file(client, world, resident, redemption_id=sale["id"])
    assert filed.status_code == 201, filed.get_json()
    body = filed.get_json()
    assert body["status"] == "open" and body["id"] and body["redemption_id"] == sale["id"]
    # Filed on Tuesday 12-01: three working days later is Friday 12-04, answered by its end.
    assert body["due_at"] == "2026-12-04T23:59:59+08:00" and body["overdue"] is False
    mine = client.get("/api/v1/me/complaints", headers=world.headers(resident)).get_json()["items"]
    assert [c["id"] for c in mine] == [body["id"]] and mine[0]["merchant_name"] == world.a.name
    audit = db.session.scalars(select(AuditRecord).where(AuditRecord.target_id == body["id"])).one()
    assert (audit.action, audit.actor_id) == ("complaint.file", resident.id)


def test_each_bad_field_is_named_in_chinese_and_in_english(client, world):
    resident = make_resident()
    refused = client.post("/api/v1/complaints", json={"kind": "return_unanswered", "text": "   太差   "},
                          headers=world.headers(resident))
    assert problem(refused) == (422, "validation_error")
    errors = {e["field"]: e["message"] for e in refused.get_json()["errors"]}
    assert set(errors) == {"kind", "text", "merchant_id"}
    assert errors["text"] == "长度不能少于 5。" and errors["kind"] == "请选择遇到的问题。"
    refused = file(client, world, resident, text="x" * 1001, kind="quality")
    assert refused.get_json()["errors"] == [{"field": "text", "message": "长度不能超过 1000。"}]
    english = client.post("/api/v1/complaints", json={"merchant_id": world.a.id, "kind": "nonsense", "text": "ok"},
                          headers=world.headers(resident, "en"))
    assert {e["field"]: e["message"] for e in english.get_json()["errors"]} == {
        "kind": "Choose what went wrong.", "text": "Too short: at least 5."}


def test_a_shop_not_approved_or_a_purchase_not_ones_own_is_not_found(client, world):
    resident, sale = world.sale()
    other, others_sale = world.sale()
    _, sale_at_b = world.sale(cashier=world.cashier_b)
    pending, _ = make_merchant(MerchantStatus.pending)
    rejected, _ = make_merchant(MerchantStatus.rejected)
    for merchant_id in (pending.id, rejected.id, "01jzzzzzzzzzzzzzzzzzzzzzzz", "x" * 40):
        assert problem(file(client, world, resident, merchant_id=merchant_id)) == (404, "not_found")
    assert problem(file(client, world, resident, redemption_id=others_sale["id"])) == (404, "not_found")
    assert problem(file(client, world, resident, redemption_id=sale_at_b["id"])) == (404, "not_found")
    suspended, _ = make_merchant(MerchantStatus.suspended)
    assert file(client, world, resident, merchant_id=suspended.id).status_code == 201


def test_who_may_file_list_reply_and_decide(client, world):
    resident, _ = world.sale()
    complaint = file(client, world, resident).get_json()
    cid = complaint["id"]
    assert problem(client.post("/api/v1/complaints", json={}, headers=world.headers(world.cashier_a))) == \
        (403, "forbidden")
    for user in (resident, world.cashier_a):
        assert problem(client.get("/api/v1/complaints", headers=world.headers(user))) == (403, "forbidden")
    assert problem(client.post(f"/api/v1/complaints/{cid}/decide", json={"outcome": "upheld", "text": "x"},
                               headers=world.headers(world.viewer))) == (403, "forbidden")
    assert problem(client.post(f"/api/v1/complaints/{cid}/decide", json={"outcome": "upheld", "text": "x"},
                               headers=world.headers(world.owner_a))) == (403, "forbidden")
    assert problem(client.post(f"/api/v1/complaints/{cid}/reply", json={"text": "抱歉"},
                               headers=world.headers(world.admin))) == (403, "forbidden")
    # The other shop's owner: not in its list, and the complaint does not exist for it.
    assert client.get("/api/v1/complaints", headers=world.headers(world.owner_b)).get_json()["items"] == []
    assert problem(client.post(f"/api/v1/complaints/{cid}/reply", json={"text": "抱歉"},
                               headers=world.headers(world.owner_b))) == (404, "not_found")
    assert problem(client.get(f"/api/v1/complaints/{cid}", headers=world.headers(world.owner_b))) == (404, "not_found")
    assert problem(client.get(f"/api/v1/complaints/{cid}", headers=world.headers(make_resident()))) == \
        (404, "not_found")
    for user in (world.viewer, world.admin, world.owner_a):
        items = client.get("/api/v1/complaints?status=open", headers=world.headers(user)).get_json()["items"]
        assert [c["id"] for c in items] == [cid]
    assert problem(client.get("/api/v1/complaints?status=closed", headers=world.headers(world.admin))) == \
        (422, "validation_error")


def test_the_shop_never_sees_the_phone_and_the_bureau_sees_it_masked(client, world):
    resident, _ = world.sale()
    file(client, world, resident)
    shop_view = client.get("/api/v1/complaints", headers=world.headers(world.owner_a))
    assert resident.phone not in shop_view.get_data(as_text=True)
    assert resident.phone[-4:] not in json.dumps(shop_view.get_json()["items"][0]["resident"]
                                                 if "resident" in shop_view.get_json()["items"][0] else "")
    bureau = client.get("/api/v1/complaints", headers=world.headers(world.viewer))
    assert resident.phone not in bureau.get_data(as_text=True)
    assert bureau.get_json()["items"][0]["resident"] == f"{resident.phone[:3]}****{resident.phone[-4:]}"


def test_the_shop_replies_once_and_not_after_the_decision(client, world):
    resident, _ = world.sale()
    first, second = file(client, world, resident).get_json()["id"], file(client, world, resident).get_json()["id"]
    owner = world.headers(world.owner_a)
    assert problem(client.post(f"/api/v1/complaints/{first}/reply", json={"text": "  "}, headers=owner)) == \
        (422, "validation_error")
    replied = client.post(f"/api/v1/complaints/{first}/reply", json={"text": "已退还差价，抱歉"}, headers=owner)
    assert replied.status_code == 200 and replied.get_json()["reply"] == "已退还差价，抱歉"
    again = client.post(f"/api/v1/complaints/{first}/reply", json={"text": "再说一次"}, headers=owner)
    assert problem(again) == (409, "already_replied")
    client.post(f"/api/v1/complaints/{second}/decide", json={"outcome": "rejected", "text": "证据不足"},
                headers=world.headers(world.admin))
    assert problem(client.post(f"/api/v1/complaints/{second}/reply", json={"text": "晚了"}, headers=owner)) == \
        (409, "already_decided")
    seen = client.get("/api/v1/me/complaints", headers=world.headers(resident)).get_json()["items"]
    assert {c["id"]: (c["status"], c["reply"], c["decision"]) for c in seen} == {
        first: ("open", "已退还差价，抱歉", None), second: ("rejected", None, "证据不足")}
    refusals = db.session.scalars(select(AuditRecord.outcome).where(AuditRecord.action == "complaint.reply")).all()
    assert sorted(refusals) == ["already_decided", "already_replied", "ok"]


def test_upheld_goes_on_the_credit_record_and_withdraws_the_badge_once(client, world, clock):
    world.a.badge_granted_at = clock.now() - dt.timedelta(days=30)
    db.session.commit()
    resident, _ = world.sale()
    cid = file(client, world, resident).get_json()["id"]
    admin = world.headers(world.admin)
    refused = client.post(f"/api/v1/complaints/{cid}/decide", json={"outcome": "maybe", "text": ""}, headers=admin)
    assert problem(refused) == (422, "validation_error")
    refused = client.post(f"/api/v1/complaints/{cid}/decide", json={"outcome": "upheld", "text": " "}, headers=admin)
    assert [e["field"] for e in refused.get_json()["errors"]] == ["text"]
    decided = client.post(f"/api/v1/complaints/{cid}/decide", json={"outcome": "upheld", "text": "商户加价属实，已责令整改"},
                          headers=admin)
    assert decided.status_code == 200 and decided.get_json()["status"] == "upheld"
    assert decided.get_json()["assigned_to"] == world.admin.id  # deciding takes an unassigned complaint
    again = client.post(f"/api/v1/complaints/{cid}/decide", json={"outcome": "rejected", "text": "改判"}, headers=admin)
    assert problem(again) == (409, "already_decided")
    db.session.commit()
    db.session.expire_all()
    events = db.session.scalars(select(MerchantEvent).where(MerchantEvent.merchant_id == world.a.id)
                                .order_by(MerchantEvent.kind)).all()
    assert [(e.kind, e.ref_type, e.ref_id) for e in events] == [
        (credit.BADGE_WITHDRAWN, "complaint", cid), (credit.COMPLAINT_UPHELD, "complaint", cid)]
    assert events[1].actor_id == world.admin.id and events[1].reason == "商户加价属实，已责令整改"
    assert db.session.get(Merchant, world.a.id).badge_granted_at is None
    answer = client.get("/api/v1/me/complaints", headers=world.headers(resident)).get_json()["items"][0]
    assert (answer["status"], answer["decision"]) == ("upheld", "商户加价属实，已责令整改")


def test_a_rejected_complaint_leaves_the_record_alone(client, world):
    resident, _ = world.sale()
    cid = file(client, world, resident).get_json()["id"]
    client.post(f"/api/v1/complaints/{cid}/decide", json={"outcome": "rejected", "text": "未发现问题"},
                headers=world.headers(world.admin))
    assert db.session.scalars(select(MerchantEvent).where(MerchantEvent.kind == credit.COMPLAINT_UPHELD)).all() == []


def test_assigning_to_oneself_or_another_officer(client, world):
    resident, _ = world.sale()
    cid = file(client, world, resident).get_json()["id"]
    admin = world.headers(world.admin)
    mine = client.post(f"/api/v1/complaints/{cid}/assign", json={}, headers=admin)
    assert mine.status_code == 200 and mine.get_json()["assigned_to"] == world.admin.id
    refused = client.post(f"/api/v1/complaints/{cid}/assign", json={"user_id": world.viewer.id}, headers=admin)
    assert problem(refused) == (422, "validation_error") and refused.get_json()["errors"][0]["field"] == "user_id"
    mine_only = client.get(f"/api/v1/complaints?assigned_to={world.admin.id}", headers=admin).get_json()["items"]
    assert [c["id"] for c in mine_only] == [cid]


def test_overdue_complaints_come_first_and_say_so(client, world, clock):
    resident, _ = world.sale()
    early = file(client, world, resident).get_json()["id"]  # Tuesday: due Friday 12-04
    clock.set(dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.timezone.utc))  # Thursday 10:00: due Tuesday 12-08
    later = file(client, world, resident).get_json()["id"]
    admin = world.headers(world.admin)
    items = client.get("/api/v1/complaints?status=open", headers=admin).get_json()["items"]
    assert [(c["id"], c["overdue"]) for c in items] == [(early, False), (later, False)]
    clock.set(dt.datetime(2026, 12, 4, 16, 0, 1, tzinfo=dt.timezone.utc))  # Saturday 00:00:01 in the city
    admin = world.headers(world.admin)  # a staff sign-in lasts a working day
    items = client.get("/api/v1/complaints?status=open", headers=admin).get_json()["items"]
    assert [(c["id"], c["overdue"]) for c in items] == [(early, True), (later, False)]
    assert client.get("/api/v1/me/complaints", headers=world.headers(resident)).get_json()["items"][1]["overdue"]
    client.post(f"/api/v1/complaints/{early}/decide", json={"outcome": "upheld", "text": "属实"}, headers=admin)
    decided = client.get("/api/v1/complaints?status=upheld", headers=admin).get_json()["items"]
    assert [(c["id"], c["overdue"]) for c in decided] == [(early, False)]


def test_the_open_queue_pages_by_due_date(client, world, clock):
    resident, _ = world.sale()
    ids = []
    for day in range(3):
        clock.set(dt.datetime(2026, 12, 7 + day, 2, 0, tzinfo=dt.timezone.utc))
        ids.append(file(client, world, resident).get_json()["id"])
    admin = world.headers(world.admin)
    first = client.get("/api/v1/complaints?status=open&limit=2", headers=admin).get_json()
    second = client.get(f"/api/v1/complaints?status=open&limit=2&cursor={first['next']}", headers=admin).get_json()
    assert [c["id"] for c in first["items"] + second["items"]] == ids and second["next"] is None


def test_residents_file_ten_complaints_a_day(client, world):
    resident, _ = world.sale()
    assert file(client, world, resident, text="短").status_code == 422  # a refusal costs nothing
    for _ in range(10):
        assert file(client, world, resident).status_code == 201
    assert problem(file(client, world, resident)) == (429, "rate_limited")
    assert file(client, world, make_resident()).status_code == 201
