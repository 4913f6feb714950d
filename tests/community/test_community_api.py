"""Issue #16, item 7: community workers register residents without a smartphone and act for them —
claims, draws, printed sheets — under the resident's own rules, with every action in the audit log
naming both people; a resident who signs in with a phone sees what was done on their behalf."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import select

from tests.builders import bearer, id_number, make_staff, next_phone, resident_token, staff_token
from tests.campaign_data import T0, campaign_body, lottery_body
from voucher_app.accounts.models import User
from voucher_app.core.audit import AuditRecord
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.lottery.models import Entry
from voucher_app.vouchers.models import Voucher

ELDER = id_number("51080219500101001")  # born 1950 in Lizhou: 60 or older
YOUNGER = id_number("51080219900301002")


def fresh():
    """The test's session, reading what the server committed since."""
    db.session.rollback()
    return db.session


@pytest.fixture
def admin(client, city):
    username = make_staff(Role.admin).username
    return lambda: bearer(staff_token(client, username))


def worker_headers(client, district: str = "lizhou") -> dict:
    return bearer(staff_token(client, make_staff(Role.community_worker, district=district).username))


@pytest.fixture
def worker(client, city):
    return worker_headers(client)


def register(client, worker, **changes):
    body = {"name": "王秀英", "id_number": ELDER, "district": "lizhou", "consent": True, **changes}
    return client.post("/api/v1/proxy/residents", json=body, headers=worker)


def registered(client, worker, **changes) -> str:
    response = register(client, worker, **changes)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def publish(client, admin, body) -> dict:
    created = client.post("/api/v1/campaigns", json=body, headers=admin())
    assert created.status_code == 201, created.get_json()
    published = client.post(f"/api/v1/campaigns/{created.get_json()['id']}/publish", headers=admin())
    assert published.status_code == 200, published.get_json()
    return published.get_json()


@pytest.fixture
def campaign(client, admin, clock):
    """A first-come campaign whose one tier keeps 5 vouchers for the elderly, open at 21:00 city time."""
    body = campaign_body(tiers=[{"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": 20,
                                 "reserved": [{"group": "elderly", "quantity": 5,
                                               "until": (T0 + dt.timedelta(days=2)).isoformat()}]}],
                         rounds=[{"release_at": (T0 + dt.timedelta(hours=1)).isoformat(), "quantities": [20]}])
    opened = publish(client, admin, body)
    clock.advance(hours=1)
    return opened


def claim_for(client, worker, resident_id, campaign, key=None):
    return client.post(f"/api/v1/proxy/residents/{resident_id}/claims",
                       json={"campaign_id": campaign["id"], "tier_id": campaign["tiers"][0]["id"]},
                       headers={**worker, "Idempotency-Key": key or uuid.uuid4().hex})


def audit(action: str) -> list[AuditRecord]:
    return list(fresh().scalars(select(AuditRecord).where(AuditRecord.action == action)))


# Registering -------------------------------------------------------------------------------------------

def test_a_worker_registers_a_resident_of_their_district_and_lists_them(client, worker):
    phone = next_phone()
    resident_id = registered(client, worker, phone=phone)
    listed = client.get("/api/v1/proxy/residents", headers=worker)
    assert listed.status_code == 200
    [item] = listed.get_json()["items"]
    assert item["id"] == resident_id and item["name"] == "王秀英" and item["district"] == "lizhou"
    assert item["birth_year"] == 1950 and item["phone"] == phone[:3] + "****" + phone[-4:]
    assert phone not in listed.get_data(as_text=True) and ELDER not in listed.get_data(as_text=True)

    resident = fresh().get(User, resident_id)
    worker_id = fresh().scalars(select(User.id).where(User.role == Role.community_worker)).one()
    assert resident.role is Role.resident and resident.registered_by == worker_id and resident.consent_at
    assert resident.display_name == "王秀英" and len(resident.id_hash) == 64 and resident.person_id is None
    [record] = audit("proxy.register")
    assert (record.actor_id, record.target_id, record.outcome) == (worker_id, resident_id, "ok")
    assert record.detail["resident_id"] == resident_id
    written = json.dumps(record.detail)
    assert ELDER not in written and phone not in written


def test_a_resident_without_a_phone_can_be_registered(client, worker):
    resident_id = registered(client, worker, id_number=YOUNGER)
    resident = fresh().get(User, resident_id)
    assert resident.phone is None and resident.birth_year == 1990


