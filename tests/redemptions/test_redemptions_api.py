"""Cashiers redeem vouchers and refund returns: every refusal in the contract's order, the ledger,
idempotent retries, the seven-day refund and windows that cross midnight (with the movable clock)."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select, update

from merchants.models import Enrolment, EnrolmentStatus, MerchantStatus
from tests.builders import bearer, make_account, make_merchant, make_staff, resident_token, staff_token, token_for
from tests.campaign_data import T0, campaign_body
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.ledger.models import Account, LedgerEntry
from voucher_app.redemptions.models import RedemptionAttempt
from voucher_app.reports.service import refusals_by_code
from voucher_app.vouchers.tokens import typed_code


@pytest.fixture
def shop(client, city, clock):
    """An open campaign (valid 18:00–02:00), an enrolled shop with a cashier, a resident's voucher."""
    admin = bearer(staff_token(client, make_staff(Role.admin).username))
    campaign = client.post("/api/v1/campaigns", json=campaign_body(), headers=admin).get_json()
    client.post(f"/api/v1/campaigns/{campaign['id']}/publish", headers=admin)
    merchant, owner = make_merchant(MerchantStatus.approved)
    db.session.add(Enrolment(campaign_id=campaign["id"], merchant_id=merchant.id, status=EnrolmentStatus.approved,
                             created_at=clock.now()))
    db.session.commit()
    cashier = make_account(Role.cashier, merchant)
    clock.advance(hours=1)  # 21:00 in the city, inside the window
    resident = bearer(resident_token(client))
    return {"admin": admin, "campaign": campaign, "merchant": merchant, "owner": owner,
            "cashier": cashier, "resident": resident, "voucher": claimed(client, campaign, resident)}


def claimed(client, campaign, resident) -> dict:
    return client.post(f"/api/v1/campaigns/{campaign['id']}/claims", json={"tier_id": campaign["tiers"][0]["id"]},
                       headers={**resident, "Idempotency-Key": uuid.uuid4().hex}).get_json()


def qr(client, shop) -> str:
    return client.get(f"/api/v1/me/vouchers/{shop['voucher']['id']}/token", headers=shop["resident"]).get_json()["token"]


def qr_for_a_new_voucher(client, shop) -> str:
    """Another resident claims a voucher of the shop's campaign: its QR token."""
    resident = bearer(resident_token(client))
    voucher = claimed(client, shop["campaign"], resident)
    return client.get(f"/api/v1/me/vouchers/{voucher['id']}/token", headers=resident).get_json()["token"]


def as_(who) -> dict:
    """Headers for a shop account, signed in now (staff tokens live twelve hours; tests move days)."""
    return who if isinstance(who, dict) else token_for(who)


def redeem(client, who, token, bill=12_800, key=None):
    return client.post("/api/v1/redemptions", json={"token": token, "bill_cents": bill},
                       headers={**as_(who), "Idempotency-Key": key or uuid.uuid4().hex})


def refund(client, who, redemption, body=None):
    return client.post(f"/api/v1/redemptions/{redemption['id']}/refund", json=body or {}, headers=as_(who))


def code(response) -> str:
    return response.get_json()["code"]


def moved(campaign_id, source, target) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
        LedgerEntry.campaign_id == campaign_id, LedgerEntry.from_account == source, LedgerEntry.to_account == target))


def test_a_cashier_redeems_and_the_server_computes_the_discount(client, shop):
    response = redeem(client, shop["cashier"], qr(client, shop), 12_800)
    assert response.status_code == 201
    body = response.get_json()
    assert (body["bill_cents"], body["discount_cents"], body["payable_cents"]) == (12_800, 3_000, 9_800)
    assert body["voucher_id"] == shop["voucher"]["id"] and body["merchant_id"] == shop["merchant"].id
    assert moved(shop["campaign"]["id"], Account.reserved, Account.payable) == 3_000
    wallet = client.get("/api/v1/me/vouchers", headers=shop["resident"]).get_json()["items"][0]
    assert wallet["status"] == "redeemed"


def test_the_owner_may_redeem_too_and_a_typed_code_works(client, shop, clock):
    typed = typed_code(shop["voucher"]["id"], clock.now())
    assert redeem(client, shop["owner"], typed).status_code == 201


def test_a_wrong_typed_code_is_an_invalid_token(client, shop, clock):
    typed = typed_code(shop["voucher"]["id"], clock.now())
    wrong = typed[:-4] + f"{(int(typed[-4:]) + 1) % 10_000:04d}"
    assert code(redeem(client, shop["cashier"], wrong)) == "invalid_token"


