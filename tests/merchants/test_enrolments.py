"""Shops apply to campaigns; the bureau approves or rejects; every rule is checked by the server."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, insert, select

from campaigns.models import CampaignStatus
from merchants import service
from merchants.models import Enrolment, EnrolmentStatus, MerchantStatus
from tests.builders import TEST_NOW, make_account, make_campaign, make_merchant, race_a_rival, token_for
from voucher_app.accounts.models import User
from voucher_app.core.audit import AuditRecord
from voucher_app.core.database import new_id
from voucher_app.core.errors import Conflict
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role


@pytest.fixture
def admin(city):
    return token_for(make_account(Role.admin))


@pytest.fixture
def shop(city):
    """An approved restaurant in Lizhou, and its owner's headers."""
    merchant, owner = make_merchant(MerchantStatus.approved, category="catering", district="lizhou")
    return merchant, token_for(owner)


def apply(client, owner_headers, campaign_id, merchant_id, **extra):
    return client.post(f"/api/v1/campaigns/{campaign_id}/enrolments", json={"merchant_id": merchant_id, **extra},
                       headers={**owner_headers, "Accept-Language": "en"})


def refused(response, status: int, code: str) -> str:
    body = response.get_json()
    assert (response.status_code, body["code"]) == (status, code), body
    return body["detail"]


def enrolments() -> int:
    return db.session.scalar(select(func.count()).select_from(Enrolment))


# Applying ------------------------------------------------------------------------------------------------

def test_an_approved_shop_applies_to_an_open_campaign(client, shop):
    merchant, owner = shop
    campaign = make_campaign(name="广元夜间消费券·第一期")
    response = apply(client, owner, campaign.id, merchant.id, status="approved", id="chosen", reason="x")
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "pending" and body["id"] != "chosen" and body["reason"] is None
    assert (body["campaign_id"], body["merchant_id"]) == (campaign.id, merchant.id)
    assert (body["campaign_name"], body["merchant_name"]) == ("广元夜间消费券·第一期", merchant.name)
    assert body["created_at"] == "2026-12-01T20:00:00+08:00"


def test_a_scheduled_campaign_takes_applications_too(client, shop):
    merchant, owner = shop
    later = make_campaign(CampaignStatus.scheduled, starts_at=TEST_NOW + dt.timedelta(days=3))
    assert apply(client, owner, later.id, merchant.id).status_code == 201


def test_applying_twice_is_a_conflict_that_tells_the_state(client, shop):
    merchant, owner = shop
    campaign = make_campaign()
    apply(client, owner, campaign.id, merchant.id)
    detail = refused(apply(client, owner, campaign.id, merchant.id), 409, "conflict")
    assert "already applied" in detail and "waiting for review" in detail
    assert enrolments() == 1


def test_a_rival_application_committed_meanwhile_is_a_conflict(app, shop):
    """The unique constraint on (campaign, merchant) has the last word over the check before it."""
    merchant, _ = shop
    owner = db.session.scalars(select(User).where(User.merchant_id == merchant.id)).one()
    campaign = make_campaign()
    rival = insert(Enrolment).values(id=new_id(), campaign_id=campaign.id, merchant_id=merchant.id,
                                     status=EnrolmentStatus.pending, created_at=TEST_NOW)
    outcome = race_a_rival(rival, lambda: service.apply_for_campaign(campaign.id, merchant.id, owner, TEST_NOW), app)
    assert isinstance(outcome.get("error"), Conflict), outcome
    assert enrolments() == 1


@pytest.mark.parametrize("rules, words", [
    ({"categories": ["retail", "supermarket"]},
     "only for these kinds of shop: Retail, Supermarkets; yours is Catering"),
    ({"districts": ["zhaohua", "jiange"]}, "only for shops in Zhaohua District, Jiange County; yours is in Lizhou"),
], ids=["category", "district"])
def test_a_shop_outside_the_campaigns_categories_or_districts_is_not_eligible(client, shop, rules, words):
    merchant, owner = shop
    campaign = make_campaign(**rules)
    assert words in refused(apply(client, owner, campaign.id, merchant.id), 403, "not_eligible")
    assert enrolments() == 0


