"""The scheduler's jobs with the movable clock: each sweep, late and doubled runs, the catch-up after
downtime, recycling, settlement and its holds, and the ledger check."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from campaigns.models import Campaign, CampaignStatus, Round, RoundAllocation
from merchants.models import Merchant, MerchantStatus
from tests.append_only import rewritable
from tests.builders import make_staff
from tests.scenario import World, at, make_resident, publish
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.ledger.models import LedgerEntry
from voucher_app.ledger.service import balances
from voucher_app.reports.models import TallyCampaign
from voucher_app.scheduler.models import JobRun
from voucher_app.scheduler.runs import run_due, run_manually
from voucher_app.scheduler.schedule import Daily, Every, job_named
from voucher_app.settlement.models import SettlementStatement
from voucher_app.settlement.reconciliation import check_ledger
from voucher_app.vouchers.claiming import memo
from voucher_app.vouchers.models import Voucher, VoucherStatus


@pytest.fixture
def world(city, clock) -> World:
    return World(clock)


def snapshot() -> dict:
    """Everything a job can change, to compare two runs by."""
    return {
        "campaigns": sorted((c.id, c.status.value, c.closed_at, c.settled_at) for c in db.session.scalars(select(Campaign))),
        "rounds": sorted((r.id, r.opened_at, r.recycled) for r in db.session.scalars(select(Round))),
        "vouchers": db.session.execute(select(Voucher.status, func.count()).group_by(Voucher.status)
                                       .order_by(Voucher.status)).all(),
        "ledger": db.session.execute(select(LedgerEntry.kind, func.count(), func.sum(LedgerEntry.amount_cents))
                                     .group_by(LedgerEntry.kind).order_by(LedgerEntry.kind)).all(),
        "statements": sorted((s.merchant_id, s.day, s.net_cents, s.status.value)
                             for s in db.session.scalars(select(SettlementStatement))),
        "tally": sorted((t.campaign_id, t.claimed, t.redeemed, t.expired, t.subsidy_cents, t.bill_cents)
                        for t in db.session.scalars(select(TallyCampaign))),
    }


def outcomes(done) -> dict:
    return {job.name: (run.outcome if run else None) for job, _slot, run in done}


# Timetable ------------------------------------------------------------------------------------------

def test_slots_follow_the_city_clock(app):
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    assert Every(5).latest(at(12, 1, 10, 7), zone) == at(12, 1, 10, 5)
    assert Every(1).latest(at(12, 1, 10, 7).replace(second=59), zone) == at(12, 1, 10, 7)
    assert Daily(dt.time(2)).latest(at(12, 1, 1, 59), zone) == at(11, 30, 2)
    assert Daily(dt.time(2)).latest(at(12, 1, 2, 0), zone) == at(12, 1, 2)


# Lifecycle sweeps -----------------------------------------------------------------------------------

def test_open_rounds_and_close_campaigns_record_what_the_clock_did(city, clock):
    admin = make_staff(Role.admin)
    campaign = publish(admin, clock)  # starts an hour after the clock, at 21:00 on 12-01
    assert campaign.status is CampaignStatus.scheduled
    clock.set(at(12, 1, 20, 59))
    run_manually(job_named("open_rounds"), clock.now())
    db.session.refresh(campaign)
    assert campaign.status is CampaignStatus.scheduled
    clock.set(at(12, 1, 23, 40))  # the sweep runs late: the round is recorded opened at its release
    run = run_manually(job_named("open_rounds"), clock.now())
    assert run.summary == {"campaigns_opened": 1, "rounds_opened": 1}
    db.session.refresh(campaign)
    assert campaign.status is CampaignStatus.open
    assert [r.opened_at for r in campaign.rounds] == [at(12, 1, 21), None]
    clock.set(at(12, 31, 21, 30))  # past the end (12-31 20:00)
    run = run_manually(job_named("close_campaigns"), clock.now())
    assert run.summary == {"campaigns_closed": 1}
    db.session.refresh(campaign)
    assert campaign.status is CampaignStatus.closed and campaign.closed_at == campaign.ends_at


def test_a_campaign_the_scheduler_never_saw_open_is_closed_directly(city, clock):
    campaign = publish(make_staff(Role.admin), clock)
    clock.set(at(12, 31, 23))
    run_due(clock.now())
    db.session.refresh(campaign)
    assert campaign.status is CampaignStatus.closed


def test_claims_keep_working_while_the_scheduler_records_the_opening(world, clock):
    """The claim path's snapshot says "scheduled"; the sweep writing "open" must not refuse claims."""
    clock.set(at(12, 1, 21, 1))
    memo.forget()
    world.claim(make_resident(), world.tier30)  # snapshot taken while stored status is scheduled
    run_manually(job_named("open_rounds"), clock.now())
    world.claim(make_resident(), world.tier30)  # same snapshot, status now recorded open


# Expiry and recycling -------------------------------------------------------------------------------