def test_a_second_scan_is_already_redeemed(client, shop):
    token = qr(client, shop)
    redeem(client, shop["cashier"], token)
    response = redeem(client, shop["cashier"], token)
    assert (response.status_code, code(response)) == (409, "already_redeemed")
    assert moved(shop["campaign"]["id"], Account.reserved, Account.payable) == 3_000


def test_bills_of_every_size_up_to_the_maximum_are_taken_and_retried(client, shop, app):
    """Bills past the small-integer range (¥327.67) and the largest allowed, and their retries."""
    for bill in (32_768, 65_536, app.config["REDEMPTION_MAX_BILL_CENTS"]):
        token = qr_for_a_new_voucher(client, shop)
        key = uuid.uuid4().hex
        first = redeem(client, shop["cashier"], token, bill=bill, key=key)
        assert first.status_code == 201, first.get_json()
        assert (first.get_json()["bill_cents"], first.get_json()["payable_cents"]) == (bill, bill - 3_000)
        assert redeem(client, shop["cashier"], token, bill=bill, key=key).get_json() == first.get_json()


def test_a_network_retry_gets_the_first_answer(client, shop):
    token = qr(client, shop)
    first = redeem(client, shop["cashier"], token, key="till-7-0001")
    again = redeem(client, shop["cashier"], token, key="till-7-0001")
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    assert moved(shop["campaign"]["id"], Account.reserved, Account.payable) == 3_000


def test_a_retry_after_the_qr_went_stale_still_gets_the_first_answer(client, shop, clock):
    token = qr(client, shop)
    first = redeem(client, shop["cashier"], token, key="till-7-0002")
    clock.advance(seconds=90)  # the till's network came back after the token's minute
    again = redeem(client, shop["cashier"], token, key="till-7-0002")
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert moved(shop["campaign"]["id"], Account.reserved, Account.payable) == 3_000


def test_the_same_key_with_a_different_bill_is_a_conflict_and_changes_nothing(client, shop):
    token = qr(client, shop)
    assert redeem(client, shop["cashier"], token, bill=12_800, key="till-7-0003").status_code == 201
    attempts = db.session.scalar(select(func.count()).select_from(RedemptionAttempt))
    response = redeem(client, shop["cashier"], token, bill=20_000, key="till-7-0003")
    assert (response.status_code, code(response)) == (409, "idempotency_conflict")
    assert moved(shop["campaign"]["id"], Account.reserved, Account.payable) == 3_000
    assert db.session.scalar(select(func.count()).select_from(RedemptionAttempt)) == attempts


@pytest.mark.parametrize("token, expected", [("garbage", "invalid_token"), ("", "invalid_token")])
def test_unreadable_tokens(client, shop, token, expected):
    assert code(redeem(client, shop["cashier"], token)) == expected


def test_an_old_qr_is_token_expired(client, shop, clock):
    token = qr(client, shop)
    clock.advance(seconds=61)
    response = redeem(client, shop["cashier"], token)
    assert (response.status_code, code(response)) == (422, "token_expired")


def test_a_revoked_voucher(client, shop):
    token = qr(client, shop)
    client.post(f"/api/v1/campaigns/{shop['campaign']['id']}/cancel", json={"reason": "测试"}, headers=shop["admin"])
    assert code(redeem(client, shop["cashier"], token)) == "voucher_revoked"


def test_a_voucher_past_its_expiry_without_any_job(client, shop, clock):
    clock.advance(days=7)  # 21:00 seven days later: the voucher expired at this minute
    response = redeem(client, shop["cashier"], qr_at_any_time(client, shop, clock))
    assert code(response) == "voucher_expired"


def qr_at_any_time(client, shop, clock) -> str:
    """A token signed now, even for a voucher the wallet no longer offers (as a stale phone might show)."""
    from voucher_app.vouchers import tokens

    return tokens.sign(shop["voucher"]["id"], clock.now())[0]


def test_a_suspended_shop(client, shop):
    shop["merchant"].status = MerchantStatus.suspended
    db.session.commit()
    response = redeem(client, shop["cashier"], qr(client, shop))
    assert (response.status_code, code(response)) == (403, "merchant_suspended")


def test_a_shop_not_enrolled(client, shop):
    other, _ = make_merchant(MerchantStatus.approved)
    response = redeem(client, make_account(Role.cashier, other), qr(client, shop))
    assert (response.status_code, code(response)) == (403, "merchant_not_enrolled")