def test_a_shop_inside_the_campaigns_categories_and_districts_is_eligible(client, shop):
    merchant, owner = shop
    campaign = make_campaign(categories=["catering", "retail"], districts=["lizhou"])
    assert apply(client, owner, campaign.id, merchant.id).status_code == 201


@pytest.mark.parametrize("status, code", [(MerchantStatus.pending, "forbidden"), (MerchantStatus.rejected, "forbidden"),
                                          (MerchantStatus.suspended, "merchant_suspended")])
def test_only_an_approved_shop_may_apply(client, city, status, code):
    merchant, owner = make_merchant(status, reason="原因")
    detail = refused(apply(client, token_for(owner), make_campaign().id, merchant.id), 403, code)
    if code == "forbidden":
        assert "once the commerce bureau has approved it" in detail
    assert enrolments() == 0


@pytest.mark.parametrize("status, starts, ends, answer", [
    (CampaignStatus.draft, -1, 30, (404, "not_found")),
    (CampaignStatus.cancelled, -1, 30, (409, "campaign_closed")),
    (CampaignStatus.closed, -30, -1, (409, "campaign_closed")),
    (CampaignStatus.settled, -30, -1, (409, "campaign_closed")),
    (CampaignStatus.open, -30, -1, (409, "campaign_closed")),  # ended by the clock, not yet recorded
], ids=["draft", "cancelled", "closed", "settled", "open past its end"])
def test_the_campaign_must_be_published_and_not_over(client, shop, status, starts, ends, answer):
    merchant, owner = shop
    campaign = make_campaign(status, starts_at=TEST_NOW + dt.timedelta(days=starts),
                             ends_at=TEST_NOW + dt.timedelta(days=ends))
    refused(apply(client, owner, campaign.id, merchant.id), *answer)
    assert enrolments() == 0


def test_the_clock_decides_when_a_campaign_is_over(client, shop, clock):
    merchant, owner = shop
    campaign = make_campaign(ends_at=TEST_NOW + dt.timedelta(hours=1))
    clock.advance(hours=1)
    refused(apply(client, owner, campaign.id, merchant.id), 409, "campaign_closed")


@pytest.mark.parametrize("campaign_id", ["01jz0000000000000000000000", "x" * 300])
def test_an_unknown_campaign_is_not_found(client, shop, campaign_id):
    merchant, owner = shop
    refused(apply(client, owner, campaign_id, merchant.id), 404, "not_found")


def test_an_owner_cannot_apply_for_another_shop(client, shop):
    merchant, _ = shop
    _, stranger = make_merchant(MerchantStatus.approved)
    refused(apply(client, token_for(stranger), make_campaign().id, merchant.id), 404, "not_found")
    assert enrolments() == 0


def test_a_merchant_id_is_required(client, shop):
    _, owner = shop
    response = client.post(f"/api/v1/campaigns/{make_campaign().id}/enrolments", json={}, headers=owner)
    assert [e["field"] for e in response.get_json()["errors"]] == ["merchant_id"]


# The bureau decides --------------------------------------------------------------------------------------

def applied(client, shop, campaign=None) -> dict:
    merchant, owner = shop
    response = apply(client, owner, (campaign or make_campaign()).id, merchant.id)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_bureau_approves_an_application(client, shop, admin, clock):
    enrolment = applied(client, shop)
    clock.advance(hours=1)
    response = client.post(f"/api/v1/enrolments/{enrolment['id']}/approve", headers=admin)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "approved" and body["reviewed_at"] == "2026-12-01T21:00:00+08:00"
    stored = db.session.get(Enrolment, enrolment["id"])
    assert stored.reviewed_by == client.get("/api/v1/me", headers=admin).get_json()["id"]