@pytest.mark.parametrize("changes, field", [
    ({"id_number": "51080219500101001X"}, "id_number"),
    ({"id_number": "abc"}, "id_number"),
    ({"consent": False}, "consent"),
    ({"consent": None}, "consent"),
    ({"district": "zhaohua"}, "district"),  # not the worker's district
    ({"district": "atlantis"}, "district"),
    ({"phone": "12345"}, "phone"),
])
def test_a_registration_is_refused_field_by_field(client, worker, changes, field):
    body = {"name": "王秀英", "id_number": ELDER, "district": "lizhou", "consent": True, **changes}
    if body["consent"] is None:
        del body["consent"]
    response = client.post("/api/v1/proxy/residents", json=body, headers=worker)
    answer = response.get_json()
    assert (response.status_code, answer["code"]) == (422, "validation_error"), answer
    assert field in [error["field"] for error in answer["errors"]]
    assert fresh().scalars(select(User.id).where(User.registered_by.is_not(None))).first() is None


def test_the_consent_refusal_says_what_the_resident_agrees_to(client, worker):
    answer = register(client, worker, consent=False).get_json()
    message = next(e["message"] for e in answer["errors"] if e["field"] == "consent")
    assert "同意" in message
    english = client.post("/api/v1/proxy/residents", headers={**worker, "Accept-Language": "en"},
                          json={"name": "x", "id_number": ELDER, "district": "lizhou", "consent": False}).get_json()
    assert "agree to registration and the use of their data" in english["errors"][0]["message"]


def test_registering_the_same_id_number_again_is_a_conflict_naming_the_resident(client, worker):
    first = registered(client, worker)
    again = register(client, worker, name="王 秀英")
    assert (again.status_code, again.get_json()["code"]) == (409, "conflict")
    assert again.get_json()["resident_id"] == first
    other = register(client, worker_headers(client))
    assert (other.status_code, other.get_json()["code"]) == (409, "conflict")
    assert "resident_id" not in other.get_json()  # another worker's resident stays unnamed
    assert len(fresh().scalars(select(User.id).where(User.registered_by.is_not(None))).all()) == 1


def test_a_phone_that_already_has_an_account_is_a_conflict(client, worker):
    phone = next_phone()
    resident_token(client, phone)
    response = register(client, worker, phone=phone)
    assert (response.status_code, response.get_json()["code"]) == (409, "conflict")


def test_an_id_number_a_resident_bound_makes_the_registered_account_the_same_person(client, worker):
    token = resident_token(client)
    bound = client.put("/api/v1/me/profile", json={"district": "lizhou", "id_number": ELDER}, headers=bearer(token))
    assert bound.status_code == 200
    first = client.get("/api/v1/me", headers=bearer(token)).get_json()["id"]
    resident = fresh().get(User, registered(client, worker))
    assert resident.person_id == first


# Acting for a resident ----------------------------------------------------------------------------------

def test_a_proxy_claim_takes_the_elderly_quota_and_records_both_people(client, worker, campaign):
    resident_id = registered(client, worker)
    response = claim_for(client, worker, resident_id, campaign, key="k1")
    assert response.status_code == 201, response.get_json()
    voucher_id = response.get_json()["id"]
    voucher = fresh().get(Voucher, voucher_id)
    worker_id = fresh().get(User, resident_id).registered_by
    assert (voucher.resident_id, voucher.proxy_id, voucher.pool) == (resident_id, worker_id, "elderly")

    again = claim_for(client, worker, resident_id, campaign, key="k1")
    assert again.status_code == 201 and again.get_json()["id"] == voucher_id
    [record] = audit("proxy.claim")  # once, however often the request is repeated
    assert (record.actor_id, record.target_type, record.target_id) == (worker_id, "voucher", voucher_id)
    assert record.detail["resident_id"] == resident_id

    second = claim_for(client, worker, resident_id, campaign)  # one per round, as for anyone
    assert (second.status_code, second.get_json()["code"]) == (409, "limit_reached")
    wallet = client.get(f"/api/v1/proxy/residents/{resident_id}/vouchers", headers=worker).get_json()["items"]
    assert [(v["id"], v["on_behalf"], v["status"]) for v in wallet] == [(voucher_id, True, "claimed")]


