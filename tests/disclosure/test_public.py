"""What anyone may read without signing in: a shop's page, complaint statistics, publicly suspended shops.
No phone number and no resident ever appears there."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from merchants import credit
from merchants.models import MerchantStatus
from tests.builders import TEST_NOW
from tests.disclosure.conftest import SHOP_PHONE, complaint, resident, shop
from voucher_app.complaints.models import ComplaintStatus
from voucher_app.core.extensions import db

RESIDENT_PHONE = "13987654321"
H = dt.timedelta(hours=1)


def assert_no_personal_data(text: str, *residents) -> None:
    assert SHOP_PHONE not in text and "138****5678" not in text  # not even masked
    assert RESIDENT_PHONE not in text
    for person in residents:
        assert person.id not in text and person.phone not in text


@pytest.fixture
def world(city, clock):
    """Shop ``a`` (catering, Lizhou) with complaints, ``b`` (retail, Zhaohua), a pending shop, a shop
    suspended publicly for fraud and one suspended ordinarily."""
    a, _o = shop(category="catering", district="lizhou", opening_hours="09:00-22:00")
    b, _o = shop(category="retail", district="zhaohua")
    pending, _o = shop(MerchantStatus.pending)
    fraud, _o = shop(MerchantStatus.suspended, reason="虚假交易套取补贴")
    fraud.suspension_public, fraud.suspended_at = True, TEST_NOW - dt.timedelta(days=2)
    quiet, _o = shop(MerchantStatus.suspended, reason="内部整改")
    quiet.suspended_at = TEST_NOW - dt.timedelta(days=1)
    db.session.commit()
    author = resident(RESIDENT_PHONE)
    complaint(a, status=ComplaintStatus.upheld, made=TEST_NOW - 30 * 24 * H, replied_after=2 * H,
              decided_after=10 * H, author=author)
    complaint(a, status=ComplaintStatus.rejected, made=TEST_NOW - 20 * 24 * H, replied_after=4 * H,
              decided_after=30 * H, author=author)
    complaint(a, status=ComplaintStatus.upheld, made=TEST_NOW - 10 * 24 * H, decided_after=50 * H, author=author)
    complaint(a, made=TEST_NOW - 400 * 24 * H, author=author)  # more than 12 months ago: not counted
    complaint(b, made=TEST_NOW - 5 * 24 * H, author=author)
    credit.record_event(a.id, credit.COMPLAINT_UPHELD, TEST_NOW - 24 * H, reason=f"居民{RESIDENT_PHONE}投诉属实")
    db.session.commit()
    return {"a": a, "b": b, "pending": pending, "fraud": fraud, "quiet": quiet, "author": author}


def test_a_shops_public_answer_needs_no_sign_in_and_holds_no_personal_data(client, world):
    response = client.get(f"/api/v1/public/merchants/{world['a'].id}")
    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"]
    body = response.get_json()
    assert {k: body[k] for k in ("name", "category", "district", "badge", "credit_score", "complaints_12m",
                                 "upheld_12m", "warnings")} == {
        "name": world["a"].name, "category": "catering", "district": "lizhou", "badge": False, "credit_score": 90,
        "complaints_12m": 3, "upheld_12m": 2, "warnings": []}
    assert body["opening_hours"] == "09:00-22:00"
    assert body["record"] == [{"kind": "complaint_upheld", "at": body["record"][0]["at"]}]  # no reason
    text = response.get_data(as_text=True)
    assert_no_personal_data(text, world["author"])
    assert "contact_phone" not in body and "uscc" not in body and world["a"].uscc not in text


@pytest.mark.parametrize("which", ["pending"])
def test_a_shop_not_approved_has_no_public_page(client, world, which):
    assert client.get(f"/api/v1/public/merchants/{world[which].id}").status_code == 404
    assert client.get(f"/shops/{world[which].id}").status_code == 404
    assert client.get("/api/v1/public/merchants/no-such-shop").status_code == 404


def test_only_a_public_suspension_is_listed(client, world):
    response = client.get("/api/v1/public/suspended")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [(i["id"], i["reason"]) for i in items] == [(world["fraud"].id, "虚假交易套取补贴")]
    assert items[0]["suspended_at"].startswith("2026-11-29")
    page = client.get("/public/suspended").get_data(as_text=True)
    assert world["fraud"].name in page and "虚假交易套取补贴" in page
    assert world["quiet"].name not in page and "内部整改" not in page
    assert_no_personal_data(response.get_data(as_text=True) + page)
    # The suspended shops keep a page: the public one says why, the other only that it takes no vouchers.
    fraud = client.get(f"/api/v1/public/merchants/{world['fraud'].id}").get_json()
    assert fraud["suspension"]["reason"] == "虚假交易套取补贴" and fraud["accepts_vouchers"] is False
    quiet = client.get(f"/api/v1/public/merchants/{world['quiet'].id}").get_json()
    assert quiet["suspension"] is None and quiet["accepts_vouchers"] is False
    assert "内部整改" not in client.get(f"/shops/{world['quiet'].id}").get_data(as_text=True)


def test_complaint_statistics_count_and_take_the_median(client, world):
    response = client.get("/api/v1/public/complaints/stats")
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == {"key": "all", "label": None, "complaints": 4, "upheld": 2, "rejected": 1, "open": 1,
                             "median_reply_hours": 3.0, "median_decision_hours": 30.0}
    by_category = {t["key"]: t for t in body["by_category"]}
    assert by_category["catering"]["complaints"] == 3 and by_category["catering"]["median_decision_hours"] == 30.0
    assert by_category["retail"]["median_decision_hours"] is None
    by_district = {t["key"]: t["complaints"] for t in body["by_district"]}
    assert by_district == {"lizhou": 3, "zhaohua": 1}
    first = body["by_merchant"][0]
    assert (first["merchant_id"], first["label"], first["upheld"]) == (world["a"].id, world["a"].name, 2)
    assert_no_personal_data(response.get_data(as_text=True), world["author"])
    assert "收银员要求另付服务费" not in response.get_data(as_text=True)  # no complaint's text


def test_the_public_pages_in_chinese_and_in_english(client, world):
    page = client.get(f"/shops/{world['a'].id}").get_data(as_text=True)
    assert world["a"].name in page and "餐饮" in page and "利州区" in page and "09:00-22:00" in page
    assert "信用分" in page and f'href="/complaints/new?merchant_id={world["a"].id}"' in page
    assert "投诉这家店" in page
    assert_no_personal_data(page, world["author"])
    stats = client.get("/public/complaints").get_data(as_text=True)
    assert "投诉统计" in stats and world["a"].name in stats and "30.0" in stats
    assert_no_personal_data(stats, world["author"])
    directory = client.get("/shops", query_string={"district": "zhaohua"}).get_data(as_text=True)
    assert world["b"].name in directory and world["a"].name not in directory
    assert world["pending"].name not in client.get("/shops").get_data(as_text=True)

    client.get("/lang/en")
    page = client.get(f"/shops/{world['a'].id}").get_data(as_text=True)
    assert "Credit score" in page and "Catering" in page and "Complain about this shop" in page
    assert "Complaint statistics" in client.get("/public/complaints").get_data(as_text=True)
    assert "Suspended shops" in client.get("/public/suspended").get_data(as_text=True)


def test_the_badge_shows_on_the_public_page(client, world, admin_headers):
    assert client.post(f"/api/v1/merchants/{world['b'].id}/badge", headers=admin_headers).status_code == 200
    page = client.get(f"/shops/{world['b'].id}").get_data(as_text=True)
    assert "放心舒心消费示范单位" in page and 'data-testid="badge"' in page
    body = client.get(f"/api/v1/public/merchants/{world['b'].id}").get_json()
    assert body["badge"] is True and json.dumps(body).count(SHOP_PHONE) == 0
