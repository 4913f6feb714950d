"""Retention (README, "Retention"): the daily purges, on the movable clock. For each kind of row, one
just inside its retention stays and one just past it goes, and what a user is told does not change
while a row is kept — a retried claim gets its first answer, a locked username stays locked."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from tests.builders import PASSWORD, bearer, latest_code, make_staff, next_phone
from tests.scenario import World, at, make_resident
from voucher_app.accounts.models import OtpCode, OutboxMessage, SignIn, SignInFailure
from voucher_app.core.errors import DomainError
from voucher_app.core.extensions import db
from voucher_app.core.idempotency import IdempotencyRecord
from voucher_app.core.retention import purge
from voucher_app.core.roles import Role
from voucher_app.redemptions.models import RedemptionAttempt
from voucher_app.reports.service import refusals_by_code
from voucher_app.scheduler.runs import run_due, run_manually
from voucher_app.scheduler.schedule import Daily, job_named
from voucher_app.vouchers.claiming import claim_voucher

DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)
PURGES = {"purge_sign_in_records": {"otp_codes_purged", "sms_outbox_purged", "sign_ins_purged",
                                    "sign_in_failures_purged"},
          "purge_refused_attempts": {"refused_attempts_purged"},
          "purge_idempotency_records": {"idempotency_records_purged"}}


def purged(name: str, clock) -> dict:
    """Run the purge ``name`` as ``voucher jobs run`` does, at the clock's time; its summary."""
    run = run_manually(job_named(name), clock.now())
    assert run.outcome == "ok", run.error
    return run.summary


def count(model, *where) -> int:
    db.session.rollback()  # a fresh look: the purge committed on its own
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# The timetable ------------------------------------------------------------------------------------------

def test_the_purges_run_daily_from_the_schedulers_job_list(app, clock, runner):
    for name in PURGES:
        assert job_named(name).schedule == Daily(dt.time(3, 30))
    clock.set(at(12, 2, 3, 31))
    done = {job.name: run for job, _slot, run in run_due(clock.now())}
    for name, counts in PURGES.items():
        assert done[name].outcome == "ok" and set(done[name].summary) == counts
        assert set(done[name].summary.values()) == {0}
    listed = runner.invoke(args=["jobs", "list"]).output
    assert all(name in listed for name in PURGES) and "daily at 03:30" in listed


# Sign-in ------------------------------------------------------------------------------------------------

def test_a_one_time_code_is_kept_a_day_past_expiry_and_the_outbox_a_week(client, clock):
    sent = clock.now()
    phone = next_phone()
    assert client.post("/api/v1/auth/otp", json={"phone": phone}).status_code == 202
    expiry = sent + dt.timedelta(seconds=300)

    clock.set(expiry + DAY - MINUTE)
    assert purged("purge_sign_in_records", clock)["otp_codes_purged"] == 0
    assert count(OtpCode, OtpCode.phone == phone) == 1
    clock.set(expiry + DAY + MINUTE)
    assert purged("purge_sign_in_records", clock)["otp_codes_purged"] == 1
    assert count(OtpCode, OtpCode.phone == phone) == 0
    assert count(OutboxMessage, OutboxMessage.phone == phone) == 1

    clock.set(sent + 7 * DAY - MINUTE)
    assert purged("purge_sign_in_records", clock)["sms_outbox_purged"] == 0
    assert client.get(f"/api/v1/dev/outbox?phone={phone}").get_json()["items"]
    clock.set(sent + 7 * DAY + MINUTE)
    assert purged("purge_sign_in_records", clock)["sms_outbox_purged"] == 1
    assert client.get(f"/api/v1/dev/outbox?phone={phone}").get_json()["items"] == []


def test_a_sign_in_is_kept_thirty_days_after_it_ended(app, client, clock):
    start = clock.now()
    phone = next_phone()
    client.post("/api/v1/auth/otp", json={"phone": phone})
    resident = client.post("/api/v1/auth/token", json={"phone": phone, "code": latest_code(client, phone)})
    resident_ends = start + dt.timedelta(seconds=app.config["RESIDENT_TOKEN_TTL_SECONDS"])
    staff = make_staff(Role.admin)
    token = client.post("/api/v1/auth/token", json={"username": staff.username, "password": PASSWORD}).get_json()
    assert client.post("/api/v1/auth/logout", headers=bearer(token["token"])).status_code == 204
    revoked = clock.now()  # the staff sign-in would have expired 12 hours on: revoked counts from now
    assert count(SignIn) == 2

    clock.set(revoked + 30 * DAY - MINUTE)
    assert purged("purge_sign_in_records", clock)["sign_ins_purged"] == 0
    clock.set(revoked + 30 * DAY + MINUTE)
    assert purged("purge_sign_in_records", clock)["sign_ins_purged"] == 1  # signed out 30 days ago
    assert count(SignIn, SignIn.user_id == staff.id) == 0

    clock.set(resident_ends + 30 * DAY - MINUTE)
    assert purged("purge_sign_in_records", clock)["sign_ins_purged"] == 0
    clock.set(resident_ends + 30 * DAY + MINUTE)
    assert purged("purge_sign_in_records", clock)["sign_ins_purged"] == 1  # expired 30 days ago
    assert count(SignIn) == 0
    me = client.get("/api/v1/me", headers=bearer(resident.get_json()["token"]))
    assert me.status_code == 401  # a token whose sign-in is gone is refused, as it was once expired