def test_a_proxy_entry_records_the_worker_on_the_entry_and_in_the_audit(client, worker, admin, clock):
    campaign = publish(client, admin, lottery_body())
    resident_id = registered(client, worker)
    clock.set(T0 + dt.timedelta(hours=2))
    response = client.post(f"/api/v1/proxy/residents/{resident_id}/entries",
                           json={"campaign_id": campaign["id"], "tier_id": campaign["tiers"][0]["id"]},
                           headers={**worker, "Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.get_json()
    entry = fresh().get(Entry, response.get_json()["id"])
    worker_id = fresh().get(User, resident_id).registered_by
    assert (entry.resident_id, entry.proxy_id) == (resident_id, worker_id)
    [record] = audit("proxy.enter")
    assert (record.actor_id, record.detail["resident_id"]) == (worker_id, resident_id)


def test_another_workers_resident_is_not_found_and_residents_are_forbidden(client, worker, campaign):
    resident_id = registered(client, worker)
    other = worker_headers(client)
    assert client.get("/api/v1/proxy/residents", headers=other).get_json()["items"] == []
    for response in (claim_for(client, other, resident_id, campaign),
                     client.post(f"/api/v1/proxy/residents/{resident_id}/entries",
                                 json={"campaign_id": campaign["id"], "tier_id": campaign["tiers"][0]["id"]},
                                 headers=other),
                     client.get(f"/api/v1/proxy/residents/{resident_id}/vouchers", headers=other),
                     client.get("/api/v1/proxy/residents/no-such-resident/vouchers", headers=worker)):
        assert (response.status_code, response.get_json()["code"]) == (404, "not_found")
    resident = bearer(resident_token(client))
    for method, path in (("POST", "/api/v1/proxy/residents"), ("GET", "/api/v1/proxy/residents"),
                         ("POST", f"/api/v1/proxy/residents/{resident_id}/claims"),
                         ("POST", f"/api/v1/proxy/residents/{resident_id}/entries"),
                         ("GET", f"/api/v1/proxy/residents/{resident_id}/vouchers")):
        refused = client.open(path, method=method, json={} if method == "POST" else None, headers=resident)
        assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden"), path
        anonymous = client.open(path, method=method, json={} if method == "POST" else None)
        assert anonymous.status_code == 401
    # A worker is no resident: the resident's own endpoints refuse them.
    assert client.get("/api/v1/me/vouchers", headers=worker).status_code == 403
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/claims", json={"tier_id": campaign["tiers"][0]["id"]},
                       headers=worker).status_code == 403


def test_the_worker_prints_the_voucher_they_claimed_and_nobody_else_can(client, worker, campaign):
    resident_id = registered(client, worker)
    voucher_id = claim_for(client, worker, resident_id, campaign).get_json()["id"]
    sheet = client.post(f"/api/v1/me/vouchers/{voucher_id}/print", headers=worker)
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf" and sheet.data.startswith(b"%PDF")
    other = client.post(f"/api/v1/me/vouchers/{voucher_id}/print", headers=worker_headers(client))
    assert (other.status_code, other.get_json()["code"]) == (404, "not_found")
    [record] = [r for r in audit("voucher.print") if r.outcome == "ok"]
    assert record.detail["resident_id"] == resident_id
    wallet = client.get(f"/api/v1/proxy/residents/{resident_id}/vouchers", headers=worker).get_json()["items"]
    assert wallet[0]["printed"]["in_force"] is True
    assert client.post(f"/api/v1/me/vouchers/{voucher_id}/print/revoke", headers=worker).status_code == 204


def test_a_resident_with_a_phone_sees_what_was_done_on_their_behalf(client, worker, campaign, clock):
    phone = next_phone()
    resident_id = registered(client, worker, phone=phone)
    clock.advance(minutes=1)
    voucher_id = claim_for(client, worker, resident_id, campaign).get_json()["id"]
    clock.advance(minutes=1)
    client.post(f"/api/v1/me/vouchers/{voucher_id}/print", headers=worker)

    token = bearer(resident_token(client, phone))  # signs in with the phone the worker gave
    assert client.get("/api/v1/me", headers=token).get_json()["id"] == resident_id
    [item] = client.get("/api/v1/me/vouchers", headers=token).get_json()["items"]
    assert (item["id"], item["on_behalf"]) == (voucher_id, True)
    done = client.get("/api/v1/me/on-behalf", headers={**token, "Accept-Language": "en"}).get_json()["items"]
    assert [a["action"] for a in done] == ["voucher.print", "proxy.claim", "proxy.register"]
    assert done[1]["what"] == "Claimed a voucher for you" and done[1]["target_id"] == voucher_id
    assert client.get("/api/v1/me/profile", headers=token).get_json()["verified"] is True

    own = bearer(resident_token(client))
    assert client.get("/api/v1/me/on-behalf", headers=own).get_json()["items"] == []
