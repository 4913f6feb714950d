"""The credit record (M21): events on the bureau's decisions and from other domains, the score, the badge."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from merchants import credit
from merchants.models import MerchantEvent, MerchantStatus
from tests.builders import TEST_NOW, token_for
from tests.disclosure.conftest import shop
from voucher_app.core.audit import AuditRecord
from voucher_app.core.extensions import db


def kinds(merchant_id: str) -> list[str]:
    db.session.commit()
    return [e.kind for e in db.session.scalars(select(MerchantEvent).where(MerchantEvent.merchant_id == merchant_id)
                                               .order_by(MerchantEvent.at, MerchantEvent.id))]


def record(merchant_id: str, kind: str, at: dt.datetime, **kw) -> None:
    credit.record_event(merchant_id, kind, at, **kw)
    db.session.commit()


def test_approve_suspend_and_reinstate_are_recorded(client, admin_headers, clock):
    merchant, _owner = shop(MerchantStatus.pending)
    assert client.post(f"/api/v1/merchants/{merchant.id}/approve", headers=admin_headers).status_code == 200
    clock.advance(minutes=5)
    response = client.post(f"/api/v1/merchants/{merchant.id}/suspend", headers=admin_headers,
                           json={"reason": "收取额外费用"})
    assert response.status_code == 200 and response.get_json()["suspension_public"] is False
    clock.advance(minutes=5)
    assert client.post(f"/api/v1/merchants/{merchant.id}/reinstate", headers=admin_headers).status_code == 200
    clock.advance(minutes=5)
    response = client.post(f"/api/v1/merchants/{merchant.id}/suspend", headers=admin_headers,
                           json={"reason": "虚假交易套取补贴", "public": True})
    body = response.get_json()
    assert body["suspension_public"] is True and body["suspended_at"] is not None
    assert kinds(merchant.id) == ["approved", "suspended", "reinstated", "suspended_public"]

    credit_body = client.get(f"/api/v1/merchants/{merchant.id}/credit", headers=admin_headers).get_json()
    assert credit_body["score"] == 100 - 15 - 40
    assert [e["kind"] for e in credit_body["events"]] == ["suspended_public", "reinstated", "suspended", "approved"]
    assert credit_body["events"][0]["reason"] == "虚假交易套取补贴"
    assert set(credit_body["events"][0]) >= {"kind", "at", "reason", "ref_type", "ref_id"}

    assert client.post(f"/api/v1/merchants/{merchant.id}/reinstate", headers=admin_headers).status_code == 200
    db.session.commit()
    db.session.refresh(merchant)
    assert merchant.suspended_at is None and merchant.suspension_public is False


def test_a_public_suspension_still_needs_a_reason(client, admin_headers):
    merchant, _owner = shop()
    response = client.post(f"/api/v1/merchants/{merchant.id}/suspend", headers=admin_headers, json={"public": True})
    assert response.status_code == 422 and response.get_json()["code"] == "validation_error"
    assert kinds(merchant.id) == []


def test_the_score_follows_the_documented_formula(city):
    merchant, _owner = shop()
    assert credit.credit_score(merchant.id, TEST_NOW) == 100
    record(merchant.id, credit.COMPLAINT_UPHELD, TEST_NOW - dt.timedelta(days=10), ref_type="complaint", ref_id="c1")
    record(merchant.id, credit.COMPLAINT_UPHELD, TEST_NOW - dt.timedelta(days=20), ref_type="complaint", ref_id="c2")
    record(merchant.id, credit.FLAG_CONFIRMED, TEST_NOW - dt.timedelta(days=30), ref_type="flag", ref_id="f1")
    record(merchant.id, credit.APPROVED, TEST_NOW - dt.timedelta(days=300))
    record(merchant.id, credit.SUSPENDED, TEST_NOW - dt.timedelta(days=400))  # older than 12 months: forgotten
    assert credit.credit_score(merchant.id, TEST_NOW) == 100 - 2 * 10 - 30
    record(merchant.id, credit.SUSPENDED_PUBLIC, TEST_NOW - dt.timedelta(days=1))
    record(merchant.id, credit.SUSPENDED, TEST_NOW - dt.timedelta(days=2))
    assert credit.credit_score(merchant.id, TEST_NOW) == 0  # 100 - 20 - 30 - 40 - 15 < 0: the floor
    # A year on, the record still holds every event; the score has forgotten them.
    assert credit.credit_score(merchant.id, TEST_NOW + dt.timedelta(days=400)) == 100
    assert len(credit.credit_record(merchant.id)) == 7


def test_the_badge_is_refused_with_the_unmet_criteria(client, admin_headers, clock):
    merchant, _owner = shop(MerchantStatus.pending)
    client.post(f"/api/v1/merchants/{merchant.id}/approve", headers=admin_headers)
    record(merchant.id, credit.COMPLAINT_UPHELD, clock.now(), ref_type="complaint", ref_id="c1")
    response = client.post(f"/api/v1/merchants/{merchant.id}/badge", headers=admin_headers)
    assert response.status_code == 403
    body = response.get_json()
    assert body["code"] == "not_eligible"
    assert {u["criterion"] for u in body["unmet"]} == {"approved_90_days", "no_upheld_complaint"}
    refused = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "merchant.badge_grant")).one()
    assert refused.outcome == "not_eligible"


def test_the_badge_is_granted_then_withdrawn_by_an_upheld_complaint(client, admin_headers, clock):
    merchant, owner = shop()
    response = client.post(f"/api/v1/merchants/{merchant.id}/badge", headers=admin_headers, json={"reason": "年度评选"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["badge"] is True
    assert client.post(f"/api/v1/merchants/{merchant.id}/badge", headers=admin_headers).status_code == 409
    assert client.get(f"/api/v1/public/merchants/{merchant.id}").get_json()["badge"] is True

    clock.advance(minutes=30)
    record(merchant.id, credit.COMPLAINT_UPHELD, clock.now(), ref_type="complaint", ref_id="c9", reason="乱收费")
    assert client.get(f"/api/v1/public/merchants/{merchant.id}").get_json()["badge"] is False
    owner_view = client.get(f"/api/v1/merchants/{merchant.id}/credit", headers=token_for(owner)).get_json()
    assert [e["kind"] for e in owner_view["events"]][:3] == ["badge_withdrawn", "complaint_upheld", "badge_granted"]
    assert owner_view["score"] == 90 and owner_view["badge"] is False


def test_a_flag_confirmed_or_a_suspension_withdraws_the_badge(client, admin_headers, clock):
    flagged, _o = shop()
    suspended, _o2 = shop()
    for merchant in (flagged, suspended):
        assert client.post(f"/api/v1/merchants/{merchant.id}/badge", headers=admin_headers).status_code == 200
    record(flagged.id, credit.FLAG_CONFIRMED, clock.now(), ref_type="flag", ref_id="f1")
    client.post(f"/api/v1/merchants/{suspended.id}/suspend", headers=admin_headers, json={"reason": "停业整顿"})
    for merchant in (flagged, suspended):
        assert "badge_withdrawn" in kinds(merchant.id)
        assert client.get(f"/api/v1/merchants/{merchant.id}/credit",
                          headers=admin_headers).get_json()["badge"] is False


def test_the_bureau_withdraws_the_badge_with_a_reason(client, admin_headers):
    merchant, _owner = shop()
    client.post(f"/api/v1/merchants/{merchant.id}/badge", headers=admin_headers)
    assert client.delete(f"/api/v1/merchants/{merchant.id}/badge", headers=admin_headers).status_code == 422
    response = client.delete(f"/api/v1/merchants/{merchant.id}/badge", headers=admin_headers,
                             json={"reason": "复查不合格"})
    assert response.status_code == 200 and response.get_json()["badge"] is False
    assert kinds(merchant.id) == ["badge_granted", "badge_withdrawn"]
    assert client.delete(f"/api/v1/merchants/{merchant.id}/badge", headers=admin_headers,
                         json={"reason": "again"}).status_code == 409


def test_who_reads_the_credit_record(client, admin_headers):
    merchant, owner = shop()
    other, other_owner = shop()
    path = f"/api/v1/merchants/{merchant.id}/credit"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=token_for(owner)).status_code == 200
    assert client.get(path, headers=token_for(other_owner)).status_code == 404
    assert client.post(f"/api/v1/merchants/{merchant.id}/badge", headers=token_for(owner)).status_code == 403
