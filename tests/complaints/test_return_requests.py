"""Seven-day returns as the resident's right: they ask the shop from the wallet, the shop refunds (the till's
own refund) or declines with a reason, and a request left unanswered past its due date becomes exactly one
complaint, however often or concurrently the sweep runs."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from tests.complaints.shop_world import ShopWorld
from tests.scenario import make_resident
from voucher_app.complaints.models import Complaint, ComplaintKind, ReturnRequest, ReturnStatus
from voucher_app.complaints.service import ask_refund, escalate_return_requests
from voucher_app.core.extensions import db
from voucher_app.redemptions.service import refund
from voucher_app.scheduler.runs import run_manually
from voucher_app.scheduler.schedule import job_named
from voucher_app.vouchers.models import Voucher, VoucherStatus


@pytest.fixture
def world(city, clock) -> ShopWorld:
    return ShopWorld(clock)


def ask(client, world, resident, redemption_id, reason="尺码不合适"):
    return client.post("/api/v1/return-requests", json={"redemption_id": redemption_id, "reason": reason},
                       headers=world.headers(resident))


def problem(response) -> tuple[int, str]:
    return response.status_code, response.get_json()["code"]


def test_a_resident_asks_once_for_their_own_purchase_within_the_window(client, world, clock):
    resident, sale = world.sale()
    made = ask(client, world, resident, sale["id"])
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    # Asked on Tuesday 12-01 at 21:30: the shop answers by the end of Wednesday.
    assert (body["status"], body["due_at"]) == ("pending", "2026-12-02T23:59:59+08:00")
    assert body["redemption"]["bill_cents"] == 12_800
    assert problem(ask(client, world, resident, sale["id"])) == (409, "already_requested")
    other, others_sale = world.sale()
    assert problem(ask(client, world, resident, others_sale["id"])) == (404, "not_found")
    assert problem(ask(client, world, resident, "")) == (422, "validation_error")
    too_long = ask(client, world, other, others_sale["id"], reason="长" * 501)
    assert too_long.get_json()["errors"] == [{"field": "reason", "message": "长度不能超过 500。"}]
    clock.advance(days=7, seconds=1)
    assert problem(ask(client, world, other, others_sale["id"])) == (409, "refund_window_closed")
    mine = client.get("/api/v1/me/return-requests", headers=world.headers(resident)).get_json()["items"]
    assert [r["id"] for r in mine] == [body["id"]]


def test_the_owner_accepts_and_the_voucher_is_usable_again(client, world, runner):
    resident, sale = world.sale()
    rid = ask(client, world, resident, sale["id"]).get_json()["id"]
    assert problem(client.post(f"/api/v1/return-requests/{rid}/accept", headers=world.headers(world.owner_b))) == \
        (404, "not_found")
    assert problem(client.post(f"/api/v1/return-requests/{rid}/accept",
                               headers=world.headers(world.cashier_a))) == (403, "forbidden")
    listed = client.get("/api/v1/return-requests?status=pending", headers=world.headers(world.owner_a)).get_json()
    assert [r["id"] for r in listed["items"]] == [rid] and "resident" not in listed["items"][0]
    accepted = client.post(f"/api/v1/return-requests/{rid}/accept", headers=world.headers(world.owner_a))
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    assert accepted.get_json()["redemption"]["refunded_at"]
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Voucher, sale["voucher_id"]).status is VoucherStatus.claimed
    vouchers = client.get("/api/v1/me/vouchers", headers=world.headers(resident)).get_json()["items"]
    assert [v["status"] for v in vouchers] == ["claimed"]
    assert problem(client.post(f"/api/v1/return-requests/{rid}/accept", headers=world.headers(world.owner_a))) == \
        (409, "already_answered")
    check = runner.invoke(args=["ledger", "check"])
    assert check.exit_code == 0, check.output


def test_a_refusal_of_the_refund_leaves_the_request_pending(client, world, clock):
    resident, sale = world.sale()
    rid = ask(client, world, resident, sale["id"]).get_json()["id"]
    clock.advance(days=7, minutes=1)
    refused = client.post(f"/api/v1/return-requests/{rid}/accept", headers=world.headers(world.owner_a))
    assert problem(refused) == (409, "refund_window_closed")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(ReturnRequest, rid).status is ReturnStatus.pending
    assert db.session.get(Voucher, sale["voucher_id"]).status is VoucherStatus.redeemed


def test_the_owner_declines_with_a_reason_the_resident_reads(client, world):
    resident, sale = world.sale()
    rid = ask(client, world, resident, sale["id"]).get_json()["id"]
    owner = world.headers(world.owner_a)
    assert problem(client.post(f"/api/v1/return-requests/{rid}/decline", json={"text": ""}, headers=owner)) == \
        (422, "validation_error")
    assert problem(client.post(f"/api/v1/return-requests/{rid}/decline", json={"text": "已拆封"},
                               headers=world.headers(world.owner_b))) == (404, "not_found")
    declined = client.post(f"/api/v1/return-requests/{rid}/decline", json={"text": "商品已拆封使用"}, headers=owner)
    assert declined.status_code == 200 and declined.get_json()["status"] == "declined"
    assert problem(client.post(f"/api/v1/return-requests/{rid}/decline", json={"text": "再拒"}, headers=owner)) == \
        (409, "already_answered")
    mine = client.get("/api/v1/me/return-requests", headers=world.headers(resident)).get_json()["items"][0]
    assert (mine["status"], mine["answer"]) == ("declined", "商品已拆封使用")
    # Declined, the resident may ask again (a new request) or complain.
    assert ask(client, world, resident, sale["id"]).status_code == 201


def test_an_unanswered_request_becomes_one_complaint_however_often_the_job_runs(client, world, clock, app):
    resident, sale = world.sale()
    rid = ask(client, world, resident, sale["id"]).get_json()["id"]
    _, other_sale = world.sale(cashier=world.cashier_b)
    assert escalate_return_requests(clock.now()) == {"return_requests_accepted": 0, "return_requests_escalated": 0}
    clock.set(dt.datetime(2026, 12, 2, 16, 0, tzinfo=dt.timezone.utc))  # Thursday 00:00 in the city
    first = run_manually(job_named("escalate_return_requests"), clock.now())
    second = run_manually(job_named("escalate_return_requests"), clock.now() + dt.timedelta(seconds=1))
    assert first.summary == {"return_requests_accepted": 0, "return_requests_escalated": 1}
    assert second.summary == {"return_requests_accepted": 0, "return_requests_escalated": 0}
    complaint = db.session.scalars(select(Complaint)).one()
    request = db.session.get(ReturnRequest, rid)
    assert (request.status, request.complaint_id) == (ReturnStatus.escalated, complaint.id)
    assert (complaint.kind, complaint.resident_id, complaint.merchant_id, complaint.redemption_id,
            complaint.return_request_id) == (ComplaintKind.return_unanswered, resident.id, world.a.id, sale["id"], rid)
    seen = client.get("/api/v1/me/complaints", headers=world.headers(resident)).get_json()["items"]
    assert [(c["kind"], c["status"], c["return_request_id"]) for c in seen] == [("return_unanswered", "open", rid)]
    # The shop may still refund the escalated request; the complaint stays with the bureau.
    assert client.post(f"/api/v1/return-requests/{rid}/accept",
                       headers=world.headers(world.owner_a)).get_json()["status"] == "accepted"


def test_two_sweeps_at_once_open_one_complaint(world, clock, app):
    for _ in range(3):
        resident, sale = world.sale()
        ask_refund(resident, sale["id"], "", clock.now())
    at = dt.datetime(2026, 12, 3, 16, 0, tzinfo=dt.timezone.utc)
    barrier, results, errors = threading.Barrier(2), [], []

    def sweep():
        with app.app_context():
            try:
                barrier.wait()
                results.append(escalate_return_requests(at))
            except Exception as err:  # handed to the test
                errors.append(err)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(r["return_requests_escalated"] for r in results) == 3
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Complaint)) == 3
    assert db.session.scalar(select(func.count(func.distinct(Complaint.return_request_id)))) == 3


def test_a_request_refunded_at_the_till_is_answered_and_never_escalated(client, world, clock):
    resident, sale = world.sale()
    rid = ask(client, world, resident, sale["id"]).get_json()["id"]
    refund(sale["id"], None, world.owner_a, clock.now())
    clock.advance(days=3)
    assert escalate_return_requests(clock.now()) == {"return_requests_accepted": 1, "return_requests_escalated": 0}
    db.session.commit()
    db.session.expire_all()
    request = db.session.get(ReturnRequest, rid)
    assert (request.status, request.answered_by) == (ReturnStatus.accepted, world.owner_a.id)
    assert db.session.scalar(select(func.count()).select_from(Complaint)) == 0


def test_the_bureau_sees_every_request_with_the_phone_masked(client, world):
    resident, sale = world.sale()
    ask(client, world, resident, sale["id"])
    items = client.get("/api/v1/return-requests", headers=world.headers(world.viewer)).get_json()["items"]
    assert items[0]["resident"] == f"{resident.phone[:3]}****{resident.phone[-4:]}"
    assert client.get("/api/v1/return-requests", headers=world.headers(world.owner_b)).get_json()["items"] == []
    assert problem(client.get("/api/v1/return-requests", headers=world.headers(make_resident()))) == (403, "forbidden")
