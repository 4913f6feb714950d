"""Consumption warnings (消费预警): published by the bureau on a shop, a kind of shop or the whole city;
shown while in force on the shop's page, the campaign's page and the wallet of residents who hold
vouchers usable there."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from merchants.models import Enrolment, EnrolmentStatus
from tests.app.test_pages import form_token, sign_in_resident, sign_in_staff
from tests.builders import PASSWORD, TEST_NOW, make_campaign, next_phone, token_for
from tests.disclosure.conftest import shop
from tests.scenario import publish as publish_campaign
from voucher_app.accounts.models import User
from voucher_app.core.audit import AuditRecord
from voucher_app.core.extensions import db
from voucher_app.vouchers.claiming import claim_voucher

CITY = dt.timezone(dt.timedelta(hours=8))
DAY = dt.timedelta(days=1)


@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}


def sign_out(client) -> None:
    client.post("/logout", data={"csrf_token": form_token(client, "/")})


def window(start: dt.timedelta = -DAY, end: dt.timedelta = 7 * DAY) -> dict:
    """From ``start`` to ``end`` after the test clock's start, in city time."""
    return {"starts_at": (TEST_NOW + start).astimezone(CITY).isoformat(),
            "ends_at": (TEST_NOW + end).astimezone(CITY).isoformat()}


def publish(client, headers, **body):
    return client.post("/api/v1/warnings", headers=headers, json={"text": "近期有商户以消费券为名加价，请留意", **window(),
                                                                 **body})


def errors_of(response) -> set[str]:
    return {e["field"] for e in response.get_json().get("errors", [])}


@pytest.fixture
def shops(city):
    a, _o = shop(category="catering")
    b, _o = shop(category="retail")
    return a, b


def test_a_warning_is_published_in_each_scope(client, admin_headers, shops):
    a, _b = shops
    on_shop = publish(client, admin_headers, merchant_id=a.id)
    assert on_shop.status_code == 201, on_shop.get_json()
    body = on_shop.get_json()
    assert set(body) >= {"id", "scope", "merchant_id", "category", "text", "starts_at", "ends_at"}
    assert (body["scope"], body["merchant_id"], body["category"]) == ("merchant", a.id, None)
    assert publish(client, admin_headers, category="retail").get_json()["scope"] == "category"
    assert publish(client, admin_headers).get_json()["scope"] == "city"
    audited = db.session.scalars(select(AuditRecord.outcome).where(AuditRecord.action == "warning.publish")).all()
    assert audited == ["ok", "ok", "ok"]


@pytest.mark.parametrize("body, field", [
    ({"text": "太短"}, "text"),
    ({"text": "长" * 501}, "text"),
    ({"category": "casino"}, "category"),
    ({"merchant_id": "01aaaaaaaaaaaaaaaaaaaaaaaa"}, "merchant_id"),
    ({"starts_at": "2026-12-01T10:00:00"}, "starts_at"),  # no offset
    (window(start=2 * DAY, end=DAY), "body"),  # ends before it starts
    (window(start=-3 * DAY, end=-DAY), "ends_at"),  # already over
])
def test_a_bad_warning_is_refused(client, admin_headers, shops, body, field):
    response = publish(client, admin_headers, **body)
    assert response.status_code == 422 and response.get_json()["code"] == "validation_error"
    assert field in errors_of(response)


def test_a_shop_and_a_category_together_are_refused(client, admin_headers, shops):
    response = publish(client, admin_headers, merchant_id=shops[0].id, category="catering")
    assert response.status_code == 422 and response.get_json()["code"] == "validation_error"


def test_only_an_admin_publishes_or_withdraws(client, shops):
    a, _b = shops
    owner = db.session.scalars(select(User).where(User.merchant_id == a.id)).one()
    assert publish(client, {}).status_code == 401
    assert publish(client, token_for(owner)).status_code == 403


def test_a_warning_shows_only_within_its_window_and_until_withdrawn(client, admin, admin_headers, shops, clock):
    a, _b = shops
    later = publish(client, admin_headers, merchant_id=a.id, **window(start=DAY, end=2 * DAY)).get_json()
    assert client.get("/api/v1/warnings?active=true").get_json()["items"] == []
    assert client.get(f"/api/v1/public/merchants/{a.id}").get_json()["warnings"] == []
    clock.advance(days=1, minutes=1)
    assert [w["id"] for w in client.get("/api/v1/warnings").get_json()["items"]] == [later["id"]]
    assert [w["id"] for w in client.get(f"/api/v1/public/merchants/{a.id}").get_json()["warnings"]] == [later["id"]]
    clock.advance(days=1)
    assert client.get(f"/api/v1/public/merchants/{a.id}").get_json()["warnings"] == []

    headers = token_for(admin)  # the first token has lived its life meanwhile
    now_on = publish(client, headers, **window(start=DAY, end=9 * DAY)).get_json()
    assert [w["id"] for w in client.get("/api/v1/warnings").get_json()["items"]] == [now_on["id"]]
    response = client.post(f"/api/v1/warnings/{now_on['id']}/withdraw", headers=headers)
    assert response.status_code == 200 and response.get_json()["withdrawn_at"]
    assert client.get("/api/v1/warnings").get_json()["items"] == []
    assert client.post(f"/api/v1/warnings/{now_on['id']}/withdraw", headers=headers).status_code == 409
    every = client.get("/api/v1/warnings?active=false").get_json()["items"]
    assert {w["id"] for w in every} == {later["id"], now_on["id"]}


