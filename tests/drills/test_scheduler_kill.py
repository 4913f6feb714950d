"""Fault drill (issue #21): the scheduler is killed (SIGKILL) in the middle of a job, then started again.

The job is the expiry sweep over ten thousand vouchers, which commits in batches: the kill lands
after some batches are in. Without a take-over the run's row would stay ``running`` and its trigger would
never run again. Started again, the sweep sees the dead process, runs the trigger again, and the outcome
equals one clean run: every voucher expired once, one ledger entry each, the books balanced, and the
run's record saying what happened.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, insert, select, update

from tests.builders import make_staff
from tests.campaign_data import T0
from tests.conftest import ROOT
from tests.scenario import make_resident, publish
from voucher_app.core.database import new_id
from voucher_app.core.extensions import db
from voucher_app.ledger.models import LedgerEntry
from voucher_app.scheduler.models import JobRun
from voucher_app.settlement.reconciliation import check_ledger
from voucher_app.vouchers.models import Voucher, VoucherStatus

pytestmark = [pytest.mark.drills]

VOUCHERS = 10_000


def environment(database_url: str, keys_dir) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCHER_")}
    env.update(DATABASE_URL=database_url, VOUCHER_ENV="testing", VOUCHER_SIGNING_KEYS_DIR=str(keys_dir))
    return env


def expired_count(campaign_id: str) -> int:
    db.session.rollback()  # a fresh snapshot: the sweep commits in another process
    return db.session.scalar(select(func.count()).select_from(Voucher).where(
        Voucher.campaign_id == campaign_id, Voucher.status == VoucherStatus.expired))


def claimed_and_past_expiry(clock, n: int):
    """A campaign whose ``n`` vouchers were all claimed and expired an hour ago (by the real clock, which
    the scheduler's process runs on), written straight in with their ledger entries, as claims would."""
    admin = make_staff()
    tier = {"name": "10元券", "threshold_cents": 0, "discount_cents": 1_000, "quantity": n}
    campaign = publish(admin, clock, budget_cents=n * 1_000, tiers=[tier], recycle_expired=False,
                       rounds=[{"release_at": (T0 + dt.timedelta(hours=1)).isoformat(), "quantities": [n]}])
    resident = make_resident()
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    db.session.execute(update(Voucher).where(Voucher.campaign_id == campaign.id).values(
        status=VoucherStatus.claimed, resident_id=resident.id, claimed_at=past - dt.timedelta(days=1),
        expires_at=past))
    ids = db.session.scalars(select(Voucher.id).where(Voucher.campaign_id == campaign.id)).all()
    db.session.execute(insert(LedgerEntry), [
        {"id": new_id(), "campaign_id": campaign.id, "voucher_id": voucher_id, "from_account": "available",
         "to_account": "reserved", "amount_cents": 1_000, "kind": "claim", "at": past - dt.timedelta(days=1)}
        for voucher_id in ids])
    db.session.commit()
    return campaign


def test_the_scheduler_killed_in_the_middle_of_a_job_finishes_it_once_when_started_again(
        app, city, clock, database_url, keys_dir, capsys):
    campaign = claimed_and_past_expiry(clock, VOUCHERS)
    env = environment(database_url, keys_dir)
    started = time.monotonic()
    first = subprocess.Popen([sys.executable, "-m", "voucher_app", "jobs", "run-due"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while expired_count(campaign.id) == 0:  # wait for the first batches to be committed
        assert first.poll() is None, "the sweep ended before it could be killed: " + first.stderr.read()
        assert time.monotonic() - started < 60, "the expiry sweep never started"
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)
    first.wait()
    at_kill = expired_count(campaign.id)
    run = db.session.scalar(select(JobRun).where(JobRun.job == "expire_vouchers", JobRun.manual.is_(False))
                            .order_by(JobRun.started_at.desc()))
    assert 0 < at_kill < VOUCHERS and run.outcome == "running"  # killed in the middle, its row left running

    again = subprocess.run([sys.executable, "-m", "voucher_app", "jobs", "run-due"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    recovered = time.monotonic() - started
    assert again.returncode == 0, again.stderr
    with capsys.disabled():
        print(f"\n[drill] scheduler killed during expire_vouchers: {at_kill} of {VOUCHERS} expired at the kill, "
              f"all {expired_count(campaign.id)} after the restart, {recovered:.1f} s in all")

    assert expired_count(campaign.id) == VOUCHERS
    entries = db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.campaign_id == campaign.id, LedgerEntry.kind == "expire"))
    assert entries == VOUCHERS  # one entry per voucher: nothing twice, nothing missed
    assert check_ledger()[1] == []
    db.session.expire_all()
    killed = db.session.get(JobRun, run.id)  # its record says what happened, never "running" for ever
    if killed.outcome == "ok":  # its trigger was still the latest: run again under the same row
        assert killed.summary["vouchers_expired"] == VOUCHERS - at_kill
        assert killed.summary["resumed_after"].split(" ")[1] == str(first.pid)
    else:  # a later trigger had come: that run swept up the rest
        assert killed.outcome == "abandoned" and f" {first.pid}" in killed.error