def test_expired_vouchers_return_their_value_and_are_recycled_into_the_next_round(world, clock):
    world.play()
    before = balances(world.c.id)
    clock.set(at(12, 9, 3))  # six hours after the unused voucher's expiry
    run = run_manually(job_named("expire_vouchers"), clock.now())
    assert run.summary == {"vouchers_expired": 1, "vouchers_recycled": 1}
    voucher = db.session.get(Voucher, world.v4)
    assert voucher.status is VoucherStatus.expired
    assert voucher.expired_at == voucher.expires_at == at(12, 8, 21)  # as if run on time
    after = balances(world.c.id)
    assert after["reserved"] == before["reserved"] - 3_000
    assert after["available"] == before["available"] + 3_000
    second_round = world.c.rounds[1]
    db.session.refresh(second_round)
    assert second_round.recycled == 1
    assert db.session.get(RoundAllocation, (second_round.id, world.tier30)).quantity == 501
    recycled = db.session.scalars(select(Voucher).where(Voucher.round_id == second_round.id,
                                                        Voucher.tier_id == world.tier30)).all()
    assert len(recycled) == 501 and all(v.status is VoucherStatus.available for v in recycled)
    # Run again: nothing more to expire, nothing recycled twice.
    again = run_manually(job_named("expire_vouchers"), clock.now())
    assert again.summary == {"vouchers_expired": 0, "vouchers_recycled": 0}
    assert check_ledger()[1] == []


def test_without_recycling_the_value_only_returns_to_the_budget(city, clock):
    admin = make_staff(Role.admin)
    campaign = publish(admin, clock)
    clock.set(at(12, 1, 21))
    from voucher_app.vouchers.claiming import claim_voucher

    claim_voucher(campaign.id, campaign.tiers[0].id, make_resident(), clock.now(), "k1")
    clock.set(at(12, 9, 0))
    assert run_manually(job_named("expire_vouchers"), clock.now()).summary == {
        "vouchers_expired": 1, "vouchers_recycled": 0}
    assert sum(r.recycled for r in campaign.rounds) == 0
    assert check_ledger()[1] == []


# Settlement ------------------------------------------------------------------------------------------

def statements(merchant) -> list[tuple]:
    return [(s.day.isoformat(), s.redemptions, s.bill_cents, s.redeemed_cents, s.refunds, s.refunded_cents,
             s.net_cents, s.status.value)
            for s in db.session.scalars(select(SettlementStatement).where(SettlementStatement.merchant_id == merchant.id)
                                        .order_by(SettlementStatement.day))]


def test_settlement_is_a_statement_per_merchant_per_day_net_of_refunds(world, clock):
    world.play()
    clock.set(at(12, 4, 2, 30))
    run = run_manually(job_named("settle"), clock.now())
    assert run.summary["days_settled"] == 3 and run.summary["statements"] == 5
    assert statements(world.a) == [("2026-12-01", 1, 12_800, 3_000, 0, 0, 3_000, "settled"),
                                   ("2026-12-02", 1, 5_000, 1_000, 0, 0, 1_000, "settled"),
                                   ("2026-12-03", 1, 15_000, 3_000, 0, 0, 3_000, "settled")]
    assert statements(world.b) == [("2026-12-01", 1, 20_000, 3_000, 0, 0, 3_000, "settled"),
                                   ("2026-12-02", 0, 0, 0, 1, 3_000, -3_000, "settled")]
    books = balances(world.c.id)
    assert books["settled"] == 7_000 and books["payable"] == 0
    assert check_ledger()[1] == []
    # The same day is never settled twice.
    assert run_manually(job_named("settle"), clock.now()).summary["statements"] == 0
    assert len(statements(world.a)) == 3


def test_a_suspended_merchants_statement_is_held_then_paid_once_reinstated(world, clock):
    world.clock.set(at(12, 1, 21))
    voucher = world.claim(make_resident(), world.tier30)
    world.clock.set(at(12, 1, 22))
    world.redeem(voucher, world.cashier_b, 10_000)
    world.b.status = MerchantStatus.suspended
    db.session.commit()
    clock.set(at(12, 2, 2, 5))
    run_manually(job_named("settle"), clock.now())
    assert statements(world.b) == [("2026-12-01", 1, 10_000, 3_000, 0, 0, 3_000, "held")]
    assert balances(world.c.id)["payable"] == 3_000 and balances(world.c.id)["settled"] == 0
    assert check_ledger()[1] == []
    clock.set(at(12, 3, 2, 5))
    assert run_manually(job_named("settle"), clock.now()).summary["statements_released"] == 0
    db.session.get(Merchant, world.b.id).status = MerchantStatus.approved
    db.session.commit()
    clock.set(at(12, 4, 2, 5))
    assert run_manually(job_named("settle"), clock.now()).summary["statements_released"] == 1
    assert statements(world.b)[0][-1] == "settled"
    assert balances(world.c.id)["payable"] == 0 and balances(world.c.id)["settled"] == 3_000
    assert check_ledger()[1] == []


