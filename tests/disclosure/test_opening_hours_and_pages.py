"""Opening hours (given at registration, changed by the owner), and the merchant pages' credit parts:
the bureau's page with the badge and the public suspension, the owner's page with the hours form."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from merchants.hours import is_open_at, parse_opening_hours
from merchants.models import Merchant, MerchantStatus
from tests.app.test_pages import form_token, sign_in_staff
from tests.builders import PASSWORD, merchant_body, token_for
from tests.disclosure.conftest import shop
from voucher_app.accounts.models import User
from voucher_app.core.extensions import db


@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}


def fresh(merchant: Merchant) -> Merchant:
    db.session.commit()
    return db.session.scalars(select(Merchant).where(Merchant.id == merchant.id)
                              .execution_options(populate_existing=True)).one()


@pytest.mark.parametrize("text, spans", [
    ("09:00-22:00", [(540, 1320)]),
    ("17:00-02:00,10:00-14:00", [(1020, 120), (600, 840)]),
    ("10:00-24:00", [(600, 1440)]),
    ("00:00-24:00", [(0, 1440)]),
])
def test_good_opening_hours(text, spans):
    assert parse_opening_hours(text) == spans


@pytest.mark.parametrize("local, open_", [(dt.time(23, 30), True), (dt.time(1, 59), True), (dt.time(2, 0), False),
                                          (dt.time(12, 0), True), (dt.time(15, 0), False)])
def test_a_span_may_cross_midnight(local, open_):
    assert is_open_at("17:00-02:00,10:00-14:00", local) is open_
    assert is_open_at(None, local) is None


@pytest.mark.parametrize("text", ["9-22", "09:00", "25:00-26:00", "09:00-09:00", "09:00-22:00,", "24:00-10:00",
                                  "09:60-10:00", "0" * 70])
def test_bad_opening_hours_are_refused_at_registration(client, city, text):
    response = client.post("/api/v1/merchants", json=merchant_body(opening_hours=text))
    assert response.status_code == 422
    [error] = [e for e in response.get_json()["errors"] if e["field"] == "opening_hours"]
    assert "09:00-22:00" in error["message"] or "至多" in error["message"]


def test_opening_hours_at_registration_and_changed_by_the_owner(client, city):
    response = client.post("/api/v1/merchants", json=merchant_body(opening_hours=" 17:00-02:00, 10:00-14:00 "))
    assert response.status_code == 201 and response.get_json()["opening_hours"] == "17:00-02:00,10:00-14:00"
    merchant_id = response.get_json()["id"]
    owner = token_for(db.session.scalars(select(User).where(User.merchant_id == merchant_id)).one())
    path = f"/api/v1/merchants/{merchant_id}/opening-hours"
    changed = client.put(path, headers=owner, json={"opening_hours": "08:00-20:00"})
    assert changed.status_code == 200 and changed.get_json()["opening_hours"] == "08:00-20:00"
    refused = client.put(path, headers=owner, json={"opening_hours": "8点到20点"})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "opening_hours"
    assert client.put(path, headers=owner, json={"opening_hours": None}).get_json()["opening_hours"] is None
    _other, other_owner = shop()
    assert client.put(path, headers=token_for(other_owner), json={"opening_hours": "08:00-20:00"}).status_code == 404


def test_the_owner_sets_the_hours_on_the_shop_page(client, city):
    merchant, owner = shop()
    sign_in_staff(client, owner.username, PASSWORD)
    page = client.get("/shop").get_data(as_text=True)
    assert 'data-testid="opening-hours-form"' in page and 'data-testid="credit-score"' in page
    token = form_token(client, "/shop")
    refused = client.post("/shop/opening-hours", data={"opening_hours": "全天", "csrf_token": token})
    assert refused.status_code == 422 and "09:00-22:00" in refused.get_data(as_text=True)
    saved = client.post("/shop/opening-hours", data={"opening_hours": "10:00-21:30", "csrf_token": token})
    assert saved.status_code == 302 and fresh(merchant).opening_hours == "10:00-21:30"
    assert "10:00-21:30" in client.get(f"/shops/{merchant.id}").get_data(as_text=True)


def test_the_registration_page_takes_opening_hours(client, city):
    body = merchant_body(opening_hours="09:00-22:00")
    response = client.post("/merchants/register", data={**body, "csrf_token": form_token(client, "/merchants/register")})
    assert response.status_code == 302
    assert db.session.scalars(select(Merchant.opening_hours).where(Merchant.uscc == body["uscc"])).one() == "09:00-22:00"


def test_the_bureau_page_grants_the_badge_and_suspends_publicly(client, admin):
    merchant, _owner = shop()
    young, _o = shop(MerchantStatus.pending)
    sign_in_staff(client, admin.username, PASSWORD)
    token = form_token(client, f"/bureau/merchants/{young.id}")
    client.post(f"/bureau/merchants/{young.id}/approve", data={"csrf_token": token})
    page = client.get(f"/bureau/merchants/{young.id}").get_data(as_text=True)
    assert 'data-criterion="approved_90_days"' in page and 'data-testid="grant-badge"' not in page

    page = client.get(f"/bureau/merchants/{merchant.id}").get_data(as_text=True)
    assert 'data-testid="grant-badge"' in page and 'data-testid="suspend-public"' in page
    client.post(f"/bureau/merchants/{merchant.id}/badge/grant", data={"csrf_token": token})
    assert fresh(merchant).badge_granted_at is not None
    assert 'data-testid="withdraw-badge"' in client.get(f"/bureau/merchants/{merchant.id}").get_data(as_text=True)

    client.post(f"/bureau/merchants/{merchant.id}/suspend",
                data={"reason": "虚假交易套取补贴", "public": "y", "csrf_token": token})
    merchant = fresh(merchant)
    assert merchant.status is MerchantStatus.suspended and merchant.suspension_public
    assert merchant.badge_granted_at is None  # a suspension withdraws the badge
    page = client.get(f"/bureau/merchants/{merchant.id}").get_data(as_text=True)
    assert 'data-testid="public-suspension"' in page
    assert 'data-kind="suspended_public"' in page and 'data-kind="badge_withdrawn"' in page
    assert [s["id"] for s in client.get("/api/v1/public/suspended").get_json()["items"]] == [merchant.id]