def test_wrong_passwords_are_forgotten_a_day_after_the_last_but_never_while_locked(client, clock):
    start = clock.now()
    staff = make_staff(Role.admin)
    assert client.post("/api/v1/auth/token", json={"username": "nobody", "password": "wrong-password"}) \
        .status_code == 401
    db.session.add(SignInFailure(username=staff.username, failures=10, last_failed_at=start,
                                 locked_until=start + 3 * DAY))  # a lock set longer than the retention
    db.session.commit()

    clock.set(start + DAY - MINUTE)
    assert purged("purge_sign_in_records", clock)["sign_in_failures_purged"] == 0
    clock.set(start + DAY + MINUTE)
    assert purged("purge_sign_in_records", clock)["sign_in_failures_purged"] == 1
    assert count(SignInFailure, SignInFailure.username == "nobody") == 0
    locked = client.post("/api/v1/auth/token", json={"username": staff.username, "password": PASSWORD})
    assert locked.status_code == 429 and locked.get_json()["code"] == "account_locked"

    clock.set(start + 3 * DAY + MINUTE)
    assert purged("purge_sign_in_records", clock)["sign_in_failures_purged"] == 1
    assert client.post("/api/v1/auth/token", json={"username": staff.username, "password": PASSWORD}) \
        .status_code == 200


# The till and the claim ---------------------------------------------------------------------------------

@pytest.fixture
def world(city, clock) -> World:
    world = World(clock)
    world.play()
    return world


def test_refused_attempts_are_kept_180_days_and_sales_for_ever(world, clock):
    clock.set(at(12, 8, 21, 30))
    with pytest.raises(DomainError):
        world.redeem(world.v4, world.cashier_b, 20_000)  # expired at 21:00: refused
    refused_at = clock.now()
    sales = count(RedemptionAttempt, RedemptionAttempt.outcome == "ok")
    assert sales == 4 and refusals_by_code(world.c.id) == [{"code": "voucher_expired", "count": 1}]

    clock.set(refused_at + 180 * DAY - MINUTE)
    assert purged("purge_refused_attempts", clock) == {"refused_attempts_purged": 0}
    assert refusals_by_code(world.c.id) == [{"code": "voucher_expired", "count": 1}]
    clock.set(refused_at + 180 * DAY + MINUTE)
    assert purged("purge_refused_attempts", clock) == {"refused_attempts_purged": 1}
    assert refusals_by_code(world.c.id) == []
    assert count(RedemptionAttempt, RedemptionAttempt.outcome == "ok") == sales


def test_a_claim_key_is_honoured_until_its_record_is_purged_two_days_on(city, clock):
    world = World(clock)
    clock.set(at(12, 1, 21))
    resident, key = make_resident(), uuid.uuid4().hex
    first, status = claim_voucher(world.c.id, world.tier30, resident, clock.now(), key)
    assert status == 201
    claimed = clock.now()

    clock.set(claimed + 2 * DAY - MINUTE)
    assert purged("purge_idempotency_records", clock) == {"idempotency_records_purged": 0}
    assert claim_voucher(world.c.id, world.tier30, resident, clock.now(), key) == (first, 201)
    clock.set(claimed + 2 * DAY + MINUTE)
    assert purged("purge_idempotency_records", clock) == {"idempotency_records_purged": 1}
    assert count(IdempotencyRecord) == 0
    with pytest.raises(DomainError) as afresh:  # judged as a new claim: one per round
        claim_voucher(world.c.id, world.tier30, resident, clock.now(), key)
    assert afresh.value.code == "limit_reached"


def test_a_retention_shorter_than_the_honoured_window_is_refused(app, clock, monkeypatch):
    db.session.add(IdempotencyRecord(user_id="u" * 26, key="k", request_hash="h", status=201, body={},
                                     created_at=clock.now()))
    db.session.commit()
    monkeypatch.setitem(app.config, "RETENTION_IDEMPOTENCY_RECORDS_DAYS", 0.5)
    clock.advance(days=1)
    run = run_manually(job_named("purge_idempotency_records"), clock.now())
    assert run.outcome == "failed" and "kept at least as long as keys are honoured" in run.error
    assert count(IdempotencyRecord) == 1


# Batches -------------------------------------------------------------------------------------------------

def test_a_purge_deletes_in_batches_until_nothing_is_left(app, clock):
    old = clock.now() - 3 * DAY
    db.session.add_all(OutboxMessage(phone=next_phone(), text="x", sent_at=old) for _ in range(5))
    db.session.add(OutboxMessage(phone=next_phone(), text="y", sent_at=clock.now()))
    db.session.commit()
    table = OutboxMessage.__table__
    assert purge(table, table.c.sent_at < clock.now() - DAY, batch=2) == 5
    assert purge(table, table.c.sent_at < clock.now() - DAY, batch=2) == 0
    assert count(OutboxMessage) == 1
