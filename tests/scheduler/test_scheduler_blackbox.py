"""The scheduler from the outside: a real server sells and refunds over HTTP, the campaign ends,
``voucher jobs run-due`` runs as cron would, and the report and the settlement match the sales.

The server runs with its clock a day behind (``VOUCHER_CLOCK_OFFSET_SECONDS``, a testing setting that
production refuses), so its sales happen "yesterday" and the command, on the real clock, can settle
that whole day — what a bureau sees the morning after.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import func, select

from merchants.models import MerchantStatus
from tests.builders import PASSWORD, make_account, make_merchant, make_staff, next_phone
from tests.conftest import ROOT, LiveServer
from tests.http_client import Http
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.scheduler.models import JobRun

DAY = 86_400
JOBS = ("open_rounds", "close_campaigns", "expire_vouchers", "draw_lotteries", "evaluate_fraud_rules",
        "escalate_return_requests", "settle", "tally", "purge_sign_in_records", "purge_refused_attempts",
        "purge_idempotency_records")


def voucher(*args: str, database_url: str, keys_dir, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCHER_")}
    env.update(DATABASE_URL=database_url, VOUCHER_ENV="testing", VOUCHER_SIGNING_KEYS_DIR=str(keys_dir))
    return subprocess.run([sys.executable, "-m", "voucher_app", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def yesterday_server(app, city, _schema, keys_dir):
    server = LiveServer(_schema, keys_dir, workers=2, env={"VOUCHER_CLOCK_OFFSET_SECONDS": str(-DAY)})
    yield server
    server.stop()


def test_a_campaign_ends_run_due_runs_and_the_report_and_settlement_match(yesterday_server, _schema, keys_dir):
    http = Http(yesterday_server.url)
    admin_user = make_staff(Role.admin)
    _, body, _ = http.post("/api/v1/auth/token", {"username": admin_user.username, "password": PASSWORD})
    admin = body["token"]
    server_now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=DAY)
    campaign = {
        "name": "昨日夜间消费券", "kind": "night_economy", "measure_codes": ["M12"], "budget_cents": 1_000_000,
        "starts_at": (server_now - dt.timedelta(minutes=1)).isoformat(),
        "ends_at": (server_now + dt.timedelta(minutes=30)).isoformat(),
        "merchant_categories": [], "districts": [], "limit_per_resident": 1, "limit_per_round": 1, "valid_days": 1,
        "tiers": [{"name": "满100减30", "threshold_cents": 10_000, "discount_cents": 3_000, "quantity": 10}],
        "rounds": [{"release_at": (server_now - dt.timedelta(minutes=1)).isoformat(), "quantities": [10]}]}
    status, created, _ = http.post("/api/v1/campaigns", campaign, token=admin)
    assert status == 201, created
    status, published, _ = http.post(f"/api/v1/campaigns/{created['id']}/publish", token=admin)
    assert status == 200 and published["status"] == "open", published
    shop, owner = make_merchant(MerchantStatus.approved, category="catering", district="lizhou")
    make_account(Role.cashier, shop, username=f"till{shop.id[-6:]}")
    _, body, _ = http.post("/api/v1/auth/token", {"username": owner.username, "password": PASSWORD})
    owner_token = body["token"]
    status, enrolment, _ = http.post(f"/api/v1/campaigns/{created['id']}/enrolments", {"merchant_id": shop.id},
                                     token=owner_token)
    assert status == 201, enrolment
    assert http.post(f"/api/v1/enrolments/{enrolment['id']}/approve", token=admin)[0] == 200

    tier = created["tiers"][0]["id"]
    vouchers = []
    for _ in range(3):
        resident = http.resident_token(next_phone())
        status, claimed, _ = http.post(f"/api/v1/campaigns/{created['id']}/claims", {"tier_id": tier}, token=resident,
                                       headers={"Idempotency-Key": uuid.uuid4().hex})
        assert status == 201, claimed
        _, qr, _ = http.get(f"/api/v1/me/vouchers/{claimed['id']}/token", token=resident)
        vouchers.append(qr["token"])

    def sell(token: str, bill: int) -> dict:
        status, sale, _ = http.post("/api/v1/redemptions", {"token": token, "bill_cents": bill}, token=owner_token,
                                    headers={"Idempotency-Key": uuid.uuid4().hex})
        assert status == 201, sale
        return sale

    sell(vouchers[0], 12_800)
    returned = sell(vouchers[1], 20_000)
    assert http.post(f"/api/v1/redemptions/{returned['id']}/refund", token=owner_token)[0] == 200
    sell(vouchers[2], 15_000)
    # The second voucher, back in the wallet after the return, is never used again: it expires.

    run = voucher("jobs", "run-due", database_url=_schema, keys_dir=keys_dir)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "close_campaigns" in run.stdout and '"campaigns_closed": 1' in run.stdout
    assert '"vouchers_expired": 1' in run.stdout and '"statements": 1' in run.stdout

    status, report, _ = http.get(f"/api/v1/reports/campaigns/{created['id']}", token=admin)
    assert status == 200, report
    assert {k: report[k] for k in ("claimed", "redeemed", "refunded", "expired", "subsidy_cents", "bill_cents",
                                   "leverage", "merchants", "residents")} == {
        "claimed": 3, "redeemed": 2, "refunded": 1, "expired": 1, "subsidy_cents": 6_000, "bill_cents": 27_800,
        "leverage": 4.63, "merchants": 1, "residents": 3}
    lizhou = next(d for d in report["by_district"] if d["district"] == "lizhou")
    assert (lizhou["redeemed"], lizhou["subsidy_cents"]) == (2, 6_000)

    status, statements, _ = http.get(f"/api/v1/settlements?merchant_id={shop.id}", token=admin)
    assert status == 200, statements
    [statement] = statements["items"]
    assert statement["day"] == server_now.astimezone(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    assert {k: statement[k] for k in ("redemptions", "bill_cents", "redeemed_cents", "refunds", "refunded_cents",
                                      "net_cents", "status")} == {
        "redemptions": 3, "bill_cents": 47_800, "redeemed_cents": 9_000, "refunds": 1, "refunded_cents": 3_000,
        "net_cents": 6_000, "status": "settled"}

    check = voucher("ledger", "check", database_url=_schema, keys_dir=keys_dir)
    assert check.returncode == 0 and "balance" in check.stdout, check.stdout + check.stderr
    again = voucher("jobs", "run-due", database_url=_schema, keys_dir=keys_dir)
    assert again.returncode == 0, again.stdout
    # An immediate second run changes nothing: each trigger already run is skipped, and a trigger that
    # fell due meanwhile (the minute may turn between the two runs) finds nothing to do.
    lines = again.stdout.splitlines()
    assert len(lines) == len(JOBS) and any("already ran" in line for line in lines), again.stdout
    for line in lines:
        assert "already ran" in line or line.startswith("tally ") or not re.search(r'": [1-9]', line), line
    figures = ("claimed", "redeemed", "refunded", "expired", "subsidy_cents", "bill_cents", "by_district", "by_day")
    after = http.get(f"/api/v1/reports/campaigns/{created['id']}", token=admin)[1]
    assert {k: after[k] for k in figures} == {k: report[k] for k in figures}
    assert http.get(f"/api/v1/settlements?merchant_id={shop.id}", token=admin)[1]["items"] == [statement]


def test_the_scheduler_process_catches_up_at_start_and_stops_on_sigterm(app, city, _schema, keys_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCHER_")}
    env.update(DATABASE_URL=_schema, VOUCHER_ENV="testing", VOUCHER_SIGNING_KEYS_DIR=str(keys_dir))
    process = subprocess.Popen([sys.executable, "-m", "voucher_app", "scheduler"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            db.session.rollback()
            if db.session.scalar(select(func.count()).select_from(JobRun).where(JobRun.finished_at.is_not(None))) >= len(JOBS):
                break
            time.sleep(0.2)
        jobs = set(db.session.scalars(select(JobRun.job)))
        assert jobs == set(JOBS)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "Scheduler started" in output and "catch-up tally" in output


def test_jobs_from_the_command_line(app, city, _schema, keys_dir):
    unknown = voucher("jobs", "run", "payday", database_url=_schema, keys_dir=keys_dir)
    assert unknown.returncode != 0 and "open_rounds" in unknown.stderr
    tally = voucher("jobs", "run", "tally", database_url=_schema, keys_dir=keys_dir)
    assert tally.returncode == 0 and tally.stdout.startswith("tally: ok"), tally.stdout + tally.stderr
    listed = voucher("jobs", "list", database_url=_schema, keys_dir=keys_dir)
    assert "settle" in listed.stdout and "daily at 02:00" in listed.stdout and "tally: " not in listed.stdout


def test_the_ledger_check_fails_on_a_difference(app, city, _schema, keys_dir, clock):
    from campaigns.models import CampaignStatus
    from tests.builders import make_campaign
    from voucher_app.ledger.models import LedgerEntry

    campaign = make_campaign(CampaignStatus.open)  # published, but its budget never reached the ledger
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 0
    check = voucher("ledger", "check", database_url=_schema, keys_dir=keys_dir)
    assert check.returncode == 1
    assert campaign.id in check.stderr and "budget" in check.stderr


def test_two_schedulers_by_mistake_still_act_once_per_trigger(app, city, clock, _schema, keys_dir):
    """Two ``run-due`` processes at the same moment (a cron line and a scheduler, say): every trigger
    is acted on by exactly one of them, and the books come out as after a single run."""
    from tests.scenario import World, at
    from voucher_app.settlement.models import SettlementStatement
    from voucher_app.vouchers.claiming import memo

    memo.forget()
    World(clock).play()
    offset = (at(12, 9, 3) - dt.datetime.now(dt.timezone.utc)).total_seconds()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCHER_")}
    env.update(DATABASE_URL=_schema, VOUCHER_ENV="testing", VOUCHER_SIGNING_KEYS_DIR=str(keys_dir),
               VOUCHER_CLOCK_OFFSET_SECONDS=str(offset))
    processes = [subprocess.Popen([sys.executable, "-m", "voucher_app", "jobs", "run-due"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    lines = [line for out, _err in outputs for line in out.splitlines()]
    for job in JOBS:
        mine = [line for line in lines if line.startswith(job + " ")]
        assert len(mine) == 2 and sum(": ok" in line for line in mine) == 1, lines
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == len(JOBS)
    assert db.session.scalar(select(func.count()).select_from(SettlementStatement)) == 5
    check = voucher("ledger", "check", database_url=_schema, keys_dir=keys_dir)
    assert check.returncode == 0, check.stderr