def test_rejecting_an_application_needs_a_reason_the_shop_then_reads(client, shop, admin):
    enrolment = applied(client, shop)
    url = f"/api/v1/enrolments/{enrolment['id']}/reject"
    assert refused(client.post(url, headers=admin), 422, "validation_error")
    assert client.post(url, json={"reason": "名额已满"}, headers=admin).get_json()["status"] == "rejected"
    merchant, owner = shop
    mine = client.get(f"/api/v1/merchants/{merchant.id}/enrolments", headers=owner).get_json()
    assert mine["next"] is None
    assert [(e["status"], e["reason"]) for e in mine["items"]] == [("rejected", "名额已满")]


def test_a_decided_application_cannot_be_decided_again(client, shop, admin):
    enrolment = applied(client, shop)
    client.post(f"/api/v1/enrolments/{enrolment['id']}/reject", json={"reason": "名额已满"}, headers=admin)
    response = client.post(f"/api/v1/enrolments/{enrolment['id']}/approve", headers={**admin, "Accept-Language": "en"})
    assert "Only an application waiting for review can be approved; this one is rejected." in refused(
        response, 409, "conflict")


def test_a_suspended_shops_application_is_not_approved(client, shop, admin):
    merchant, _ = shop
    enrolment = applied(client, shop)
    client.post(f"/api/v1/merchants/{merchant.id}/suspend", json={"reason": "投诉"}, headers=admin)
    refused(client.post(f"/api/v1/enrolments/{enrolment['id']}/approve", headers=admin), 409, "conflict")


def test_an_application_to_a_campaign_that_ended_is_not_approved(client, shop, admin, clock):
    enrolment = applied(client, shop, make_campaign(ends_at=TEST_NOW + dt.timedelta(hours=1)))
    clock.advance(hours=1)
    refused(client.post(f"/api/v1/enrolments/{enrolment['id']}/approve", headers=admin), 409, "campaign_closed")


def test_an_unknown_enrolment_is_not_found(client, admin):
    for enrolment_id in ("01jz0000000000000000000000", "y" * 300):
        refused(client.post(f"/api/v1/enrolments/{enrolment_id}/approve", headers=admin), 404, "not_found")


def test_the_queue_lists_pending_applications_in_the_contract_envelope(client, shop, admin):
    first = applied(client, shop)
    second = applied(client, shop)
    client.post(f"/api/v1/enrolments/{second['id']}/approve", headers=admin)
    body = client.get("/api/v1/enrolments?status=pending", headers=admin).get_json()
    assert body["next"] is None and [e["id"] for e in body["items"]] == [first["id"]]
    assert len(client.get("/api/v1/enrolments", headers=admin).get_json()["items"]) == 2
    response = client.get("/api/v1/enrolments?status=suspended", headers=admin)
    assert refused(response, 422, "validation_error")


def test_every_bureau_decision_on_an_application_is_audited_refused_ones_included(client, shop, admin):
    enrolment = applied(client, shop)
    url = f"/api/v1/enrolments/{enrolment['id']}"
    client.post(f"{url}/reject", headers=admin)                                # refused: no reason
    client.post(f"{url}/approve", json={"reason": "材料齐全"}, headers=admin)
    client.post(f"{url}/reject", json={"reason": "改主意"}, headers=admin)     # refused: already approved
    records = db.session.scalars(select(AuditRecord).where(AuditRecord.target_id == enrolment["id"])
                                 .order_by(AuditRecord.id)).all()
    assert [(r.action, r.outcome, r.target_type) for r in records] == [
        ("enrolment.reject", "validation_error", "enrolment"), ("enrolment.approve", "ok", "enrolment"),
        ("enrolment.reject", "conflict", "enrolment")]
    assert records[1].reason == "材料齐全" and records[1].at == TEST_NOW
    assert records[1].detail == {"merchant_id": shop[0].id, "campaign_id": enrolment["campaign_id"]}
    # The shop's history shows its applications' decisions too.
    history = [record.action for record, _ in service.merchant_history(shop[0].id)]
    assert sorted(history) == ["enrolment.approve", "enrolment.reject", "enrolment.reject"]