def test_a_closed_campaign(client, shop, clock):
    from campaigns.models import Campaign, CampaignStatus

    db.session.execute(update(Campaign).where(Campaign.id == shop["campaign"]["id"])
                       .values(status=CampaignStatus.closed))
    db.session.commit()
    response = redeem(client, shop["cashier"], qr(client, shop))
    assert (response.status_code, code(response)) == (409, "campaign_closed")


def test_outside_the_hours(client, shop, clock):
    clock.set(dt.datetime(2026, 12, 2, 10, 0, tzinfo=T0.tzinfo))  # 10:00 the next morning
    response = redeem(client, shop["cashier"], qr(client, shop))
    assert (response.status_code, code(response)) == (409, "outside_hours")
    assert "次日" in response.get_json()["detail"]


@pytest.mark.parametrize("hour, minute, ok", [(17, 59, False), (18, 0, True), (23, 59, True), (0, 30, True),
                                              (1, 59, True), (2, 0, False)])
def test_a_window_that_crosses_midnight(client, shop, clock, hour, minute, ok):
    day = dt.date(2026, 12, 2) if hour >= 12 else dt.date(2026, 12, 3)
    clock.set(dt.datetime.combine(day, dt.time(hour, minute), tzinfo=T0.tzinfo))
    response = redeem(client, shop["cashier"], qr(client, shop))
    assert (response.status_code == 201) is ok, response.get_json()


def test_weekdays_count_the_night_from_the_day_it_began(app):
    from zoneinfo import ZoneInfo

    from voucher_app.redemptions.hours import within

    zone = ZoneInfo("Asia/Shanghai")
    friday_night = dt.datetime(2026, 12, 4, 23, 0, tzinfo=zone)
    saturday_small_hours = dt.datetime(2026, 12, 5, 1, 0, tzinfo=zone)
    saturday_evening = dt.datetime(2026, 12, 5, 19, 0, tzinfo=zone)
    assert within(friday_night, zone, "18:00", "02:00", [5])
    assert within(saturday_small_hours, zone, "18:00", "02:00", [5])
    assert not within(saturday_evening, zone, "18:00", "02:00", [5])


def test_a_bill_below_the_threshold(client, shop):
    response = redeem(client, shop["cashier"], qr(client, shop), 9_999)
    assert (response.status_code, code(response)) == (422, "below_threshold")


@pytest.mark.parametrize("bill", [0, -100, 128.5, "128", None, True, 10**12])
def test_a_bill_that_is_not_a_positive_whole_number_of_fen(client, shop, bill):
    response = redeem(client, shop["cashier"], qr(client, shop), bill)
    assert (response.status_code, code(response)) == (422, "validation_error")


def test_the_first_failing_rule_is_the_answer(client, shop):
    shop["merchant"].status = MerchantStatus.suspended
    db.session.commit()
    token = qr(client, shop)
    assert code(redeem(client, shop["cashier"], token, bill=1)) == "merchant_suspended"  # before the bill


def test_residents_and_the_bureau_cannot_redeem(client, shop):
    token = qr(client, shop)
    assert code(redeem(client, shop["resident"], token)) == "forbidden"
    assert code(redeem(client, shop["admin"], token)) == "forbidden"
    assert code(client.post("/api/v1/redemptions", json={"token": token, "bill_cents": 100})) == "unauthorized"


def test_every_attempt_is_recorded_and_counted_by_code(client, shop):
    token = qr(client, shop)
    redeem(client, shop["cashier"], token, 5_000)
    redeem(client, shop["cashier"], token)
    redeem(client, shop["cashier"], token)
    outcomes = sorted(db.session.scalars(select(RedemptionAttempt.outcome)))
    assert outcomes == ["already_redeemed", "below_threshold", "ok"]
    assert refusals_by_code(shop["campaign"]["id"]) == [{"code": "already_redeemed", "count": 1},
                                                        {"code": "below_threshold", "count": 1}]


# Refunds ----------------------------------------------------------------------------------------------

def test_a_full_refund_puts_a_valid_voucher_back(client, shop):
    redemption = redeem(client, shop["cashier"], qr(client, shop)).get_json()
    response = refund(client, shop["owner"], redemption)
    assert response.status_code == 200 and response.get_json()["voucher_status"] == "claimed"
    campaign = shop["campaign"]["id"]
    assert moved(campaign, Account.reserved, Account.payable) == moved(campaign, Account.payable, Account.reserved)
    again = refund(client, shop["owner"], redemption)
    assert (again.status_code, code(again)) == (409, "conflict")
    assert redeem(client, shop["cashier"], qr(client, shop)).status_code == 201  # usable again