def test_the_shop_page_shows_warnings_on_the_shop_its_kind_and_the_city(client, admin_headers, shops):
    a, b = shops
    publish(client, admin_headers, merchant_id=a.id, text="本店近期被投诉拒收消费券")
    publish(client, admin_headers, category="catering", text="餐饮类商户不得设置最低消费")
    publish(client, admin_headers, text="全市：谨防冒充商务局的诈骗电话")
    publish(client, admin_headers, merchant_id=b.id, text="另一家店的预警内容")
    page = client.get(f"/shops/{a.id}").get_data(as_text=True)
    for text in ("本店近期被投诉拒收消费券", "餐饮类商户不得设置最低消费", "全市：谨防冒充商务局的诈骗电话"):
        assert text in page
    assert "另一家店的预警内容" not in page
    scopes = sorted(w["scope"] for w in client.get(f"/api/v1/public/merchants/{a.id}").get_json()["warnings"])
    assert scopes == ["category", "city", "merchant"]


@pytest.fixture
def campaign_world(client, admin_headers, shops):
    """An open catering campaign in which shop ``a`` takes part; shop ``b`` takes part in none."""
    a, b = shops
    campaign = make_campaign(categories=["catering"])
    db.session.add(Enrolment(campaign_id=campaign.id, merchant_id=a.id, status=EnrolmentStatus.approved,
                             created_at=TEST_NOW))
    db.session.commit()
    return campaign, a, b


def test_the_campaign_page_shows_the_warnings_that_concern_it(client, admin_headers, campaign_world):
    campaign, a, b = campaign_world
    publish(client, admin_headers, merchant_id=a.id, text="参与本活动的某店涉嫌加价")
    publish(client, admin_headers, merchant_id=b.id, text="未参与活动的店的预警")
    publish(client, admin_headers, category="retail", text="零售类预警与本活动无关")
    publish(client, admin_headers, category="catering", text="餐饮类商户不得设置最低消费")
    publish(client, admin_headers, text="全市：谨防冒充商务局的诈骗电话")
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "参与本活动的某店涉嫌加价" in page and a.name in page
    assert "餐饮类商户不得设置最低消费" in page and "全市：谨防冒充商务局的诈骗电话" in page
    assert "未参与活动的店的预警" not in page and "零售类预警与本活动无关" not in page


def test_the_wallet_shows_warnings_to_residents_holding_vouchers_usable_there(client, admin, shops, clock):
    a, _b = shops
    catering = publish_campaign(admin, clock, merchant_categories=["catering"])
    retail = publish_campaign(admin, clock, merchant_categories=["retail"], name="零售消费券")
    db.session.add(Enrolment(campaign_id=catering.id, merchant_id=a.id, status=EnrolmentStatus.approved,
                             created_at=clock.now()))
    db.session.commit()
    clock.advance(hours=1, minutes=1)  # both open
    holder, bystander = next_phone(), next_phone()
    for phone, held in ((holder, catering), (bystander, retail)):
        sign_in_resident(client, phone)
        user = db.session.scalars(select(User).where(User.phone == phone)).one()
        claim_voucher(held.id, held.tiers[0].id, user, clock.now(), uuid.uuid4().hex)
        sign_out(client)
    assert publish(client, token_for(admin), merchant_id=a.id, text="参与本活动的某店涉嫌加价").status_code == 201

    sign_in_resident(client, holder)
    wallet = client.get("/wallet").get_data(as_text=True)
    assert "参与本活动的某店涉嫌加价" in wallet and 'data-testid="voucher-warnings"' in wallet
    sign_out(client)
    sign_in_resident(client, bystander)
    wallet = client.get("/wallet").get_data(as_text=True)
    assert 'data-testid="voucher"' in wallet and "参与本活动的某店涉嫌加价" not in wallet


def test_the_bureau_publishes_and_withdraws_on_its_page(client, admin, shops):
    a, _b = shops
    sign_in_staff(client, admin.username, PASSWORD)
    page = client.get("/bureau/warnings")
    assert page.status_code == 200
    starts = (TEST_NOW - DAY).astimezone(CITY).strftime("%Y-%m-%dT%H:%M")
    ends = (TEST_NOW + DAY).astimezone(CITY).strftime("%Y-%m-%dT%H:%M")
    token = form_token(client, "/bureau/warnings")
    refused = client.post("/bureau/warnings", data={"text": "短", "starts_at": starts, "ends_at": ends,
                                                    "csrf_token": token})
    assert refused.status_code == 422 and 'data-testid="form-problems"' in refused.get_data(as_text=True)
    done = client.post("/bureau/warnings", data={"text": "近期有商户以消费券为名加价", "merchant_id": a.id,
                                                 "starts_at": starts, "ends_at": ends, "csrf_token": token})
    assert done.status_code == 302
    item = client.get("/api/v1/warnings").get_json()["items"][0]
    assert item["merchant_id"] == a.id and item["starts_at"] == (TEST_NOW - DAY).astimezone(CITY).isoformat()
    assert "近期有商户以消费券为名加价" in client.get("/bureau/warnings").get_data(as_text=True)
    assert client.post(f"/bureau/warnings/{item['id']}/withdraw", data={"csrf_token": token}).status_code == 302
    assert client.get("/api/v1/warnings").get_json()["items"] == []