def test_a_closed_campaign_is_settled_once_nothing_is_owed_or_refundable(world, clock):
    world.play()
    clock.set(at(12, 31, 23))
    run_due(clock.now())
    assert db.session.get(Campaign, world.c.id).status is CampaignStatus.closed  # sales refundable still
    clock.set(dt.datetime(2027, 1, 8, 3, tzinfo=at(1, 1, 0).tzinfo))  # a week after the end: no refunds left
    run_due(clock.now())
    campaign = db.session.get(Campaign, world.c.id)
    assert campaign.status is CampaignStatus.settled and campaign.settled_at == clock.now()
    assert check_ledger()[1] == []


# Exactly once ----------------------------------------------------------------------------------------

def test_a_trigger_acts_once_even_when_two_schedulers_fire_it(world, clock):
    from voucher_app.scheduler.runs import run_trigger

    clock.set(at(12, 9, 2, 0))
    job = job_named("settle")
    first = run_trigger(job, at(12, 9, 2), clock.now())
    second = run_trigger(job, at(12, 9, 2), clock.now())
    assert first.outcome == "ok" and second is None
    assert db.session.scalar(select(func.count()).select_from(JobRun).where(JobRun.job == "settle")) == 1


def test_after_three_hours_down_one_run_due_catches_up_and_a_second_changes_nothing(world, clock):
    world.play()
    clock.set(at(12, 8, 19))  # before the unused voucher expires (21:00) and before the day's settlement
    assert set(outcomes(run_due(clock.now())).values()) == {"ok"}
    clock.set(at(12, 8, 22))  # three hours of downtime: an expiry and 180 one-minute triggers missed
    done = run_due(clock.now())
    assert outcomes(done) == {"open_rounds": "ok", "close_campaigns": "ok", "expire_vouchers": "ok",
                              "draw_lotteries": "ok", "evaluate_fraud_rules": "ok", "escalate_return_requests": "ok",
                              "settle": None, "tally": "ok",  # today's settlement (02:00) ran before the outage
                              "purge_sign_in_records": None, "purge_refused_attempts": None,
                              "purge_idempotency_records": None}  # and so did today's purges (03:30)
    assert db.session.get(Voucher, world.v4).status is VoucherStatus.expired
    caught_up = snapshot()
    runs = db.session.scalar(select(func.count()).select_from(JobRun))
    assert outcomes(run_due(clock.now())) == dict.fromkeys(outcomes(done), None)
    assert snapshot() == caught_up
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == runs
    assert check_ledger()[1] == []


def test_a_late_run_leaves_what_a_run_on_time_would(city, clock):
    """The same world, swept every five minutes on time, or once six hours late."""
    def world_after(sweeps: list[dt.datetime]) -> dict:
        w = World(clock)
        w.play()
        for moment in sweeps:
            clock.set(moment)
            run_due(clock.now())
        state = snapshot()
        return {key: value for key, value in state.items() if key in ("vouchers", "ledger")}, w

    on_time, _ = world_after([at(12, 8, 21, 0), at(12, 8, 21, 5)])
    on_time_voucher = db.session.get(Voucher, _.v4)
    on_time_expired = (on_time_voucher.status, on_time_voucher.expired_at)
    late, w2 = world_after([at(12, 9, 3, 0)])
    late_voucher = db.session.get(Voucher, w2.v4)
    assert (late_voucher.status, late_voucher.expired_at) == on_time_expired
    assert late_voucher.expired_at == at(12, 8, 21)


def test_a_failing_job_is_recorded_and_the_others_still_run(world, clock, monkeypatch):
    import voucher_app.vouchers.jobs as voucher_jobs

    def broken(now):
        raise RuntimeError("disk full")

    monkeypatch.setattr(voucher_jobs, "expire_vouchers", broken)
    clock.set(at(12, 9, 3))
    done = outcomes(run_due(clock.now()))
    assert done["expire_vouchers"] == "failed"
    assert done["tally"] == "ok" and done["settle"] == "ok"
    failed = db.session.scalars(select(JobRun).where(JobRun.job == "expire_vouchers")).one()
    assert "disk full" in failed.error


# The ledger check ------------------------------------------------------------------------------------

def test_the_ledger_check_names_a_lost_movement(world, clock):
    world.play()
    assert check_ledger() == (1, [])
    entry = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "redeem")).first()
    with rewritable(db.session.connection()):  # the ledger is append-only: only a test can lose an entry
        db.session.delete(entry)
        db.session.flush()
    db.session.commit()
    checked, differences = check_ledger()
    assert checked == 1
    assert {d.what for d in differences} == {"reserved equals the discounts of vouchers claimed and unused",
                                             "payable + settled equals the discounts of redemptions in force"}


def test_residents_see_recycled_vouchers_in_the_next_round_at_once(world, clock, client):
    world.play()

    def tier30() -> tuple[int, list[int]]:
        view = client.get(f"/api/v1/campaigns/{world.c.id}").get_json()  # kept by this process between views
        tier = next(t for t in view["tiers"] if t["id"] == world.tier30)
        return tier["quantity"], [r["quantities"][0] for r in view["rounds"]]

    assert tier30() == (1_000, [500, 500])
    clock.set(at(12, 9, 3))
    assert tier30() == (1_000, [500, 500])
    run_manually(job_named("expire_vouchers"), clock.now())
    assert tier30() == (1_001, [500, 501])