def test_a_refund_after_expiry_returns_the_value_to_the_campaign(client, shop, clock):
    redemption = redeem(client, shop["cashier"], qr(client, shop)).get_json()
    clock.advance(days=7)  # the voucher (valid seven days) has just expired; the refund window still holds
    response = refund(client, shop["owner"], redemption)
    assert response.get_json()["voucher_status"] == "expired"
    assert moved(shop["campaign"]["id"], Account.reserved, Account.available) == 3_000


def test_refunds_end_after_seven_days(client, shop, clock):
    redemption = redeem(client, shop["cashier"], qr(client, shop)).get_json()
    clock.advance(days=7, seconds=1)
    response = refund(client, shop["owner"], redemption)
    assert code(response) == "conflict"


def test_partial_refunds_are_not_supported(client, shop):
    redemption = redeem(client, shop["cashier"], qr(client, shop)).get_json()
    response = refund(client, shop["owner"], redemption, {"amount_cents": 100})
    assert code(response) == "validation_error" and "部分退款" in response.get_json()["detail"]


def test_another_shop_cannot_refund(client, shop):
    redemption = redeem(client, shop["cashier"], qr(client, shop)).get_json()
    _other, other_owner = make_merchant(MerchantStatus.approved)
    response = refund(client, other_owner, redemption)
    assert code(response) == "not_found"


def test_a_cashier_refunds_only_when_the_owner_allows_it(client, shop):
    redemption = redeem(client, shop["cashier"], qr(client, shop)).get_json()
    refused = refund(client, shop["cashier"], redemption)
    assert (refused.status_code, code(refused)) == (403, "forbidden") and "店主" in refused.get_json()["detail"]
    path = f"/api/v1/merchants/{shop['merchant'].id}/staff/{shop['cashier'].id}"
    granted = client.post(f"{path}/allow-refunds", headers=as_(shop["owner"]))
    assert granted.status_code == 200 and granted.get_json()["refunds_allowed"] is True
    assert refund(client, shop["cashier"], redemption).status_code == 200
    taken_back = client.post(f"{path}/deny-refunds", headers=as_(shop["owner"]))
    assert taken_back.get_json()["refunds_allowed"] is False
    again = redeem(client, shop["cashier"], qr(client, shop)).get_json()
    assert code(refund(client, shop["cashier"], again)) == "forbidden"


def test_another_shops_owner_cannot_grant_refunds(client, shop):
    _other, other_owner = make_merchant(MerchantStatus.approved)
    response = client.post(f"/api/v1/merchants/{shop['merchant'].id}/staff/{shop['cashier'].id}/allow-refunds",
                           headers=as_(other_owner))
    assert response.status_code in (403, 404)
    assert not db.session.get(type(shop["cashier"]), shop["cashier"].id).refunds_allowed


def test_a_refund_after_the_day_was_settled_is_deducted_on_the_next_statement(client, shop, clock):
    from voucher_app.settlement.models import SettlementStatement
    from voucher_app.settlement.reconciliation import check_ledger
    from voucher_app.settlement.service import settle

    redemption = redeem(client, shop["cashier"], qr(client, shop)).get_json()
    clock.advance(days=1)
    settle(clock.now())
    first = db.session.scalars(select(SettlementStatement)).one()
    closed = (first.day, first.redemptions, first.redeemed_cents, first.refunds, first.net_cents)
    assert closed[1:] == (1, 3_000, 0, 3_000)
    assert refund(client, shop["owner"], redemption).status_code == 200
    clock.advance(days=1)
    settle(clock.now())
    db.session.expire_all()
    statements = db.session.scalars(select(SettlementStatement).order_by(SettlementStatement.day)).all()
    assert (statements[0].day, statements[0].redemptions, statements[0].redeemed_cents, statements[0].refunds,
            statements[0].net_cents) == closed  # the closed statement is not rewritten
    assert (statements[-1].refunds, statements[-1].refunded_cents, statements[-1].net_cents) == (1, 3_000, -3_000)
    assert check_ledger()[1] == []


def test_todays_redemptions_of_the_shop(client, shop):
    redeem(client, shop["cashier"], qr(client, shop))
    owner = as_(shop["owner"])
    items = client.get("/api/v1/merchant/redemptions", headers=owner).get_json()["items"]
    assert len(items) == 1 and items[0]["discount_cents"] == 3_000
    assert client.get("/api/v1/merchant/redemptions?date=2026-12-02", headers=owner).get_json()["items"] == []
    assert code(client.get("/api/v1/merchant/redemptions?date=yesterday", headers=owner)) == "validation_error"
