"""Merchants over the API: registration, the bureau's decisions, cashiers, and who may see or do what."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, insert, select

from merchants import service
from merchants.models import Merchant, MerchantStatus
from merchants.schemas import MerchantIn, StaffIn
from tests.builders import (
    PASSWORD,
    TEST_NOW,
    bearer,
    make_account,
    make_campaign,
    make_merchant,
    merchant_body,
    race_a_rival,
    resident_token,
    token_for,
    valid_uscc,
)
from voucher_app.accounts.models import User
from voucher_app.core.audit import AuditRecord
from voucher_app.core.database import new_id
from voucher_app.core.errors import Conflict
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role


@pytest.fixture
def admin(city):
    return token_for(make_account(Role.admin))


def register(client, **changes):
    return client.post("/api/v1/merchants", json=merchant_body(**changes))


def problems(response) -> dict[str, str]:
    body = response.get_json()
    assert (response.status_code, body["code"]) == (422, "validation_error"), body
    return {e["field"]: e["message"] for e in body["errors"]}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit_trail(target_id: str) -> list[tuple[str, str]]:
    records = db.session.scalars(select(AuditRecord).where(AuditRecord.target_id == target_id)
                                 .order_by(AuditRecord.id)).all()
    return [(r.action, r.outcome) for r in records]


def decide(client, headers, merchant_id, decision, reason=None):
    return client.post(f"/api/v1/merchants/{merchant_id}/{decision}",
                       json={"reason": reason} if reason is not None else None, headers=headers)


# Registration -----------------------------------------------------------------------------------------

def test_a_shop_registers_as_pending_and_its_owner_can_sign_in(client, city):
    body = merchant_body(uscc="9144030071526726xg", contact_phone="+86 138-0013-8000")
    response = client.post("/api/v1/merchants", json=body)
    assert response.status_code == 201, response.get_json()
    shop = response.get_json()
    assert shop["status"] == "pending" and shop["status_reason"] is None
    assert not shop["id"].isdigit() and len(shop["id"]) >= 20
    assert shop["uscc"] == "9144030071526726XG" and shop["contact_phone"] == "13800138000"
    assert shop["created_at"] == "2026-12-01T20:00:00+08:00"
    assert shop["owner"]["role"] == "merchant_owner" and shop["owner"]["merchant_id"] == shop["id"]
    signed_in = client.post("/api/v1/auth/token", json={"username": body["owner_username"], "password": PASSWORD})
    assert signed_in.status_code == 200 and signed_in.get_json()["role"] == "merchant_owner"
    me = client.get("/api/v1/me", headers=bearer(signed_in.get_json()["token"])).get_json()
    assert me["merchant_id"] == shop["id"]


@pytest.mark.parametrize("phone, stored", [("0839-1234567", "0839-1234567"), ("0839 1234567", "0839-1234567"),
                                           ("08391234567", "0839-1234567"), ("010-62345678", "010-62345678"),
                                           ("13800138000", "13800138000")])
def test_a_landline_or_a_mobile_is_a_contact_phone(client, city, phone, stored):
    response = register(client, contact_phone=phone)
    assert response.status_code == 201 and response.get_json()["contact_phone"] == stored


def test_every_bad_field_is_listed_at_once_and_nothing_is_created(client, city):
    response = client.post("/api/v1/merchants", json={
        "name": " ", "uscc": "91440300192203821X", "category": "casino", "district": "atlantis", "address": "",
        "contact_phone": "12345", "owner_username": "x", "owner_password": "short"},
        headers={"Accept-Language": "en"})
    found = problems(response)
    assert set(found) == {"name", "uscc", "category", "district", "address", "contact_phone", "owner_username",
                          "owner_password"}
    assert 'should be "6"' in found["uscc"]
    assert "lizhou" in found["district"] and "catering" in found["category"]
    assert "0839-1234567" in found["contact_phone"] and "8" in found["owner_password"]
    assert count(Merchant) == 0 and count(User) == 0


def test_an_empty_body_names_every_required_field_in_chinese(client, city):
    found = problems(client.post("/api/v1/merchants", json={}))
    assert len(found) == 8 and set(found.values()) == {"此项为必填项。"}


@pytest.mark.parametrize("uscc, words", [
    ("9144030019220382", "has 16 characters"),
    ("91440300I92203821G", 'Character 9 is "I"'),
], ids=["length", "illegal letter"])
def test_the_credit_code_refusal_says_what_is_wrong(client, city, uscc, words):
    response = client.post("/api/v1/merchants", json=merchant_body(uscc=uscc), headers={"Accept-Language": "en"})
    assert words in problems(response)["uscc"]


def test_a_taken_credit_code_is_a_conflict_on_that_field(client, city):
    first = register(client).get_json()
    response = register(client, uscc=first["uscc"])
    body = response.get_json()
    assert (response.status_code, body["code"]) == (409, "conflict")
    assert [e["field"] for e in body["errors"]] == ["uscc"]
    assert count(Merchant) == 1 and count(User) == 1


def test_a_taken_username_is_a_conflict_on_that_field_and_creates_no_shop(client, city):
    make_account(Role.viewer, username="fengjie")
    response = register(client, owner_username="fengjie")
    assert response.status_code == 409
    assert [e["field"] for e in response.get_json()["errors"]] == ["owner_username"]
    assert count(Merchant) == 0


def test_both_conflicts_are_named_together(client, city):
    first = merchant_body()
    register(client, **first)
    response = register(client, uscc=first["uscc"], owner_username=first["owner_username"])
    assert {e["field"] for e in response.get_json()["errors"]} == {"uscc", "owner_username"}


def test_status_and_ids_in_the_body_change_nothing(client, city):
    response = register(client, status="approved", id="chosen-by-client", status_reason="x", merchant_id="m1",
                        role="admin", reviewed_at="2026-01-01T00:00:00+08:00")
    shop = response.get_json()
    assert response.status_code == 201 and shop["status"] == "pending" and shop["id"] != "chosen-by-client"
    assert shop["reviewed_at"] is None and shop["owner"]["role"] == "merchant_owner"
    assert db.session.get(Merchant, shop["id"]).status is MerchantStatus.pending


def test_a_rival_registration_of_the_same_code_is_a_conflict_on_that_field(app, city):
    """The check before the insert cannot see an uncommitted rival; the unique constraint decides."""
    uscc = valid_uscc()
    rival = insert(Merchant).values(id=new_id(), name="对手", uscc=uscc, category="retail", district="lizhou",
                                    address="x", contact_phone="13800138000", status=MerchantStatus.pending,
                                    created_at=TEST_NOW, updated_at=TEST_NOW)
    data = MerchantIn(**merchant_body(uscc=uscc))
    outcome = race_a_rival(rival, lambda: service.register_merchant(data, TEST_NOW), app)
    assert isinstance(outcome.get("error"), Conflict), outcome
    assert [e["field"] for e in outcome["error"].errors] == ["uscc"]
    assert count(Merchant) == 1 and count(User) == 0


def test_a_rival_taking_the_cashiers_username_is_a_conflict_and_audited(app, city):
    shop, owner = make_merchant(MerchantStatus.approved)
    rival = insert(User).values(id=new_id(), role=Role.viewer, username="cashier-9", password_hash="x",
                                is_active=True, created_at=TEST_NOW, updated_at=TEST_NOW)
    data = StaffIn(username="cashier-9", password=PASSWORD)
    outcome = race_a_rival(rival, lambda: service.add_cashier(shop.id, data, owner, TEST_NOW), app)
    assert isinstance(outcome.get("error"), Conflict), outcome
    assert outcome["error"].errors[0]["field"] == "username"
    assert audit_trail(shop.id) == [("merchant.add_cashier", "conflict")]


def test_the_contact_phone_never_reaches_the_log(client, city, caplog):
    caplog.set_level(logging.DEBUG)
    register(client, contact_phone="13912345678")
    register(client, contact_phone="13912345678", owner_password="short")
    assert "13912345678" not in caplog.text


# The bureau's decisions ----------------------------------------------------------------------------------

def test_the_bureau_approves_a_pending_shop(client, admin, clock):
    shop, _ = make_merchant()
    clock.advance(hours=2)
    response = decide(client, admin, shop.id, "approve")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "approved" and body["reviewed_at"] == "2026-12-01T22:00:00+08:00"
    assert body["contact_phone"] == "138****8000"  # masked: the admin asks for it whole (test_contact_phone.py)


def test_rejecting_needs_a_reason_the_owner_then_reads(client, admin):
    shop, owner = make_merchant()
    assert "reason" in problems(decide(client, admin, shop.id, "reject"))
    assert "reason" in problems(decide(client, admin, shop.id, "reject", "   "))
    assert decide(client, admin, shop.id, "reject", "营业执照照片不清晰").get_json()["status"] == "rejected"
    mine = client.get(f"/api/v1/merchants/{shop.id}", headers=token_for(owner)).get_json()
    assert mine["status"] == "rejected" and mine["status_reason"] == "营业执照照片不清晰"


def test_suspending_needs_a_reason_and_reinstating_clears_it(client, admin):
    shop, _ = make_merchant(MerchantStatus.approved)
    assert "reason" in problems(decide(client, admin, shop.id, "suspend"))
    suspended = decide(client, admin, shop.id, "suspend", "多次被投诉").get_json()
    assert (suspended["status"], suspended["status_reason"]) == ("suspended", "多次被投诉")
    reinstated = decide(client, admin, shop.id, "reinstate").get_json()
    assert (reinstated["status"], reinstated["status_reason"]) == ("approved", None)


@pytest.mark.parametrize("status, decision, words", [
    (MerchantStatus.rejected, "approve", "Only a merchant waiting for review can be approved; this one is rejected."),
    (MerchantStatus.approved, "approve", "this one is approved"),
    (MerchantStatus.suspended, "approve", "this one is suspended"),
    (MerchantStatus.approved, "reject", "Only a merchant waiting for review can be rejected"),
    (MerchantStatus.pending, "suspend", "Only an approved merchant can be suspended; this one is waiting for review."),
    (MerchantStatus.rejected, "suspend", "this one is rejected"),
    (MerchantStatus.approved, "reinstate", "Only a suspended merchant can be reinstated; this one is approved."),
    (MerchantStatus.pending, "reinstate", "this one is waiting for review"),
])
def test_impossible_transitions_are_conflicts_that_say_why(client, admin, status, decision, words):
    shop, _ = make_merchant(status, reason="earlier reason")
    response = client.post(f"/api/v1/merchants/{shop.id}/{decision}", json={"reason": "because"},
                           headers={**admin, "Accept-Language": "en"})
    body = response.get_json()
    assert (response.status_code, body["code"]) == (409, "conflict")
    assert words in body["detail"]
    assert db.session.get(Merchant, shop.id).status is status


def test_every_bureau_decision_on_a_merchant_is_audited_refused_ones_included(client, admin, clock):
    shop, _ = make_merchant()
    decide(client, admin, shop.id, "suspend", "too early")   # refused: still pending
    decide(client, admin, shop.id, "approve")
    decide(client, admin, shop.id, "approve")                # refused: already approved
    decide(client, admin, shop.id, "suspend")                # refused: no reason
    clock.advance(minutes=5)
    decide(client, admin, shop.id, "suspend", "多次被投诉")
    decide(client, admin, shop.id, "reinstate", "整改完成")
    assert audit_trail(shop.id) == [
        ("merchant.suspend", "conflict"), ("merchant.approve", "ok"), ("merchant.approve", "conflict"),
        ("merchant.suspend", "validation_error"), ("merchant.suspend", "ok"), ("merchant.reinstate", "ok")]
    records = db.session.scalars(select(AuditRecord).where(AuditRecord.target_id == shop.id)
                                 .order_by(AuditRecord.id)).all()
    admin_id = client.get("/api/v1/me", headers=admin).get_json()["id"]
    assert {r.actor_id for r in records} == {admin_id} and {r.target_type for r in records} == {"merchant"}
    assert records[4].reason == "多次被投诉" and records[4].at == clock.now()
    assert records[4].detail == {"from": "approved", "to": "suspended"}
    assert "error" in records[0].detail


@pytest.mark.parametrize("merchant_id", ["01jz0000000000000000000000", "x" * 300, "1"])
def test_an_unknown_merchant_is_not_found(client, admin, merchant_id):
    for response in (decide(client, admin, merchant_id, "approve"),
                     client.get(f"/api/v1/merchants/{merchant_id}", headers=admin)):
        assert (response.status_code, response.get_json()["code"]) == (404, "not_found")


# Reading merchants --------------------------------------------------------------------------------------

def test_the_phone_is_masked_for_all_but_the_owner(client, admin):
    shop, owner = make_merchant(contact_phone="13800138000")
    cashier = make_account(Role.cashier, shop)
    viewer = make_account(Role.viewer)
    seen = {name: client.get(f"/api/v1/merchants/{shop.id}", headers=headers).get_json()["contact_phone"]
            for name, headers in [("admin", admin), ("owner", token_for(owner)), ("cashier", token_for(cashier)),
                                  ("viewer", token_for(viewer))]}
    assert seen == {"admin": "138****8000", "owner": "13800138000", "cashier": "138****8000",
                    "viewer": "138****8000"}
    listed = client.get("/api/v1/merchants", headers=token_for(viewer)).get_json()["items"]
    assert [m["contact_phone"] for m in listed] == ["138****8000"]


def test_the_list_filters_by_status_in_the_contract_envelope(client, admin):
    waiting, _ = make_merchant()
    make_merchant(MerchantStatus.approved)
    body = client.get("/api/v1/merchants?status=pending", headers=admin).get_json()
    assert body["next"] is None and [m["id"] for m in body["items"]] == [waiting.id]
    assert len(client.get("/api/v1/merchants", headers=admin).get_json()["items"]) == 2
    assert "status" in problems(client.get("/api/v1/merchants?status=open", headers=admin))


def test_the_list_pages_with_a_cursor_oldest_first(app, city):
    shops = [make_merchant()[0] for _ in range(3)]
    first, cursor = service.list_merchants("pending", limit=2)
    rest, end = service.list_merchants("pending", cursor, limit=2)
    assert [m.id for m in first + rest] == [s.id for s in shops] and cursor == first[-1].id and end is None


# Cashiers -------------------------------------------------------------------------------------------------

def test_the_owner_adds_a_cashier_who_can_sign_in(client, city):
    shop, owner = make_merchant(MerchantStatus.approved)
    response = client.post(f"/api/v1/merchants/{shop.id}/staff", json={"username": "cashier-1", "password": PASSWORD,
                                                                        "role": "admin", "merchant_id": "other"},
                           headers=token_for(owner))
    assert response.status_code == 201
    cashier = response.get_json()
    assert (cashier["role"], cashier["merchant_id"], cashier["is_active"]) == ("cashier", shop.id, True)
    token = client.post("/api/v1/auth/token", json={"username": "cashier-1", "password": PASSWORD}).get_json()
    assert token["role"] == "cashier"
    staff = client.get(f"/api/v1/merchants/{shop.id}/staff", headers=token_for(owner)).get_json()
    assert [(u["username"], u["role"]) for u in staff["items"]] == [(owner.username, "merchant_owner"),
                                                                    ("cashier-1", "cashier")]
    assert staff["next"] is None


def test_a_cashier_needs_a_free_username_and_a_real_password(client, city):
    shop, owner = make_merchant()  # a pending shop may already prepare its cashiers
    url = f"/api/v1/merchants/{shop.id}/staff"
    assert set(problems(client.post(url, json={"username": "a", "password": "short"}, headers=token_for(owner)))) \
        == {"username", "password"}
    taken = client.post(url, json={"username": owner.username, "password": PASSWORD}, headers=token_for(owner))
    assert taken.status_code == 409 and taken.get_json()["errors"][0]["field"] == "username"


def test_a_disabled_cashier_cannot_sign_in_and_their_token_stops_working(client, city):
    shop, owner = make_merchant(MerchantStatus.approved)
    cashier = make_account(Role.cashier, shop)
    token = bearer(client.post("/api/v1/auth/token", json={"username": cashier.username, "password": PASSWORD}
                               ).get_json()["token"])
    assert client.get(f"/api/v1/merchants/{shop.id}", headers=token).status_code == 200
    disabled = client.post(f"/api/v1/merchants/{shop.id}/staff/{cashier.id}/disable", headers=token_for(owner))
    assert disabled.status_code == 200 and disabled.get_json()["is_active"] is False
    assert client.get(f"/api/v1/merchants/{shop.id}", headers=token).get_json()["code"] == "unauthorized"
    assert client.post("/api/v1/auth/token", json={"username": cashier.username, "password": PASSWORD}
                       ).status_code == 401
    enabled = client.post(f"/api/v1/merchants/{shop.id}/staff/{cashier.id}/enable", headers=token_for(owner))
    assert enabled.get_json()["is_active"] is True
    # Disabling ended every sign-in: the old token stays dead, a new sign-in works.
    assert client.get(f"/api/v1/merchants/{shop.id}", headers=token).status_code == 401
    again = bearer(client.post("/api/v1/auth/token", json={"username": cashier.username, "password": PASSWORD}
                               ).get_json()["token"])
    assert client.get(f"/api/v1/merchants/{shop.id}", headers=again).status_code == 200


def test_only_the_shops_own_cashiers_can_be_disabled_through_it(client, city):
    shop, owner = make_merchant(MerchantStatus.approved)
    other, _ = make_merchant(MerchantStatus.approved)
    strangers_cashier = make_account(Role.cashier, other)
    for user_id in (strangers_cashier.id, owner.id, "nobody"):
        response = client.post(f"/api/v1/merchants/{shop.id}/staff/{user_id}/disable", headers=token_for(owner))
        assert (response.status_code, response.get_json()["code"]) == (404, "not_found")
    assert db.session.get(User, strangers_cashier.id).is_active and db.session.get(User, owner.id).is_active


def test_a_suspended_shop_can_look_but_not_manage_its_cashiers(client, admin):
    shop, owner = make_merchant(MerchantStatus.suspended, reason="多次被投诉")
    cashier = make_account(Role.cashier, shop)
    assert client.get(f"/api/v1/merchants/{shop.id}", headers=token_for(cashier)).status_code == 200
    mine = client.get(f"/api/v1/merchants/{shop.id}", headers=token_for(owner)).get_json()
    assert mine["status_reason"] == "多次被投诉"
    for response in (
            client.post(f"/api/v1/merchants/{shop.id}/staff", json={"username": "late-1", "password": PASSWORD},
                        headers=token_for(owner)),
            client.post(f"/api/v1/merchants/{shop.id}/staff/{cashier.id}/disable", headers=token_for(owner))):
        assert (response.status_code, response.get_json()["code"]) == (403, "merchant_suspended")
        assert "多次被投诉" in response.get_json()["detail"]
    # The bureau still can.
    assert client.post(f"/api/v1/merchants/{shop.id}/staff/{cashier.id}/disable", headers=admin).status_code == 200


def test_changes_to_cashiers_are_audited_on_the_shop(client, city):
    shop, owner = make_merchant(MerchantStatus.approved)
    added = client.post(f"/api/v1/merchants/{shop.id}/staff", json={"username": "cashier-2", "password": PASSWORD},
                        headers=token_for(owner)).get_json()
    client.post(f"/api/v1/merchants/{shop.id}/staff", json={"username": "cashier-2", "password": PASSWORD},
                headers=token_for(owner))
    client.post(f"/api/v1/merchants/{shop.id}/staff/{added['id']}/disable", headers=token_for(owner))
    assert audit_trail(shop.id) == [("merchant.add_cashier", "ok"), ("merchant.add_cashier", "conflict"),
                                    ("merchant.disable_cashier", "ok")]
    last = db.session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
    assert last.actor_id == owner.id and last.detail == {"user_id": added["id"], "username": "cashier-2"}


# Who may do what ----------------------------------------------------------------------------------------

ACTORS = ["anonymous", "resident", "cashier_x", "cashier_y", "owner_y", "viewer", "owner_x", "admin"]


class World:
    """Shop X and shop Y with an owner and a cashier each, the bureau, a resident, an open campaign."""

    def __init__(self, client, x_status: MerchantStatus):
        self.x, owner_x = make_merchant(x_status, reason="earlier reason" if x_status is not MerchantStatus.pending
                                        else None)
        self.y, owner_y = make_merchant(MerchantStatus.approved)
        self.target = make_account(Role.cashier, self.x)  # the cashier the owner or admin acts on
        self.campaign = make_campaign()
        self.enrolment_id = None
        people = {"cashier_x": make_account(Role.cashier, self.x), "cashier_y": make_account(Role.cashier, self.y),
                  "owner_x": owner_x, "owner_y": owner_y, "admin": make_account(Role.admin),
                  "viewer": make_account(Role.viewer)}
        self.headers = {name: token_for(user) for name, user in people.items()}
        self.headers["resident"] = bearer(resident_token(client))
        self.headers["anonymous"] = {}


def _apply_first(world, client):
    world.enrolment_id = service.apply_for_campaign(world.campaign.id, world.y.id, _owner(world.y), TEST_NOW).id


def _owner(merchant):
    return db.session.scalars(select(User).where(User.merchant_id == merchant.id,
                                                 User.role == Role.merchant_owner)).one()


# (name, method, path, body, status of X, setup, expected answer per actor in ACTORS order)
MATRIX = [
    ("register", "post", "/api/v1/merchants", "registration", MerchantStatus.pending, None,
     [201, 201, 201, 201, 201, 201, 201, 201]),
    ("read merchant", "get", "/api/v1/merchants/{x}", None, MerchantStatus.pending, None,
     [401, 403, 200, 404, 404, 200, 200, 200]),
    ("list merchants", "get", "/api/v1/merchants?status=pending", None, MerchantStatus.pending, None,
     [401, 403, 403, 403, 403, 200, 403, 200]),
    ("approve", "post", "/api/v1/merchants/{x}/approve", None, MerchantStatus.pending, None,
     [401, 403, 403, 403, 403, 403, 403, 200]),
    ("reject", "post", "/api/v1/merchants/{x}/reject", {"reason": "r"}, MerchantStatus.pending, None,
     [401, 403, 403, 403, 403, 403, 403, 200]),
    ("suspend", "post", "/api/v1/merchants/{x}/suspend", {"reason": "r"}, MerchantStatus.approved, None,
     [401, 403, 403, 403, 403, 403, 403, 200]),
    ("reinstate", "post", "/api/v1/merchants/{x}/reinstate", None, MerchantStatus.suspended, None,
     [401, 403, 403, 403, 403, 403, 403, 200]),
    ("list staff", "get", "/api/v1/merchants/{x}/staff", None, MerchantStatus.approved, None,
     [401, 403, 403, 403, 404, 200, 200, 200]),
    ("add cashier", "post", "/api/v1/merchants/{x}/staff", "cashier", MerchantStatus.approved, None,
     [401, 403, 403, 403, 404, 403, 201, 201]),
    ("disable cashier", "post", "/api/v1/merchants/{x}/staff/{target}/disable", None, MerchantStatus.approved, None,
     [401, 403, 403, 403, 404, 403, 200, 200]),
    ("enable cashier", "post", "/api/v1/merchants/{x}/staff/{target}/enable", None, MerchantStatus.approved, None,
     [401, 403, 403, 403, 404, 403, 200, 200]),
    ("apply", "post", "/api/v1/campaigns/{campaign}/enrolments", {"merchant_id": "{x}"}, MerchantStatus.approved,
     None, [401, 403, 403, 403, 404, 403, 201, 403]),
    ("merchant's enrolments", "get", "/api/v1/merchants/{x}/enrolments", None, MerchantStatus.approved, None,
     [401, 403, 200, 404, 404, 200, 200, 200]),
    ("list enrolments", "get", "/api/v1/enrolments?status=pending", None, MerchantStatus.approved, None,
     [401, 403, 403, 403, 403, 200, 403, 200]),
    ("approve enrolment", "post", "/api/v1/enrolments/{enrolment}/approve", None, MerchantStatus.approved,
     _apply_first, [401, 403, 403, 403, 403, 403, 403, 200]),
    ("reject enrolment", "post", "/api/v1/enrolments/{enrolment}/reject", {"reason": "r"}, MerchantStatus.approved,
     _apply_first, [401, 403, 403, 403, 403, 403, 403, 200]),
]


@pytest.mark.parametrize("name, method, path, body, x_status, setup, expected", MATRIX, ids=[m[0] for m in MATRIX])
def test_access_matrix(client, city, name, method, path, body, x_status, setup, expected):
    """Each actor in turn; those allowed come last, so a success cannot hide a refusal."""
    world = World(client, x_status)
    if setup:
        setup(world, client)
    ids = {"x": world.x.id, "target": world.target.id, "campaign": world.campaign.id,
           "enrolment": world.enrolment_id}
    answers = {}
    for actor in ACTORS:
        if body == "registration":
            payload = merchant_body()
        elif body == "cashier":
            payload = {"username": f"new-cashier-{actor}", "password": PASSWORD}
        elif body:
            payload = {k: v.format(**ids) for k, v in body.items()}
        else:
            payload = None
        response = getattr(client, method)(path.format(**ids), json=payload, headers=world.headers[actor])
        answers[actor] = response.status_code
        if response.status_code >= 400:
            expected_code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}[response.status_code]
            assert response.get_json()["code"] == expected_code, (actor, response.get_json())
    assert answers == dict(zip(ACTORS, expected))


@pytest.mark.parametrize("app_overrides", [{"REGISTRATION_LIMIT_PER_IP": "2/hour"}])
def test_registrations_are_limited_per_address(client, city, app_overrides):
    from tests.builders import merchant_body

    statuses = [client.post("/api/v1/merchants", json=merchant_body()).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
